#include "cli/hosts_drain_command.hpp"

#include <iostream>

#include "cli/exit_codes.hpp"
#include "cli/terminal.hpp"
#include "core/run_control.hpp"
#include "core/run_dir.hpp"

namespace sshard::cli {

DrainCommands add_drain_commands(CLI::App& hosts) {
    DrainCommands commands;
    commands.options = std::make_shared<DrainOptions>();
    auto declare = [&](const char* name, const char* description) {
        CLI::App* command = hosts.add_subcommand(name, description);
        command->add_option("RUN_DIR", commands.options->run_dir, "The run's directory (or a root holding 'latest')")
            ->required();
        command->add_option("HOST", commands.options->hosts, "The hosts, by name as the run has them")->required();
        return command;
    };
    commands.drain = declare("drain", "In a running run, give HOST no new shard and disconnect it once idle");
    commands.undrain = declare("undrain", "In a running run, use a drained HOST again");
    return commands;
}

int DrainCommands::run() const {
    core::RunDir dir = core::RunDir::open(options->run_dir);
    core::ControlRequest request{drain->parsed(), options->hosts};
    std::string refused = core::send_control(dir.path(), request);
    if (!refused.empty()) {
        std::cerr << "sshard: error: " << terminal_safe(refused) << '\n';
        return k_exit_usage;
    }
    return k_exit_ok;
}

} // namespace sshard::cli
