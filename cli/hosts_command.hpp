// `sshard hosts`: the spec's hosts, expanded, and with --check whether each can be reached and used.
#pragma once

#include <optional>
#include <string>

#include "cli/command.hpp"
#include "cli/common_options.hpp"

namespace sshard::cli {

struct HostsOptions {
    std::string spec;
    HostFlags hosts; // --hosts, --hostfile
    bool check = false;
    SshFlags ssh;
};

// Declares `hosts` and its options on `app`.
Command add_hosts_command(CLI::App& app);

// Prints one line per host; with --check, connects to all hosts (several at a time) and returns 1 when any
// cannot be used, else 0. Throws core::SpecError and core::Error for a bad spec.
int hosts_command(const HostsOptions& options);

} // namespace sshard::cli
