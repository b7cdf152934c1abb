// The utilization report of a run, computed from its journal alone: where the time went, per run, job and
// host. Formulas are documented in man/sshard.1 (REPORT).
//
// Shards are counted per shard, from each one's last outcome over the run and all its resumes: a shard that
// failed and then succeeded on a resume counts once, as succeeded. A shard's outcome is the verdict of an
// attempt that ended it (succeeded, failed), which stands until a later attempt ends it again, or its session's
// verdict when it was given up on without running (skipped, failed for want of a host): a resume reconsiders
// those, so a later session's run_start clears them. Attempts are counted as attempts.
//
// Time: a run resumed after a pause has one session per run_start. Its makespan is the sum of each session's
// span (its first attempt's start to its last attempt's end); the timeline puts the sessions side by side,
// with a mark where a pause was left out.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/journal_events.hpp"
#include "core/transfer_stats.hpp"

namespace sshard::core {

struct ShardCounts {
    std::uint64_t total = 0;
    std::uint64_t succeeded = 0;
    std::uint64_t failed = 0;
    std::uint64_t skipped = 0;
};

// Wall-clock seconds since the Unix epoch, start to end.
struct Span {
    double start = 0;
    double end = 0;
};

struct RunReport {
    std::string name;
    std::string run_id;
    double start = 0;           // Unix seconds: the first attempt's start (the run's start when nothing ran)
    double end = 0;             // the last attempt's end
    double makespan_s = 0;      // summed over the run's sessions (a resume starts a new one)
    std::vector<Span> sessions; // the spans of the sessions that ran attempts, in order
    ShardCounts shards;
    std::uint64_t attempts = 0;
    std::uint64_t retries = 0;     // attempts that were followed by another try of their shard
    std::uint64_t host_losses = 0; // host_down events for hosts that had been up
    double t_total_s = 0;          // the sum of all attempts' run times
    std::optional<double> speedup; // t_total_s / makespan_s; none when nothing ran
    // The slots that could be used: those of the hosts that connected, at most the largest --max-parallel.
    std::uint64_t slots = 0;
    std::optional<double> utilization;    // busy slot time / (slots * makespan); none without slots or time
    std::optional<double> cpu_s;          // user + sys, where measured; none where no attempt measured it
    std::optional<double> cpu_efficiency; // cpu_s / t_total_s over the attempts that measured it
    bool interrupted = false;
};

struct Durations {
    double min = 0;
    double p50 = 0;
    double p95 = 0;
    double max = 0;
};

struct JobReport {
    std::string name;
    ShardCounts shards;
    std::uint64_t attempts = 0;
    std::uint64_t retries = 0;
    double t_total_s = 0;
    // None for a job that ran no attempt, or (CPU) none that measured its CPU time.
    std::optional<Durations> duration_s;
    std::optional<double> cpu_efficiency;
    std::optional<double> makespan_s;     // the first start to the last end of its attempts
    std::optional<std::uint64_t> max_rss; // the largest peak memory of its attempts, where measured (Slurm)
    TransferStats transfer;               // its stage and collect, over every attempt
};

struct HostReport {
    std::string name;
    int slots = 0;
    std::uint64_t shards = 0; // attempts run on it
    std::uint64_t failures = 0;
    std::uint64_t losses = 0;
    bool connected = false; // up at some time of the run; a host that never was is down, not idle
    double busy_s = 0;
    std::optional<double> idle_s; // slots * makespan - busy; none for a host that never connected
    std::optional<double> utilization;
    std::optional<double> cpu_user_s; // none where no attempt on it measured its CPU time
    std::optional<double> cpu_sys_s;
    std::optional<double> setup_s;
    // The host's own use over the run, from its samples (none where it offers no /proc).
    std::uint64_t samples = 0;
    std::optional<double> cpu_busy_mean;
    std::optional<double> cpu_busy_peak;
    std::optional<std::uint64_t> mem_used_peak;
    std::optional<std::uint64_t> mem_total;
    std::optional<std::uint64_t> max_rss; // the largest peak memory of an attempt on it, where measured (Slurm)
    std::vector<double> timeline;         // busy share of its slots in equal slices of the sessions side by side, 0..1
    TransferStats transfer;               // stage and collect on it, over every attempt; not counted as busy
    // How long it was held back from new shards (by its max_load or min_free_memory), and by what: "load",
    // "memory", in the order they first held it.
    double held_s = 0;
    std::vector<std::string> held_for;
};

struct FailedShard {
    std::string job;
    std::uint64_t index = 0;
    std::vector<std::string> hosts; // where its attempts ran, in order, without repeats
    int attempts = 0;
    std::string reason;      // the last attempt's
    std::string stderr_tail; // the last lines of the last attempt's stderr
};

// Shards given up on as a group, without running, in the last session: skipped, or failed for want of a host or
// under --fail-fast.
struct NotRun {
    std::string job;
    std::uint64_t count = 0;
    bool failed = false;
    std::string reason;
};

// An attempt whose records could not all be written: its .out, .err or the joblog.
struct OutputError {
    std::string job;
    std::uint64_t index = 0;
    int attempt = 0;
    std::string message;
};

struct Report {
    RunReport run;
    std::vector<JobReport> jobs;
    std::vector<HostReport> hosts;
    std::vector<FailedShard> failures; // the first k_max_failures
    std::uint64_t more_failures = 0;   // beyond those
    std::vector<NotRun> not_run;
    std::vector<OutputError> output_errors; // the first k_max_failures
    std::uint64_t more_output_errors = 0;
};

constexpr std::size_t k_max_failures = 50;
constexpr std::size_t k_timeline_slices = 60;

// Reads the run directory's journal and computes the report. Throws Error when the journal cannot be read.
Report build_report(const std::string& run_dir);

// Where wall time `t` falls on the run's active time: seconds from the first session's start, leaving out the
// pauses between sessions (a time within a pause falls at the next session's start).
double active_seconds(const std::vector<Span>& sessions, double t);

// The host an attempt counts on in the report: the node inside its host where it ran (a Slurm compute node,
// whose CPUs are its slots), else its host.
inline const std::string& report_host(const AttemptEndEvent& e) {
    return e.node.empty() ? e.host : e.node;
}

// The value below which `p` (0..1) of `sorted` lie, by the nearest-rank method; 0 for an empty list.
double percentile(const std::vector<double>& sorted, double p);

} // namespace sshard::core
