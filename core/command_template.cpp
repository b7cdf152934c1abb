#include "core/command_template.hpp"

#include <fmt/format.h>

#include "core/shell_quote.hpp"

namespace sshard::core {

namespace {

bool is_name_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool is_name_char(char c) {
    return is_name_start(c) || (c >= '0' && c <= '9');
}

bool is_name(std::string_view text) {
    if (text.empty() || !is_name_start(text[0])) {
        return false;
    }
    for (char c : text) {
        if (!is_name_char(c)) {
            return false;
        }
    }
    return true;
}

} // namespace

CommandTemplate CommandTemplate::parse(std::string_view source, std::vector<Problem>& problems) {
    CommandTemplate result;
    result.m_source = std::string(source);
    std::string literal;
    std::size_t literal_start = 0;
    auto flush = [&](std::size_t next) {
        if (!literal.empty()) {
            result.m_segments.push_back({std::move(literal), false, literal_start});
            literal.clear();
        }
        literal_start = next;
    };
    for (std::size_t i = 0; i < source.size(); ++i) {
        char c = source[i];
        if ((c == '{' || c == '}') && i + 1 < source.size() && source[i + 1] == c) {
            literal += c; // `{{` and `}}` are literal braces
            ++i;
            continue;
        }
        if (c == '}') {
            problems.push_back({i, "lone '}' in command (write '}}' for a literal brace)"});
            continue;
        }
        if (c != '{') {
            literal += c;
            continue;
        }
        std::size_t close = source.find('}', i + 1);
        std::size_t next_open = source.find('{', i + 1);
        if (close == std::string_view::npos || (next_open != std::string_view::npos && next_open < close)) {
            problems.push_back({i, "unclosed '{' in command (write '{{' for a literal brace)"});
            literal += c;
            continue;
        }
        std::string_view name = source.substr(i + 1, close - i - 1);
        if (name.empty()) {
            problems.push_back({i, "empty placeholder '{}' in command (write '{{}}' for literal braces)"});
        } else if (!is_name(name)) {
            problems.push_back({i, fmt::format("bad placeholder '{{{}}}' in command (a placeholder is a name: "
                                               "letters, digits and '_'; write '{{{{' for a literal brace)",
                                               name)});
        } else {
            flush(i);
            result.m_segments.push_back({std::string(name), true, i});
            literal_start = close + 1;
        }
        i = close;
    }
    flush(source.size());
    return result;
}

std::string CommandTemplate::render(const Resolver& resolve) const {
    std::string out;
    out.reserve(m_source.size() + 16);
    for (const auto& segment : m_segments) {
        if (!segment.placeholder) {
            out += segment.text;
            continue;
        }
        if (auto value = resolve(segment.text)) {
            out += shell_quote(*value);
        } else {
            out += '{' + segment.text + '}';
        }
    }
    return out;
}

} // namespace sshard::core
