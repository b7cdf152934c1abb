// What the terminal can show: colour only on a terminal, never with NO_COLOR set (https://no-color.org).
#pragma once

namespace sshard::cli {

// Whether output to `fd` may carry ANSI colour codes.
bool colour_enabled(int fd);

// The width of the terminal on `fd`, or 100 when it is not a terminal.
int terminal_width(int fd);

} // namespace sshard::cli
