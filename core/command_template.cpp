// A command template is parsed once, when the spec is loaded, so that every syntax problem is reported with
// its offset before anything runs. Rendering then only substitutes: each value is shell-quoted, so a host name
// or parameter can never become shell syntax, whatever characters it holds.
#include "core/command_template.hpp"

#include <fmt/format.h>

#include "core/shell_quote.hpp"

namespace sshard::core {

namespace {

using Segment = CommandTemplate::Segment;
using Problem = CommandTemplate::Problem;

bool is_name_start(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

bool is_name(std::string_view name) {
    if (name.empty() || !is_name_start(name[0])) {
        return false;
    }
    for (char c : name) {
        if (!is_name_start(c) && !(c >= '0' && c <= '9')) {
            return false;
        }
    }
    return true;
}

// Joins literal text to the previous literal segment, so that an escaped brace does not split the text.
void append_literal(std::vector<Segment>& segments, char c, std::size_t offset) {
    if (segments.empty() || segments.back().placeholder) {
        segments.push_back(Segment{{}, false, offset});
    }
    segments.back().text += c;
}

// Reads the placeholder whose '{' is at `open` and returns the position after it. A '{' met before the
// closing '}' means this one was left open: "{host {port}" reports the first brace and keeps "{port}".
std::size_t read_placeholder(std::string_view source, std::size_t open, std::vector<Segment>& segments,
                             std::vector<Problem>& problems) {
    std::size_t close = source.find_first_of("{}", open + 1);
    if (close == std::string_view::npos || source[close] == '{') {
        problems.push_back(Problem{open, "unclosed '{' in command (write '{{' for a literal brace)"});
        append_literal(segments, '{', open);
        return open + 1;
    }
    std::string_view name = source.substr(open + 1, close - open - 1);
    if (name.empty()) {
        problems.push_back(Problem{open, "empty placeholder '{}' in command (write '{{}}' for literal braces)"});
    } else if (!is_name(name)) {
        // The usual cause is a shell or awk brace ("{print $1}"), hence the hint.
        problems.push_back(Problem{open, fmt::format("bad placeholder '{{{}}}' in command (a placeholder is a name: "
                                                     "letters, digits and '_'; write '{{{{' for a literal brace)",
                                                     name)});
    }
    segments.push_back(Segment{std::string(name), true, open});
    return close + 1;
}

} // namespace

CommandTemplate CommandTemplate::parse(std::string_view source, std::vector<Problem>& problems) {
    problems.clear();
    CommandTemplate result;
    result.m_source = std::string(source);
    std::size_t pos = 0;
    while (pos < source.size()) {
        char c = source[pos];
        bool doubled = pos + 1 < source.size() && source[pos + 1] == c;
        if (c == '{' && !doubled) {
            pos = read_placeholder(source, pos, result.m_segments, problems);
            continue;
        }
        if (c == '}' && !doubled) {
            problems.push_back(Problem{pos, "lone '}' in command (write '}}' for a literal brace)"});
        }
        append_literal(result.m_segments, c, pos);
        pos += (c == '{' || c == '}') && doubled ? 2 : 1;
    }
    return result;
}

std::string CommandTemplate::render(const Resolver& resolve) const {
    std::string out;
    for (const auto& segment : m_segments) {
        if (!segment.placeholder) {
            out += segment.text;
            continue;
        }
        std::optional<std::string> value = resolve(segment.text);
        out += value ? shell_quote(*value) : fmt::format("{{{}}}", segment.text);
    }
    return out;
}

} // namespace sshard::core
