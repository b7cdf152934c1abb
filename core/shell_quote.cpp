// Single quotes are the one POSIX quoting with no special characters inside: not even a backslash. So the
// only character needing care is ' itself, which closes the quote, is written escaped, and reopens it.
#include "core/shell_quote.hpp"

#include <algorithm>

namespace sshard::core {

namespace {

// Spelled out rather than std::isalnum, whose answer depends on the locale.
bool is_safe(char c) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
        return true;
    }
    return std::string_view("_@%+=:,./-").find(c) != std::string_view::npos;
}

} // namespace

std::string shell_quote(std::string_view text) {
    if (!text.empty() && std::all_of(text.begin(), text.end(), is_safe)) {
        return std::string(text);
    }
    std::string out = "'";
    for (char c : text) {
        if (c == '\'') {
            out += "'\\''";
        } else {
            out += c;
        }
    }
    out += '\'';
    return out;
}

std::string shell_quote_in_single(std::string_view text) {
    std::string out;
    for (char c : text) {
        out += c == '\'' ? std::string_view("'\\''") : std::string_view(&c, 1);
    }
    return out;
}

std::string shell_quote_in_double(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == '$' || c == '`' || c == '"' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    return out;
}

} // namespace sshard::core
