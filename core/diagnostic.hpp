// Compiler-style diagnostics: `file:line:column: error: message`, then the source line and a caret.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace sshard::core {

// A place in a source file, 1-based. Line 0 means "the file as a whole".
struct SourceLocation {
    int line = 0;
    int column = 0;
};

struct Diagnostic {
    SourceLocation location;
    std::string message;     // starts lowercase, quotes the user's value
    std::string source_line; // the offending line, without its newline; empty when unknown
};

// Formats one diagnostic over two or three lines (the source line and caret only when known), each ending in
// '\n'. With `colour`, "error:" and the caret are wrapped in ANSI colour codes.
std::string format_diagnostic(std::string_view file, const Diagnostic& diagnostic, bool colour = false);

// Collects diagnostics against one source text, filling in each one's source line.
class DiagnosticList {
public:
    explicit DiagnosticList(std::string_view source);

    void error(SourceLocation location, std::string message);
    // Shows line `number` cut at byte `from` (0-based), then "***", in every diagnostic that quotes it: for lines
    // that hold values which may be secret. Takes effect for diagnostics reported after the call.
    void hide(int number, std::size_t from);
    bool empty() const { return m_diagnostics.empty(); }
    // Source line `number` (1-based) as it is, or "" when out of range.
    std::string_view line(int number) const;
    int line_count() const { return static_cast<int>(m_lines.size()); }
    std::size_t size() const { return m_diagnostics.size(); }
    // Returns the diagnostics sorted by position (stable for equal positions), each repeated one once.
    std::vector<Diagnostic> take();

private:
    std::vector<std::string_view> m_lines;
    std::map<int, std::size_t> m_hidden; // line number -> where it is cut
    std::vector<Diagnostic> m_diagnostics;
};

// The closest candidate within a small edit distance of `word`, or "" when none is close: for "did you mean".
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

} // namespace sshard::core
