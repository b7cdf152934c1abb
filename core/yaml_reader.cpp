// The loader reads every value through here, so that a wrong value is reported once, with its position, and the
// walk goes on with the next.
#include "core/yaml_reader.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <fmt/format.h>
#include <limits>

#include "core/byte_size.hpp"

namespace sshard::core {

SourceLocation YamlReader::where(const YAML::Node& node) const {
    // yaml-cpp counts lines and columns from 0; a node without a position (-1) means the whole file.
    YAML::Mark mark = node.Mark();
    if (mark.line < 0) {
        return {};
    }
    return {mark.line + 1, mark.column + 1};
}

void YamlReader::error(const YAML::Node& node, std::string message) {
    if (!node.IsNull() || m_empty_values.count({node.Mark().line, node.Mark().column}) == 0) {
        m_diag.error(where(node), std::move(message));
    }
}

bool YamlReader::check_map(const YAML::Node& node, std::string_view what, const std::vector<std::string>& keys) {
    if (!node.IsMap()) {
        error(node, fmt::format("{} must be a mapping", what));
        return false;
    }
    std::set<std::string> seen;
    for (const auto& entry : node) {
        const YAML::Node& key = entry.first;
        if (!key.IsScalar()) {
            error(key, fmt::format("keys of {} must be plain names", what));
            continue;
        }
        const std::string& name = key.Scalar();
        if (entry.second.IsNull() && entry.second.Tag() != "!!null" && entry.second.Tag() != "tag:yaml.org,2002:null") {
            // yaml-cpp places an empty value at the next token: point at its key instead.
            error(key, fmt::format("'{}' needs a value", name));
            m_empty_values.insert({entry.second.Mark().line, entry.second.Mark().column});
        }
        if (!seen.insert(name).second) {
            error(key, fmt::format("duplicate key '{}' in {}", name, what));
        } else if (name == "password" || name == "passphrase") {
            error(key, fmt::format("'{}' is refused: a spec never holds secrets; authenticate with an SSH key or "
                                   "ssh-agent (see the host's IdentityFile in ssh_config)",
                                   name));
        } else if (std::find(keys.begin(), keys.end(), name) == keys.end()) {
            std::string hint = closest_match(name, keys);
            error(key, hint.empty() ? fmt::format("unknown key '{}' in {}", name, what)
                                    : fmt::format("unknown key '{}' (did you mean '{}'?)", name, hint));
        }
    }
    return true;
}

std::optional<std::string> YamlReader::scalar(const YAML::Node& node, std::string_view what) {
    if (node.IsNull()) {
        error(node, fmt::format("'{}' needs a value", what));
        return std::nullopt;
    }
    if (!node.IsScalar()) {
        error(node, fmt::format("'{}' must be a single value, not a {}", what, node.IsMap() ? "mapping" : "list"));
        return std::nullopt;
    }
    return node.Scalar();
}

std::optional<std::int64_t> YamlReader::integer(const YAML::Node& node, std::string_view what, std::int64_t min,
                                                std::int64_t max) {
    auto text = scalar(node, what);
    if (!text) {
        return std::nullopt;
    }
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (text->empty() || ec != std::errc() || end != text->data() + text->size()) {
        error(node, fmt::format("'{}' must be a whole number, not '{}'", what, *text));
        return std::nullopt;
    }
    if (value < min || value > max) {
        error(node, max == std::numeric_limits<std::int64_t>::max()
                        ? fmt::format("'{}' must be at least {}, not {}", what, min, value)
                        : fmt::format("'{}' must be from {} to {}, not {}", what, min, max, value));
        return std::nullopt;
    }
    return value;
}

std::optional<bool> YamlReader::boolean(const YAML::Node& node, std::string_view what) {
    auto text = scalar(node, what);
    if (text && (*text == "true" || *text == "false")) {
        return *text == "true";
    }
    if (text) {
        error(node, fmt::format("'{}' must be true or false, not '{}'", what, *text));
    }
    return std::nullopt;
}

std::optional<Duration> YamlReader::duration(const YAML::Node& node, std::string_view what, bool allow_zero) {
    auto text = scalar(node, what);
    if (!text) {
        return std::nullopt;
    }
    auto value = parse_duration(*text);
    if (!value) {
        error(node, fmt::format("bad duration '{}' for '{}' (write e.g. 250ms, 30s, 5m, 1h30m or a number of "
                                "seconds)",
                                *text, what));
        return std::nullopt;
    }
    if (!allow_zero && value->count() == 0) {
        error(node, fmt::format("'{}' must be longer than zero", what));
        return std::nullopt;
    }
    return value;
}

std::optional<std::uint64_t> YamlReader::byte_size(const YAML::Node& node, std::string_view what) {
    auto text = scalar(node, what);
    if (!text) {
        return std::nullopt;
    }
    auto value = parse_byte_size(*text);
    if (!value || *value == 0) {
        error(node, fmt::format("bad size '{}' for '{}' (write e.g. 512M, 2G or 1.5T; units are powers of 1024)", *text,
                                what));
        return std::nullopt;
    }
    return value;
}

std::optional<double> YamlReader::fraction(const YAML::Node& node, std::string_view what) {
    auto text = scalar(node, what);
    if (!text) {
        return std::nullopt;
    }
    char* end = nullptr;
    double value = std::strtod(text->c_str(), &end);
    bool percent = end != text->c_str() && *end == '%' && end[1] == '\0';
    if (percent) {
        value /= 100.0;
    }
    if (text->empty() || (*end != '\0' && !percent) || !(value > 0.0 && value <= 1.0)) {
        error(node, fmt::format("bad '{}' value '{}' (a share of the host's CPU time above 0 and up to 1, such as "
                                "0.9, or a percentage such as 90%)",
                                what, *text));
        return std::nullopt;
    }
    return value;
}

std::vector<std::string> YamlReader::string_list(const YAML::Node& node, std::string_view what, bool allow_single) {
    std::vector<std::string> out;
    if (allow_single && node.IsScalar()) {
        out.push_back(node.Scalar());
        return out;
    }
    if (!node.IsSequence()) {
        error(node, fmt::format("'{}' must be a list", what));
        return out;
    }
    for (const auto& item : node) {
        if (auto text = scalar(item, what)) {
            out.push_back(*text);
        }
    }
    return out;
}

// Where byte `offset` of a scalar's value is in the file. The value is found line by line in the source: a block
// scalar's after its header line, a plain or quoted one's from its column; each later line without its
// indentation, the value skipping the blanks and line breaks YAML folds or keeps between lines. Where the text
// differs (escapes), the search stops and the value's start stands for the rest.
SourceLocation YamlReader::offset_location(const YAML::Node& node, std::size_t offset) const {
    SourceLocation start = where(node);
    const std::string& value = node.Scalar();
    std::string_view first = m_diag.line(start.line);
    std::size_t column = static_cast<std::size_t>(std::max(0, start.column - 1));
    int number = start.line;
    if (column < first.size() && (first[column] == '|' || first[column] == '>')) {
        ++number;
        column = std::string::npos;
    } else if (column < first.size() && (first[column] == '"' || first[column] == '\'')) {
        ++column;
    }
    for (std::size_t pos = 0; number <= m_diag.line_count() && pos < value.size(); ++number) {
        std::string_view line = m_diag.line(number);
        std::size_t from = std::min(column != std::string::npos ? column : line.find_first_not_of(" \t"), line.size());
        column = std::string::npos;
        std::string_view text = line.substr(from);
        if (text.empty()) {
            continue;
        }
        while (pos < value.size() && std::string_view(" \t\n").find(value[pos]) != std::string_view::npos &&
               value.compare(pos, text.size(), text) != 0) {
            ++pos;
        }
        std::size_t same = 0;
        while (same < text.size() && pos + same < value.size() && text[same] == value[pos + same]) {
            ++same;
        }
        if (same == 0) {
            break;
        }
        if (offset >= pos && offset < pos + same) {
            return {number, static_cast<int>(from + offset - pos) + 1};
        }
        pos += same;
    }
    return start;
}

} // namespace sshard::core
