// What the terminal can show: colour only on a terminal, never with NO_COLOR set (https://no-color.org), and
// never a byte from a host or a shard that the terminal would act on.
#pragma once

#include <string>
#include <string_view>

namespace sshard::cli {

// Whether output to `fd` may carry ANSI colour codes.
bool colour_enabled(int fd);

// The width of the terminal on `fd`, or 100 when it is not a terminal.
int terminal_width(int fd);

// `text` made safe to print: control characters become visible escapes (`\e`, `\r`, `\n`, `\t`, else `\xHH`,
// and `\u0080`..`\u009f` for the C1 controls), and bytes that are not valid UTF-8 become U+FFFD. Every text
// that came from a host, a shard or a spec goes through it before sshard's own messages and text reports
// print it.
std::string terminal_safe(std::string_view text);

// The columns `text` takes on a terminal, one per character: for text made safe by terminal_safe().
std::size_t display_width(std::string_view text);

// `text` (made safe) and spaces after it up to `width` columns: left-aligned in a column of that width.
std::string pad_right(std::string_view text, std::size_t width);

// Prints "sshard: " and `line`, made safe, as one line on stderr; safe to call from any thread.
void print_log_line(std::string_view line);

} // namespace sshard::cli
