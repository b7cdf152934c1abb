#include "core/host_file.hpp"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <map>
#include <optional>
#include <set>

#include "core/error.hpp"
#include "core/hostlist.hpp"
#include "core/hosts.hpp"

namespace sshard::core {

namespace {

constexpr std::size_t k_max_bytes = 16u << 20;

// A word of a line and the column (1-based) it starts at.
struct Word {
    std::string_view text;
    int column = 0;
};

std::vector<Word> split_words(std::string_view line) {
    std::vector<Word> words;
    std::size_t pos = 0;
    while (true) {
        pos = line.find_first_not_of(" \t\r", pos);
        if (pos == std::string_view::npos) {
            return words;
        }
        std::size_t end = std::min(line.find_first_of(" \t\r", pos), line.size());
        words.push_back(Word{line.substr(pos, end - pos), static_cast<int>(pos) + 1});
        pos = end;
    }
}

std::optional<int> to_int(std::string_view text, int min, int max) {
    int value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
        return std::nullopt;
    }
    return value;
}

class HostFileParser {
public:
    HostFileParser(const std::string& path, std::string_view text) : m_path(path), m_diag(text) {}

    std::vector<HostSpec> parse();

private:
    void parse_line(int number, std::string_view line);
    // Applies one `key=value` field to `host`; reports a problem and returns false when it is bad.
    bool apply_field(int number, const Word& word, HostSpec& host, std::set<std::string_view>& given);
    void add(int number, int column, std::vector<HostSpec> hosts);

    const std::string& m_path;
    DiagnosticList m_diag;
    std::vector<HostSpec> m_hosts;
    std::map<std::string, int, std::less<>> m_first_line; // host name -> the line that listed it
};

std::vector<HostSpec> HostFileParser::parse() {
    for (int number = 1; number <= m_diag.line_count(); ++number) {
        std::string_view line = m_diag.line(number);
        parse_line(number, line.substr(0, line.find('#')));
    }
    if (m_hosts.empty() && m_diag.empty()) {
        m_diag.error({0, 0}, "the host file lists no host");
    }
    if (!m_diag.empty()) {
        throw SpecError(m_path, m_diag.take());
    }
    return std::move(m_hosts);
}

void HostFileParser::parse_line(int number, std::string_view line) {
    std::vector<Word> words = split_words(line);
    if (words.empty()) {
        return;
    }
    std::vector<HostSpec> hosts;
    try {
        hosts = parse_host_string(words[0].text);
    } catch (const HostlistError& e) {
        m_diag.error({number, words[0].column}, e.what());
        return;
    }
    HostSpec fields = hosts.front();
    std::set<std::string_view> given;
    if (words[0].text.find('/') != std::string_view::npos) {
        given.insert("slots");
    }
    for (std::size_t i = 1; i < words.size(); ++i) {
        if (!apply_field(number, words[i], fields, given)) {
            return;
        }
    }
    for (auto& host : hosts) {
        host.slots = fields.slots;
        host.auto_slots = fields.auto_slots;
        host.priority = fields.priority;
        host.labels = fields.labels;
    }
    add(number, words[0].column, std::move(hosts));
}

bool HostFileParser::apply_field(int number, const Word& word, HostSpec& host, std::set<std::string_view>& given) {
    std::size_t equals = word.text.find('=');
    std::string_view key = word.text.substr(0, equals);
    std::string_view value = equals == std::string_view::npos ? "" : word.text.substr(equals + 1);
    auto bad = [&](std::string message) {
        m_diag.error({number, word.column}, std::move(message));
        return false;
    };
    if (equals == std::string_view::npos || (key != "slots" && key != "priority" && key != "labels")) {
        return bad(
            fmt::format("unknown field '{}' (a line is a host, then slots=N, priority=N or labels=a,b)", word.text));
    }
    if (!given.insert(key).second) {
        return bad(fmt::format("'{}' is given twice for this host", key));
    }
    if (key == "slots") {
        auto slots = to_int(value, 1, 100000);
        host.auto_slots = value == "auto";
        if (!slots && !host.auto_slots) {
            return bad(fmt::format("bad slots '{}' (a number from 1 to 100000, or auto)", value));
        }
        host.slots = slots.value_or(1);
    } else if (key == "priority") {
        auto priority = to_int(value, -1000000, 1000000);
        if (!priority) {
            return bad(fmt::format("bad priority '{}' (a number from -1000000 to 1000000)", value));
        }
        host.priority = *priority;
    } else {
        for (std::size_t start = 0; start <= value.size();) {
            std::size_t comma = std::min(value.find(',', start), value.size());
            if (comma == start) {
                return bad(fmt::format("empty label in '{}' (labels=a,b)", word.text));
            }
            host.labels.emplace_back(value.substr(start, comma - start));
            start = comma + 1;
        }
    }
    return true;
}

void HostFileParser::add(int number, int column, std::vector<HostSpec> hosts) {
    for (auto& host : hosts) {
        auto [it, inserted] = m_first_line.try_emplace(host.name, number);
        if (!inserted) {
            m_diag.error({number, column},
                         fmt::format("host '{}' is listed twice (first at line {})", host.name, it->second));
            return;
        }
        m_hosts.push_back(std::move(host));
    }
}

} // namespace

std::vector<HostSpec> parse_host_file(const std::string& path, std::string_view text) {
    return HostFileParser(path, text).parse();
}

std::string read_host_file_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::error_code ec;
    if (!in || std::filesystem::is_directory(path, ec)) {
        throw UsageError(
            fmt::format("cannot read host file '{}': {}", path, in ? "is a directory" : std::strerror(errno)));
    }
    std::string text;
    char block[65536];
    while (text.size() <= k_max_bytes && (in.read(block, sizeof block) || in.gcount() > 0)) {
        text.append(block, static_cast<std::size_t>(in.gcount()));
    }
    if (text.size() > k_max_bytes) {
        throw UsageError(fmt::format("host file '{}' is larger than {} MiB", path, k_max_bytes >> 20));
    }
    return text;
}

std::vector<HostSpec> read_host_file(const std::string& path) {
    return parse_host_file(path, read_host_file_text(path));
}

} // namespace sshard::core
