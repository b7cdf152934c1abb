// The spec loader's checks that need no YAML: a command's placeholders against the job's shards and values, and
// the lines of a spec that hold env values, which diagnostics must not show.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/diagnostic.hpp"
#include "core/spec.hpp"

namespace sshard::core {

// A problem at a byte offset of a job's command.
struct CommandProblem {
    std::size_t offset = 0;
    std::string message;
};

// Every placeholder of `job`'s command that the job does not define ("did you mean", and how to write it as
// text); when all are defined, every placeholder that refuses a value it can take (CommandTemplate::refusal), with
// the first such value and how many there are. `hosts` gives {host}'s values.
std::vector<CommandProblem> check_command_values(const JobSpec& job, const std::vector<HostSpec>& hosts);

// Hides in `diag` the values of every `env:` mapping of the spec it holds, found by indentation rather than by
// YAML so that a line with a YAML syntax error is hidden too: each entry is shown up to its key, a line that
// continues a value not at all.
void hide_env_values(DiagnosticList& diag);

} // namespace sshard::core
