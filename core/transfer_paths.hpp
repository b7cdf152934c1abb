// The paths of `stage` and `collect` (core/spec.hpp): relative paths that must never leave their directory, the
// placeholders a collect path may hold, and the local tree a stage sends. Shared by the spec loader (checks at
// load), the transports (at each transfer) and `sshard plan` (sizes).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sshard::core {

// `path` without `.` components and repeated or trailing slashes; nullopt when it is empty, absolute, names the
// directory itself, holds a `..` component or a NUL byte: such a path could leave its directory.
std::optional<std::string> normal_relative_path(std::string_view path);

// normal_relative_path(path) for a collect destination in the run directory, nullopt also for a path into the
// run's own files (spec.yaml, journal.jsonl, lock, out/, inputs/), which a collect must never replace.
std::optional<std::string> collect_destination(std::string_view path);

// The names of the `{name}` placeholders in `path` (`{{` and `}}` stand for braces), in order.
std::vector<std::string> path_placeholders(std::string_view path);

// `path` with each placeholder replaced by `value(name)`, verbatim (no quoting: it is a path, not shell text).
std::string fill_path(std::string_view path, const std::function<std::string(std::string_view name)>& value);

// A regular file of a staged tree.
struct StageFile {
    std::string path; // relative to the stage's `to`; "" when the stage is one file
    std::uint64_t size = 0;
    unsigned mode = 0;         // permission bits
    std::int64_t mtime_ns = 0; // since the epoch
};

// The regular files under `source` (a file or a directory), each directory's entries in name order, without
// following any link; with `directories`, also every directory under `source` (empty ones too) relative to it,
// parents first. Throws Error naming the path for a symbolic link (it could point out of the tree), a device,
// socket or FIFO, and anything that cannot be read.
std::vector<StageFile> scan_stage_tree(const std::string& source, std::vector<std::string>* directories = nullptr);

} // namespace sshard::core
