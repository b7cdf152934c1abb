// `sshard agent`: the node side of `hosts: slurm_allocation`. A runner starts it in a Slurm step and speaks
// core/agent_protocol.hpp to it over its stdin and stdout; transport/agent_server.hpp does the work.
#pragma once

#include "cli/command.hpp"

namespace sshard::cli {

// Declares `agent` on `app`: it takes no options.
Command add_agent_command(CLI::App& app);

// Serves the runner on stdin and stdout until stdin ends (returns 0) or a problem stops it (says why on stderr
// and returns 3); every shard is killed before it returns.
int agent_command();

} // namespace sshard::cli
