// `sshard submit`: runs a spec on a Slurm allocation of its own, as one batch job that runs
// `sshard run SPEC --hosts slurm_allocation` (see SLURM ALLOCATION in sshard(1)).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/command.hpp"

namespace sshard::cli {

struct SubmitOptions {
    std::string spec;
    std::optional<int> nodes;        // --nodes
    std::optional<std::string> time; // --time, a duration
    std::string run_dir;             // --run-dir; empty: a new one under .sshard/runs
    std::vector<std::string> sbatch; // the words after `--`
};

// Declares `submit` and its options on `app`.
Command add_submit_command(CLI::App& app);

// Makes the run directory, submits the batch job and prints its Slurm job id and the run directory, one a line.
// Returns 0, or 3 when sbatch refuses (its message on stderr). Throws core::SpecError for a spec in error (all
// of it checked but its hosts, which the allocation gives), core::UsageError for a spec that cannot be read or a
// bad --time, core::Error when the run directory cannot be made; then nothing is submitted.
int submit_command(const SubmitOptions& options);

} // namespace sshard::cli
