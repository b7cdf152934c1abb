// `sshard plan`: what a run of a spec would do, printed as text or JSON; nothing is touched. With --predict, how
// long it would take, replayed through the scheduler with a past run's run times (core/simulation.hpp).
#pragma once

#include <string>
#include <vector>

#include "cli/command.hpp"
#include "cli/common_options.hpp"

namespace sshard::cli {

struct PlanOptions {
    std::string spec;            // with `predict`, the past run's copy when empty
    std::string predict;         // --predict RUN_DIR
    HostFlags hosts;             // --hosts, --hostfile
    std::string format = "text"; // text, json
    bool show_env = false;
    std::vector<std::string> pass_env; // --env
    bool check = false;                // --check: read the hosts' stage manifests
    SshFlags ssh;
};

// Declares `plan` and its options on `app`.
Command add_plan_command(CLI::App& app);

// Prints the plan, or with `predict` the predicted run, on stdout and returns 0, or 3 when stdout cannot be
// written. Throws core::SpecError and core::Error for a bad spec, core::UsageError for a RUN_DIR that is not a
// run or has no run time to predict from.
int plan_command(const PlanOptions& options);

} // namespace sshard::cli
