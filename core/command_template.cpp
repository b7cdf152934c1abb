// A command template is parsed once, when the spec is loaded: the braces first, then the shell's reading of the
// text around each placeholder (shell_scanner.hpp). Every place where no writing of a value can keep it plain text
// is a problem then, and so is every value that cannot stand where its placeholder does, so that rendering a
// shard's command only substitutes: whatever a value holds, it reaches the command as exactly its text.
#include "core/command_template.hpp"

#include <algorithm>
#include <fmt/format.h>

#include "core/names.hpp"
#include "core/shell_quote.hpp"

namespace sshard::core {

namespace {

using Segment = CommandTemplate::Segment;
using Problem = CommandTemplate::Problem;

// Joins literal text to the previous literal segment, so that an escaped brace does not split the text.
void append_literal(std::vector<Segment>& segments, char c, std::size_t offset) {
    if (segments.empty() || segments.back().placeholder) {
        segments.push_back(Segment{{}, false, offset});
    }
    segments.back().text += c;
}

// The end of the placeholder `{name}` whose '{' is at `open`, or `open` when none starts there. "${" is the
// shell's, as is any brace not around a name: "{ a; }", "{}", "awk '{print $1}'".
std::size_t placeholder_end(std::string_view source, std::size_t open) {
    if (source[open] != '{' || (open > 0 && source[open - 1] == '$') || open + 1 >= source.size() ||
        !is_identifier_start(source[open + 1])) {
        return open;
    }
    std::size_t end = open + 1;
    while (end < source.size() && is_identifier_char(source[end])) {
        ++end;
    }
    return end < source.size() && source[end] == '}' ? end + 1 : open;
}

// Splits `source` into literal text and placeholders. "{{" is a literal '{', and a "}}" closing it a literal '}'.
std::vector<Segment> split(std::string_view source, std::vector<Problem>& problems) {
    std::vector<Segment> segments;
    int open_escapes = 0;
    for (std::size_t pos = 0; pos < source.size();) {
        char c = source[pos];
        bool doubled = pos + 1 < source.size() && source[pos + 1] == c;
        if ((c == '{' && doubled) || (c == '}' && doubled && open_escapes > 0)) {
            open_escapes += c == '{' ? 1 : -1;
            append_literal(segments, c, pos);
            pos += 2;
        } else if (std::size_t end = placeholder_end(source, pos); end != pos) {
            segments.push_back(Segment{std::string(source.substr(pos + 1, end - pos - 2)), true, pos});
            pos = end;
        } else {
            if (c == k_placeholder_mark) {
                problems.push_back(Problem{pos, "NUL byte in command: no command line can carry it"});
            }
            append_literal(segments, c, pos++);
        }
    }
    return segments;
}

std::string escape_before(std::string_view value, std::string_view special) {
    std::string out;
    for (char c : value) {
        if (special.find(c) != std::string_view::npos) {
            out += '\\';
        }
        out += c;
    }
    return out;
}

// A word with no special character that the shell still reads as syntax where a command starts: a reserved word
// (POSIX's and bash's), or an assignment.
bool reads_as_syntax(std::string_view value) {
    static const std::vector<std::string_view> reserved = {"case",  "do",   "done",   "elif",     "else",  "esac",
                                                           "fi",    "for",  "if",     "in",       "then",  "until",
                                                           "while", "time", "select", "function", "coproc"};
    std::size_t name_end = 0;
    while (name_end < value.size() && is_identifier_char(value[name_end])) {
        ++name_end;
    }
    bool assignment =
        name_end > 0 && !(value[0] >= '0' && value[0] <= '9') && name_end < value.size() && value[name_end] == '=';
    return assignment || std::find(reserved.begin(), reserved.end(), value) != reserved.end();
}

std::string write_value(Quoting quoting, std::string_view value) {
    switch (quoting) {
    case Quoting::single:
        return shell_quote_in_single(value);
    case Quoting::double_quoted:
        return shell_quote_in_double(value);
    case Quoting::double_in_brace:
        return escape_before(value, "$`\"\\}");
    case Quoting::here_document:
        return escape_before(value, "$`\\");
    case Quoting::here_document_quoted:
        return std::string(value);
    case Quoting::arithmetic:
        // "5-{start}" with -3 must not read "5--3", a decrement.
        return !value.empty() && value[0] == '-' ? fmt::format("({})", value) : std::string(value);
    case Quoting::braced_word:
        return "'" + shell_quote_in_single(value) + "'";
    case Quoting::word:
        break;
    }
    // Left bare, such a word holds only characters without meaning in quotes.
    std::string quoted = shell_quote(value);
    return quoted == value && reads_as_syntax(value) ? "'" + quoted + "'" : quoted;
}

// What arithmetic evaluates as exactly the number written: no octal 010, no hex, no name, within 64 bits.
bool is_plain_number(std::string_view value) {
    std::string_view digits = !value.empty() && value[0] == '-' ? value.substr(1) : value;
    if (digits.empty() || digits.size() > 18 || (digits[0] == '0' && value.size() > 1)) {
        return false;
    }
    return digits.find_first_not_of("0123456789") == std::string_view::npos;
}

// Whether some values could make `line` (marks for placeholders) the delimiter, when one of them is written as
// `written`. With one placeholder on the line this is exact; with more, each piece of the line must be part of
// the delimiter for the line to be it.
bool could_be_delimiter(const HereDocumentLine& here, std::string_view written) {
    std::string_view line = here.line;
    std::size_t mark = line.find(k_placeholder_mark);
    if (line.find(k_placeholder_mark, mark + 1) == std::string_view::npos) {
        return std::string(line.substr(0, mark)) + std::string(written) + std::string(line.substr(mark + 1)) ==
               here.delimiter;
    }
    if (here.delimiter.find(written) == std::string::npos) {
        return false;
    }
    for (std::size_t from = 0; from <= line.size();) {
        std::size_t next = std::min(line.find(k_placeholder_mark, from), line.size());
        if (here.delimiter.find(line.substr(from, next - from)) == std::string::npos) {
            return false;
        }
        from = next + 1;
    }
    return true;
}

} // namespace

CommandTemplate CommandTemplate::parse(std::string_view source, std::vector<Problem>& problems) {
    problems.clear();
    CommandTemplate result;
    result.m_source = std::string(source);
    result.m_segments = split(source, problems);
    if (!problems.empty()) {
        return result;
    }
    std::string text;
    for (const auto& segment : result.m_segments) {
        text += segment.placeholder ? std::string(1, k_placeholder_mark) : segment.text;
    }
    std::vector<Placement> placements = place_placeholders(text);
    auto placement = placements.begin();
    for (auto& segment : result.m_segments) {
        if (!segment.placeholder) {
            continue;
        }
        segment.quoting = placement->quoting;
        segment.here_document = placement->here_document;
        if (!placement->refusal.empty()) {
            problems.push_back(
                Problem{segment.offset, fmt::format("placeholder '{{{}}}' {}", segment.text, placement->refusal)});
        }
        ++placement;
    }
    return result;
}

std::string CommandTemplate::refusal(const Segment& segment, std::string_view value) {
    if (value.find('\0') != std::string_view::npos) {
        return "holds a NUL byte, which no command line can carry";
    }
    if (segment.quoting == Quoting::arithmetic && !is_plain_number(value)) {
        return "is not a whole number, which arithmetic in the command needs";
    }
    if (!segment.here_document) {
        return "";
    }
    const HereDocumentLine& here = *segment.here_document;
    if (value.find('\n') != std::string_view::npos) {
        return "holds a line break, which could end the here-document";
    }
    if (here.after_tabs && !value.empty() && value[0] == '\t') {
        return "starts with a tab, which <<- strips";
    }
    if (could_be_delimiter(here, write_value(segment.quoting, value))) {
        return fmt::format("would end the here-document, whose delimiter is '{}'", here.delimiter);
    }
    return "";
}

std::string CommandTemplate::refusal_of_numbers(const Segment& segment) {
    // A number is written with digits and '-' only: unless the delimiter holds one of those, no number is part of
    // it. Two more marks on the line stand for the number's unknown other digits.
    if (!segment.here_document || segment.here_document->delimiter.find_first_of("-0123456789") == std::string::npos) {
        return "";
    }
    HereDocumentLine unknown = *segment.here_document;
    unknown.line += std::string(2, k_placeholder_mark);
    if (!could_be_delimiter(unknown, "")) {
        return "";
    }
    return fmt::format("could end the here-document, whose delimiter '{}' holds digits", unknown.delimiter);
}

std::string CommandTemplate::render(const Resolver& resolve) const {
    std::string out;
    for (const auto& segment : m_segments) {
        if (!segment.placeholder) {
            out += segment.text;
        } else if (std::optional<std::string> value = resolve(segment.text)) {
            out += write_value(segment.quoting, *value);
        } else {
            out += fmt::format("{{{}}}", segment.text);
        }
    }
    return out;
}

} // namespace sshard::core
