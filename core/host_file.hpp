// Host files (`--hostfile FILE`): the host list kept outside the spec, one entry a line, as pdsh's and GNU
// parallel's users keep theirs, with what a spec's host mapping can say besides its name.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/spec.hpp"

namespace sshard::core {

// Parses host file text. Each line holds one `[slots/][user@]hostlist[:port]` entry (the --hosts syntax, no
// commas outside brackets), then optional whitespace-separated fields `slots=N|auto`, `priority=N` and
// `labels=a,b`; `#` starts a comment, blank lines are skipped. Throws SpecError naming `path`, line and column
// of every problem: a bad entry or field, a field given twice, a host listed twice, a file with no host.
std::vector<HostSpec> parse_host_file(const std::string& path, std::string_view text);

// Reads and parses the host file at `path`. Throws UsageError when it cannot be read, SpecError as above.
std::vector<HostSpec> read_host_file(const std::string& path);

// The text of the host file at `path`, up to 16 MiB. Throws UsageError when it cannot be read or is larger.
std::string read_host_file_text(const std::string& path);

} // namespace sshard::core
