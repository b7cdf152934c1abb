// What an earlier run's journal says about its shards, for a resume: which finished, and how many attempts
// each had. Holds 64-bit hashes in sorted vectors: 8 bytes a finished shard, 16 an attempted one.
//
// A shard's identity is its job's name, its index, its inputs (the values its kind produced for that index:
// item, line, range bounds, matrix values) and its command with {attempt} and {host} unfilled. A resume runs a
// shard again unless a shard of the same identity finished (man/sshard.1, --resume).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/journal_events.hpp"

namespace sshard::core {

// A shard's last attempt as handed to its host's transport (attempt_submitted) and never seen to end.
struct SubmittedAttempt {
    int attempt = 1;
    std::string host;
    std::string handle;
};

class ShardHistory {
public:
    // Records that attempt number `attempt` of shard `index` of `job` started.
    void add_attempt(std::string_view job, std::uint64_t index, int attempt);
    // Records a shard's final result. A shard recorded as succeeded once counts as succeeded (a failed shard
    // that a later resume reran with success).
    void add_finished(std::string_view job, std::uint64_t index, const ShardInputs& inputs, std::string_view key,
                      bool succeeded);
    // Records that the shard's last attempt was submitted as `submitted` and did not end.
    void add_submitted(std::string_view job, std::uint64_t index, SubmittedAttempt submitted);
    // Sorts for lookup; call once after the last add.
    void seal();

    // Whether a shard of this identity finished: true for succeeded, false for failed; nullopt when never.
    std::optional<bool> find(std::string_view job, std::uint64_t index, const ShardInputs& inputs,
                             std::string_view key) const;
    // The highest attempt number recorded for the shard; 0 when it never started.
    int attempts(std::string_view job, std::uint64_t index) const;
    // The shard's unfinished submitted attempt, or null.
    const SubmittedAttempt* submitted(std::string_view job, std::uint64_t index) const;
    // The handles of every unfinished submitted attempt: what a transport may find still running of the run
    // and must follow, not take for a leftover of a runner that died before journaling it.
    std::vector<std::string> submitted_handles() const;
    bool empty() const { return m_succeeded.empty() && m_failed.empty() && m_attempts.empty(); }

private:
    std::vector<std::uint64_t> m_succeeded;
    std::vector<std::uint64_t> m_failed;
    std::vector<std::pair<std::uint64_t, int>> m_attempts; // by shard_hash(job, index)
    std::map<std::uint64_t, SubmittedAttempt> m_submitted; // by shard_hash(job, index): a few, those in flight
};

} // namespace sshard::core
