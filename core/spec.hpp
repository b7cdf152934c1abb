// The job spec as loaded and checked: every value here is valid, so later stages never re-check it.
// The YAML form is documented in man/sshard.yaml.5; core/spec_loader.hpp turns a file into a Spec.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "core/command_template.hpp"
#include "core/diagnostic.hpp"
#include "core/duration.hpp"

namespace sshard::core {

// slurm_agent: a node of the Slurm allocation sshard runs in, through an agent (core/slurm_allocation.hpp).
enum class TransportKind { ssh, local, slurm, slurm_agent };

// How a `transport: slurm` host submits its shards (sbatch's options): all optional.
struct SlurmSettings {
    std::string partition;
    std::string account;
    std::optional<Duration> time;     // per shard; none: the job's timeout, else the partition's default
    std::vector<std::string> options; // passed to sbatch as they are
};

struct HostSpec {
    std::string name; // one expanded host name
    std::string user; // empty: the ssh config's or the current user
    int port = 0;     // 0: the ssh config's or 22
    int slots = 1;    // concurrent shards; with auto_slots, filled in from the host's CPU count on connect
    bool auto_slots = false;
    int priority = 0; // higher is filled first
    std::vector<std::string> labels;
    TransportKind transport = TransportKind::ssh;
    SlurmSettings slurm; // for transport slurm
    // No new shard goes to the host while its last sample is over either limit (GNU parallel's --load and
    // --memfree): the CPU busy share (0..1), and the memory that must stay free, in bytes.
    std::optional<double> max_load;
    std::optional<std::uint64_t> min_free_memory;
};

// Waits between attempts: initial, then times factor each retry, capped at max; each with jitter.
struct Backoff {
    Duration initial = std::chrono::seconds(1);
    Duration max = std::chrono::seconds(60);
    double factor = 2.0;
};

struct CountShards {
    std::uint64_t count = 1;
};
// The half-open range [from, to) cut into chunks of `chunk`; the last chunk may be shorter.
struct RangeShards {
    std::int64_t from = 0;
    std::int64_t to = 0;
    std::int64_t chunk = 1;
};
struct ItemsShards {
    std::vector<std::string> items;
};
struct LinesShards {
    std::string path; // as written in the spec
    std::vector<std::string> lines;
};
// One shard per combination; the first key varies slowest, as in nested loops written in key order.
struct MatrixShards {
    std::vector<std::pair<std::string, std::vector<std::string>>> axes;
};
// `each_host`: one shard per host the job may run on, in the spec's host order, each pinned to its host.
struct EachHostShards {
    std::vector<std::string> hosts; // shard i runs on hosts[i] and nowhere else
};
using ShardsSpec = std::variant<CountShards, RangeShards, ItemsShards, LinesShards, MatrixShards, EachHostShards>;

// Restricts where a job runs: hosts matching any pattern (hostlist or glob) and carrying every label.
struct HostFilter {
    std::vector<std::string> patterns; // empty: any name
    std::vector<std::string> labels;   // empty: any labels
};

// A local file or tree copied to each host before the job's first shard there (`stage`).
struct StageSpec {
    std::string from;             // as written in the spec
    std::string source;           // `from` made absolute (relative paths are taken from the spec's directory)
    std::string to;               // relative to the job's workdir, normalised, never leaving it
    std::optional<unsigned> mode; // every staged file's permission bits; none: each file's own
};

// A file copied from a shard's workdir on its host into the run directory after the shard (`collect`). Both
// paths may hold placeholders, filled for each shard; neither may leave its directory.
struct CollectSpec {
    std::string from;
    std::string to;
    bool optional = false; // a missing file is no failure
};

struct JobSpec {
    std::string name;
    CommandTemplate command;
    ShardsSpec shards = CountShards{};
    int priority = 0;
    int retries = 0;
    Backoff backoff;
    std::optional<Duration> timeout; // per attempt; none: no limit
    std::vector<std::pair<std::string, std::string>> env;
    std::string workdir;
    std::string shell; // the program that runs the command: a name looked up in the host's PATH, or an absolute
                       // path; empty: /bin/sh
    std::vector<std::string> needs;
    std::optional<HostFilter> hosts;
    // Runs each shard over a channel of its own instead of a slot worker, so that what it leaves running
    // after its command ends is not killed (a daemon it starts).
    bool detach = false;
    std::vector<StageSpec> stage;
    std::vector<CollectSpec> collect;
    bool collect_on_failure = false; // collect after a failed attempt too
    // What one shard takes on its host: slots (one per CPU) and, when set, memory in bytes. A shard goes only
    // where both are free.
    int cpus = 1;
    std::optional<std::uint64_t> memory;
    SourceLocation location; // of the job's entry, for messages
};

struct Spec {
    std::string path; // the file it was loaded from
    std::string name; // the run's name: `name`, or the file's stem
    std::string hash; // of the file's bytes (16 hex digits), for the journal
    std::vector<HostSpec> hosts;
    std::vector<JobSpec> jobs;
    // The host file the hosts were read from (--hostfile, or `hosts_file`), which a run watches; "" for none.
    std::string hosts_file;
    // `defaults`' max_load and min_free_memory, for hosts added during a run.
    HostSpec host_defaults;
};

} // namespace sshard::core
