#include "core/shard_fit.hpp"

#include <algorithm>
#include <fmt/format.h>

#include "core/byte_size.hpp"

namespace sshard::core {

ShardNeed shard_need(const JobSpec& job) {
    return ShardNeed{job.cpus, job.memory.value_or(0)};
}

std::string fits_none(const ShardNeed& need, const std::vector<HostCapacity>& hosts) {
    int most_slots = 0;
    std::uint64_t most_memory = 0;
    bool slots_fit = false;
    bool memory_fits = false;
    for (const auto& host : hosts) {
        bool slots_ok = !host.slots || *host.slots >= need.cpus;
        bool memory_ok = need.memory == 0 || !host.memory || *host.memory >= need.memory;
        if (slots_ok && memory_ok) {
            return {};
        }
        slots_fit = slots_fit || slots_ok;
        memory_fits = memory_fits || memory_ok;
        most_slots = std::max(most_slots, host.slots.value_or(0));
        most_memory = std::max(most_memory, host.memory.value_or(0));
    }
    if (!slots_fit) {
        return fmt::format("a shard needs {} CPUs, more slots than any of its hosts has (the most: {})", need.cpus,
                           most_slots);
    }
    if (!memory_fits && most_memory == 0) {
        return fmt::format("a shard needs {} of memory, and none of its hosts says how much it has (from Linux's "
                           "/proc/meminfo)",
                           format_byte_size(need.memory));
    }
    if (!memory_fits) {
        return fmt::format("a shard needs {} of memory, more than any of its hosts has (the most: {})",
                           format_byte_size(need.memory), format_byte_size(most_memory));
    }
    return fmt::format("a shard needs {} CPUs and {} of memory, and none of its hosts has both", need.cpus,
                       format_byte_size(need.memory));
}

} // namespace sshard::core
