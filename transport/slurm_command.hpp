// Slurm's client commands (sbatch, squeue, scancel, sinfo), run as programs with their output captured: Slurm
// has no stable C API for clients, and its commands are what its users know.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "core/spec.hpp"

namespace sshard::transport {

struct CommandResult {
    bool ran = false; // false: the program could not be started or did not end in time (`error` says which)
    int status = -1;  // its exit status once it ran; -1 when killed by a signal
    std::string out;
    std::string err;
    std::string error;

    bool ok() const { return ran && status == 0; }
    // For a message: the command's stderr, else `error`, else its exit status, on one line.
    std::string why() const;
};

// How long a Slurm client command may take before it is killed: slurmctld answers within seconds unless it
// is down, and then the command's own retries would hold the run for minutes.
constexpr std::chrono::seconds k_slurm_command_timeout{30};

// Runs argv[0] (found on PATH) with the runner's environment, stdin from /dev/null, and returns what it wrote.
// Kills it (SIGKILL) when it runs longer than `timeout`. Never throws for the command's failures.
CommandResult run_program(const std::vector<std::string>& argv,
                          std::chrono::milliseconds timeout = k_slurm_command_timeout);

// Asks sinfo whether Slurm answers and has the partition (the default one when none is set): "" when it does,
// else why not.
std::string partition_problem(const core::SlurmSettings& slurm);

} // namespace sshard::transport
