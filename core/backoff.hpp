// How long to wait before trying again: retries of a failed shard, reconnects to a lost host.
#pragma once

#include <random>

#include "core/spec.hpp"

namespace sshard::core {

// The wait before try `failures` + 1: `initial` times `factor` to the power failures - 1, at most `max`, then
// between half and all of that at random (equal jitter), so that many shards failing together do not come back
// together. `failures` is at least 1.
Duration backoff_delay(const Backoff& backoff, int failures, std::mt19937_64& rng);

} // namespace sshard::core
