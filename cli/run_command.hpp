// `sshard run`: loads the spec, makes or reopens the run directory, runs the scheduler to the end, prints
// the summary and returns the exit code.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "cli/common_options.hpp"

namespace sshard::cli {

struct RunOptions {
    std::string spec; // empty with --resume: the run's own copy
    HostFlags hosts;  // --hosts, --hostfile
    bool show_env = false;
    std::vector<std::string> pass_env; // --env
    bool dry_run = false;
    bool check = false; // with dry_run: what each stage would send each host
    bool local = false; // every host runs on this machine
    std::string run_dir;
    std::string resume;
    bool retry_failed = false;
    bool fail_fast = false;
    std::size_t max_parallel = 0;
    std::string down_limit = "2m";
    std::string progress = "auto"; // auto, always, never
    bool stream = false;
    bool group = false; // --group
    // `sshard exec`: the spec's text held in memory (named `spec` in messages) instead of a file; output
    // headed by host alone; and what to print at the end, given the run directory, instead of the report.
    std::optional<std::string> spec_text;
    bool titles_by_host = false;
    int max_handshakes = 0; // connection set-ups at a time; 0, the transport's default
    std::function<void(const std::string& run_dir)> print_end;
    std::string joblog; // --joblog
    SshFlags ssh;
};

// Declares `run` and its options on `app`.
Command add_run_command(CLI::App& app);

// Throws CLI::RequiredError without a spec or --resume, core::SpecError and core::Error for problems before
// dispatch; returns the exit code otherwise.
int run_command(const RunOptions& options);

} // namespace sshard::cli
