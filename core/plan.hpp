// What a run would do: the jobs in dispatch order, each with its shards and the hosts it may run on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/shard_set.hpp"
#include "core/spec.hpp"
#include "core/stager.hpp"

namespace sshard::core {

struct PlannedJob {
    const JobSpec* job = nullptr;
    ShardSet shards;
    std::vector<std::size_t> hosts; // indices into Spec::hosts, highest priority first, then spec order
    // With `shards: each_host`, shard i runs on host pinned[i] (an index into Spec::hosts) and on no other;
    // empty for every other kind.
    std::vector<std::size_t> pinned;
    std::shared_ptr<StageSet> stage; // null when the job stages nothing
};

struct Plan {
    const Spec* spec = nullptr;
    std::vector<PlannedJob> jobs; // dispatch order
    std::uint64_t total_shards = 0;
};

// Orders jobs as the scheduler would dispatch them: a job comes after every job it needs; among jobs free to
// go, the highest priority first, then spec order. `spec` must outlive the plan and be valid (loaded).
Plan make_plan(const Spec& spec);

} // namespace sshard::core
