// A subcommand of sshard as main.cpp sees it: each command's file declares its options on a CLI11 subcommand
// and hands back how to run it, so main only lists the commands (see k_commands there).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace sshard::cli {

struct Command {
    CLI::App* app = nullptr; // the subcommand; `app->parsed()` says whether it was chosen
    // Runs the command with the parsed options and returns the exit code. Throws CLI::ParseError for flags
    // that CLI11 cannot check alone, core::SpecError and core::Error when the command cannot start.
    std::function<int()> run;
    // When set, the words after `--` on the command line are this command's own (`exec`'s command, options
    // and all): CLI11 never parses them, and they are put here before `run`.
    std::vector<std::string>* words_after_dashes = nullptr;
};

// Adds one subcommand with its options to `app`.
using AddCommand = Command (*)(CLI::App& app);

} // namespace sshard::cli
