// Stored output printed in blocks under headers, as dshbak and ClusterShell's `clush -b` print it, for
// `run --group`, `output` and `exec`:
//   ----------------
//   job[3]@node1
//   ----------------
//   what the shard printed
// The header is sshard's and made safe for the terminal; the output is the shards' own bytes, as they are.
#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace sshard::cli {

// Where one attempt's output is stored (core/output_reader.hpp) and the title of its block.
struct StoredAttempt {
    std::string job;
    std::string stem; // "<index>.<attempt>"
    std::string title;
};

// Prints the attempt's standard output to `out` under its title, then its standard error to `err` under
// "TITLE (stderr)", each only when not empty (like GNU parallel's --group). Returns false when a write
// failed (the reader went away). Throws core::Error when a stored file cannot be read.
bool print_attempt(std::ostream& out, std::ostream& err, int outputs, const StoredAttempt& attempt);

// Reads every attempt's output, gathers those with the same standard output and standard error, and prints
// each distinct output once to `out`, in the order of its first attempt, under `fold_title` of the indices
// (into `attempts`) of those that printed it; attempts that printed nothing are left out. Standard error
// follows under "TITLES (stderr)". Returns false when a write failed. Throws core::Error as above.
bool print_folded(std::ostream& out, int outputs, const std::vector<StoredAttempt>& attempts,
                  const std::function<std::string(const std::vector<std::size_t>&)>& fold_title);

} // namespace sshard::cli
