#include "cli/hosts_command.hpp"

#include <algorithm>
#include <atomic>
#include <fmt/format.h>
#include <fmt/ostream.h>
#include <iostream>
#include <memory>
#include <thread>
#include <vector>

#include "cli/exit_codes.hpp"
#include "cli/hosts_drain_command.hpp"
#include "cli/plan_printer.hpp"
#include "cli/terminal.hpp"
#include "transport/host_check.hpp"

namespace sshard::cli {

namespace {

constexpr unsigned k_parallel_checks = 8; // within OpenSSH's MaxStartups, even for hosts behind one server

// The width of the column of host names: the longest, made safe.
std::size_t host_name_width(const std::vector<core::HostSpec>& hosts) {
    std::size_t width = 0;
    for (const auto& host : hosts) {
        width = std::max(width, display_width(terminal_safe(host.name)));
    }
    return width;
}

// `name` made safe and padded to `width` columns.
std::string name_column(const std::string& name, std::size_t width) {
    return pad_right(terminal_safe(name), width);
}

// A host's line in the list: its name and settings, one column each.
std::string host_line(const core::HostSpec& host, std::size_t width) {
    std::string text = fmt::format("{} slots {:<5} priority {:<4} {}", name_column(host.name, width), slots_text(host),
                                   host.priority, transport_name(host.transport));
    if (!host.user.empty()) {
        text += " user " + host.user;
    }
    if (host.port != 0) {
        text += fmt::format(" port {}", host.port);
    }
    for (const auto& label : host.labels) {
        text += " +" + label;
    }
    return text;
}

// Checks every host, a few at a time, each on a thread of its own.
std::vector<transport::HostCheck> check_all(const std::vector<core::HostSpec>& hosts,
                                            const transport::SshOptions& options) {
    std::vector<transport::HostCheck> checks(hosts.size());
    std::atomic<std::size_t> next{0};
    std::vector<std::thread> threads;
    for (unsigned t = 0; t < std::min<std::size_t>(k_parallel_checks, hosts.size()); ++t) {
        threads.emplace_back([&] {
            for (std::size_t i = next++; i < hosts.size(); i = next++) {
                checks[i] = transport::check_host(hosts[i], options);
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    return checks;
}

} // namespace

Command add_hosts_command(CLI::App& app) {
    auto options = std::make_shared<HostsOptions>();
    CLI::App* command = app.add_subcommand("hosts", "List the spec's hosts; with --check, try each");
    command->add_option("SPEC", options->spec, "The job spec (YAML); without one, the hosts of --hosts or --hostfile");
    add_host_options(*command, options->hosts);
    command->add_flag("--check", options->check,
                      "Connect to each host: reachable, host key known, authenticated, CPUs, round trip");
    add_ssh_options(*command, options->ssh);
    DrainCommands drain = add_drain_commands(*command);
    return {command, [options, drain] {
                if (drain.chosen()) {
                    return drain.run();
                }
                return hosts_command(*options);
            }};
}

int hosts_command(const HostsOptions& options) {
    core::Spec spec;
    if (options.spec.empty()) {
        spec.hosts = hosts_from_flags(options.hosts, "hosts needs a SPEC or the hosts");
    } else {
        spec = load_spec_with_hosts(options.spec, options.hosts);
    }
    std::size_t width = host_name_width(spec.hosts);
    if (!options.check) {
        for (const auto& host : spec.hosts) {
            fmt::print(std::cout, "{}\n", terminal_safe(host_line(host, width)));
        }
        return k_exit_ok;
    }
    auto checks = check_all(spec.hosts, ssh_options(options.ssh));
    int failed = 0;
    for (std::size_t i = 0; i < spec.hosts.size(); ++i) {
        const auto& check = checks[i];
        if (check.ok) {
            fmt::print(std::cout, "{} ok    cpus {:<4} setup {:>9}  rtt {:>6.1f} ms  {}{}\n",
                       name_column(spec.hosts[i].name, width), check.cpus ? std::to_string(*check.cpus) : "?",
                       check.setup_s ? fmt::format("{:.0f} ms", *check.setup_s * 1000) : "n/a",
                       check.round_trip_s * 1000, terminal_safe(check.server),
                       check.fallback.empty() ? "" : "  (a channel per shard: " + terminal_safe(check.fallback) + ")");
        } else {
            ++failed;
            fmt::print(std::cout, "{} FAIL  {}\n", name_column(spec.hosts[i].name, width), terminal_safe(check.error));
        }
    }
    std::cout.flush();
    return failed == 0 ? k_exit_ok : k_exit_shards_failed;
}

} // namespace sshard::cli
