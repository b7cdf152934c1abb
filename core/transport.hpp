// The seam between the scheduler and the machines that run shards. core drives it; transport/ implements it
// (local: fork/exec on this machine; ssh: libssh). A transport never decides policy: retries, timeouts and host
// choice belong to the scheduler, which asks for a start or a cancel and is told what happened.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/host_sample.hpp"
#include "core/transfer_stats.hpp"

namespace sshard::core {

using WallTime = std::chrono::system_clock::time_point;

enum class Stream { out, err };

class StageSet;

// A file to collect after an attempt, its paths filled in (JobSpec::collect).
struct CollectFile {
    std::string from; // relative to the shard's workdir on its host; never leaves it
    std::string to;   // where in the run directory, an absolute path
    bool optional = false;
    std::string refused; // why it may not be collected (a filled-in path that leaves its directory), or ""
};

// How an attempt ended, as far as the transport can tell.
struct Outcome {
    enum class Kind {
        exited,           // the command exited with exit_code
        signaled,         // the command was killed by signal
        transport_failed, // the host or connection failed; says nothing about the shard
    };
    Kind kind = Kind::exited;
    int exit_code = 0;
    int signal = 0;
    std::string reason; // for transport_failed: what went wrong, for humans
    WallTime start{};
    WallTime end{};
    std::optional<double> cpu_user_s; // where the transport can measure it
    std::optional<double> cpu_sys_s;
    std::string node;             // where inside the host it ran (a Slurm compute node), where the transport knows
    std::optional<int> node_cpus; // that node's CPUs, where known
    // The command's peak resident memory in bytes, where the transport can tell (Slurm's accounting: MaxRSS of
    // the task's batch step, its processes' resident memory summed at each sample); never 0.
    std::optional<std::uint64_t> max_rss;
    TransferStats transfer;
    // A stage or collect that failed, for humans: the attempt failed whatever its command did (a failed stage
    // means the command never ran). Empty when none failed.
    std::string transfer_error;

    // The outcome of an attempt whose host or connection failed between `start` and `end`: `reason` says what
    // went wrong, for humans.
    static Outcome transport_failure(std::string reason, WallTime start, WallTime end) {
        Outcome outcome;
        outcome.kind = Kind::transport_failed;
        outcome.reason = std::move(reason);
        outcome.start = start;
        outcome.end = end;
        return outcome;
    }
};

// Where an attempt's output goes. write() is called from transport threads, one call at a time per attempt.
class OutputSink {
public:
    virtual ~OutputSink() = default;
    virtual void write(Stream stream, std::string_view data) = 0;
    // Called by the scheduler once the attempt has ended, after its last output: completes what was written.
    // Returns the first failure to keep the output, naming the file, or "": the attempt then failed.
    virtual std::string close() { return {}; }
};

struct Launch {
    std::uint64_t attempt = 0; // unique in the run, chosen by the scheduler
    std::size_t host = 0;      // index into the host table the transport was made with
    std::string command;       // run by `sh -c` (or `shell`'s -c)
    std::vector<std::pair<std::string, std::string>> env;
    std::string workdir; // empty: the login directory (remote) or the current one (local)
    std::string shell;   // runs `command` with -c: a name looked up in PATH or an absolute path; empty: /bin/sh
    bool detach = false; // SSH: a channel of its own, not a slot worker (JobSpec::detach)
    std::optional<std::chrono::milliseconds> timeout; // the job's timeout, for a batch system's time limit
    std::shared_ptr<OutputSink> output;
    // Staged on the host before the command runs, once per host and content (core/stager.hpp); may be null.
    std::shared_ptr<StageSet> stage;
    // Collected after the command: host paths relative to `workdir`, local ones absolute in the run directory.
    std::vector<CollectFile> collect;
    bool collect_on_failure = false;
    // On resume: the handle an earlier session's transport gave for this attempt (on_submitted). The transport
    // follows what that handle names instead of running `command` again; "" for a fresh start.
    std::string resume;
};

// A host's connection state, as found by Transport::connect.
struct HostState {
    bool up = false;
    std::string reason;                  // why it is down
    std::optional<int> cpus;             // the host's CPU count, where known (for `slots: auto`)
    std::optional<std::uint64_t> memory; // the host's memory in bytes, where known (for a job's `memory`)
    double setup_s = 0;                  // connection set-up time
    std::string note;                    // for a host that is up: how it runs shards when that is not the usual way
};

// What a transport reports back. Called from transport threads: implementations must be thread-safe and
// must not call back into the transport.
class TransportEvents {
public:
    virtual ~TransportEvents() = default;
    // Exactly once per started attempt, after its last output.
    virtual void on_finished(std::uint64_t attempt, Outcome outcome) = 0;
    // When an attempt's command has started on its host, where the transport knows (SSH, Slurm): its timeout
    // counts from here, not from start(). Transports that start commands at once need not call it; those that
    // say so with reports_starts must.
    virtual void on_started(std::uint64_t /*attempt*/) {}
    // When an attempt has been handed to a system that runs it without the runner (a Slurm array task): `handle`
    // names it there, for a resumed run's Launch::resume should the runner die before the attempt ends.
    virtual void on_submitted(std::uint64_t /*attempt*/, std::string /*handle*/) {}
    // After each connect(), and whenever a host that was up is lost.
    virtual void on_host_state(std::size_t host, HostState state) = 0;
    // Every k_sample_interval while a host is up, where it can be measured (Linux /proc).
    virtual void on_host_sample(std::size_t /*host*/, HostSample /*sample*/) {}
};

// How long a cancelled shard has between TERM and KILL, unless the scheduler is told otherwise.
constexpr std::chrono::milliseconds k_cancel_grace{5000};

// How often transports sample their hosts' CPU and memory.
constexpr std::chrono::seconds k_sample_interval{2};

class Transport {
public:
    virtual ~Transport() = default;
    // Begins connecting to a host (immediate for local hosts); the result arrives as on_host_state.
    virtual void connect(std::size_t host) = 0;
    // Begins running an attempt on a host that is up. Never blocks on the remote; a failure to start is
    // reported as a transport_failed outcome, never thrown.
    virtual void start(Launch launch) = 0;
    // Asks a running attempt to end: TERM to its process group, KILL after `grace`. Its outcome still arrives.
    // Unknown or finished attempts are ignored.
    virtual void cancel(std::uint64_t attempt, std::chrono::milliseconds grace) = 0;
    // Kills whatever still runs (no grace), waits for its outcomes to be delivered, and stops all threads.
    virtual void shutdown() = 0;
    // Host `host` was appended to the host table the transport was made with, during the run: from now it may
    // be connected. Transports made for a fixed table need not implement it.
    virtual void add_host(std::size_t /*host*/) {}
    // Lets host `host` go, which has nothing running (drained): its connection is closed, and whatever it
    // reports of that is of no matter. connect() brings it back.
    virtual void disconnect(std::size_t /*host*/) {}
    // Whether attempts on host `host` report on_started when their command starts there (SSH, Slurm): their timeout
    // then counts from that report alone, however long the set-up before it takes. False: from start().
    virtual bool reports_starts(std::size_t /*host*/) const { return false; }
};

} // namespace sshard::core
