// The sshard driver: parses flags, calls into core, prints, and turns every outcome into an exit code.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <csignal>
#include <fmt/format.h>
#include <iostream>
#include <optional>
#include <unistd.h>

#include "cli/exec_command.hpp"
#include "cli/exit_codes.hpp"
#include "cli/hosts_command.hpp"
#include "cli/output_command.hpp"
#include "cli/plan_printer.hpp"
#include "cli/report_html.hpp"
#include "cli/report_printer.hpp"
#include "cli/run_command.hpp"
#include "cli/terminal.hpp"
#include "core/error.hpp"
#include "core/plan.hpp"
#include "core/report.hpp"
#include "core/run_dir.hpp"
#include "core/spec_loader.hpp"

namespace sshard::cli {

namespace {

struct SpecOptions {
    std::string spec;
    std::optional<std::string> hosts; // --hosts: absent, or a list (an empty one is an error)
    std::optional<std::string> hostfile;
    std::string format = "text";
    bool show_env = false;
};

// --hosts and --hostfile, which replace the spec's hosts and exclude each other.
void add_host_options(CLI::App& command, std::optional<std::string>& hosts, std::optional<std::string>& hostfile) {
    auto* list = command.add_option("--hosts", hosts,
                                    "Replace the spec's hosts: comma-separated [slots/][user@]hostlist[:port]");
    command
        .add_option("--hostfile", hostfile,
                    "Replace the spec's hosts with FILE's: a host a line, then slots=, priority=, labels=")
        ->excludes(list);
}

void add_spec_options(CLI::App& command, SpecOptions& options) {
    command.add_option("SPEC", options.spec, "The job spec (YAML)")->required();
    add_host_options(command, options.hosts, options.hostfile);
    command.add_flag("--show-env", options.show_env, "Show environment values (hidden by default)");
}

core::Spec load(const SpecOptions& options) {
    core::LoadOptions load_options;
    load_options.hosts_override = options.hosts;
    load_options.hostfile = options.hostfile;
    return core::load_spec(options.spec, load_options);
}

void add_ssh_options(CLI::App& command, std::string& config, bool& accept_new, bool& verbose) {
    command.add_option("--ssh-config", config, "Read this ssh_config instead of ~/.ssh/config")
        ->check(CLI::ExistingFile);
    command.add_flag("--accept-new-host-keys", accept_new,
                     "Record the keys of hosts not yet in known_hosts (StrictHostKeyChecking=accept-new)");
    command.add_flag("--verbose,-v", verbose, "Also print libssh's own log lines, at the ssh_config's LogLevel");
}

void add_run_options(CLI::App& command, RunOptions& options) {
    command.add_option("SPEC", options.spec, "The job spec (YAML); with --resume, the run's own copy by default");
    add_host_options(command, options.hosts, options.hostfile);
    command.add_flag("--show-env", options.show_env, "With --dry-run, show environment values");
    command.add_flag("--dry-run,-n", options.dry_run, "Show the plan, as `sshard plan` does, and run nothing");
    command.add_flag("--local", options.local,
                     "Run every host's shards on this machine, each host keeping its slots and labels");
    auto* run_dir = command.add_option("--run-dir", options.run_dir,
                                       "Keep this run's records in DIR (default .sshard/runs/<run-id>)");
    auto* resume =
        command.add_option("--resume", options.resume, "Continue the run in RUN_DIR (or the latest run under it)");
    command.add_flag("--retry-failed", options.retry_failed, "With --resume, run failed shards again")->needs(resume);
    run_dir->excludes(resume);
    command.add_flag("--fail-fast", options.fail_fast, "After the first shard that fails for good, start nothing new");
    command.add_option("--max-parallel", options.max_parallel, "At most N shards in flight across all hosts")
        ->check(CLI::PositiveNumber);
    command
        .add_option("--down-limit", options.down_limit,
                    "Fail a job's remaining shards when all its hosts have been down this long")
        ->capture_default_str();
    command.add_option("--progress", options.progress, "The live progress line on stderr")
        ->check(CLI::IsMember({"auto", "always", "never"}))
        ->capture_default_str();
    auto* stream =
        command.add_flag("--stream", options.stream, "Print every output line as it comes, tagged job[index]@host");
    command.add_flag("--group", options.group, "Print each shard's output whole when it ends, under job[index]@host")
        ->excludes(stream);
    command.add_option("--joblog", options.joblog, "Also log each attempt to FILE in GNU parallel's joblog format");
    add_ssh_options(command, options.ssh_config, options.accept_new_host_keys, options.verbose);
}

int plan_command(const SpecOptions& options) {
    core::Spec spec = load(options);
    core::Plan plan = core::make_plan(spec);
    if (options.format == "json") {
        print_plan_json(std::cout, plan, options.show_env);
    } else {
        print_plan_text(std::cout, plan, options.show_env);
    }
    std::cout.flush();
    return std::cout ? k_exit_ok : k_exit_cannot_proceed;
}

int report_command(const std::string& run_dir, const std::string& format) {
    core::RunDir dir = core::RunDir::open(run_dir);
    if (format == "csv") {
        print_report_csv(std::cout, dir.path());
    } else if (format == "html") {
        print_report_html(std::cout, core::build_report(dir.path()), dir.path());
    } else if (format == "json") {
        print_report_json(std::cout, core::build_report(dir.path()));
    } else {
        print_report_text(std::cout, core::build_report(dir.path()));
    }
    std::cout.flush();
    return std::cout ? k_exit_ok : k_exit_cannot_proceed;
}

void print_spec_error(const core::SpecError& e) {
    bool colour = colour_enabled(STDERR_FILENO);
    for (const auto& diagnostic : e.diagnostics()) {
        std::cerr << core::format_diagnostic(e.file(), diagnostic, colour);
    }
    std::size_t count = e.diagnostics().size();
    std::cerr << fmt::format("sshard: {} error{} in {}; nothing was dispatched\n", count, count == 1 ? "" : "s",
                             e.file());
}

int run(int argc, char** argv) {
    CLI::App app{"sshard: run sharded jobs across SSH hosts", "sshard"};
    app.set_version_flag("--version", std::string("sshard ") + SSHARD_VERSION);
    app.require_subcommand(1);

    SpecOptions plan_options;
    CLI::App* plan = app.add_subcommand("plan", "Show what a run would do, touching nothing");
    add_spec_options(*plan, plan_options);
    plan->add_option("--format", plan_options.format, "Output format")
        ->check(CLI::IsMember({"text", "json"}))
        ->capture_default_str();

    RunOptions run_options;
    CLI::App* run = app.add_subcommand("run", "Run a spec's shards on its hosts");
    add_run_options(*run, run_options);

    HostsOptions hosts_options;
    CLI::App* hosts = app.add_subcommand("hosts", "List the spec's hosts; with --check, try each");
    hosts->add_option("SPEC", hosts_options.spec, "The job spec (YAML)")->required();
    add_host_options(*hosts, hosts_options.hosts, hosts_options.hostfile);
    hosts->add_flag("--check", hosts_options.check,
                    "Connect to each host: reachable, host key known, authenticated, CPUs, round trip");
    add_ssh_options(*hosts, hosts_options.ssh_config, hosts_options.accept_new_host_keys, hosts_options.verbose);

    std::string report_dir = ".sshard/runs";
    std::string report_format = "text";
    CLI::App* report = app.add_subcommand("report", "Print the report of a finished or interrupted run");
    report->add_option("RUN_DIR", report_dir, "A run directory, or a folder of runs (its latest)")
        ->capture_default_str();
    report->add_option("--format", report_format, "Output format")
        ->check(CLI::IsMember({"text", "json", "csv", "html"}))
        ->capture_default_str();

    ExecOptions exec_options;
    CLI::App* exec = app.add_subcommand("exec", "Run a command once on each host, without a spec");
    add_host_options(*exec, exec_options.hosts, exec_options.hostfile);
    exec->add_option("--fanout", exec_options.fanout, "At most N hosts at a time, connecting or running")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    exec->add_flag("--fold", exec_options.fold, "Print identical output once, under the folded list of its hosts");
    exec->add_option("--timeout", exec_options.timeout, "Stop the command on a host after this long (30s, 5m)");
    exec->add_option("--down-limit", exec_options.down_limit, "Fail a host that cannot be reached for this long")
        ->capture_default_str();
    add_ssh_options(*exec, exec_options.ssh_config, exec_options.accept_new_host_keys, exec_options.verbose);
    // Everything from the command's first word on is the command's, options included, as with ssh.
    exec->prefix_command();
    exec->footer("COMMAND [ARG...] follow the options (after -- for safety): its words, joined by spaces as ssh "
                 "joins them, are read by each host's shell");

    OutputOptions output_options;
    CLI::App* output = app.add_subcommand("output", "Print the stored output of a run's shards");
    output->add_option("SELECTOR", output_options.words,
                       "[RUN_DIR] then shards: job, job[3], job[0-9] (default: .sshard/runs, its latest; every shard)");
    output->add_flag("--failed", output_options.failed, "Only shards that failed for good");
    output->add_flag("--fold", output_options.fold, "Print identical output once, under the folded list of shards");

    try {
        // exec's command after `--` is the command's, options and all: CLI11 never sees it.
        std::vector<std::string> args(argv + 1, argv + argc);
        auto dashes = std::find(args.begin(), args.end(), "--");
        if (!args.empty() && args.front() == "exec" && dashes != args.end()) {
            exec_options.command.assign(dashes + 1, args.end());
            args.erase(dashes, args.end());
        }
        std::reverse(args.begin(), args.end()); // CLI11 takes them last first
        app.parse(args);
        if (run->parsed() && run_options.spec.empty() && run_options.resume.empty()) {
            throw CLI::RequiredError("SPEC (or --resume RUN_DIR)");
        }
        auto unparsed = exec->remaining();
        if (!unparsed.empty() && unparsed.front().rfind('-', 0) == 0) {
            throw CLI::ExtrasError({unparsed.front()}); // a mistyped option, not a command
        }
        exec_options.command.insert(exec_options.command.begin(), unparsed.begin(), unparsed.end());
        if (exec->parsed() && exec_options.command.empty()) {
            throw CLI::RequiredError("COMMAND");
        }
    } catch (const CLI::ParseError& e) {
        int code = app.exit(e);
        return code == 0 ? k_exit_ok : k_exit_usage;
    }
    try {
        if (plan->parsed()) {
            return plan_command(plan_options);
        }
        if (run->parsed()) {
            return run_command(run_options);
        }
        if (hosts->parsed()) {
            return hosts_command(hosts_options);
        }
        if (exec->parsed()) {
            return exec_command(exec_options);
        }
        if (output->parsed()) {
            return output_command(output_options);
        }
        if (report->parsed()) {
            return report_command(report_dir, report_format);
        }
    } catch (const core::SpecError& e) {
        print_spec_error(e);
        return k_exit_usage;
    } catch (const core::UsageError& e) {
        std::cerr << "sshard: error: " << terminal_safe(e.what()) << '\n';
        return k_exit_usage;
    } catch (const core::Error& e) {
        std::cerr << "sshard: error: " << terminal_safe(e.what()) << '\n';
        return k_exit_cannot_proceed;
    }
    return k_exit_usage;
}

} // namespace

} // namespace sshard::cli

int main(int argc, char** argv) {
    // A reader that goes away (`sshard run --stream | head`) must not kill the runner between a shard's start
    // and its record, nor leave shards running: writes fail with EPIPE instead, and the run stops in order
    // (see run_command). Shards get the default action back.
    std::signal(SIGPIPE, SIG_IGN);
    try {
        return sshard::cli::run(argc, argv);
    } catch (const std::exception& e) {
        std::cerr << "sshard: error: " << sshard::cli::terminal_safe(e.what()) << '\n';
        return sshard::cli::k_exit_cannot_proceed;
    }
}
