// `sshard plan`: what a run of a spec would do, printed as text or JSON; nothing is touched.
#pragma once

#include <string>
#include <vector>

#include "cli/command.hpp"
#include "cli/common_options.hpp"

namespace sshard::cli {

struct PlanOptions {
    std::string spec;
    HostFlags hosts;             // --hosts, --hostfile
    std::string format = "text"; // text, json
    bool show_env = false;
    std::vector<std::string> pass_env; // --env
};

// Declares `plan` and its options on `app`.
Command add_plan_command(CLI::App& app);

// Prints the plan on stdout and returns 0, or 3 when stdout cannot be written. Throws core::SpecError and
// core::Error for a bad spec.
int plan_command(const PlanOptions& options);

} // namespace sshard::cli
