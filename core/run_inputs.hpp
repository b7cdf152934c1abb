// The files a spec reads besides itself, copied into the run directory: a resume without a spec then runs the
// same shards even if the files changed or went away since. Each `lines` job's lines, as loaded, are kept in
// <run>/inputs/<job>.lines; LoadOptions::lines_dir reads them back.
#pragma once

#include <string>

#include "core/spec.hpp"

namespace sshard::core {

// Where a run directory keeps its copies.
std::string inputs_dir(const std::string& run_dir);

// Writes the copies of `spec`'s inputs into `run_dir`, each replacing an earlier copy at once (rename), private
// (0700 and 0600) and synced. Throws Error when one cannot be written.
void save_inputs(const std::string& run_dir, const Spec& spec);

} // namespace sshard::core
