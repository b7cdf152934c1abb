// A recursive reader of the shell's token recognition (XCU 2.3), following for every byte which quoting is in
// force: '...', "...", backslashes and line continuations (2.2), comments, $(...), `...`, ${...} and $((...))
// (2.6), here-documents with quoted and unquoted delimiters and <<- (2.7.4), and case patterns, whose ')' does not
// close a $( (2.9.4.3). It also knows what bash, /bin/sh on many systems, adds where that changes a value's fate:
// $'...', $[...], ((...)), ${a[...]} and the here-string <<<. Words are tracked only as far as reserved words go:
// `case`, `in` and `esac` in the places where the grammar reads them.
#include "core/shell_scanner.hpp"

#include "core/shell_scanner_impl.hpp"

namespace sshard::core {

namespace scanner {

std::vector<Placement> Scanner::run() {
    commands(false);
    if (m_too_deep) {
        for (auto& placement : m_placements) {
            placement.refusal = "in command nested more than 200 levels deep";
        }
    }
    return std::move(m_placements);
}

Placement& Scanner::placement_at(std::size_t pos) {
    auto it = std::lower_bound(m_marks.begin(), m_marks.end(), pos);
    return m_placements[static_cast<std::size_t>(it - m_marks.begin())];
}

void Scanner::place(Quoting quoting) {
    Placement& placement = placement_at(m_pos++);
    placement.quoting = quoting;
    if (m_ansi_c_ambiguous) {
        placement.refusal = k_ambiguous;
    }
}

void Scanner::refuse(std::string reason) {
    placement_at(m_pos++).refusal = std::move(reason);
}

void Scanner::commands(bool until_paren) {
    CommandState state;
    while (more()) {
        char c = current();
        if (is_blank(c) || c == '\n' || is_operator(c)) {
            end_word(state); // first: "esac)" ends a case, and then the ')' may end a $(
        }
        if (c == ')' && until_paren && state.parens == 0 && !state.in_pattern()) {
            ++m_pos;
            return;
        }
        if (next_is("\\\n")) {
            m_pos += 2;
        } else if (is_blank(c) || c == '\n') {
            ++m_pos;
            if (c == '\n') {
                state.command_start = true;
                here_document_bodies();
            }
        } else if (c == '#' && !state.in_word) {
            comment();
        } else if (is_operator(c)) {
            operator_char(state);
        } else {
            word_element(state);
        }
    }
    end_word(state);
}

void Scanner::operator_char(CommandState& state) {
    char c = current();
    if (next_is("<<")) {
        here_document_operator();
        state.command_start = false;
        return;
    }
    if (c == '(' && !state.in_pattern() && state.command_start && next_is("((")) {
        m_pos += 2;
        arithmetic("))");
        state.command_start = false;
        return;
    }
    ++m_pos;
    if (c == '(' && !state.in_pattern()) {
        ++state.parens;
    } else if (c == ')' && state.in_pattern()) {
        state.cases.back() = CaseState::body;
    } else if (c == ')' && state.parens > 0) {
        --state.parens;
    } else if (c == ';' && more() && current() == ';' && !state.cases.empty()) {
        ++m_pos;
        state.cases.back() = CaseState::pattern;
    }
    // After a redirection comes its target, not a command.
    state.command_start = c != '<' && c != '>';
}

void Scanner::end_word(CommandState& state) {
    if (!state.in_word) {
        return;
    }
    std::string word = state.plain_word ? state.word : std::string();
    bool was_start = state.command_start;
    state.in_word = false;
    state.plain_word = true;
    state.word.clear();
    state.command_start = false;
    if (!state.cases.empty()) {
        CaseState& top = state.cases.back();
        if (top == CaseState::subject || top == CaseState::expect_in) {
            top = top == CaseState::subject ? CaseState::expect_in : CaseState::pattern;
            return;
        }
        if (word == "esac" && (top == CaseState::pattern || was_start)) {
            state.cases.pop_back();
            return;
        }
        if (top == CaseState::pattern) {
            return;
        }
    }
    if (was_start && word == "case") {
        state.cases.push_back(CaseState::subject);
    } else {
        state.command_start = was_start && opens_command(word);
    }
}

void Scanner::word_element(CommandState& state) {
    char c = current();
    state.in_word = true;
    if (c == '\\') {
        escape();
    } else if (c == '\'') {
        single_quoted();
    } else if (c == '"') {
        double_quoted();
    } else if (c == '`') {
        backquoted();
    } else if (c == '$') {
        dollar(false);
    } else if (c == k_mark) {
        // bash would split a value "a,b" inside "{x,...}", even quoted as a safe word would be.
        place(state.word.find('{') == std::string::npos ? Quoting::word : Quoting::braced_word);
    } else {
        state.word += c;
        ++m_pos;
        return;
    }
    state.plain_word = false;
}

// A backslash quotes the next byte, so the first byte of a value would lose its quoting.
void Scanner::escape() {
    ++m_pos;
    if (more() && current() == k_mark) {
        refuse("after a backslash in command: no quoting of its value holds there");
    } else if (more()) {
        ++m_pos;
    }
}

// Reads a backslash, `...` or $ expansion at the current byte, which all quotings but '...' share; returns false
// for any other byte.
bool Scanner::expansion(bool quoted) {
    char c = current();
    if (c == '\\') {
        escape();
    } else if (c == '`') {
        backquoted();
    } else if (c == '$') {
        dollar(quoted);
    } else {
        return false;
    }
    return true;
}

void Scanner::comment() {
    while (more() && current() != '\n') {
        if (current() == k_mark) {
            refuse("in a comment in command: the shell never reads it");
        } else {
            ++m_pos;
        }
    }
}

void Scanner::single_quoted() {
    ++m_pos;
    while (more() && current() != '\'') {
        if (current() == k_mark) {
            place(Quoting::single);
        } else {
            ++m_pos;
        }
    }
    m_pos = std::min(m_pos + 1, m_end);
}

void Scanner::double_quoted() {
    ++m_pos;
    while (more() && current() != '"') {
        if (expansion(true)) {
            continue;
        }
        if (current() == k_mark) {
            place(Quoting::double_quoted);
        } else {
            ++m_pos;
        }
    }
    m_pos = std::min(m_pos + 1, m_end);
}

// The shell reads a `...` twice, the second time after removing a level of backslashes: no quoting survives both.
void Scanner::backquoted() {
    ++m_pos;
    while (more() && current() != '`') {
        if (current() == '\\') {
            escape();
        } else if (current() == k_mark) {
            refuse("inside `...` in command: write $(...) instead");
        } else {
            ++m_pos;
        }
    }
    m_pos = std::min(m_pos + 1, m_end);
}

// bash reads $'...' with C escapes, where \' does not end it; dash reads a '$' and then '...'.
void Scanner::ansi_c_quoted() {
    ++m_pos;
    while (more() && current() != '\'') {
        if (current() == k_mark) {
            refuse("inside $'...' in command: dash and bash read it differently (write '...' instead)");
            continue;
        }
        if (current() == '\\' && m_pos + 1 < m_end) {
            m_ansi_c_ambiguous = m_ansi_c_ambiguous || m_text[m_pos + 1] == '\'';
            ++m_pos;
            if (current() == k_mark) {
                continue;
            }
        }
        ++m_pos;
    }
    m_pos = std::min(m_pos + 1, m_end);
}

void Scanner::dollar(bool quoted) {
    if (++m_depth > k_max_depth) {
        m_too_deep = true;
        m_pos = m_end;
    } else if (next_is("$((")) {
        m_pos += 3;
        arithmetic("))");
    } else if (next_is("$(")) {
        m_pos += 2;
        commands(true);
    } else if (next_is("${")) {
        m_pos += 2;
        parameter(quoted);
    } else if (next_is("$[")) {
        m_pos += 2;
        arithmetic("]");
    } else if (!quoted && next_is("$'")) {
        ++m_pos;
        ansi_c_quoted();
    } else {
        ++m_pos;
    }
    --m_depth;
}

// Shells expand what an arithmetic expression holds, then evaluate the text, so only a number stays a number.
void Scanner::arithmetic(std::string_view closer) {
    int depth = 0;
    while (more()) {
        char c = current();
        if (depth == 0 && next_is(closer)) {
            m_pos += closer.size();
            return;
        }
        if (expansion(true)) {
            continue;
        }
        if (c == k_mark) {
            place(Quoting::arithmetic);
        } else {
            depth += c == '(' ? 1 : c == ')' && depth > 0 ? -1 : 0;
            ++m_pos;
        }
    }
}

void Scanner::parameter(bool quoted) {
    if (next_is("#") && !next_is("#}")) {
        ++m_pos; // ${#name}, the length
    }
    if (more() && current() == k_mark) {
        refuse("as the name in ${...} in command: only a fixed name works there");
    } else if (more() && std::string_view("@*#?-$!").find(current()) != std::string_view::npos) {
        ++m_pos;
    }
    while (more() && is_identifier_char(current())) {
        ++m_pos;
    }
    if (more() && current() == '[') {
        ++m_pos;
        arithmetic("]"); // bash's subscript, an arithmetic expression
    }
    if (more() && current() == ':') {
        ++m_pos;
    }
    BraceOperator op = BraceOperator::other;
    if (more() && std::string_view("-=?+").find(current()) != std::string_view::npos) {
        op = BraceOperator::value;
    } else if (more() && (current() == '#' || current() == '%')) {
        op = BraceOperator::pattern;
    } else if (more() && current() == '}') {
        ++m_pos;
        return;
    }
    brace_word(quoted, op);
}

void Scanner::brace_word(bool quoted, BraceOperator op) {
    while (more() && current() != '}') {
        char c = current();
        if (expansion(quoted)) {
            continue;
        }
        if (c == '"') {
            double_quoted();
        } else if (c == '\'' && !quoted) {
            single_quoted();
        } else if (c == k_mark) {
            place_in_brace(quoted, op);
        } else {
            ++m_pos;
        }
    }
    m_pos = std::min(m_pos + 1, m_end);
}

// Outside double quotes a ${...} word takes quotes as any word does; inside them only backslashes, and a pattern
// would still match by its * ? [ whatever they are given.
void Scanner::place_in_brace(bool quoted, BraceOperator op) {
    if (op == BraceOperator::other) {
        refuse("after an operator of ${...} that POSIX sh does not define, in command");
    } else if (!quoted) {
        place(Quoting::word);
    } else if (op == BraceOperator::value) {
        place(Quoting::double_in_brace);
    } else {
        refuse("in a pattern of ${...} within double quotes or a here-document, in command: its value would match "
               "as a pattern (move the ${...} out of the quotes)");
    }
}

} // namespace scanner

std::vector<Placement> place_placeholders(std::string_view text) {
    return scanner::Scanner(text).run();
}

} // namespace sshard::core
