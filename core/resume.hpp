// What a resume needs from an earlier run's journal: which run it was, its spec, and which shards finished.
#pragma once

#include <string>

#include "core/completed_shards.hpp"

namespace sshard::core {

struct RecordedRun {
    std::string run_id;
    std::string spec_path; // as the first run was given it: anchors relative `lines` files
    CompletedShards completed;
    std::uint64_t attempts = 0; // attempt_end events read
};

// Reads the journal at `path`. Throws Error when it cannot be read, is corrupt before its last line, or does
// not start with a run_start event.
RecordedRun read_recorded_run(const std::string& path);

} // namespace sshard::core
