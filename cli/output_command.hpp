// `sshard output`: the stored output of a run's shards, read through the journal, for finished, interrupted
// and running runs alike (a running run's lock is not needed to read it).
#pragma once

#include <string>
#include <vector>

#include "cli/command.hpp"

namespace sshard::cli {

struct OutputOptions {
    // [RUN_DIR] [SELECTOR...]: the first word is the run directory when it names a directory.
    std::vector<std::string> words;
    bool failed = false; // --failed: only shards whose last attempt failed for good
    bool fold = false;   // --fold: identical output once, under the folded list of its shards
};

// Declares `output` and its options on `app`.
Command add_output_command(CLI::App& app);

// Prints each selected shard's last ended attempt's output on standard output and returns the exit code.
// Throws core::UsageError for a bad selector or run directory, core::Error when the journal or an output
// cannot be read.
int output_command(const OutputOptions& options);

// `exec --fold`: each distinct output of the run in `run_dir`'s shards printed once, under the folded list of
// the hosts that printed it. Returns false when standard output was closed. Throws core::Error.
bool print_output_folded_by_host(const std::string& run_dir);

} // namespace sshard::cli
