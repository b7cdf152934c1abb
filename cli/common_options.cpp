#include "cli/common_options.hpp"

#include <charconv>
#include <fmt/format.h>

#include "cli/terminal.hpp"
#include "core/error.hpp"
#include "core/host_file.hpp"
#include "core/hostlist.hpp"
#include "core/hosts.hpp"

namespace sshard::cli {

namespace {

// Beyond any count of shards or hosts a run could have in flight at once.
constexpr std::uint64_t k_max_count = 1'000'000;

std::optional<core::Duration> positive_duration(const std::string& text) {
    auto duration = core::parse_duration(text);
    return duration && duration->count() > 0 ? duration : std::nullopt;
}

std::string duration_problem(const std::string& text) {
    return fmt::format("'{}' is not a duration above zero, up to 100 days, such as 30s or 5m", terminal_safe(text));
}

} // namespace

void add_host_options(CLI::App& command, HostFlags& hosts) {
    auto* list = command.add_option("--hosts", hosts.list,
                                    "Replace the spec's hosts: comma-separated [slots/][user@]hostlist[:port]");
    command
        .add_option("--hostfile", hosts.file,
                    "Replace the spec's hosts with FILE's: a host a line, then slots=, priority=, labels=")
        ->excludes(list);
}

std::vector<core::HostSpec> hosts_from_flags(const HostFlags& hosts, const std::string& missing) {
    if (hosts.file) {
        return core::read_host_file(*hosts.file);
    }
    if (!hosts.list) {
        throw core::UsageError(missing + ": --hosts LIST or --hostfile FILE");
    }
    try {
        return core::parse_host_list(*hosts.list);
    } catch (const core::HostlistError& e) {
        throw core::UsageError(fmt::format("bad --hosts value '{}': {}", *hosts.list, e.what()));
    }
}

core::LoadOptions host_load_options(const HostFlags& hosts) {
    core::LoadOptions options;
    options.hosts_override = hosts.list;
    options.hostfile = hosts.file;
    return options;
}

void add_env_option(CLI::App& command, std::vector<std::string>& names) {
    command.add_option("--env", names, "Give every shard this machine's value of environment variable NAME")
        ->type_name("NAME")
        ->allow_extra_args(false); // one name an --env, so that the words after it are not taken
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

CLI::Validator count_check(const std::string& hint) {
    auto check = [hint](const std::string& text) {
        std::uint64_t value = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < 1 || value > k_max_count) {
            return fmt::format("'{}' is not a whole number from 1 to {}{}", terminal_safe(text), k_max_count, hint);
        }
        return std::string();
    };
    return {check, "N"};
}

CLI::Validator duration_check() {
    return {[](const std::string& text) { return positive_duration(text) ? std::string() : duration_problem(text); },
            "DURATION"};
}

core::Duration parse_duration_flag(const std::string& flag, const std::string& text) {
    auto duration = positive_duration(text);
    if (!duration) {
        throw core::UsageError(fmt::format("{}: {}", flag, duration_problem(text)));
    }
    return *duration;
}

core::Spec load_spec_with_hosts(const std::string& path, const HostFlags& hosts,
                                const std::vector<std::string>& pass_env) {
    core::LoadOptions options = host_load_options(hosts);
    options.pass_env = pass_env;
    return core::load_spec(path, options);
}

} // namespace sshard::cli
