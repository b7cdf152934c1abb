// The scanner's state and helpers, shared by core/shell_scanner.cpp (commands, quotes, expansions) and
// core/shell_scanner_here_document.cpp (here-documents). Included by those two files only.
#pragma once

#include <algorithm>
#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "core/names.hpp"
#include "core/shell_scanner.hpp"

namespace sshard::core::scanner {

constexpr char k_mark = k_placeholder_mark;
constexpr int k_max_depth = 200;
constexpr std::string_view k_ambiguous =
    "after a $'...' holding \\' in command: dash and bash end that quote at different places";

inline bool is_blank(char c) {
    return c == ' ' || c == '\t';
}

inline bool is_operator(char c) {
    return c == ';' || c == '&' || c == '|' || c == '<' || c == '>' || c == '(' || c == ')';
}

// After these reserved words a command may start, so `case`, `esac` and `((` are read there.
inline bool opens_command(const std::string& word) {
    static const std::array<std::string_view, 12> words = {"if",    "then", "else", "elif", "do",   "while",
                                                           "until", "!",    "{",    "}",    "time", "for"};
    return std::find(words.begin(), words.end(), word) != words.end();
}

struct PendingDocument {
    std::string delimiter;
    bool quoted = false;
    bool strip_tabs = false;
};

enum class CaseState { subject, expect_in, pattern, body };

// What one list of commands (the whole text, or one $(...)) has read so far.
struct CommandState {
    int parens = 0;
    std::vector<CaseState> cases;
    bool command_start = true;
    bool in_word = false;
    bool plain_word = true; // no quoting or expansion in the word, so it may be a reserved word
    std::string word;

    bool in_pattern() const { return !cases.empty() && cases.back() == CaseState::pattern; }
};

// The kind of operator of a ${name op word}, which decides what a value in its word becomes.
enum class BraceOperator { value, pattern, other };

class Scanner {
public:
    explicit Scanner(std::string_view text) : m_text(text), m_end(text.size()) {
        for (std::size_t i = 0; i < text.size(); ++i) {
            if (text[i] == k_mark) {
                m_marks.push_back(i);
            }
        }
        m_placements.resize(m_marks.size());
    }

    std::vector<Placement> run();

private:
    bool more() const { return m_pos < m_end; }
    char current() const { return m_text[m_pos]; }
    bool next_is(std::string_view s) const { return m_text.substr(m_pos, m_end - m_pos).substr(0, s.size()) == s; }
    Placement& placement_at(std::size_t pos);
    void place(Quoting quoting);
    void refuse(std::string reason);

    void commands(bool until_paren);
    void operator_char(CommandState& state);
    void end_word(CommandState& state);
    void word_element(CommandState& state);
    void escape();
    bool expansion(bool quoted);
    void comment();
    void single_quoted();
    void double_quoted();
    void backquoted();
    void ansi_c_quoted();
    void dollar(bool quoted);
    void arithmetic(std::string_view closer);
    void parameter(bool quoted);
    void brace_word(bool quoted, BraceOperator op);
    void place_in_brace(bool quoted, BraceOperator op);

    void here_document_operator();
    void delimiter_quote(PendingDocument& document);
    void here_document_bodies();
    void here_document_body(const PendingDocument& document);
    std::string logical_line(std::size_t& pos, bool join) const;
    bool annotate_line(std::size_t pos, std::size_t end, const PendingDocument& document, bool joined);
    void here_text();

    std::string_view m_text;
    std::size_t m_pos = 0;
    std::size_t m_end;
    std::vector<std::size_t> m_marks;
    std::vector<Placement> m_placements;
    std::vector<PendingDocument> m_pending;
    int m_depth = 0;
    bool m_too_deep = false;
    bool m_ansi_c_ambiguous = false;
};

} // namespace sshard::core::scanner
