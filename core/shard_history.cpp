#include "core/shard_history.hpp"

#include <algorithm>
#include <string>

#include "core/fnv1a.hpp"

namespace sshard::core {

namespace {

// FNV-1a, each part followed by a NUL that no job name and no journal text holds, so parts never run together.
// Collisions among a billion shards are unlikely (about 3% at 2^32 shards, 3e-8 at a million).
class Hash {
public:
    Hash& add(std::string_view text) {
        m_fnv.add(text).add(std::string_view("\0", 1));
        return *this;
    }
    std::uint64_t value() const { return m_fnv.value(); }

private:
    Fnv1a m_fnv;
};

std::uint64_t shard_hash(std::string_view job, std::uint64_t index) {
    return Hash().add(job).add(std::to_string(index)).value();
}

// The journal holds values as JSON, where bytes that are not UTF-8 became U+FFFD: values are hashed in that
// form, so that a shard is found again whether its values were read back or computed from the spec.
std::uint64_t identity_hash(std::string_view job, std::uint64_t index, const ShardInputs& inputs,
                            std::string_view key) {
    Hash hash;
    hash.add(job).add(std::to_string(index));
    for (const auto& [name, value] : inputs) {
        hash.add(name).add(journal_text(value));
    }
    return hash.add(journal_text(key)).value();
}

} // namespace

void ShardHistory::add_attempt(std::string_view job, std::uint64_t index, int attempt) {
    m_attempts.emplace_back(shard_hash(job, index), attempt);
}

void ShardHistory::add_finished(std::string_view job, std::uint64_t index, const ShardInputs& inputs,
                                std::string_view key, bool succeeded) {
    (succeeded ? m_succeeded : m_failed).push_back(identity_hash(job, index, inputs, key));
}

void ShardHistory::add_submitted(std::string_view job, std::uint64_t index, SubmittedAttempt submitted) {
    m_submitted.insert_or_assign(shard_hash(job, index), std::move(submitted));
}

const SubmittedAttempt* ShardHistory::submitted(std::string_view job, std::uint64_t index) const {
    auto it = m_submitted.find(shard_hash(job, index));
    return it == m_submitted.end() ? nullptr : &it->second;
}

std::vector<std::string> ShardHistory::submitted_handles() const {
    std::vector<std::string> handles;
    for (const auto& [shard, submitted] : m_submitted) {
        handles.push_back(submitted.handle);
    }
    return handles;
}

void ShardHistory::seal() {
    for (auto* list : {&m_succeeded, &m_failed}) {
        std::sort(list->begin(), list->end());
        list->erase(std::unique(list->begin(), list->end()), list->end());
    }
    // A shard that failed once and succeeded on a rerun counts as succeeded.
    std::vector<std::uint64_t> still_failed;
    std::set_difference(m_failed.begin(), m_failed.end(), m_succeeded.begin(), m_succeeded.end(),
                        std::back_inserter(still_failed));
    m_failed = std::move(still_failed);
    // Highest attempt first within a shard, then one entry per shard.
    std::sort(m_attempts.begin(), m_attempts.end(), [](const auto& a, const auto& b) {
        return a.first != b.first ? a.first < b.first : a.second > b.second;
    });
    m_attempts.erase(std::unique(m_attempts.begin(), m_attempts.end(),
                                 [](const auto& a, const auto& b) { return a.first == b.first; }),
                     m_attempts.end());
}

std::optional<bool> ShardHistory::find(std::string_view job, std::uint64_t index, const ShardInputs& inputs,
                                       std::string_view key) const {
    std::uint64_t h = identity_hash(job, index, inputs, key);
    if (std::binary_search(m_succeeded.begin(), m_succeeded.end(), h)) {
        return true;
    }
    if (std::binary_search(m_failed.begin(), m_failed.end(), h)) {
        return false;
    }
    return std::nullopt;
}

int ShardHistory::attempts(std::string_view job, std::uint64_t index) const {
    std::uint64_t h = shard_hash(job, index);
    auto it = std::lower_bound(m_attempts.begin(), m_attempts.end(), h,
                               [](const auto& entry, std::uint64_t value) { return entry.first < value; });
    return it != m_attempts.end() && it->first == h ? it->second : 0;
}

} // namespace sshard::core
