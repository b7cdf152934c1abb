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

// Finds where each placeholder stands in the shell's reading of the command, so that its value can be quoted
// for that place: as a word, or as text inside the command's own '...' or "..." (there a quoted word's quotes
// would close the command's or be printed, and $(...) in a value would run). This follows POSIX sh quoting far
// enough for that: quotes, backslashes, $(...) (a fresh level, even within "...") and `...`; not here-documents,
// which a one-line template rarely holds. No quoting holds after a backslash, nor inside `...`, whose
// backslashes the shell reads twice: a placeholder there is a problem.
void place_placeholders(std::vector<Segment>& segments, std::vector<Problem>& problems) {
    enum class Level { plain, single, double_quoted, backtick };
    struct Frame {
        Level level;
        int parens = 0; // open '(' of a $( ... ) level; it ends when they all close
    };
    std::vector<Frame> stack = {{Level::plain}};
    bool escaped = false;
    for (auto& segment : segments) {
        if (segment.placeholder) {
            Level level = stack.back().level;
            if (!is_name(segment.text)) {
                // already reported as a bad placeholder
            } else if (escaped) {
                problems.push_back(Problem{segment.offset, fmt::format("placeholder '{{{}}}' after a backslash in "
                                                                       "command: no quoting of its value holds there",
                                                                       segment.text)});
            } else if (level == Level::backtick) {
                problems.push_back(Problem{segment.offset, fmt::format("placeholder '{{{}}}' inside `...` in "
                                                                       "command: write $(...) instead",
                                                                       segment.text)});
            }
            segment.quoting = level == Level::single          ? CommandTemplate::Quoting::single
                              : level == Level::double_quoted ? CommandTemplate::Quoting::double_quoted
                                                              : CommandTemplate::Quoting::word;
            escaped = false;
            continue;
        }
        const std::string& text = segment.text;
        for (std::size_t i = 0; i < text.size(); ++i) {
            char c = text[i];
            Frame& frame = stack.back();
            if (escaped) {
                escaped = false;
                continue;
            }
            if (frame.level == Level::single) {
                if (c == '\'') {
                    stack.pop_back();
                }
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '`') {
                // Closes a `...` level, or opens one, in "..." as anywhere else.
                if (frame.level == Level::backtick) {
                    stack.pop_back();
                } else {
                    stack.push_back({Level::backtick});
                }
            } else if (c == '$' && i + 1 < text.size() && text[i + 1] == '(') {
                stack.push_back({Level::plain, 1});
                ++i;
            } else if (frame.level == Level::double_quoted) {
                if (c == '"') {
                    stack.pop_back();
                }
            } else if (c == '\'') {
                stack.push_back({Level::single});
            } else if (c == '"') {
                stack.push_back({Level::double_quoted});
            } else if (c == '(' && frame.parens > 0) {
                ++frame.parens;
            } else if (c == ')' && frame.parens > 0 && --frame.parens == 0) {
                stack.pop_back();
            }
        }
    }
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
    place_placeholders(result.m_segments, problems);
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
        if (!value) {
            out += fmt::format("{{{}}}", segment.text);
        } else if (segment.quoting == Quoting::single) {
            out += shell_quote_in_single(*value);
        } else if (segment.quoting == Quoting::double_quoted) {
            out += shell_quote_in_double(*value);
        } else {
            out += shell_quote(*value);
        }
    }
    return out;
}

} // namespace sshard::core
