// A shard's transfers around its command, as every transport runs them: its job's stage entries before it (once
// per host and content, core/stager.hpp) and its `collect` files after it, into the run directory. How a host's
// files are read is a CollectSource, which the transports implement (SFTP, plain files).
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>

#include "core/stager.hpp"
#include "core/transport.hpp"

namespace sshard::core {

// A host's files, for collecting. Paths are relative to the shard's workdir. Each call throws Error with a
// message naming the path and the host's reason.
class CollectSource {
public:
    enum class Kind { missing, regular, directory, link, other };
    virtual ~CollectSource() = default;
    // What `path` is, without following a link at its end (collect_after looks at each directory on the way).
    virtual Kind kind(const std::string& path) = 0;
    // Copies regular file `path` to the open local descriptor `fd` (of file `to`, named in a write error) in
    // bounded memory, at most the size the file has when opened, refusing a link at its end and anything but a
    // regular file; returns the bytes copied.
    virtual std::uint64_t copy_to(const std::string& path, int fd, const std::string& to) = 0;
};

// Stages `launch.stage`'s entries whose keys are not in `staged` (what this host staged in this run) through the
// target `target()` gives (made only when something is to be sent or checked), adding what it sent and how long
// it took to `stats`. Returns "" or why staging failed ("staging 'from' failed: ...").
std::string stage_launch(const Launch& launch, std::set<std::string>& staged,
                         const std::function<StageTarget&()>& target, TransferStats& stats);

// The outcome of an attempt whose staging failed for `reason`: its command never ran (exit status 255, as
// ssh(1) gives for its own failures).
Outcome stage_failure(std::string reason, const TransferStats& stats);

// After an attempt ended with `outcome`: when it succeeded (or failed and `on_failure`), collects `files` from the
// source `source()` gives (made only then) into the run directory. Adds what it received and how long it took to
// outcome.transfer; a file that could not be collected (refused: a path that leaves its directory, a link;
// missing, unless optional; an error reading or writing it) sets outcome.transfer_error.
void collect_after(const std::vector<CollectFile>& files, bool on_failure,
                   const std::function<CollectSource&()>& source, Outcome& outcome);

} // namespace sshard::core
