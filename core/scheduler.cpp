#include "core/scheduler.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>
#include <fmt/format.h>

namespace sshard::core {

namespace {

// A shard on its way to (another) attempt.
struct Shard {
    std::uint64_t index = 0;
    int next_attempt = 1;
    int failures = 0;
    int requeues = 0;
    std::vector<std::size_t> failed_hosts;
    SteadyTime ready_at{};
};

struct HostRun {
    const HostSpec* spec = nullptr;
    int slots = 1;
    int running = 0;
    enum class State { connecting, up, down } state = State::connecting;
    SteadyTime unavailable_since{}; // when it was last seen up, or its first connection failed
    SteadyTime reconnect_at{};
    int reconnects = 0;
    std::string reason;
};

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
};

struct Running {
    std::size_t job = 0;
    Shard shard;
    Attempt attempt;
    std::optional<SteadyTime> deadline;
    bool timed_out = false;
    std::shared_ptr<OutputSink> output;
};

// Adds `index` to ascending `ranges`, joining it to the last range when adjacent.
void add_index(std::vector<IndexRange>& ranges, std::uint64_t index) {
    if (!ranges.empty() && ranges.back().to == index) {
        ++ranges.back().to;
    } else {
        ranges.push_back({index, index + 1});
    }
}

double seconds(SteadyTime from, SteadyTime to) {
    return std::chrono::duration<double>(to - from).count();
}

Duration backoff_delay(const Backoff& backoff, int failures, std::mt19937_64& rng) {
    double delay = static_cast<double>(backoff.initial.count()) * std::pow(backoff.factor, failures - 1);
    delay = std::min(delay, static_cast<double>(backoff.max.count()));
    // Equal jitter: half the delay is fixed, half random, so retries of many shards spread out.
    std::uniform_real_distribution<double> jitter(0.5, 1.0);
    return Duration(static_cast<Duration::rep>(delay * jitter(rng)));
}

std::string describe(const AttemptEnd& end, const JobSpec& job) {
    const Outcome& outcome = end.outcome;
    if (end.timed_out) {
        return fmt::format("timed out after {}", format_duration(job.timeout.value_or(Duration(0))));
    }
    switch (outcome.kind) {
    case Outcome::Kind::exited:
        return outcome.exit_code == 0 ? end.output_error : fmt::format("exit {}", outcome.exit_code);
    case Outcome::Kind::signaled: {
        const char* name = sigabbrev_np(outcome.signal);
        return name != nullptr ? fmt::format("killed by SIG{}", name)
                               : fmt::format("killed by signal {}", outcome.signal);
    }
    case Outcome::Kind::transport_failed:
        return outcome.reason;
    }
    return {};
}

} // namespace

struct Scheduler::Impl {
    Impl(const Plan& plan_, const Clock& clock_, RunListener& listener_, SchedulerOptions options_);

    void start(Transport& transport_);
    void handle_finished(std::uint64_t id, const Outcome& outcome);
    void handle_started(std::uint64_t id);
    void handle_host_state(std::size_t host, const HostState& state);
    void interrupt();
    void process_timers();
    void dispatch();
    bool close_out();
    std::optional<SteadyTime> next_deadline() const;
    RunSummary summary() const;

private:
    void dispatch_job(JobRun& job);
    bool capped() const { return options.max_parallel != 0 && running.size() >= options.max_parallel; }
    std::optional<std::size_t> pick_host(const JobRun& job, const std::vector<std::size_t>& failed) const;
    bool better_host(std::size_t a, std::size_t b) const;
    void launch(std::size_t job_index, Shard shard, std::size_t host);
    std::vector<std::pair<std::string, std::string>> environment(const JobRun& job, const Attempt& attempt) const;
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
    std::optional<SteadyTime> down_limit_expiry(const JobRun& job) const;
    bool has_work(const JobRun& job) const;

public:
    const Plan& plan;
    Transport* transport = nullptr;
    const Clock& clock;
    RunListener& listener;
    SchedulerOptions options;
    std::vector<HostRun> hosts;
    std::vector<JobRun> jobs;             // dispatch order, as in the plan
    std::vector<std::size_t> by_priority; // job indices: highest priority first, then spec order
    std::map<std::uint64_t, Running> running;
    std::uint64_t next_id;
    std::mt19937_64 rng;
    bool interrupted = false;
    bool stopping = false; // --fail-fast tripped
    bool no_hosts = false;
    SteadyTime started{};
};

Scheduler::Impl::Impl(const Plan& plan_, const Clock& clock_, RunListener& listener_, SchedulerOptions options_)
    : plan(plan_), clock(clock_), listener(listener_), options(std::move(options_)), next_id(options.first_attempt_id),
      rng(options.seed) {
    for (const auto& spec : plan.spec->hosts) {
        HostRun host;
        host.spec = &spec;
        host.slots = spec.slots;
        hosts.push_back(host);
    }
    for (const auto& planned : plan.jobs) {
        JobRun job;
        job.planned = &planned;
        job.spec_order = static_cast<std::size_t>(planned.job - plan.spec->jobs.data());
        job.summary.name = planned.job->name;
        job.summary.total = planned.shards.size();
        jobs.push_back(std::move(job));
        by_priority.push_back(by_priority.size());
    }
    std::stable_sort(by_priority.begin(), by_priority.end(), [&](std::size_t a, std::size_t b) {
        const JobRun& x = jobs[a];
        const JobRun& y = jobs[b];
        return std::pair(-x.planned->job->priority, x.spec_order) < std::pair(-y.planned->job->priority, y.spec_order);
    });
}

void Scheduler::Impl::start(Transport& transport_) {
    transport = &transport_;
    started = clock.now();
    for (auto& host : hosts) {
        host.unavailable_since = started;
    }
    for (std::size_t i = 0; i < hosts.size(); ++i) {
        transport->connect(i);
    }
    update_waiting_jobs();
}

std::optional<std::size_t> Scheduler::Impl::pick_host(const JobRun& job, const std::vector<std::size_t>& failed) const {
    std::optional<std::size_t> best_untried;
    std::optional<std::size_t> best_tried;
    bool untried_up = false;
    for (std::size_t h : job.planned->hosts) {
        const HostRun& host = hosts[h];
        if (host.state != HostRun::State::up) {
            continue;
        }
        bool tried = std::find(failed.begin(), failed.end(), h) != failed.end();
        untried_up = untried_up || !tried;
        if (host.running >= host.slots) {
            continue;
        }
        auto& best = tried ? best_tried : best_untried;
        if (!best || better_host(h, *best)) {
            best = h;
        }
    }
    if (best_untried) {
        return best_untried;
    }
    // Wait for a host where the shard has not failed yet, while one is up; else any host will do.
    return untried_up ? std::nullopt : best_tried;
}

bool Scheduler::Impl::better_host(std::size_t a, std::size_t b) const {
    const HostRun& x = hosts[a];
    const HostRun& y = hosts[b];
    if (x.spec->priority != y.spec->priority) {
        return x.spec->priority > y.spec->priority;
    }
    // Least loaded: compare running/slots without division.
    return static_cast<long>(x.running) * y.slots < static_cast<long>(y.running) * x.slots;
}

void Scheduler::Impl::dispatch() {
    if (interrupted || stopping) {
        return;
    }
    for (std::size_t index : by_priority) {
        if (capped()) {
            return;
        }
        if (jobs[index].state == JobRun::State::active) {
            dispatch_job(jobs[index]);
        }
    }
}

void Scheduler::Impl::dispatch_job(JobRun& job) {
    std::size_t job_index = static_cast<std::size_t>(&job - jobs.data());
    SteadyTime now = clock.now();
    for (auto it = job.queued.begin(); it != job.queued.end() && !capped();) {
        std::optional<std::size_t> host;
        if (it->second.ready_at <= now) {
            host = pick_host(job, it->second.failed_hosts);
        }
        if (!host) {
            ++it;
            continue;
        }
        Shard shard = std::move(it->second);
        it = job.queued.erase(it);
        launch(job_index, std::move(shard), *host);
    }
    while (!capped()) {
        advance_cursor(job);
        if (job.cursor >= job.planned->shards.size()) {
            break;
        }
        auto host = pick_host(job, {});
        if (!host) {
            break;
        }
        Shard shard;
        shard.index = job.cursor++;
        if (options.history != nullptr) {
            shard.next_attempt = options.history->attempts(job.summary.name, shard.index) + 1;
        }
        launch(job_index, std::move(shard), *host);
    }
}

void Scheduler::Impl::launch(std::size_t job_index, Shard shard, std::size_t host) {
    JobRun& job = jobs[job_index];
    const ShardSet& shards = job.planned->shards;
    Running run;
    run.job = job_index;
    run.attempt.id = next_id++;
    run.attempt.job = job.planned->job;
    run.attempt.index = shard.index;
    run.attempt.number = shard.next_attempt++;
    run.attempt.host = host;
    run.attempt.command = shards.command(shard.index, run.attempt.number, hosts[host].spec->name);
    run.attempt.key = shards.command(shard.index);
    run.attempt.inputs = shards.inputs(shard.index);
    run.attempt.start = clock.wall();
    SteadyTime now = clock.now();
    if (job.planned->job->timeout) {
        run.deadline = now + *job.planned->job->timeout;
    }
    run.shard = std::move(shard);
    job.first_start = job.first_start.value_or(now);
    ++job.running;
    ++hosts[host].running;

    Launch launch;
    launch.attempt = run.attempt.id;
    launch.host = host;
    launch.command = run.attempt.command;
    launch.env = environment(job, run.attempt);
    launch.workdir = job.planned->job->workdir;
    launch.detach = job.planned->job->detach;
    if (options.make_output) {
        launch.output = options.make_output(run.attempt);
        run.output = launch.output;
    }
    listener.attempt_started(run.attempt);
    running.emplace(run.attempt.id, std::move(run));
    transport->start(std::move(launch));
}

std::vector<std::pair<std::string, std::string>> Scheduler::Impl::environment(const JobRun& job,
                                                                              const Attempt& attempt) const {
    auto env = job.planned->job->env;
    env.emplace_back("SSHARD_JOB", job.planned->job->name);
    env.emplace_back("SSHARD_INDEX", std::to_string(attempt.index));
    env.emplace_back("SSHARD_COUNT", std::to_string(job.planned->shards.size()));
    env.emplace_back("SSHARD_ATTEMPT", std::to_string(attempt.number));
    env.emplace_back("SSHARD_HOST", hosts[attempt.host].spec->name);
    env.emplace_back("SSHARD_RUN", options.run_id);
    return env;
}

// The timeout counts from when the command started on its host, not from the set-up before it.
void Scheduler::Impl::handle_started(std::uint64_t id) {
    auto it = running.find(id);
    if (it != running.end() && it->second.deadline && !it->second.timed_out) {
        it->second.deadline = clock.now() + *jobs[it->second.job].planned->job->timeout;
    }
}

void Scheduler::Impl::handle_finished(std::uint64_t id, const Outcome& outcome) {
    auto it = running.find(id);
    if (it == running.end()) {
        return;
    }
    Running run = std::move(it->second);
    running.erase(it);
    JobRun& job = jobs[run.job];
    --job.running;
    --hosts[run.attempt.host].running;
    job.last_end = clock.now();

    AttemptEnd end;
    end.outcome = outcome;
    end.timed_out = run.timed_out;
    end.output_error = close_records(run, outcome);
    if (outcome.kind == Outcome::Kind::exited && outcome.exit_code == 0 && !run.timed_out && end.output_error.empty()) {
        end.verdict = Verdict::succeeded;
        ++job.summary.succeeded;
    } else if (interrupted) {
        end.verdict = Verdict::unfinished;
        end.reason = "interrupted";
        ++job.summary.unfinished;
    } else {
        settle_failure(job, run, end);
    }
    listener.attempt_finished(run.attempt, end);
    check_done(job);
}

// Completes the attempt's output files and joblog line; returns the first failure to write them, or "".
std::string Scheduler::Impl::close_records(Running& run, const Outcome& outcome) {
    std::string error = run.output ? run.output->close() : std::string();
    std::string record_error = options.record_end ? options.record_end(run.attempt, outcome) : std::string();
    return error.empty() ? record_error : error;
}

// Decides between a retry, a requeue and a final failure.
void Scheduler::Impl::settle_failure(JobRun& job, Running& run, AttemptEnd& end) {
    const JobSpec& spec = *job.planned->job;
    Shard& shard = run.shard;
    end.reason = describe(end, spec);
    bool host_lost = end.outcome.kind == Outcome::Kind::transport_failed && !run.timed_out;
    if (host_lost) {
        mark_down(run.attempt.host, end.outcome.reason);
    }
    if (host_lost && shard.requeues < options.max_requeues) {
        ++shard.requeues;
        shard.ready_at = clock.now();
        end.verdict = Verdict::requeued;
    } else if (!host_lost && shard.failures < spec.retries) {
        ++shard.failures;
        shard.failed_hosts.push_back(run.attempt.host);
        shard.ready_at = clock.now() + backoff_delay(spec.backoff, shard.failures, rng);
        end.verdict = Verdict::retry;
    } else {
        if (host_lost) {
            end.reason = fmt::format("lost its host {} times; last: {}", shard.requeues + 1, end.reason);
        }
        end.verdict = Verdict::failed;
        ++job.summary.failed;
        stopping = stopping || options.fail_fast;
        return;
    }
    ++job.summary.retried;
    job.queued[shard.index] = std::move(shard);
}

void Scheduler::Impl::handle_host_state(std::size_t h, const HostState& state) {
    HostRun& host = hosts[h];
    if (!state.up) {
        mark_down(h, state.reason);
        return;
    }
    host.state = HostRun::State::up;
    if (host.spec->auto_slots && state.cpus) {
        host.slots = std::max(1, *state.cpus);
    }
    host.reconnects = 0;
    host.reason.clear();
    listener.host_changed(h, state);
}

void Scheduler::Impl::mark_down(std::size_t h, const std::string& reason) {
    HostRun& host = hosts[h];
    if (host.state == HostRun::State::down) {
        return;
    }
    SteadyTime now = clock.now();
    if (host.state == HostRun::State::up || host.reason.empty()) {
        host.unavailable_since = now;
    }
    host.state = HostRun::State::down;
    host.reason = reason;
    host.reconnect_at = now + backoff_delay(options.reconnect, ++host.reconnects, rng);
    HostState state;
    state.reason = reason;
    listener.host_changed(h, state);
}

// Whether an earlier run finished shard `index` of `job` as it stands now: true for succeeded, false for failed.
std::optional<bool> Scheduler::Impl::recorded(const JobRun& job, std::uint64_t index) const {
    if (options.history == nullptr) {
        return std::nullopt;
    }
    const ShardSet& shards = job.planned->shards;
    return options.history->find(job.summary.name, index, shards.inputs(index), shards.command(index));
}

// Moves the cursor past shards an earlier run completed, counting them.
void Scheduler::Impl::advance_cursor(JobRun& job) {
    if (options.history == nullptr || options.history->empty()) {
        return;
    }
    const ShardSet& shards = job.planned->shards;
    while (job.cursor < shards.size()) {
        auto done = recorded(job, job.cursor);
        if (!done || (!*done && options.retry_failed)) {
            return;
        }
        ++(*done ? job.summary.succeeded : job.summary.failed);
        ++job.summary.recalled;
        ++job.cursor;
    }
}

bool Scheduler::Impl::has_work(const JobRun& job) const {
    return job.cursor < job.planned->shards.size() || !job.queued.empty();
}

void Scheduler::Impl::check_done(JobRun& job) {
    if (job.state != JobRun::State::active) {
        return;
    }
    advance_cursor(job);
    if (has_work(job) || job.running > 0) {
        return;
    }
    job.state = JobRun::State::done;
    if (job.first_start) {
        job.summary.makespan_s = seconds(*job.first_start, job.last_end);
    }
    update_waiting_jobs();
}

void Scheduler::Impl::update_waiting_jobs() {
    for (auto& job : jobs) {
        if (job.state != JobRun::State::waiting) {
            continue;
        }
        bool ready = true;
        std::string failed_need;
        for (const auto& need : job.planned->job->needs) {
            auto other =
                std::find_if(jobs.begin(), jobs.end(), [&](const JobRun& j) { return j.summary.name == need; });
            assert(other != jobs.end());
            const JobSummary& s = other->summary;
            ready = ready && other->state == JobRun::State::done;
            if (other->state == JobRun::State::done && s.succeeded != s.total && failed_need.empty()) {
                failed_need = need;
            }
        }
        if (!failed_need.empty()) {
            abandon_rest(job, false, fmt::format("needs '{}', which did not fully succeed", failed_need));
            job.state = JobRun::State::done;
            update_waiting_jobs();
            return;
        }
        if (ready) {
            job.state = JobRun::State::active;
            check_done(job); // a job with nothing to do is done at once
        }
    }
}

// Gives up on every shard of `job` not yet run or waiting to be retried.
void Scheduler::Impl::abandon_rest(JobRun& job, bool as_failed, const std::string& reason) {
    advance_cursor(job);
    std::vector<IndexRange> indices;
    for (const auto& [index, shard] : job.queued) {
        add_index(indices, index);
    }
    std::uint64_t count = job.queued.size();
    job.queued.clear();
    for (; job.cursor < job.planned->shards.size(); ++job.cursor) {
        // On resume, shards an earlier run finished keep their result.
        auto done = recorded(job, job.cursor);
        if (done && (*done || !options.retry_failed)) {
            ++(*done ? job.summary.succeeded : job.summary.failed);
            ++job.summary.recalled;
        } else {
            add_index(indices, job.cursor);
            ++count;
        }
    }
    if (count == 0) {
        return;
    }
    (as_failed ? job.summary.failed : job.summary.skipped) += count;
    listener.shards_not_run(*job.planned->job, indices, as_failed, reason);
}

void Scheduler::Impl::process_timers() {
    SteadyTime now = clock.now();
    for (auto& [id, run] : running) {
        if (run.deadline && now >= *run.deadline && !run.timed_out) {
            run.timed_out = true;
            transport->cancel(id, options.grace);
        }
    }
    for (std::size_t h = 0; h < hosts.size(); ++h) {
        if (hosts[h].state == HostRun::State::down && now >= hosts[h].reconnect_at && !interrupted) {
            hosts[h].state = HostRun::State::connecting;
            transport->connect(h);
        }
    }
    check_down_limits();
}

// When every eligible host of a job has been unavailable for the down limit, the job's remaining shards fail.
std::optional<SteadyTime> Scheduler::Impl::down_limit_expiry(const JobRun& job) const {
    SteadyTime latest{};
    for (std::size_t h : job.planned->hosts) {
        // A host whose first connection is still being made (waiting for a handshake slot on a busy machine)
        // has not failed yet: only a failed or lost connection counts towards the limit.
        bool first_try = hosts[h].state == HostRun::State::connecting && hosts[h].reason.empty();
        if (hosts[h].state == HostRun::State::up || first_try) {
            return std::nullopt;
        }
        latest = std::max(latest, hosts[h].unavailable_since);
    }
    return latest + options.down_limit;
}

void Scheduler::Impl::check_down_limits() {
    SteadyTime now = clock.now();
    for (auto& job : jobs) {
        if (job.state != JobRun::State::active || !has_work(job) || interrupted || stopping) {
            continue;
        }
        auto expiry = down_limit_expiry(job);
        if (!expiry || now < *expiry) {
            continue;
        }
        no_hosts = no_hosts || std::none_of(hosts.begin(), hosts.end(),
                                            [](const HostRun& h) { return h.state == HostRun::State::up; });
        const HostRun& last = hosts[job.planned->hosts.back()];
        abandon_rest(job, true,
                     fmt::format("no eligible host was up for {} (last error: {})", format_duration(options.down_limit),
                                 last.reason.empty() ? "none" : last.reason));
        check_done(job);
    }
}

void Scheduler::Impl::interrupt() {
    // A second interrupt means "now": no grace before KILL.
    auto grace = interrupted ? std::chrono::milliseconds(0) : options.grace;
    interrupted = true;
    for (const auto& [id, run] : running) {
        transport->cancel(id, grace);
    }
}

// After an interrupt or --fail-fast, once nothing runs, settles every job. Returns whether the run is over.
bool Scheduler::Impl::close_out() {
    bool all_done =
        std::all_of(jobs.begin(), jobs.end(), [](const JobRun& j) { return j.state == JobRun::State::done; });
    if (all_done) {
        return true;
    }
    if (!(interrupted || stopping) || !running.empty()) {
        return false;
    }
    for (auto& job : jobs) {
        if (job.state == JobRun::State::done) {
            continue;
        }
        if (interrupted) {
            advance_cursor(job);
            job.summary.unfinished += job.queued.size() + (job.planned->shards.size() - job.cursor);
            job.queued.clear();
            job.cursor = job.planned->shards.size();
        } else {
            fail_waiting_retries(job);
            abandon_rest(job, false, "--fail-fast: the run stopped after a shard failed");
        }
        job.state = JobRun::State::done;
    }
    return true;
}

// Under --fail-fast, shards waiting for a retry fail: their last attempt failed, and no retry will come.
void Scheduler::Impl::fail_waiting_retries(JobRun& job) {
    if (job.queued.empty()) {
        return;
    }
    std::vector<IndexRange> indices;
    for (const auto& [index, shard] : job.queued) {
        add_index(indices, index);
    }
    job.summary.failed += job.queued.size();
    job.queued.clear();
    listener.shards_not_run(*job.planned->job, indices, true, "--fail-fast: the run stopped before its next try");
}

std::optional<SteadyTime> Scheduler::Impl::next_deadline() const {
    std::optional<SteadyTime> next;
    auto consider = [&](SteadyTime t) { next = next ? std::min(*next, t) : t; };
    for (const auto& [id, run] : running) {
        if (run.deadline && !run.timed_out) {
            consider(*run.deadline);
        }
    }
    for (const auto& host : hosts) {
        if (host.state == HostRun::State::down && !interrupted) {
            consider(host.reconnect_at);
        }
    }
    if (interrupted || stopping) {
        return next;
    }
    for (const auto& job : jobs) {
        if (job.state != JobRun::State::active) {
            continue;
        }
        for (const auto& [index, shard] : job.queued) {
            consider(shard.ready_at);
        }
        if (auto expiry = down_limit_expiry(job); expiry && has_work(job)) {
            consider(*expiry);
        }
    }
    return next;
}

RunSummary Scheduler::Impl::summary() const {
    RunSummary result;
    std::optional<SteadyTime> first;
    SteadyTime last{};
    for (const auto& job : jobs) {
        result.jobs.push_back(job.summary);
        if (job.first_start) {
            first = first ? std::min(*first, *job.first_start) : *job.first_start;
            last = std::max(last, job.last_end);
        }
    }
    result.makespan_s = first ? std::max(0.0, seconds(*first, last)) : 0.0;
    result.interrupted = interrupted;
    result.no_hosts = no_hosts;
    return result;
}

Scheduler::Scheduler(const Plan& plan, const Clock& clock, RunListener& listener, SchedulerOptions options)
    : m_impl(std::make_unique<Impl>(plan, clock, listener, std::move(options))) {}

Scheduler::~Scheduler() = default;

void Scheduler::start(Transport& transport) {
    m_impl->start(transport);
}

std::optional<SteadyTime> Scheduler::step() {
    std::deque<QueuedEvent> events;
    {
        std::lock_guard lock(m_mutex);
        events.swap(m_queue);
    }
    for (const auto& event : events) {
        switch (event.kind) {
        case QueuedEvent::Kind::finished:
            m_impl->handle_finished(event.attempt, event.outcome);
            break;
        case QueuedEvent::Kind::started:
            m_impl->handle_started(event.attempt);
            break;
        case QueuedEvent::Kind::host_state:
            m_impl->handle_host_state(event.host, event.state);
            break;
        case QueuedEvent::Kind::host_sample:
            m_impl->listener.host_sampled(event.host, event.sample);
            break;
        case QueuedEvent::Kind::interrupt:
            m_impl->interrupt();
            break;
        }
    }
    m_impl->process_timers();
    m_impl->dispatch();
    if (!m_finished && m_impl->close_out()) {
        m_finished = true;
        m_impl->listener.run_finished(m_impl->summary());
    }
    return m_impl->next_deadline();
}

void Scheduler::wait(std::optional<SteadyTime> until) {
    std::unique_lock lock(m_mutex);
    auto ready = [&] { return !m_queue.empty(); };
    if (until) {
        m_wake.wait_until(lock, *until, ready);
    } else {
        m_wake.wait(lock, ready);
    }
}

void Scheduler::interrupt() {
    std::lock_guard lock(m_mutex);
    m_queue.push_back({QueuedEvent::Kind::interrupt, 0, {}, 0, {}, {}});
    m_wake.notify_one();
}

RunSummary Scheduler::summary() const {
    return m_impl->summary();
}

void Scheduler::on_finished(std::uint64_t attempt, Outcome outcome) {
    std::lock_guard lock(m_mutex);
    m_queue.push_back({QueuedEvent::Kind::finished, attempt, std::move(outcome), 0, {}, {}});
    m_wake.notify_one();
}

void Scheduler::on_started(std::uint64_t attempt) {
    std::lock_guard lock(m_mutex);
    m_queue.push_back({QueuedEvent::Kind::started, attempt, {}, 0, {}, {}});
    m_wake.notify_one();
}

void Scheduler::on_host_state(std::size_t host, HostState state) {
    std::lock_guard lock(m_mutex);
    m_queue.push_back({QueuedEvent::Kind::host_state, 0, {}, host, std::move(state), {}});
    m_wake.notify_one();
}

void Scheduler::on_host_sample(std::size_t host, HostSample sample) {
    std::lock_guard lock(m_mutex);
    m_queue.push_back({QueuedEvent::Kind::host_sample, 0, {}, host, {}, sample});
    m_wake.notify_one();
}

RunSummary run_to_end(Scheduler& scheduler, Transport& transport) {
    scheduler.start(transport);
    while (true) {
        auto next = scheduler.step();
        if (scheduler.finished()) {
            return scheduler.summary();
        }
        scheduler.wait(next);
    }
}

} // namespace sshard::core
