// The exit codes of sshard, documented in man/sshard.1.
#pragma once

namespace sshard::cli {

constexpr int k_exit_ok = 0;             // every shard succeeded
constexpr int k_exit_shards_failed = 1;  // some shard failed or was skipped
constexpr int k_exit_usage = 2;          // bad flags or a bad spec; nothing was dispatched
constexpr int k_exit_cannot_proceed = 3; // the run could not proceed (no host reachable, run directory unusable)
constexpr int k_exit_interrupted = 130;  // stopped by SIGINT or SIGTERM

} // namespace sshard::cli
