// What the scheduler tells the outside world as a run goes: the journal records it, the terminal shows it.
// Called on the scheduler's thread only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/journal_events.hpp"
#include "core/run_summary.hpp"
#include "core/spec.hpp"
#include "core/transport.hpp"

namespace sshard::core {

// One try of one shard on one host.
struct Attempt {
    std::uint64_t id = 0;
    const JobSpec* job = nullptr;
    std::uint64_t index = 0;
    int number = 1;       // 1 for the first try, counting every try in the run (requeues and resumes too)
    std::size_t host = 0; // index into Spec::hosts
    std::string command;  // as run, every placeholder filled
    std::string key;      // its command with {attempt} and {host} unfilled
    ShardInputs inputs;   // with job, index and key: the shard's identity (core/shard_history.hpp)
    WallTime start{};
};

struct AttemptEnd {
    Outcome outcome;
    bool timed_out = false; // the scheduler cancelled it at its timeout
    Verdict verdict = Verdict::failed;
    std::string reason; // for humans: "exit 3", "killed by SIGKILL", "timed out after 30s", ...
    // The first failure to keep the attempt's output or joblog line ("cannot write 'PATH': REASON"), or "".
    // An attempt whose records are incomplete did not succeed, whatever its command did.
    std::string output_error;
};

class RunListener {
public:
    virtual ~RunListener() = default;
    virtual void host_changed(std::size_t /*host*/, const HostState& /*state*/) {}
    // Host `host` was added to the run while it runs (Scheduler::add_host), and is being connected.
    virtual void host_added(std::size_t /*host*/) {}
    virtual void host_sampled(std::size_t /*host*/, const HostSample& /*sample*/) {}
    // Host `host` is held back from new shards by its load or memory limits, or is free again.
    virtual void host_held(std::size_t /*host*/, const HostHold& /*hold*/) {}
    virtual void attempt_started(const Attempt& /*attempt*/) {}
    // The transport handed the attempt to a system that runs it without the runner (Slurm); `handle` lets a
    // resume follow it again (Launch::resume).
    virtual void attempt_submitted(const Attempt& /*attempt*/, const std::string& /*handle*/) {}
    virtual void attempt_finished(const Attempt& /*attempt*/, const AttemptEnd& /*end*/) {}
    // The shards `indices` of `job` will not run: counted as failed (no eligible host stayed up, or --fail-fast
    // stopped their retry) or as skipped (a needed job failed, --fail-fast).
    virtual void shards_not_run(const JobSpec& /*job*/, const std::vector<IndexRange>& /*indices*/, bool /*failed*/,
                                const std::string& /*reason*/) {}
    virtual void run_finished(const RunSummary& /*summary*/) {}
};

// Passes every call on to each of a list of listeners, in order.
class ListenerList final : public RunListener {
public:
    explicit ListenerList(std::vector<RunListener*> listeners) : m_listeners(std::move(listeners)) {}

    void host_changed(std::size_t host, const HostState& state) override {
        for (auto* l : m_listeners) {
            l->host_changed(host, state);
        }
    }
    void host_added(std::size_t host) override {
        for (auto* l : m_listeners) {
            l->host_added(host);
        }
    }
    void host_sampled(std::size_t host, const HostSample& sample) override {
        for (auto* l : m_listeners) {
            l->host_sampled(host, sample);
        }
    }
    void host_held(std::size_t host, const HostHold& hold) override {
        for (auto* l : m_listeners) {
            l->host_held(host, hold);
        }
    }
    void attempt_started(const Attempt& attempt) override {
        for (auto* l : m_listeners) {
            l->attempt_started(attempt);
        }
    }
    void attempt_submitted(const Attempt& attempt, const std::string& handle) override {
        for (auto* l : m_listeners) {
            l->attempt_submitted(attempt, handle);
        }
    }
    void attempt_finished(const Attempt& attempt, const AttemptEnd& end) override {
        for (auto* l : m_listeners) {
            l->attempt_finished(attempt, end);
        }
    }
    void shards_not_run(const JobSpec& job, const std::vector<IndexRange>& indices, bool failed,
                        const std::string& reason) override {
        for (auto* l : m_listeners) {
            l->shards_not_run(job, indices, failed, reason);
        }
    }
    void run_finished(const RunSummary& summary) override {
        for (auto* l : m_listeners) {
            l->run_finished(summary);
        }
    }

private:
    std::vector<RunListener*> m_listeners;
};

} // namespace sshard::core
