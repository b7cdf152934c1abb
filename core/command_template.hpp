// A job's command template: literal text with `{name}` placeholders; `{{` and `}}` stand for literal braces.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sshard::core {

class CommandTemplate {
public:
    // Where a placeholder stands in the shell's reading of the command, which decides how its value is quoted.
    enum class Quoting { word, single, double_quoted };

    struct Segment {
        std::string text; // literal text, or the placeholder's name
        bool placeholder = false;
        std::size_t offset = 0;          // byte offset of the segment in the template source (at '{' for placeholders)
        Quoting quoting = Quoting::word; // for placeholders
    };

    // A syntax problem at a byte offset of the source.
    struct Problem {
        std::size_t offset = 0;
        std::string message; // e.g. "unclosed '{' in command (write '{{' for a literal brace)"
    };

    CommandTemplate() = default;

    // Parses `source`. Problems: an unclosed `{`, a lone `}`, an empty `{}`, a name that is not
    // [A-Za-z_][A-Za-z0-9_]*, a placeholder after a backslash or inside `...` (where no quoting of its value
    // holds). Returns the template and an empty list, or every problem found.
    static CommandTemplate parse(std::string_view source, std::vector<Problem>& problems);

    const std::string& source() const { return m_source; }
    const std::vector<Segment>& segments() const { return m_segments; }

    // Resolves a placeholder's value; nullopt leaves the placeholder as written (`{host}` in a plan).
    using Resolver = std::function<std::optional<std::string>(std::string_view name)>;

    // Substitutes every placeholder, quoting each value for where it stands (see shell_quote.hpp): as a word
    // of its own, or as literal text inside the command's own '...' or "...".
    std::string render(const Resolver& resolve) const;

private:
    std::string m_source;
    std::vector<Segment> m_segments;
};

} // namespace sshard::core
