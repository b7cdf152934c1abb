// Reads a YAML job spec, checks all of it, and reports every problem at once.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/cpu_count.hpp"
#include "core/spec.hpp"
#include "core/spec_files.hpp" // read_spec_file, which callers of load_spec_text need

namespace sshard::core {

struct LoadOptions {
    // Replaces the spec's `hosts` (the --hosts flag): comma-separated `[slots/][user@]hostlist[:port]`.
    std::optional<std::string> hosts_override;
    // Replaces the spec's `hosts` with those of a host file (the --hostfile flag, core/host_file.hpp).
    std::optional<std::string> hostfile;
    // The CPU count of this machine, for the implicit local host and `slots: auto` on local hosts.
    int local_cpus = local_cpu_count();
    // The memory of this machine, which a job's `memory` is checked against on local hosts; nullopt: unknown.
    std::optional<std::uint64_t> local_memory = local_memory_size();
    // When set, a job's `lines` file is read from `<lines_dir>/<job>.lines` instead of its path: a resume
    // without a spec reads the run's copies (core/run_inputs.hpp).
    std::string lines_dir;
    // Names whose values sshard's environment gives every job, over the spec's `env` and `pass_env` (the --env
    // flag); a name that is not set is a UsageError.
    std::vector<std::string> pass_env;
    // The hosts are not known yet (`sshard submit`: they are the nodes of an allocation still to come): the spec's
    // `hosts` and `hosts_file` are not read, and the checks that need hosts (a job's filter matching one, a shard
    // fitting one) are left to the run.
    bool hosts_later = false;
};

// Loads and checks the spec at `path`. Throws Error when the file cannot be read, SpecError with every
// diagnostic when its content is wrong. With no hosts at all, the spec runs on one local host named
// "localhost" with `local_cpus` slots.
Spec load_spec(const std::string& path, const LoadOptions& options = {});

// The same as load_spec for a spec held in memory; `path` names it in messages and anchors relative `lines` files.
Spec load_spec_text(const std::string& path, const std::string& text, const LoadOptions& options = {});

} // namespace sshard::core
