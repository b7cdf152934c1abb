// Character classes of the text in specs and host lists, which are ASCII whatever the locale (unlike <cctype>'s).
#pragma once

namespace sshard::core {

// '0' to '9'.
constexpr bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

} // namespace sshard::core
