// Here-documents (XCU 2.7.4): the delimiter word after << or <<-, and the bodies, read at the next newline in the
// order their operators came. A placeholder in a body also records its line, so that a value can be checked
// against the delimiter.
#include "core/shell_scanner_impl.hpp"

namespace sshard::core::scanner {

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

} // namespace sshard::core::scanner
