// Where each placeholder of a command stands in the POSIX shell's reading of it (XCU 2.2-2.6, 2.9), which decides
// how its value is quoted, or why no quoting can make the value plain text there.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sshard::core {

// How a value is written where its placeholder stands.
enum class Quoting {
    word,                 // a word of its own, or part of one: '...' where needed
    braced_word,          // after an unquoted '{' in its word, where bash may expand {a,b}: always '...'
    single,               // inside the command's own '...'
    double_quoted,        // inside "...": \ before $ ` " and backslash
    double_in_brace,      // inside "${x:-...}" or ${...} in a here-document: as in "...", and \ before }
    here_document,        // in the body of a here-document with an unquoted delimiter: \ before $ ` and backslash
    here_document_quoted, // in the body of one with a quoted delimiter: as it is
    arithmetic,           // inside $((...)), ((...)) or $[...]: a decimal number, a negative one in parentheses
};

// The line of a here-document body a placeholder stands on: a value must not end the document early.
struct HereDocumentLine {
    std::string delimiter;
    std::string line;        // the placeholder's line as the shell compares it with the delimiter, marks included
    bool after_tabs = false; // only tabs stand before the placeholder on its line, which <<- strips
};

// What the scanner found for one placeholder.
struct Placement {
    Quoting quoting = Quoting::word;
    std::optional<HereDocumentLine> here_document; // set in a here-document body, at any depth within it
    std::string refusal;                           // non-empty: why no value can stand there, e.g. "in a comment: ..."
};

// The byte that stands for a placeholder in the text handed to place_placeholders (a command holds no NUL).
inline constexpr char k_placeholder_mark = '\0';

// Reads `text`, the command as the shell will see it with each placeholder as one k_placeholder_mark, and
// returns one Placement per mark, in order. Never fails: text the shell would reject gets some placement.
std::vector<Placement> place_placeholders(std::string_view text);

} // namespace sshard::core
