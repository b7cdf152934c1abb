// A job's shards, generated on demand from its definition: a job of ten million shards holds no ten million
// strings. Shard i's placeholder values and command are computed when asked for.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/journal_events.hpp"
#include "core/spec.hpp"

namespace sshard::core {

// The placeholders every command may use, whatever its shard kind.
inline const std::vector<std::string> k_common_placeholders = {"job", "attempt", "host"};

// The placeholders shard kinds define, matrix keys aside: {index} and {count} for every kind, {item} for items
// and lines, {start} and {end} for a range.
inline const std::vector<std::string> k_kind_placeholders = {"index", "count", "item", "start", "end"};

// Whether sshard itself defines placeholder `name`, for every command or for some shard kind: a matrix key, which
// becomes a placeholder, may not take such a name.
bool is_builtin_placeholder(std::string_view name);

// The placeholders a shard kind defines: {index}, {count} and the kind's own ({item}, {start}/{end}, matrix
// keys, and {host} for each_host, whose shards know their host at plan time).
std::vector<std::string> shard_placeholders(const ShardsSpec& shards);

// The number of shards a definition yields.
std::uint64_t shard_count(const ShardsSpec& shards);

class ShardSet {
public:
    // Keeps a reference: `job` must outlive the set.
    explicit ShardSet(const JobSpec& job);

    std::uint64_t size() const { return m_count; }

    // The value of a shard placeholder or {job} for shard `index` (< size()); nullopt for {attempt}, for {host}
    // unless the shards are each_host's, and for unknown names.
    std::optional<std::string> value(std::uint64_t index, std::string_view name) const;

    // The values shard `index`'s kind produced for it, by placeholder name: {item}; {start} and {end}; each
    // matrix key in the spec's order; none for `count`.
    ShardInputs inputs(std::uint64_t index) const;

    // The command of shard `index` with every placeholder substituted and shell-quoted. Without `attempt` or
    // `host`, those placeholders stay as written (each_host's {host} aside, known at plan time): the plan shows
    // `{host}`, and a shard's identity across resumes is its command with neither filled in.
    std::string command(std::uint64_t index, std::optional<int> attempt = std::nullopt,
                        std::optional<std::string_view> host = std::nullopt) const;

private:
    const JobSpec& m_job;
    std::uint64_t m_count;
};

} // namespace sshard::core
