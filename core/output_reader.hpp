// Reads back what attempts printed, as core/output_files.hpp stored it, for `sshard output`, `run --group` and
// `exec`. Like the writer, it never follows a symbolic link and holds nothing open between calls.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "core/transport.hpp"

namespace sshard::core {

// Passes the bytes of attempt output `<job>/<stem>.out` (or `.err`) in the directory `outputs` (a descriptor of
// a run's `out`) to `chunk`, in pieces. Returns false when there is no such file: the attempt wrote nothing
// to that stream. Throws Error naming the file when it exists but cannot be read, or is a link.
bool read_output(int outputs, const std::string& job, const std::string& stem, Stream stream,
                 const std::function<void(std::string_view)>& chunk);

// The whole of one attempt output, "" when there is none. Throws Error as read_output does.
std::string read_output_text(int outputs, const std::string& job, const std::string& stem, Stream stream);

} // namespace sshard::core
