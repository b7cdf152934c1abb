// A job's command template: shell text with `{name}` placeholders. Only a `{` followed by a name and `}` is a
// placeholder; every other brace is the shell's. `{{` stands for a literal `{`, and a `}}` that closes it for `}`.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/shell_scanner.hpp"

namespace sshard::core {

class CommandTemplate {
public:
    using Quoting = core::Quoting;

    struct Segment {
        std::string text; // literal text, or the placeholder's name
        bool placeholder = false;
        std::size_t offset = 0;          // byte offset of the segment in the template source (at '{' for placeholders)
        Quoting quoting = Quoting::word; // for placeholders: how a value is written there
        std::optional<HereDocumentLine> here_document = std::nullopt; // for placeholders in a here-document's body
    };

    // A syntax problem at a byte offset of the source.
    struct Problem {
        std::size_t offset = 0;
        std::string message; // e.g. "placeholder '{item}' in a comment in command: the shell never reads it"
    };

    CommandTemplate() = default;

    // Parses `source` and finds where each placeholder stands in the shell's reading of it (shell_scanner.hpp).
    // Problems: a NUL byte, and a placeholder where no quoting makes a value plain text (a comment, after a
    // backslash, inside `...`, a here-document's delimiter, ...). Returns the template and an empty list, or every
    // problem found.
    static CommandTemplate parse(std::string_view source, std::vector<Problem>& problems);

    const std::string& source() const { return m_source; }
    const std::vector<Segment>& segments() const { return m_segments; }

    // Why `value` cannot stand for the placeholder `segment` where it stands, or "" when it can: a NUL byte
    // anywhere; in a here-document, a line break, a value that could make its line the delimiter, or a leading tab
    // that <<- would strip; in arithmetic, anything but a decimal whole number.
    static std::string refusal(const Segment& segment, std::string_view value);
    // As refusal, for a placeholder whose values are whole numbers unknown when the spec is loaded ({index}...).
    static std::string refusal_of_numbers(const Segment& segment);

    // Resolves a placeholder's value; nullopt leaves the placeholder as written (`{host}` in a plan).
    using Resolver = std::function<std::optional<std::string>(std::string_view name)>;

    // Substitutes every placeholder, writing each value for where it stands (see Quoting) so that it reaches the
    // command as exactly its text. Values must have passed refusal().
    std::string render(const Resolver& resolve) const;

private:
    std::string m_source;
    std::vector<Segment> m_segments;
};

} // namespace sshard::core
