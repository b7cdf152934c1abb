#include "cli/common_options.hpp"

#include "cli/terminal.hpp"

namespace sshard::cli {

void add_host_options(CLI::App& command, HostFlags& hosts) {
    auto* list = command.add_option("--hosts", hosts.list,
                                    "Replace the spec's hosts: comma-separated [slots/][user@]hostlist[:port]");
    command
        .add_option("--hostfile", hosts.file,
                    "Replace the spec's hosts with FILE's: a host a line, then slots=, priority=, labels=")
        ->excludes(list);
}

core::LoadOptions host_load_options(const HostFlags& hosts) {
    core::LoadOptions options;
    options.hosts_override = hosts.list;
    options.hostfile = hosts.file;
    return options;
}

void add_ssh_options(CLI::App& command, SshFlags& flags) {
    command.add_option("--ssh-config", flags.config, "Read this ssh_config instead of ~/.ssh/config")
        ->check(CLI::ExistingFile);
    command.add_flag("--accept-new-host-keys", flags.accept_new_host_keys,
                     "Record the keys of hosts not yet in known_hosts (StrictHostKeyChecking=accept-new)");
    command.add_flag("--verbose,-v", flags.verbose, "Also print libssh's own log lines, at the ssh_config's LogLevel");
}

transport::SshOptions ssh_options(const SshFlags& flags) {
    transport::SshOptions options;
    options.config_file = flags.config;
    options.accept_new_host_keys = flags.accept_new_host_keys;
    if (flags.verbose) {
        options.log = print_log_line;
    }
    return options;
}

core::Spec load_spec_with_hosts(const std::string& path, const HostFlags& hosts) {
    return core::load_spec(path, host_load_options(hosts));
}

} // namespace sshard::cli
