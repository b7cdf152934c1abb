// What every sshard command shares around it: flag parsing, and one place where an error that stops a command
// becomes a message on stderr and an exit code (cli/exit_codes.hpp).
#pragma once

#include <span>

#include "cli/command.hpp"

namespace sshard::cli {

// Declares `commands` on sshard's command line, parses `argv`, runs the one chosen and returns its exit code:
// 2 for bad flags or a bad spec (CLI11's message, or a compiler-style diagnostic for each problem in the
// spec), 3 for any other error that stops the command.
int run_commands(int argc, char** argv, std::span<const AddCommand> commands);

} // namespace sshard::cli
