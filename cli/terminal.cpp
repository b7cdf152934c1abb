#include "cli/terminal.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fmt/format.h>
#include <mutex>
#include <sys/ioctl.h>
#include <unistd.h>

namespace sshard::cli {

namespace {

constexpr std::string_view k_replacement = "\xef\xbf\xbd"; // U+FFFD

// The length of the valid UTF-8 sequence at the start of `text` and its code point, or 0 when it is not one:
// overlong forms, surrogates and code points above U+10FFFF are not valid (RFC 3629).
std::size_t utf8_sequence(std::string_view text, char32_t& code_point) {
    auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(text[i]); };
    std::uint8_t lead = byte(0);
    std::size_t length = lead < 0x80           ? 1
                         : (lead >> 5) == 0x6  ? 2
                         : (lead >> 4) == 0xe  ? 3
                         : (lead >> 3) == 0x1e ? 4
                                               : 0;
    if (length == 0 || length > text.size()) {
        return 0;
    }
    code_point = length == 1 ? lead : lead & (0x7f >> length);
    for (std::size_t i = 1; i < length; ++i) {
        if ((byte(i) & 0xc0) != 0x80) {
            return 0;
        }
        code_point = (code_point << 6) | (byte(i) & 0x3f);
    }
    static constexpr char32_t k_smallest[] = {0, 0, 0x80, 0x800, 0x10000};
    bool surrogate = code_point >= 0xd800 && code_point <= 0xdfff;
    return code_point < k_smallest[length] || surrogate || code_point > 0x10ffff ? 0 : length;
}

void append_control(std::string& out, char32_t code_point) {
    switch (code_point) {
    case 0x1b:
        out += "\\e";
        return;
    case '\r':
        out += "\\r";
        return;
    case '\n':
        out += "\\n";
        return;
    case '\t':
        out += "\\t";
        return;
    default:
        out += code_point < 0x80 ? fmt::format("\\x{:02x}", static_cast<unsigned>(code_point))
                                 : fmt::format("\\u{:04x}", static_cast<unsigned>(code_point));
    }
}

} // namespace

bool colour_enabled(int fd) {
    const char* no_colour = std::getenv("NO_COLOR");
    const char* term = std::getenv("TERM");
    if (no_colour != nullptr && no_colour[0] != '\0') {
        return false;
    }
    return isatty(fd) == 1 && term != nullptr && std::strcmp(term, "dumb") != 0;
}

int terminal_width(int fd) {
    winsize size{};
    if (isatty(fd) == 1 && ioctl(fd, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
        return size.ws_col;
    }
    return 100;
}

std::string terminal_safe(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    while (!text.empty()) {
        char32_t code_point = 0;
        std::size_t length = utf8_sequence(text, code_point);
        if (length == 0) {
            out += k_replacement;
            text.remove_prefix(1);
            continue;
        }
        if (code_point < 0x20 || (code_point >= 0x7f && code_point <= 0x9f)) {
            append_control(out, code_point);
        } else {
            out += text.substr(0, length);
        }
        text.remove_prefix(length);
    }
    return out;
}

std::size_t display_width(std::string_view text) {
    return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0) != 0x80; // not a UTF-8 continuation byte
    }));
}

std::string pad_right(std::string_view text, std::size_t width) {
    return std::string(text) + std::string(width - std::min(width, display_width(text)), ' ');
}

void print_log_line(std::string_view line) {
    static std::mutex mutex;
    std::string text = "sshard: " + terminal_safe(line) + "\n";
    std::lock_guard lock(mutex);
    std::fwrite(text.data(), 1, text.size(), stderr);
}

} // namespace sshard::cli
