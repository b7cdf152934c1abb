// The options that several subcommands share, each declared once, and what they turn into.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "core/spec.hpp"
#include "transport/ssh_transport.hpp"

namespace sshard::cli {

// --hosts: absent, or a list that replaces the spec's hosts (an empty one is an error of the spec loader).
void add_hosts_option(CLI::App& command, std::optional<std::string>& hosts);

// How to reach SSH hosts: --ssh-config, --accept-new-host-keys, -v.
struct SshFlags {
    std::string config;
    bool accept_new_host_keys = false;
    bool verbose = false; // libssh's own log lines on stderr
};

void add_ssh_options(CLI::App& command, SshFlags& flags);

// The transport's options for `flags`.
transport::SshOptions ssh_options(const SshFlags& flags);

// Loads the spec at `path`, its hosts replaced by `hosts` when given. Throws core::SpecError and core::Error.
core::Spec load_spec_with_hosts(const std::string& path, const std::optional<std::string>& hosts);

} // namespace sshard::cli
