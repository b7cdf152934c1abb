// The scheduler: decides which shard runs where and when, and what an outcome means. It runs on one thread and
// owns all run state; transports report to it through a queue, so it never shares data with their threads.
//
// Rules (man/sshard.1, SCHEDULING): ready shards go highest job priority first, then spec order, then shard
// index; each to an eligible host that is up, not held back by its load or memory limits, not drained, and with
// the shard's `cpus` slots and `memory` free: highest host priority first, then the least loaded.
// A failed attempt is retried after an exponential backoff with jitter, on a host where the shard has not
// failed while such a host is up. A lost host costs no retry: the shard is requeued and the host reconnected
// with backoff. A job starts when every job it needs has fully succeeded, and is skipped when one failed.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/mailbox.hpp"
#include "core/plan.hpp"
#include "core/run_listener.hpp"
#include "core/shard_history.hpp"
#include "core/transport.hpp"

namespace sshard::core {

struct SchedulerOptions {
    bool fail_fast = false;                        // after the first shard that fails for good, start nothing new
    std::size_t max_parallel = 0;                  // shards in flight across all hosts; 0: no cap beyond the slots
    Duration grace{k_cancel_grace};                // between TERM and KILL when cancelling
    int max_requeues = 5;                          // lost hosts a shard survives before it fails
    Duration down_limit = std::chrono::minutes(2); // a job whose hosts are all down this long fails the rest
    Backoff reconnect{std::chrono::seconds(1), std::chrono::seconds(30), 2.0};
    std::uint64_t seed = 0;  // for backoff jitter
    std::string run_id;      // SSHARD_RUN
    std::string collect_dir; // the run directory, where `collect` puts files; empty: nothing is collected
    // What an earlier run recorded (resume): shards that finished are not run again (with `retry_failed`,
    // failed ones are), and attempt numbers go on from the last recorded. Null for a new run.
    const ShardHistory* history = nullptr;
    bool retry_failed = false;
    std::uint64_t first_attempt_id = 1; // on resume, after the last id recorded
    // Where an attempt's output goes; null or returning null discards it.
    std::function<std::shared_ptr<OutputSink>(const Attempt&)> make_output;
    // Writes an ended attempt's other records (the joblog) before its verdict is made; returns the failure to
    // write them, naming the file, or "". Null: none.
    std::function<std::string(const Attempt&, const Outcome&)> record_end;
    // The plan's spec's host list, written to for hosts added during the run (add_host); null: none can be.
    // Hosts are referred to by address while the run goes, so the list must have room reserved for the hosts
    // added: an add beyond its capacity is refused.
    std::vector<HostSpec>* host_table = nullptr;
};

class Scheduler final : public TransportEvents {
public:
    // `plan`, `clock` and `listener` must outlive the scheduler.
    Scheduler(const Plan& plan, const Clock& clock, RunListener& listener, SchedulerOptions options);
    ~Scheduler() override;

    // Connects every host through `transport`, which reports back to this scheduler and must outlive it.
    // Call once, before step().
    void start(Transport& transport);
    // Handles every queued event and due timer, then dispatches what can go. Returns when the next timer is
    // due, if any.
    std::optional<SteadyTime> step();
    // Whether the run is over: every job done, or interrupted and nothing running.
    bool finished() const { return m_finished; }
    // Blocks until an event is queued or the real time `until` passes (forever without it).
    void wait(std::optional<SteadyTime> until);
    // Stops dispatching and cancels whatever runs (TERM, KILL after the grace); a second call KILLs at once.
    // Thread-safe: signal handling calls it.
    void interrupt();
    // The counts so far; final once finished().
    RunSummary summary() const;

    // Hosts that change while the run goes (core/host_file_watcher.hpp, core/run_control.hpp). Thread-safe:
    // each is handled on the scheduler's thread at its next step, which then calls `done` (when set) with ""
    // or why nothing was done.
    //
    // Adds `host` to the run: connected, then used as the spec's hosts are; it takes `defaults`' max_load and
    // min_free_memory where it sets none. A host of that name that the run has already is undrained instead.
    void add_host(HostSpec host, std::function<void(const std::string&)> done = {});
    // Drains the hosts named (no new shard goes there; their running shards finish, then they are disconnected),
    // or with `drain` false undrains them (reconnected where they were let go, and used again). `by` says who
    // asked, for the record. Nothing is done when one of the names is not a host of the run.
    void drain_hosts(std::vector<std::string> hosts, bool drain, std::string by,
                     std::function<void(const std::string&)> done = {});

    // TransportEvents: queue the report for step(). Thread-safe.
    void on_finished(std::uint64_t attempt, Outcome outcome) override;
    void on_started(std::uint64_t attempt) override;
    void on_submitted(std::uint64_t attempt, std::string handle) override;
    void on_host_state(std::size_t host, HostState state) override;
    void on_host_sample(std::size_t host, HostSample sample) override;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
    bool m_finished = false;

    struct QueuedEvent {
        enum class Kind { finished, started, submitted, host_state, host_sample, interrupt, add_host, drain };
        explicit QueuedEvent(Kind kind_) : kind(kind_) {}
        Kind kind;
        std::uint64_t attempt = 0;
        Outcome outcome;
        std::size_t host = 0;
        HostState state;
        HostSample sample;
        HostSpec added;                 // add_host
        std::vector<std::string> names; // drain
        bool drain = true;
        std::string by; // drain; the handle of submitted
        std::function<void(const std::string&)> done;
    };
    Mailbox<QueuedEvent> m_events;
};

// Runs a scheduler to the end on the system clock: start, then step and wait until finished.
RunSummary run_to_end(Scheduler& scheduler, Transport& transport);

} // namespace sshard::core
