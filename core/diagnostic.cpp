#include "core/diagnostic.hpp"

#include <algorithm>
#include <fmt/format.h>

#include "core/error.hpp"

namespace sshard::core {

namespace {

constexpr std::size_t k_max_shown_line = 120;

} // namespace

SpecError::SpecError(std::string file, std::vector<Diagnostic> diagnostics)
    : UsageError(fmt::format("{} error{} in {}", diagnostics.size(), diagnostics.size() == 1 ? "" : "s", file)),
      m_file(std::move(file)), m_diagnostics(std::move(diagnostics)) {}

std::string format_diagnostic(std::string_view file, const Diagnostic& diagnostic, bool colour) {
    const char* red = colour ? "\033[1;31m" : "";
    const char* green = colour ? "\033[1;32m" : "";
    const char* reset = colour ? "\033[0m" : "";
    std::string out;
    if (diagnostic.location.line > 0) {
        out = fmt::format("{}:{}:{}: {}error:{} {}\n", file, diagnostic.location.line, diagnostic.location.column, red,
                          reset, diagnostic.message);
    } else {
        out = fmt::format("{}: {}error:{} {}\n", file, red, reset, diagnostic.message);
    }
    if (diagnostic.source_line.empty() || diagnostic.location.column < 1) {
        return out;
    }
    // A very long line is shown as a window around the column, marked with "..." where it is cut.
    std::string_view line = diagnostic.source_line;
    std::size_t column = static_cast<std::size_t>(diagnostic.location.column - 1);
    std::string prefix;
    if (line.size() > k_max_shown_line) {
        std::size_t from = column > k_max_shown_line / 2 ? column - k_max_shown_line / 2 : 0;
        prefix = from > 0 ? "..." : "";
        std::string_view shown = line.substr(from, k_max_shown_line);
        column = column - from + prefix.size();
        line = shown;
    }
    std::string text =
        prefix + std::string(line) +
        (line.data() + line.size() < diagnostic.source_line.data() + diagnostic.source_line.size() ? "..." : "");
    // Keep tabs in the caret line so the caret lines up under the offending column.
    std::string pad;
    for (std::size_t i = 0; i < column && i < text.size(); ++i) {
        pad += text[i] == '\t' ? '\t' : ' ';
    }
    out += fmt::format("    {}\n    {}{}^{}\n", text, pad, green, reset);
    return out;
}

DiagnosticList::DiagnosticList(std::string_view source) {
    std::size_t start = 0;
    while (start <= source.size()) {
        std::size_t end = source.find('\n', start);
        if (end == std::string_view::npos) {
            end = source.size();
        }
        std::string_view line = source.substr(start, end - start);
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        m_lines.push_back(line);
        start = end + 1;
    }
}

std::string_view DiagnosticList::line(int number) const {
    return number > 0 && number <= static_cast<int>(m_lines.size()) ? m_lines[number - 1] : std::string_view();
}

void DiagnosticList::hide(int number, std::size_t from) {
    auto it = m_hidden.emplace(number, from).first;
    it->second = std::min(it->second, from);
}

void DiagnosticList::error(SourceLocation location, std::string message) {
    std::string shown(line(location.line));
    if (auto hidden = m_hidden.find(location.line); hidden != m_hidden.end() && hidden->second < shown.size()) {
        shown.resize(hidden->second);
        shown += !shown.empty() && shown.back() == ':' ? " ***" : "***";
    }
    m_diagnostics.push_back({location, std::move(message), std::move(shown)});
}

std::vector<Diagnostic> DiagnosticList::take() {
    auto position = [](const Diagnostic& d) { return std::pair(d.location.line, d.location.column); };
    std::stable_sort(m_diagnostics.begin(), m_diagnostics.end(),
                     [&](const Diagnostic& a, const Diagnostic& b) { return position(a) < position(b); });
    // A value that aliases bring to several places is read, and reported, at each: once is enough.
    std::vector<Diagnostic> distinct;
    for (auto& diagnostic : m_diagnostics) {
        bool repeated = false;
        for (auto it = distinct.rbegin(); it != distinct.rend() && position(*it) == position(diagnostic); ++it) {
            repeated = repeated || it->message == diagnostic.message;
        }
        if (!repeated) {
            distinct.push_back(std::move(diagnostic));
        }
    }
    m_diagnostics.clear();
    return distinct;
}

namespace {

// Optimal string alignment distance: edits, with adjacent swaps counting once ("retires" -> "retries").
std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
    for (std::size_t i = 0; i <= a.size(); ++i) {
        d[i][0] = i;
    }
    for (std::size_t j = 0; j <= b.size(); ++j) {
        d[0][j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
            }
        }
    }
    return d[a.size()][b.size()];
}

} // namespace

std::string closest_match(std::string_view word, const std::vector<std::string>& candidates) {
    if (word.size() > 64) {
        return {};
    }
    std::string best;
    std::size_t best_distance = std::max<std::size_t>(1, std::min<std::size_t>(2, word.size() / 3));
    for (const auto& candidate : candidates) {
        std::size_t distance = edit_distance(word, candidate);
        // A suggestion must keep something of the word: "c" is not a typo of "a".
        if (distance < word.size() && distance <= best_distance && (best.empty() || distance < best_distance)) {
            best = candidate;
            best_distance = distance;
        }
    }
    return best;
}

} // namespace sshard::core
