#include "cli/submit_command.hpp"

#include <algorithm>
#include <filesystem>
#include <fmt/format.h>
#include <iostream>
#include <memory>

#include "cli/common_options.hpp"
#include "cli/exit_codes.hpp"
#include "cli/terminal.hpp"
#include "core/error.hpp"
#include "core/names.hpp"
#include "core/run_dir.hpp"
#include "core/shell_quote.hpp"
#include "core/slurm_allocation.hpp"
#include "core/spec_loader.hpp"
#include "transport/slurm_command.hpp"

namespace sshard::cli {

namespace {

namespace fs = std::filesystem;

// sbatch options that say how many CPUs a node gives: without any, the job is given whole nodes.
constexpr std::string_view k_cpu_options[] = {"-n",          "--ntasks",  "--ntasks-per-node", "-c", "--cpus-per-task",
                                              "--exclusive", "--mincpus", "--cpus-per-gpu"};

bool sizes_cpus(const std::vector<std::string>& words) {
    return std::any_of(words.begin(), words.end(), [](const std::string& word) {
        return std::any_of(std::begin(k_cpu_options), std::end(k_cpu_options), [&](std::string_view option) {
            return word == option || (word.rfind(option, 0) == 0 && word.size() > option.size() &&
                                      (word[option.size()] == '=' || option.size() == 2));
        });
    });
}

// Slurm's --time form, days-hours:minutes:seconds, rounded up to the second.
std::string slurm_time(core::Duration duration) {
    auto seconds = std::chrono::ceil<std::chrono::seconds>(duration).count();
    return fmt::format("{}-{:02}:{:02}:{:02}", seconds / 86400, seconds / 3600 % 24, seconds / 60 % 60, seconds % 60);
}

std::string own_path() {
    std::error_code error;
    fs::path path = fs::read_symlink("/proc/self/exe", error);
    if (error) {
        throw core::Error("cannot find sshard's own path for the batch job: " + error.message());
    }
    return path.string();
}

// The arguments of sbatch for `options`, given the absolute paths of the sshard binary, the spec and the run
// directory.
std::vector<std::string> sbatch_arguments(const SubmitOptions& options, const std::string& sshard,
                                          const std::string& spec, const std::string& run_dir) {
    std::vector<std::string> args{"sbatch", "--parsable", "--job-name=sshard", "--output=" + run_dir + ".out"};
    if (options.nodes) {
        args.push_back("--nodes=" + std::to_string(*options.nodes));
    }
    if (options.time) {
        args.push_back("--time=" + slurm_time(parse_duration_flag("--time", *options.time)));
    }
    if (!sizes_cpus(options.sbatch)) {
        args.emplace_back("--exclusive");
    }
    args.insert(args.end(), options.sbatch.begin(), options.sbatch.end());
    args.push_back("--wrap=exec " + core::shell_quote(sshard) + " run " + core::shell_quote(spec) + " --hosts " +
                   std::string(core::k_slurm_allocation) + " --run-dir " + core::shell_quote(run_dir) +
                   " --progress never");
    return args;
}

} // namespace

Command add_submit_command(CLI::App& app) {
    auto options = std::make_shared<SubmitOptions>();
    CLI::App* command =
        app.add_subcommand("submit", "Submit one Slurm batch job that runs SPEC on its allocation's nodes");
    command->add_option("SPEC", options->spec, "The job spec")->required();
    command->add_option("--nodes,-N", options->nodes, "Nodes to allocate (sbatch --nodes)")
        ->check(CLI::Range(1, 100000));
    command->add_option("--time,-t", options->time, "Time limit of the whole run, as 30m or 2h (sbatch --time)")
        ->check(duration_check());
    command->add_option("--run-dir", options->run_dir, "The run's directory (default: a new one under .sshard/runs)");
    command->footer("Words after -- are passed to sbatch as they are");
    return {command, [options] { return submit_command(*options); }, &options->sbatch};
}

int submit_command(const SubmitOptions& options) {
    // Checked now, all but its hosts (the nodes of an allocation that does not exist yet), so that a spec in
    // error fails here, with nothing submitted, and not in the queue.
    core::LoadOptions load;
    load.hosts_later = true;
    core::load_spec(options.spec, load);
    std::string spec = fs::absolute(options.spec).string();
    bool reserved = options.run_dir.empty();
    std::string run_dir =
        reserved ? core::RunDir::reserve(".sshard/runs", core::default_run_name(options.spec)) : options.run_dir;
    if (!reserved) {
        std::error_code error;
        fs::create_directories(run_dir, error);
        if (error || !fs::is_empty(run_dir, error)) {
            throw core::UsageError(fmt::format("run directory '{}' cannot be made or is not empty", run_dir));
        }
    }
    run_dir = fs::absolute(run_dir).lexically_normal().string();
    transport::CommandResult sbatch = transport::run_program(sbatch_arguments(options, own_path(), spec, run_dir));
    if (!sbatch.ok()) {
        std::error_code ignored;
        fs::remove(run_dir, ignored); // still empty: nothing ran
        std::cerr << "sshard: error: sbatch failed: " << terminal_safe(sbatch.why()) << '\n';
        return k_exit_cannot_proceed;
    }
    if (reserved) {
        core::RunDir::make_latest(run_dir);
    }
    std::string job = sbatch.out.substr(0, sbatch.out.find_first_of(";\n"));
    std::cout << job << '\n' << run_dir << '\n';
    return k_exit_ok;
}

} // namespace sshard::cli
