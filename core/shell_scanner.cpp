// A recursive reader of the shell's token recognition (XCU 2.3), following for every byte which quoting is in
// force: '...', "...", backslashes and line continuations (2.2), comments, $(...), `...`, ${...} and $((...))
// (2.6), here-documents with quoted and unquoted delimiters and <<- (2.7.4), and case patterns, whose ')' does not
// close a $( (2.9.4.3). It also knows what bash, /bin/sh on many systems, adds where that changes a value's fate:
// $'...', $[...], ((...)), ${a[...]} and the here-string <<<. Words are tracked only as far as reserved words go:
// `case`, `in` and `esac` in the places where the grammar reads them.
#include "core/shell_scanner.hpp"

#include <algorithm>
#include <array>

namespace sshard::core {

namespace {

constexpr char k_mark = k_placeholder_mark;
constexpr int k_max_depth = 200;
constexpr std::string_view k_ambiguous =
    "after a $'...' holding \\' in command: dash and bash end that quote at different places";

bool is_blank(char c) {
    return c == ' ' || c == '\t';
}

bool is_operator(char c) {
    return c == ';' || c == '&' || c == '|' || c == '<' || c == '>' || c == '(' || c == ')';
}

bool is_name_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

// After these reserved words a command may start, so `case`, `esac` and `((` are read there.
bool opens_command(const std::string& word) {
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
        place(Quoting::word);
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
    while (more() && is_name_char(current())) {
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

void Scanner::here_document_operator() {
    if (next_is("<<<")) {
        m_pos += 3; // bash's here-string: a word follows
        return;
    }
    PendingDocument document;
    document.strip_tabs = next_is("<<-");
    m_pos += document.strip_tabs ? 3 : 2;
    while (more() && (is_blank(current()) || next_is("\\\n"))) {
        m_pos += current() == '\\' ? 2 : 1;
    }
    while (more() && !is_blank(current()) && current() != '\n' && !is_operator(current())) {
        char c = current();
        if (next_is("\\\n")) {
            m_pos += 2;
        } else if (c == k_mark) {
            refuse("in a here-document's delimiter in command: the delimiter must be fixed text");
        } else if (c == '\\' || c == '\'' || c == '"') {
            delimiter_quote(document);
        } else {
            document.delimiter += c;
            ++m_pos;
        }
    }
    m_pending.push_back(std::move(document));
}

// Any quoting in the delimiter word makes the body literal; the quotes themselves are removed.
void Scanner::delimiter_quote(PendingDocument& document) {
    document.quoted = true;
    char quote = current();
    ++m_pos;
    if (quote == '\\') {
        if (more() && current() != k_mark) {
            document.delimiter += m_text[m_pos++];
        }
        return;
    }
    while (more() && current() != quote) {
        if (current() == k_mark) {
            refuse("in a here-document's delimiter in command: the delimiter must be fixed text");
            continue;
        }
        if (quote == '"' && current() == '\\' && m_pos + 1 < m_end &&
            std::string_view("$`\"\\").find(m_text[m_pos + 1]) != std::string_view::npos) {
            ++m_pos;
        }
        document.delimiter += m_text[m_pos++];
    }
    m_pos = std::min(m_pos + 1, m_end);
}

void Scanner::here_document_bodies() {
    std::vector<PendingDocument> documents = std::move(m_pending);
    m_pending.clear();
    for (const auto& document : documents) {
        here_document_body(document);
    }
}

// The shell cuts the body out line by line first, then expands it: the delimiter line ends it whatever the body
// says, $(...) included.
void Scanner::here_document_body(const PendingDocument& document) {
    std::size_t start = m_pos;
    std::size_t body_end = m_end;
    std::size_t after = m_end;
    for (std::size_t pos = start; pos < m_end;) {
        std::size_t line_start = pos;
        std::string line = logical_line(pos, !document.quoted);
        std::size_t tabs = document.strip_tabs ? std::min(line.find_first_not_of('\t'), line.size()) : 0;
        if (line.substr(tabs) == document.delimiter) {
            body_end = line_start;
            after = pos;
            break;
        }
    }
    bool joined = false;
    for (std::size_t pos = start; pos < body_end;) {
        std::size_t end = std::min(m_text.find('\n', pos), body_end);
        joined = annotate_line(pos, end, document, joined);
        pos = end + 1;
    }
    if (!document.quoted) {
        std::size_t outer_end = m_end;
        m_end = body_end;
        m_pos = start;
        here_text();
        m_end = outer_end;
    }
    m_pos = after;
}

// One line of the body from `pos`, which moves past its newline. An unquoted body joins a line that ends in an
// odd number of backslashes to the next before looking for the delimiter, as dash and bash both do.
std::string Scanner::logical_line(std::size_t& pos, bool join) const {
    std::string line;
    while (pos < m_end) {
        std::size_t newline = std::min(m_text.find('\n', pos), m_end);
        std::string_view part = m_text.substr(pos, newline - pos);
        pos = std::min(newline + 1, m_end);
        std::size_t slashes = part.size() - std::min(part.find_last_not_of('\\') + 1, part.size());
        if (join && slashes % 2 == 1 && newline < m_end) {
            line += part.substr(0, part.size() - 1);
            continue;
        }
        line += part;
        break;
    }
    return line;
}

// Records the line each placeholder stands on, as the shell compares it with the delimiter. A line joined to the
// one before or after by a backslash gets a mark at that end, standing for text not known here. Returns whether the
// line is joined to the next.
bool Scanner::annotate_line(std::size_t pos, std::size_t end, const PendingDocument& document, bool joined) {
    std::string_view line = m_text.substr(pos, end - pos);
    std::size_t tabs = document.strip_tabs ? std::min(line.find_first_not_of('\t'), line.size()) : 0;
    std::string_view text = line.substr(tabs);
    std::size_t slashes = text.size() - std::min(text.find_last_not_of('\\') + 1, text.size());
    bool continues = !document.quoted && slashes % 2 == 1;
    if (continues) {
        text.remove_suffix(1);
    }
    std::string mark(1, k_mark);
    std::string compared = (joined ? mark : "") + std::string(text) + (continues ? mark : "");
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == k_mark) {
            Placement& placement = placement_at(pos + tabs + i);
            bool after_tabs = document.strip_tabs && text.substr(0, i).find_first_not_of(k_mark) == std::string::npos;
            placement.here_document = HereDocumentLine{document.delimiter, compared, after_tabs && !joined};
            placement.quoting = document.quoted ? Quoting::here_document_quoted : Quoting::here_document;
            if (m_ansi_c_ambiguous) {
                placement.refusal = k_ambiguous;
            }
        }
    }
    return continues;
}

// An unquoted body is read as if in double quotes, except that '"' stands for itself.
void Scanner::here_text() {
    while (more()) {
        if (expansion(true)) {
            continue;
        }
        if (current() == k_mark) {
            place(Quoting::here_document);
        } else {
            ++m_pos;
        }
    }
}

} // namespace

std::vector<Placement> place_placeholders(std::string_view text) {
    return Scanner(text).run();
}

} // namespace sshard::core
