// What a resume needs from an earlier run's journal: which run it was, its spec, its shards' history, and
// where attempt ids go on.
#pragma once

#include <cstdint>
#include <string>

#include "core/journal_events.hpp"
#include "core/shard_history.hpp"

namespace sshard::core {

struct RecordedRun {
    bool started = false; // false for an empty journal: the runner died before it recorded its start
    std::string run_id;
    std::string spec_path;      // as the first run was given it
    HostFlagsRecord host_flags; // the last session's
    ShardHistory history;
    std::uint64_t attempts = 0;        // attempt_end events read
    std::uint64_t last_attempt_id = 0; // the highest attempt id recorded: a resume's ids come after it
};

// Reads the journal at `path`. Throws Error when it cannot be read, is damaged before its last line, or its
// first event is not run_start.
RecordedRun read_recorded_run(const std::string& path);

} // namespace sshard::core
