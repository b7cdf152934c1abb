// The options that several subcommands share, each declared once, and what they turn into.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/duration.hpp"
#include "core/spec.hpp"
#include "core/spec_loader.hpp"
#include "transport/ssh_transport.hpp"

namespace sshard::cli {

// --hosts and --hostfile, which replace the spec's hosts and exclude each other.
struct HostFlags {
    std::optional<std::string> list; // --hosts: absent, or a list (an empty one is an error of the spec loader)
    std::optional<std::string> file; // --hostfile: a host a line, then slots=, priority=, labels=
};

void add_host_options(CLI::App& command, HostFlags& hosts);

// The hosts of --hosts or --hostfile, for a command without a spec: throws core::UsageError when the hosts are
// bad, and when neither is given, saying `missing` ("exec needs its hosts") and how to give them.
std::vector<core::HostSpec> hosts_from_flags(const HostFlags& hosts, const std::string& missing);

// The spec loader's options that replace the spec's hosts with `hosts`, when given.
core::LoadOptions host_load_options(const HostFlags& hosts);

// --env NAME, repeatable: sshard's value of NAME goes to every shard (core::LoadOptions::pass_env).
void add_env_option(CLI::App& command, std::vector<std::string>& names);

// How to reach SSH hosts: --ssh-config, --accept-new-host-keys, -v.
struct SshFlags {
    std::string config;
    bool accept_new_host_keys = false;
    bool verbose = false; // libssh's own log lines on stderr
};

void add_ssh_options(CLI::App& command, SshFlags& flags);

// The transport's options for `flags`.
transport::SshOptions ssh_options(const SshFlags& flags);

// The check of a flag that counts: a whole number from 1 to 1000000. Anything else is refused (exit 2) with a
// sentence that quotes the value, then `hint` when there is one.
CLI::Validator count_check(const std::string& hint = "");

// The check of a duration flag: above zero, up to 100 days, as `30s`, `5m` or `1h30m`; else refused (exit 2).
CLI::Validator duration_check();

// A duration flag's value (`flag` names it in the message). Throws core::UsageError for what duration_check()
// refuses.
core::Duration parse_duration_flag(const std::string& flag, const std::string& text);

// Loads the spec at `path`, its hosts replaced by `hosts` when given, passing `pass_env` to every job. Throws
// core::SpecError and core::Error.
core::Spec load_spec_with_hosts(const std::string& path, const HostFlags& hosts,
                                const std::vector<std::string>& pass_env = {});

} // namespace sshard::cli
