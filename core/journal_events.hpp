// The journal's schema: one struct per event, and the one place that turns them into JSON lines and back.
// The recorder writes these, and resume, the report, CSV and HTML read them; none of them touches a JSON key.
// Documented in man/sshard.1 (JOURNAL).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/run_summary.hpp"
#include "core/transfer_stats.hpp"

namespace sshard::core {

// What the scheduler made of an attempt's outcome.
enum class Verdict {
    succeeded,  // exit 0
    retry,      // failed; will be tried again after a backoff
    requeued,   // the host failed; back in the queue, no retry used up
    failed,     // failed for good
    unfinished, // cancelled by an interrupt; a resume runs it again
};

// How an attempt ended, as recorded.
enum class OutcomeKind { exited, signaled, timed_out, transport_failed };

// The values a shard's kind produced for its index, by placeholder name: {item}, {start}/{end}, matrix keys.
// Empty for a `count` job. With the job's name, the index and the command, the shard's identity on resume.
using ShardInputs = std::vector<std::pair<std::string, std::string>>;

// Shard indices [from, to).
struct IndexRange {
    std::uint64_t from = 0;
    std::uint64_t to = 0;
};

// The hosts a session was told to use on its command line instead of its spec's: --hosts, --hostfile (an
// absolute path), --local. A resume that is given none of them uses its last session's.
struct HostFlagsRecord {
    std::optional<std::string> list;
    std::optional<std::string> file;
    bool local = false;

    bool any() const { return list || file || local; }
};

struct RunStartEvent {
    struct Host {
        std::string name;
        int slots = 1;
        bool auto_slots = false;
    };
    struct Job {
        std::string name;
        std::uint64_t shards = 0;
        int priority = 0;
    };
    double time = 0;
    std::string run;  // the run's id
    std::string name; // the spec's name
    std::string spec; // the spec's absolute path, as first given
    std::string spec_hash;
    bool resume = false;
    std::vector<Host> hosts;
    std::vector<Job> jobs;
    std::optional<std::uint64_t> max_parallel; // the session's --max-parallel, when given
    HostFlagsRecord host_flags;
};

struct HostUpEvent {
    double time = 0;
    std::string host;
    double setup_s = 0;
    std::optional<int> cpus;
};

struct HostDownEvent {
    double time = 0;
    std::string host;
    std::string reason;
};

struct HostSampleEvent {
    double time = 0;
    std::string host;
    double cpu_busy = 0;
    std::uint64_t mem_used = 0;
    std::uint64_t mem_total = 0;
};

// A host added to the run while it runs (from its host file).
struct HostAddedEvent {
    double time = 0;
    std::string host;
    int slots = 1;
    bool auto_slots = false;
};

// A host held back from new shards (`held`), or free of that hold again: kind "load" or "memory" by its
// `max_load` or `min_free_memory` (`reason` says what the sample showed), or "drain" by `sshard hosts drain` or
// its removal from the host file (`reason` says which).
struct HostHoldEvent {
    double time = 0;
    std::string host;
    bool held = true;
    std::string kind;
    std::string reason; // where held
};

struct AttemptStartEvent {
    double time = 0;
    std::uint64_t id = 0; // unique in the run, across resumes
    std::string job;
    std::uint64_t index = 0;
    int attempt = 1; // the shard's tries in the run, across resumes
    std::string host;
};

// An attempt handed to a system that runs it without the runner (a Slurm job array's task): `handle` is what
// the transport needs to follow it again, so that a resume re-attaches instead of running it twice.
struct AttemptSubmittedEvent {
    double time = 0;
    std::uint64_t id = 0;
    std::string job;
    std::uint64_t index = 0;
    int attempt = 1;
    std::string host;
    std::string handle;
};

struct AttemptEndEvent {
    double time = 0;
    std::uint64_t id = 0;
    std::string job;
    std::uint64_t index = 0;
    int attempt = 1;
    std::string host;
    std::string node;             // where inside the host it ran (a Slurm compute node), where the transport knows
    std::optional<int> node_cpus; // that node's CPUs, where known
    std::optional<std::uint64_t> max_rss; // peak resident memory in bytes (Outcome::max_rss), where known
    double start = 0;
    double end = 0;
    OutcomeKind outcome = OutcomeKind::exited;
    std::optional<int> exit_code;
    std::optional<int> signal;
    Verdict verdict = Verdict::failed;
    std::string reason; // for humans, where it did not succeed
    std::string command;
    std::string key; // the command with {attempt} and {host} unfilled
    ShardInputs inputs;
    std::optional<double> cpu_user_s;
    std::optional<double> cpu_sys_s;
    std::optional<std::string> output_error; // a write error on the attempt's .out, .err or the joblog
    TransferStats transfer;                  // its stage and collect; written only when not empty
};

struct ShardsNotRunEvent {
    double time = 0;
    std::string job;
    std::uint64_t count = 0;
    bool failed = false; // counted as failed (no host, or --fail-fast stopped its retry), else skipped
    std::string reason;
    std::vector<IndexRange> indices; // which shards, `count` in all
};

struct RunEndEvent {
    double time = 0;
    double makespan_s = 0;
    bool interrupted = false;
    bool no_hosts = false;
    std::vector<JobSummary> jobs;
};

using JournalEvent =
    std::variant<RunStartEvent, HostUpEvent, HostDownEvent, HostSampleEvent, HostAddedEvent, HostHoldEvent,
                 AttemptStartEvent, AttemptSubmittedEvent, AttemptEndEvent, ShardsNotRunEvent, RunEndEvent>;

// One JSON object, without a line break; bytes that are not UTF-8 become U+FFFD.
std::string encode_event(const JournalEvent& event);

// Parses one journal line. Throws Error with a message that names what is wrong, not where: the reader adds
// the file and line.
JournalEvent decode_event(std::string_view line);

// A verdict as the journal writes it: "succeeded", "retry", ...
const char* verdict_name(Verdict verdict);
// An outcome as the journal writes it: "exited", "signaled", "timed_out", "transport_failed".
const char* outcome_name(OutcomeKind outcome);

// The text of a value as the journal holds it: bytes that are not UTF-8 as U+FFFD. A shard's identity is
// compared in this form, so that a value read back matches the value computed from the spec.
std::string journal_text(std::string_view text);

} // namespace sshard::core
