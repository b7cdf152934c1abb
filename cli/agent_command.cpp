#include "cli/agent_command.hpp"

#include <iostream>
#include <unistd.h>

#include "cli/exit_codes.hpp"
#include "cli/terminal.hpp"
#include "transport/agent_server.hpp"

namespace sshard::cli {

Command add_agent_command(CLI::App& app) {
    CLI::App* command = app.add_subcommand(
        "agent",
        "Run shards on this node for a runner that speaks to it on stdin and stdout (hosts: slurm_allocation)");
    return {command, [] { return agent_command(); }};
}

int agent_command() {
    transport::AgentServer server(STDIN_FILENO, STDOUT_FILENO);
    std::string problem = server.serve();
    if (problem.empty()) {
        return k_exit_ok;
    }
    std::cerr << "sshard agent: error: " << terminal_safe(problem) << '\n';
    return k_exit_cannot_proceed;
}

} // namespace sshard::cli
