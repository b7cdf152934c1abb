// A job's `shards`: `each_host` or one of the five kinds of a mapping, each checked against the limits of
// core/spec_limits.hpp.
#include <algorithm>
#include <fmt/format.h>

#include "core/names.hpp"
#include "core/shard_set.hpp"
#include "core/spec_files.hpp"
#include "core/spec_limits.hpp"
#include "core/spec_yaml.hpp"

namespace sshard::core {

namespace {

std::string join_quoted(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& name : names) {
        out += (out.empty() ? "'" : ", '") + name + "'";
    }
    return out;
}

std::optional<ShardsSpec> range_shards(YamlReader& yaml, const YAML::Node& node) {
    if (!yaml.check_map(node, "'range'", {"from", "to", "chunk"})) {
        return std::nullopt;
    }
    if (!node["from"] || !node["to"]) {
        yaml.error(node, "'range' needs 'from' and 'to' (and optionally 'chunk')");
        return std::nullopt;
    }
    auto from = yaml.integer(node["from"], "from", -k_max_range_bound, k_max_range_bound);
    auto to = yaml.integer(node["to"], "to", -k_max_range_bound, k_max_range_bound);
    auto chunk =
        node["chunk"] ? yaml.integer(node["chunk"], "chunk", 1, k_max_range_bound) : std::optional<std::int64_t>(1);
    if (!from || !to || !chunk) {
        return std::nullopt;
    }
    if (*to < *from) {
        yaml.error(node["to"], fmt::format("range 'to' ({}) is below 'from' ({})", *to, *from));
        return std::nullopt;
    }
    RangeShards range{*from, *to, *chunk};
    if (shard_count(range) > k_max_shards) {
        yaml.error(node,
                   fmt::format("range yields {} shards, more than the limit of {}", shard_count(range), k_max_shards));
        return std::nullopt;
    }
    return range;
}

std::optional<ShardsSpec> lines_shards(YamlReader& yaml, const YAML::Node& node,
                                       const std::function<std::string(const std::string&)>& lines_file) {
    auto path = yaml.scalar(node, "lines");
    if (!path) {
        return std::nullopt;
    }
    std::string error_text;
    auto lines = read_lines_file(lines_file(*path), error_text);
    if (!lines) {
        yaml.error(node, error_text);
        return std::nullopt;
    }
    return LinesShards{*path, std::move(*lines)};
}

// Whether `key` may name a matrix axis: an identifier (it becomes a placeholder) that hides no placeholder of
// sshard's and names no earlier axis. Reports why not.
bool check_matrix_key(YamlReader& yaml, const YAML::Node& node, const std::string& key, const MatrixShards& matrix) {
    if (!is_identifier(key)) {
        yaml.error(node, fmt::format("bad matrix key '{}' (letters, digits and '_', not starting with a digit)", key));
        return false;
    }
    if (is_builtin_placeholder(key)) {
        yaml.error(node, fmt::format("matrix key '{}' would hide the placeholder {{{}}}", key, key));
        return false;
    }
    if (std::any_of(matrix.axes.begin(), matrix.axes.end(), [&](auto& axis) { return axis.first == key; })) {
        yaml.error(node, fmt::format("duplicate key '{}' in 'matrix'", key));
        return false;
    }
    return true;
}

// `combinations` times `values`, saturating just above k_max_shards instead of overflowing: anything above the
// limit is an error anyway.
std::uint64_t more_combinations(std::uint64_t combinations, std::size_t values) {
    return values > (k_max_shards + 1) / combinations ? k_max_shards + 1 : combinations * values;
}

std::optional<ShardsSpec> matrix_shards(YamlReader& yaml, const YAML::Node& node) {
    if (!node.IsMap() || node.size() == 0) {
        yaml.error(node, "'matrix' must be a mapping of names to lists of values");
        return std::nullopt;
    }
    MatrixShards matrix;
    std::uint64_t combinations = 1;
    bool ok = true;
    for (const auto& entry : node) {
        auto key = yaml.scalar(entry.first, "matrix");
        if (!key) {
            ok = false;
            continue;
        }
        ok = check_matrix_key(yaml, entry.first, *key, matrix) && ok;
        auto values = yaml.string_list(entry.second, *key, false);
        if (entry.second.IsSequence() && values.empty()) {
            yaml.error(entry.second, fmt::format("matrix key '{}' needs at least one value", *key));
            ok = false;
        }
        if (!values.empty()) {
            combinations = more_combinations(combinations, values.size());
        }
        matrix.axes.emplace_back(*key, std::move(values));
    }
    if (ok && combinations > k_max_shards) {
        yaml.error(node, fmt::format("matrix yields more than the limit of {} shards", k_max_shards));
        ok = false;
    }
    return ok ? std::optional<ShardsSpec>(std::move(matrix)) : std::nullopt;
}

} // namespace

std::optional<ShardsSpec> read_shards(YamlReader& yaml, const YAML::Node& node,
                                      const std::function<std::string(const std::string&)>& lines_file) {
    static const std::vector<std::string> kinds = {"count", "range", "items", "lines", "matrix"};
    if (node.IsScalar() && node.Scalar() == "each_host") {
        return EachHostShards{}; // the loader fills in the hosts once it knows the job's
    }
    if (node.IsScalar()) {
        yaml.error(node, fmt::format("'shards' must be a mapping (count, range, items, lines or matrix) or "
                                     "'each_host', not '{}'",
                                     node.Scalar()));
        return std::nullopt;
    }
    if (!yaml.check_map(node, "'shards'", kinds)) {
        return std::nullopt;
    }
    std::vector<std::string> found;
    for (const auto& entry : node) {
        if (entry.first.IsScalar() && std::find(kinds.begin(), kinds.end(), entry.first.Scalar()) != kinds.end()) {
            found.push_back(entry.first.Scalar());
        }
    }
    if (found.size() != 1) {
        yaml.error(node, found.empty() ? "'shards' needs one of 'count', 'range', 'items', 'lines', 'matrix'"
                                       : fmt::format("'shards' takes exactly one of 'count', 'range', 'items', "
                                                     "'lines', 'matrix', not {}",
                                                     join_quoted(found)));
        return std::nullopt;
    }
    const YAML::Node value = node[found[0]];
    if (found[0] == "count") {
        auto count = yaml.integer(value, "count", 0, static_cast<std::int64_t>(k_max_shards));
        return count ? std::optional<ShardsSpec>(CountShards{static_cast<std::uint64_t>(*count)}) : std::nullopt;
    }
    if (found[0] == "range") {
        return range_shards(yaml, value);
    }
    if (found[0] == "items") {
        auto items = yaml.string_list(value, "items", false);
        return value.IsSequence() ? std::optional<ShardsSpec>(ItemsShards{std::move(items)}) : std::nullopt;
    }
    return found[0] == "lines" ? lines_shards(yaml, value, lines_file) : matrix_shards(yaml, value);
}

} // namespace sshard::core
