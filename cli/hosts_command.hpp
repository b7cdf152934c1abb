// `sshard hosts`: the spec's hosts, expanded, and with --check whether each can be reached and used.
#pragma once

#include <optional>
#include <string>

namespace sshard::cli {

struct HostsOptions {
    std::string spec;
    std::optional<std::string> hosts;    // --hosts
    std::optional<std::string> hostfile; // --hostfile
    bool check = false;
    std::string ssh_config;
    bool accept_new_host_keys = false;
    bool verbose = false;
};

// Prints one line per host; with --check, connects to all hosts (several at a time) and returns 1 when any
// cannot be used, else 0. Throws core::SpecError and core::Error for a bad spec.
int hosts_command(const HostsOptions& options);

} // namespace sshard::cli
