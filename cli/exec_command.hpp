// `sshard exec`: one command once on each host, without a spec (the pdsh and `clush` use case). It builds
// the spec in memory, one job with a shard pinned to each host (`shards: each_host`), and runs it as `sshard run` does:
// the same transport, host-key policy, timeouts, records and exit codes.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "cli/common_options.hpp"

namespace sshard::cli {

struct ExecOptions {
    HostFlags hosts;         // --hosts, --hostfile
    std::size_t fanout = 32; // --fanout: hosts at a time
    bool fold = false;       // --fold
    std::string timeout;     // --timeout: per host; empty, none
    std::string down_limit = "30s";
    std::vector<std::string> pass_env; // --env
    SshFlags ssh;
    std::vector<std::string> command; // the command's words, joined by spaces as ssh does
};

// Declares `exec` and its options on `app`.
Command add_exec_command(CLI::App& app);

// Throws core::UsageError for bad hosts or flags, core::Error when the run cannot start; returns the exit code.
int exec_command(const ExecOptions& options);

} // namespace sshard::cli
