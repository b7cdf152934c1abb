#include "cli/exec_command.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/output_command.hpp"
#include "cli/run_command.hpp"
#include "cli/terminal.hpp"
#include "core/duration.hpp"
#include "core/error.hpp"
#include "core/hostlist.hpp"
#include "core/journal.hpp"

namespace sshard::cli {

namespace {

// The command as a template that reads back as exactly `text`: every '{' doubled, and every '}' that closes
// one, so that no placeholder is left (core/command_template.hpp). The words are joined by spaces, as ssh
// and pdsh join them: the remote shell splits them again.
std::string literal_command(const std::vector<std::string>& words) {
    std::string text;
    for (const auto& word : words) {
        text += text.empty() ? "" : " ";
        text += word;
    }
    std::string escaped;
    int open = 0;
    for (char c : text) {
        if (c == '{') {
            escaped += "{{";
            ++open;
        } else if (c == '}' && open > 0) {
            escaped += "}}";
            --open;
        } else {
            escaped += c;
        }
    }
    return escaped;
}

// The spec, as JSON (which YAML reads): the hosts, and one job with a shard pinned to each (`each_host`) that
// runs the command.
std::string exec_spec(const ExecOptions& options, const std::vector<core::HostSpec>& hosts) {
    nlohmann::ordered_json spec = {{"version", 1}, {"name", "exec"}};
    for (const auto& host : hosts) {
        nlohmann::ordered_json entry = {{"name", host.name}, {"priority", host.priority}, {"labels", host.labels}};
        if (!host.user.empty()) {
            entry["user"] = host.user;
        }
        if (host.port != 0) {
            entry["port"] = host.port;
        }
        spec["hosts"].push_back(entry);
    }
    nlohmann::ordered_json job = {
        {"name", "exec"}, {"command", literal_command(options.command)}, {"shards", "each_host"}};
    if (!options.timeout.empty()) {
        job["timeout"] = options.timeout;
    }
    spec["jobs"].push_back(job);
    try {
        return spec.dump();
    } catch (const nlohmann::json::exception&) {
        throw core::UsageError("the command or a host name is not valid UTF-8");
    }
}

// Names each host that failed and why on standard error, then how many failed, as clush does. Shard i ran on
// hosts[i], the spec's order.
void print_failures(const std::string& run_dir, const std::vector<core::HostSpec>& hosts) {
    std::vector<std::string> failed;
    auto report = [&](std::uint64_t index, const std::string& reason) {
        failed.push_back(hosts[index].name);
        std::cerr << "sshard: " << terminal_safe(hosts[index].name) << ": " << terminal_safe(reason) << '\n';
    };
    core::read_journal(run_dir + "/journal.jsonl", [&](const core::JournalEvent& event, int) {
        if (const auto* end = std::get_if<core::AttemptEndEvent>(&event)) {
            if (end->verdict == core::Verdict::failed && end->index < hosts.size()) {
                report(end->index, end->reason);
            }
        } else if (const auto* not_run = std::get_if<core::ShardsNotRunEvent>(&event); not_run && not_run->failed) {
            for (const auto& range : not_run->indices) {
                for (std::uint64_t index = range.from; index < range.to && index < hosts.size(); ++index) {
                    report(index, not_run->reason);
                }
            }
        }
    });
    if (!failed.empty()) {
        std::cerr << fmt::format("sshard: {} of {} hosts failed: {} (records in {})\n", failed.size(), hosts.size(),
                                 terminal_safe(core::fold_hostlist(failed)), run_dir);
    }
}

} // namespace

Command add_exec_command(CLI::App& app) {
    auto options = std::make_shared<ExecOptions>();
    CLI::App* command = app.add_subcommand("exec", "Run a command once on each host, without a spec");
    add_host_options(*command, options->hosts);
    command->add_option("--fanout", options->fanout, "At most N hosts at a time, connecting or running")
        ->check(count_check())
        ->capture_default_str();
    command->add_flag("--fold", options->fold, "Print identical output once, under the folded list of its hosts");
    command->add_option("--timeout", options->timeout, "Stop the command on a host after this long (30s, 5m)")
        ->check(duration_check());
    command->add_option("--down-limit", options->down_limit, "Fail a host that cannot be reached for this long")
        ->check(duration_check())
        ->capture_default_str();
    add_env_option(*command, options->pass_env);
    add_ssh_options(*command, options->ssh);
    // Everything from the command's first word on is the command's, options included, as with ssh.
    command->prefix_command();
    command->footer("COMMAND [ARG...] follow the options (after -- for safety): its words, joined by spaces as ssh "
                    "joins them, are read by each host's shell");
    return {command,
            [options, command] {
                auto unparsed = command->remaining();
                if (!unparsed.empty() && unparsed.front().rfind('-', 0) == 0) {
                    throw CLI::ExtrasError({unparsed.front()}); // a mistyped option, not a command
                }
                options->command.insert(options->command.begin(), unparsed.begin(), unparsed.end());
                if (options->command.empty()) {
                    throw CLI::RequiredError("COMMAND");
                }
                return exec_command(*options);
            },
            &options->command};
}

int exec_command(const ExecOptions& options) {
    std::vector<core::HostSpec> hosts = hosts_from_flags(options.hosts, "exec needs its hosts");
    RunOptions run;
    run.spec = "exec";
    run.spec_text = exec_spec(options, hosts);
    // As many connections are set up at once as commands run: pdsh's fanout counts both.
    run.max_parallel = options.fanout;
    run.max_handshakes = static_cast<int>(std::min<std::size_t>(options.fanout, 64));
    run.down_limit = options.down_limit;
    run.group = !options.fold;
    run.titles_by_host = true;
    run.ssh = options.ssh;
    run.pass_env = options.pass_env;
    run.print_end = [&](const std::string& run_dir) {
        if (options.fold && !print_output_folded_by_host(run_dir)) {
            std::cerr << "sshard: standard output was closed\n";
        }
        print_failures(run_dir, hosts);
    };
    return run_command(run);
}

} // namespace sshard::cli
