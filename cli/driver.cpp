#include "cli/driver.hpp"

#include <algorithm>
#include <cassert>
#include <fmt/format.h>
#include <iostream>
#include <string>
#include <unistd.h>
#include <vector>

#include "cli/exit_codes.hpp"
#include "cli/terminal.hpp"
#include "core/diagnostic.hpp"
#include "core/error.hpp"

namespace sshard::cli {

namespace {

void print_spec_error(const core::SpecError& e) {
    bool colour = colour_enabled(STDERR_FILENO);
    for (const auto& diagnostic : e.diagnostics()) {
        std::cerr << core::format_diagnostic(e.file(), diagnostic, colour);
    }
    std::size_t count = e.diagnostics().size();
    std::cerr << fmt::format("sshard: {} error{} in {}; nothing was dispatched\n", count, count == 1 ? "" : "s",
                             e.file());
}

// Runs `command`; the errors of a command that cannot start become messages here. CLI::ParseError goes on to
// the caller, which has CLI11 print it.
int run_one(const Command& command) {
    try {
        return command.run();
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
}

// The command line for CLI11, last word first as it takes them, without the words after `--` of a command
// that keeps them for itself (moved to it here).
std::vector<std::string> arguments(int argc, char** argv, const std::vector<Command>& commands) {
    std::vector<std::string> args(argv + 1, argv + argc);
    auto dashes = std::find(args.begin(), args.end(), "--");
    for (const Command& command : commands) {
        if (command.words_after_dashes != nullptr && !args.empty() && args.front() == command.app->get_name() &&
            dashes != args.end()) {
            command.words_after_dashes->assign(dashes + 1, args.end());
            args.erase(dashes, args.end());
        }
    }
    std::reverse(args.begin(), args.end());
    return args;
}

} // namespace

int run_commands(int argc, char** argv, std::span<const AddCommand> commands) {
    CLI::App app{"sshard: run sharded jobs across SSH hosts", "sshard"};
    app.set_version_flag("--version", std::string("sshard ") + SSHARD_VERSION);
    app.require_subcommand(1);
    std::vector<Command> declared;
    for (AddCommand add : commands) {
        declared.push_back(add(app));
    }
    try {
        app.parse(arguments(argc, argv, declared));
        auto chosen = std::find_if(declared.begin(), declared.end(), [](const Command& c) { return c.app->parsed(); });
        assert(chosen != declared.end()); // CLI11 requires one subcommand
        return run_one(*chosen);
    } catch (const CLI::ParseError& e) {
        int code = app.exit(e);
        return code == 0 ? k_exit_ok : k_exit_usage;
    }
}

} // namespace sshard::cli
