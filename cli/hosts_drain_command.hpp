// `sshard hosts drain RUN_DIR HOST...` and `sshard hosts undrain RUN_DIR HOST...`: change the hosts of a run
// while it runs, through its control socket (core/run_control.hpp). A drained host takes no new shard; its
// running shards finish, then it is disconnected. Undrained, it is connected again and used.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cli/command.hpp"

namespace sshard::cli {

struct DrainOptions {
    std::string run_dir;
    std::vector<std::string> hosts;
    bool drain = true;
};

// The two subcommands, declared under `hosts`.
struct DrainCommands {
    CLI::App* drain = nullptr;
    CLI::App* undrain = nullptr;
    std::shared_ptr<DrainOptions> options;

    // Whether one of them was given on the command line.
    bool chosen() const { return drain->parsed() || undrain->parsed(); }
    // Asks the run; returns 0 when it did, 2 when it refused (a host it does not have, printed). Throws
    // core::UsageError when RUN_DIR is no run directory or no run is running there.
    int run() const;
};

DrainCommands add_drain_commands(CLI::App& hosts);

} // namespace sshard::cli
