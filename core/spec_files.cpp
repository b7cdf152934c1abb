#include "core/spec_files.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <string_view>

#include "core/error.hpp"
#include "core/spec_limits.hpp"

namespace sshard::core {

namespace {

constexpr std::size_t k_block_bytes = 65536;

// Opens `path` for reading; "" or why it cannot be read (a directory opens, but reads fail later).
std::string open_for_reading(const std::string& path, std::ifstream& in) {
    in.open(path, std::ios::binary);
    std::error_code ec;
    if (!in || std::filesystem::is_directory(path, ec)) {
        return in ? "is a directory" : std::strerror(errno);
    }
    return "";
}

// Keeps `line` without a CR before its LF, when it holds more than blanks.
void keep_line(std::string_view line, std::vector<std::string>& lines) {
    if (!line.empty() && line.back() == '\r') {
        line.remove_suffix(1);
    }
    if (line.find_first_not_of(" \t") != std::string_view::npos) {
        lines.emplace_back(line);
    }
}

// Keeps every complete line of `text` and leaves in it what follows the last line break, counting lines in
// `line_number`. Returns false, at the line, when one is longer than k_max_line_bytes.
bool take_lines(std::string& text, std::vector<std::string>& lines, std::size_t& line_number) {
    std::size_t start = 0;
    for (auto end = text.find('\n'); end != std::string::npos; end = text.find('\n', start)) {
        if (end - start > k_max_line_bytes) {
            return false;
        }
        keep_line(std::string_view(text).substr(start, end - start), lines);
        start = end + 1;
        ++line_number;
    }
    text.erase(0, start);
    return text.size() <= k_max_line_bytes;
}

} // namespace

std::string read_spec_file(const std::string& path) {
    std::ifstream in;
    if (std::string why = open_for_reading(path, in); !why.empty()) {
        throw UsageError(fmt::format("cannot read spec '{}': {}", path, why));
    }
    std::string text;
    char block[k_block_bytes];
    while (text.size() <= k_max_spec_bytes && (in.read(block, sizeof block) || in.gcount() > 0)) {
        text.append(block, static_cast<std::size_t>(in.gcount()));
    }
    if (text.size() > k_max_spec_bytes) {
        throw UsageError(fmt::format("spec '{}' is larger than {} MiB: put long lists of shards in a 'lines' file",
                                     path, k_max_spec_bytes >> 20));
    }
    return text;
}

// Read in blocks rather than by getline, which would follow a file without line breaks without bound.
std::optional<std::vector<std::string>> read_lines_file(const std::string& path, std::string& error) {
    std::ifstream in;
    if (std::string why = open_for_reading(path, in); !why.empty()) {
        error = fmt::format("cannot read lines file '{}': {}", path, why);
        return std::nullopt;
    }
    std::vector<std::string> lines;
    std::string pending;
    std::size_t total = 0;
    std::size_t line_number = 1;
    char block[k_block_bytes];
    while (in.read(block, sizeof block) || in.gcount() > 0) {
        total += static_cast<std::size_t>(in.gcount());
        if (total > k_max_lines_bytes) {
            error = fmt::format("lines file '{}' is larger than {} MiB", path, k_max_lines_bytes >> 20);
            return std::nullopt;
        }
        pending.append(block, static_cast<std::size_t>(in.gcount()));
        if (!take_lines(pending, lines, line_number)) {
            error = fmt::format("line {} of lines file '{}' is longer than {} MiB", line_number, path,
                                k_max_line_bytes >> 20);
            return std::nullopt;
        }
    }
    keep_line(pending, lines);
    return lines;
}

} // namespace sshard::core
