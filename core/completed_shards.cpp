#include "core/completed_shards.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace sshard::core {

namespace {

bool is_ascii(std::string_view text) {
    return std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

} // namespace

std::uint64_t CompletedShards::hash(std::string_view job, std::string_view key) {
    // FNV-1a over job, a separator no job name holds, and key: collisions among a billion shards are unlikely
    // (about 3% at 2^32 shards, 3e-8 at a million).
    std::uint64_t h = 14695981039346656037ull;
    auto mix = [&](std::string_view text) {
        for (unsigned char c : text) {
            h = (h ^ c) * 1099511628211ull;
        }
    };
    mix(job);
    mix(std::string_view("\0", 1));
    if (is_ascii(key)) {
        mix(key);
    } else {
        // The journal holds keys as JSON, where bytes that are not UTF-8 became U+FFFD: hash every other key in
        // its JSON form, so that a command with such bytes is found again, whether read back or computed.
        mix(nlohmann::json(key).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
    return h;
}

void CompletedShards::add(std::string_view job, std::string_view key, bool succeeded) {
    (succeeded ? m_succeeded : m_failed).push_back(hash(job, key));
}

void CompletedShards::seal() {
    for (auto* list : {&m_succeeded, &m_failed}) {
        std::sort(list->begin(), list->end());
        list->erase(std::unique(list->begin(), list->end()), list->end());
    }
    // A shard that failed once and succeeded on a rerun counts as succeeded.
    std::vector<std::uint64_t> still_failed;
    std::set_difference(m_failed.begin(), m_failed.end(), m_succeeded.begin(), m_succeeded.end(),
                        std::back_inserter(still_failed));
    m_failed = std::move(still_failed);
}

std::optional<bool> CompletedShards::find(std::string_view job, std::string_view key) const {
    std::uint64_t h = hash(job, key);
    if (std::binary_search(m_succeeded.begin(), m_succeeded.end(), h)) {
        return true;
    }
    if (std::binary_search(m_failed.begin(), m_failed.end(), h)) {
        return false;
    }
    return std::nullopt;
}

} // namespace sshard::core
