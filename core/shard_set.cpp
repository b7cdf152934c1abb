#include "core/shard_set.hpp"

#include <algorithm>
#include <cassert>

#include "core/overloaded.hpp"

namespace sshard::core {

namespace {

std::uint64_t range_count(const RangeShards& r) {
    auto width = static_cast<std::uint64_t>(r.to - r.from);
    auto chunk = static_cast<std::uint64_t>(r.chunk);
    return width / chunk + (width % chunk != 0 ? 1 : 0);
}

std::uint64_t matrix_count(const MatrixShards& m) {
    std::uint64_t count = 1;
    for (const auto& axis : m.axes) {
        count *= axis.second.size();
    }
    return count;
}

// The value of `key` in combination `index`: mixed-radix digits, the last axis varying fastest.
std::optional<std::string> matrix_value(const MatrixShards& m, std::uint64_t index, std::string_view key) {
    for (auto axis = m.axes.rbegin(); axis != m.axes.rend(); ++axis) {
        std::uint64_t size = axis->second.size();
        if (axis->first == key) {
            return axis->second[index % size];
        }
        index /= size;
    }
    return std::nullopt;
}

} // namespace

bool is_builtin_placeholder(std::string_view name) {
    auto among = [&](const std::vector<std::string>& names) {
        return std::find(names.begin(), names.end(), name) != names.end();
    };
    return among(k_common_placeholders) || among(k_kind_placeholders);
}

std::vector<std::string> shard_placeholders(const ShardsSpec& shards) {
    std::vector<std::string> names = {"index", "count"};
    std::visit(Overloaded{
                   [](const CountShards&) {},
                   [&](const RangeShards&) {
                       names.insert(names.end(), {"start", "end"});
                   },
                   [&](const ItemsShards&) { names.push_back("item"); },
                   [&](const LinesShards&) { names.push_back("item"); },
                   [&](const MatrixShards& m) {
                       for (const auto& axis : m.axes) {
                           names.push_back(axis.first);
                       }
                   },
                   [&](const EachHostShards&) { names.push_back("host"); },
               },
               shards);
    return names;
}

std::uint64_t shard_count(const ShardsSpec& shards) {
    return std::visit(Overloaded{
                          [](const CountShards& c) { return c.count; },
                          [](const RangeShards& r) { return range_count(r); },
                          [](const ItemsShards& i) { return static_cast<std::uint64_t>(i.items.size()); },
                          [](const LinesShards& l) { return static_cast<std::uint64_t>(l.lines.size()); },
                          [](const MatrixShards& m) { return matrix_count(m); },
                          [](const EachHostShards& e) { return static_cast<std::uint64_t>(e.hosts.size()); },
                      },
                      shards);
}

ShardSet::ShardSet(const JobSpec& job) : m_job(job), m_count(shard_count(job.shards)) {}

std::optional<std::string> ShardSet::value(std::uint64_t index, std::string_view name) const {
    assert(index < m_count);
    if (name == "index") {
        return std::to_string(index);
    }
    if (name == "count") {
        return std::to_string(m_count);
    }
    if (name == "job") {
        return m_job.name;
    }
    return std::visit(Overloaded{
                          [](const CountShards&) -> std::optional<std::string> { return std::nullopt; },
                          [&](const RangeShards& r) -> std::optional<std::string> {
                              std::int64_t start = r.from + static_cast<std::int64_t>(index) * r.chunk;
                              if (name == "start") {
                                  return std::to_string(start);
                              }
                              if (name == "end") {
                                  return std::to_string(std::min(r.to, start + r.chunk));
                              }
                              return std::nullopt;
                          },
                          [&](const ItemsShards& i) -> std::optional<std::string> {
                              return name == "item" ? std::optional(i.items[index]) : std::nullopt;
                          },
                          [&](const LinesShards& l) -> std::optional<std::string> {
                              return name == "item" ? std::optional(l.lines[index]) : std::nullopt;
                          },
                          [&](const MatrixShards& m) { return matrix_value(m, index, name); },
                          [&](const EachHostShards& e) -> std::optional<std::string> {
                              return name == "host" ? std::optional(e.hosts[index]) : std::nullopt;
                          },
                      },
                      m_job.shards);
}

ShardInputs ShardSet::inputs(std::uint64_t index) const {
    ShardInputs inputs;
    for (const auto& name : shard_placeholders(m_job.shards)) {
        if (name != "index" && name != "count") {
            inputs.emplace_back(name, *value(index, name));
        }
    }
    return inputs;
}

std::string ShardSet::command(std::uint64_t index, std::optional<int> attempt,
                              std::optional<std::string_view> host) const {
    return m_job.command.render([&](std::string_view name) -> std::optional<std::string> {
        if (name == "attempt") {
            return attempt ? std::optional(std::to_string(*attempt)) : std::nullopt;
        }
        if (name == "host" && host) {
            return std::string(*host);
        }
        return value(index, name);
    });
}

} // namespace sshard::core
