// The scheduler's run state, private to its files: scheduler.cpp (the public face and its event queue),
// scheduler_dispatch.cpp (shards to hosts, the ends of attempts, hosts' states, timers) and scheduler_jobs.cpp (a
// job's course: its needs, what a resumed run recalls, giving up on shards, closing the run).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/host_pool.hpp"
#include "core/job_graph.hpp"
#include "core/scheduler.hpp"

namespace sshard::core {

struct Scheduler::Impl {
    // A shard on its way to (another) attempt.
    struct Shard {
        std::uint64_t index = 0;
        int next_attempt = 1;
        int failures = 0;
        int requeues = 0;
        std::vector<std::size_t> failed_hosts;
        SteadyTime ready_at{};
        std::string resume; // an earlier session's handle for its unfinished attempt (Launch::resume)
    };

    // A job as the run goes: waiting for its needs, active, or done.
    struct JobRun {
        const PlannedJob* planned = nullptr;
        std::size_t spec_order = 0;
        enum class State { waiting, active, done } state = State::waiting;
        std::uint64_t cursor = 0;              // the next shard never dispatched
        std::map<std::uint64_t, Shard> queued; // retries and requeues, by index
        std::uint64_t running = 0;
        JobSummary summary;
        std::optional<SteadyTime> first_start;
        SteadyTime last_end{};
        ShardNeed need;                    // what each of its shards takes on its host
        std::vector<std::size_t> eligible; // its hosts: the plan's, and those added during the run that it admits
    };

    // An attempt started and not yet ended.
    struct Running {
        std::size_t job = 0;
        Shard shard;
        Attempt attempt;
        std::optional<SteadyTime> deadline;
        bool timed_out = false;
        std::shared_ptr<OutputSink> output;
    };

    Impl(const Plan& plan_, const Clock& clock_, RunListener& listener_, SchedulerOptions options_);

    void start(Transport& transport_);
    void handle_finished(std::uint64_t id, const Outcome& outcome);
    void handle_started(std::uint64_t id);
    void handle_submitted(std::uint64_t id, const std::string& handle);
    void handle_host_state(std::size_t host, const HostState& state);
    void handle_host_sample(std::size_t host, const HostSample& sample);
    std::string add_host(HostSpec spec);
    std::string drain_hosts(const std::vector<std::string>& names, bool drain, const std::string& by);
    static void reply(const std::function<void(const std::string&)>& done, const std::string& error) {
        if (done) {
            done(error);
        }
    }
    void interrupt();
    void process_timers();
    void dispatch();
    bool close_out();
    std::optional<SteadyTime> next_deadline() const;
    RunSummary summary() const;

private:
    void dispatch_job(JobRun& job);
    bool check_fit(JobRun& job);
    bool capped() const { return options.max_parallel != 0 && running.size() >= options.max_parallel; }
    void launch(std::size_t job_index, Shard shard, std::size_t host);
    void recall_submitted(const JobRun& job, Shard& shard, std::optional<std::size_t> host) const;
    std::vector<std::pair<std::string, std::string>> environment(const JobRun& job, const Attempt& attempt) const;
    std::vector<CollectFile> collect_files(const JobRun& job, const Attempt& attempt) const;
    std::string close_records(Running& run, const Outcome& outcome);
    void settle_failure(JobRun& job, Running& run, AttemptEnd& end);
    void mark_down(std::size_t host, const std::string& reason);
    void advance_cursor(JobRun& job);
    std::optional<bool> recorded(const JobRun& job, std::uint64_t index) const;
    void check_done(JobRun& job);
    void update_waiting_jobs();
    void abandon_rest(JobRun& job, bool as_failed, const std::string& reason);
    void fail_waiting_retries(JobRun& job);
    void check_down_limits();
    void fail_lost_pinned(JobRun& job, SteadyTime now);
    bool has_work(const JobRun& job) const;

public:
    const Plan& plan;
    Transport* transport = nullptr;
    const Clock& clock;
    RunListener& listener;
    SchedulerOptions options;
    std::mt19937_64 rng;
    HostPool hosts;
    std::vector<JobRun> jobs;               // dispatch order, as in the plan
    std::vector<std::size_t> by_priority;   // job indices: highest priority first, then spec order
    JobGraph graph;                         // over the spec's jobs
    std::vector<std::size_t> by_spec_order; // job indices by the job's index in the spec
    std::map<std::uint64_t, Running> running;
    std::uint64_t next_id;
    bool interrupted = false;
    bool stopping = false; // --fail-fast tripped
    bool no_hosts = false;
    bool timeouts = false; // some job has a timeout: running attempts have deadlines to watch
    SteadyTime started{};
};

} // namespace sshard::core
