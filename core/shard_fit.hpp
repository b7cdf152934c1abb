// Whether a job's shard fits a host: what one shard takes (its job's `cpus` and `memory`) against what a host
// has (its slots and its memory). The loader checks it where sizes are known from the spec, the host pool once
// hosts have said their size on connect.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/spec.hpp"

namespace sshard::core {

// What one shard of a job takes on its host.
struct ShardNeed {
    int cpus = 1;             // slots
    std::uint64_t memory = 0; // bytes; 0: the job does not say
};

// A host's size as far as it is known: nullopt where it is not known yet.
struct HostCapacity {
    std::optional<int> slots;
    std::optional<std::uint64_t> memory;
};

// The need of one shard of `job`.
ShardNeed shard_need(const JobSpec& job);

// Why `need` fits none of `hosts`: "" when one of them may hold it, counting a size not known yet as large
// enough. Otherwise says what is short and the most any host has: "a shard needs 8 CPUs, more slots than any of
// its hosts has (the most: 4)".
std::string fits_none(const ShardNeed& need, const std::vector<HostCapacity>& hosts);

} // namespace sshard::core
