// The shards a run's journal records as done, for resume: looked up by job name and the shard's identity (its
// command with {attempt} and {host} unfilled). Holds 64-bit hashes in sorted vectors: 8 bytes a shard.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace sshard::core {

class CompletedShards {
public:
    // Records a shard's final result. A shard recorded as succeeded once counts as succeeded (a failed shard
    // that a later resume reran with success).
    void add(std::string_view job, std::string_view key, bool succeeded);
    // Sorts for lookup; call once after the last add().
    void seal();
    // Whether the shard was recorded: true for succeeded, false for failed; nullopt when never finished.
    std::optional<bool> find(std::string_view job, std::string_view key) const;
    bool empty() const { return m_succeeded.empty() && m_failed.empty(); }

private:
    static std::uint64_t hash(std::string_view job, std::string_view key);

    std::vector<std::uint64_t> m_succeeded;
    std::vector<std::uint64_t> m_failed;
};

} // namespace sshard::core
