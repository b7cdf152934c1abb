// The files a spec is made of: the spec itself and its jobs' `lines` files. Both are read in blocks up to a bound
// (core/spec_limits.hpp), so that /dev/zero, an endless pipe or a file without line breaks cannot exhaust memory.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace sshard::core {

// The bytes of the spec file at `path`. Throws UsageError when it cannot be read or is larger than
// k_max_spec_bytes.
std::string read_spec_file(const std::string& path);

// The lines of the `lines` file at `path` that hold more than blanks, each without its line break (LF or CRLF).
// Returns nullopt and sets `error` (naming the file) when it cannot be read, is larger than k_max_lines_bytes or
// has a line longer than k_max_line_bytes.
std::optional<std::vector<std::string>> read_lines_file(const std::string& path, std::string& error);

} // namespace sshard::core
