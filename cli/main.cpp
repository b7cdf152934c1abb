// The sshard binary: its commands, and the process-wide settings made before any of them runs. The driver
// (cli/driver.hpp) parses the flags and turns errors into exit codes; each command lives in cli/*_command.cpp.
#include <csignal>
#include <exception>
#include <iostream>

#include "cli/agent_command.hpp"
#include "cli/driver.hpp"
#include "cli/exec_command.hpp"
#include "cli/exit_codes.hpp"
#include "cli/hosts_command.hpp"
#include "cli/output_command.hpp"
#include "cli/plan_command.hpp"
#include "cli/report_command.hpp"
#include "cli/run_command.hpp"
#include "cli/submit_command.hpp"
#include "cli/terminal.hpp"

namespace {

// The subcommands, in the order `sshard --help` lists them.
constexpr sshard::cli::AddCommand k_commands[] = {
    sshard::cli::add_plan_command,   sshard::cli::add_run_command,   sshard::cli::add_hosts_command,
    sshard::cli::add_report_command, sshard::cli::add_exec_command,  sshard::cli::add_output_command,
    sshard::cli::add_submit_command, sshard::cli::add_agent_command,
};

} // namespace

int main(int argc, char** argv) {
    // A reader that goes away (`sshard run --stream | head`) must not kill the runner between a shard's start
    // and its record, nor leave shards running: writes fail with EPIPE instead, and the run stops in order
    // (see run_command). Shards get the default action back.
    std::signal(SIGPIPE, SIG_IGN);
    try {
        return sshard::cli::run_commands(argc, argv, k_commands);
    } catch (const std::exception& e) {
        std::cerr << "sshard: error: " << sshard::cli::terminal_safe(e.what()) << '\n';
        return sshard::cli::k_exit_cannot_proceed;
    }
}
