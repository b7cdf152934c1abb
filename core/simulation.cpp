#include "core/simulation.hpp"

#include <algorithm>
#include <csignal>
#include <queue>
#include <unordered_map>

#include "core/error.hpp"
#include "core/scheduler.hpp"

namespace sshard::core {

namespace {

using Seconds = std::chrono::duration<double>;

// The simulated run's calendar: its steady time read as time since the epoch.
WallTime wall_time(SteadyTime time) {
    return WallTime(std::chrono::duration_cast<WallTime::duration>(time.time_since_epoch()));
}

// Time that moves only when the simulation moves it, from one event to the next.
class SimulatedClock final : public Clock {
public:
    SteadyTime now() const override { return m_now; }
    WallTime wall() const override { return wall_time(m_now); }
    void set(SteadyTime now) { m_now = now; }

private:
    SteadyTime m_now{std::chrono::hours(1000)}; // far from zero, which the scheduler's books use as "never"
};

SteadyTime::duration steady(double seconds) {
    return std::chrono::duration_cast<SteadyTime::duration>(Seconds(seconds));
}

// A host's connection or an attempt's end, due at `at`; `order` keeps events due at once in the order made.
struct Event {
    SteadyTime at;
    std::uint64_t order = 0;
    bool host_up = false;
    std::uint64_t id = 0; // the host, or the attempt

    bool operator>(const Event& other) const { return std::pair(at, order) > std::pair(other.at, other.order); }
};

// The transport and the listener of the simulated run: it ends each attempt when its run time is up, and keeps
// the books the prediction is made of.
class Simulation final : public Transport, public RunListener {
public:
    Simulation(const Plan& plan, const PastDurations& past, SimulatedClock& clock);

    // Runs `scheduler`, made with this simulation as its listener, to its end.
    void run(Scheduler& scheduler);
    Prediction prediction(const RunSummary& summary) const;

    void connect(std::size_t host) override;
    void start(Launch launch) override;
    void cancel(std::uint64_t attempt, std::chrono::milliseconds grace) override;
    void shutdown() override {}

    void attempt_started(const Attempt& attempt) override;
    void attempt_finished(const Attempt& attempt, const AttemptEnd& end) override;

private:
    struct Running {
        SteadyTime start;
        SteadyTime end;
        bool cancelled = false;
    };

    void push(SteadyTime at, bool host_up, std::uint64_t id);
    void deliver_due();
    void finish(std::uint64_t attempt, SteadyTime at);
    std::size_t spec_index(const JobSpec* job) const {
        return static_cast<std::size_t>(job - m_plan.spec->jobs.data());
    }
    std::vector<std::size_t> critical_path(const std::vector<PredictedJob>& jobs) const;

    const Plan& m_plan;
    SimulatedClock& m_clock;
    TransportEvents* m_events = nullptr;
    std::vector<const JobDurations*> m_durations; // by spec job index
    std::vector<PastHost> m_past_hosts;           // by spec host index
    std::priority_queue<Event, std::vector<Event>, std::greater<>> m_queue;
    std::uint64_t m_order = 0;
    std::unordered_map<std::uint64_t, Running> m_running;
    std::vector<PredictedJob> m_jobs; // by spec job index
    std::vector<std::optional<Seconds>> m_job_first;
    std::vector<double> m_busy; // by host
    double m_t_total = 0;
    std::uint64_t m_attempts = 0;
};

Simulation::Simulation(const Plan& plan, const PastDurations& past, SimulatedClock& clock)
    : m_plan(plan), m_clock(clock), m_durations(plan.spec->jobs.size()), m_jobs(plan.spec->jobs.size()),
      m_job_first(plan.spec->jobs.size()), m_busy(plan.spec->hosts.size()) {
    for (const auto& planned : plan.jobs) {
        std::size_t index = spec_index(planned.job);
        m_durations[index] = past.job(planned.job->name);
        if (m_durations[index] == nullptr && planned.shards.size() > 0) {
            throw UsageError("job '" + planned.job->name +
                             "' has no shard that succeeded in the past run: no run time to predict it from");
        }
        m_jobs[index].name = planned.job->name;
        m_jobs[index].shards = planned.shards.size();
    }
    for (const auto& host : plan.spec->hosts) {
        m_past_hosts.push_back(past.host(host.name));
    }
}

void Simulation::run(Scheduler& scheduler) {
    m_events = &scheduler;
    scheduler.start(*this);
    while (true) {
        std::optional<SteadyTime> timer = scheduler.step();
        if (scheduler.finished()) {
            return;
        }
        // A timer already due (a retry waiting for a free slot) waits for the next event instead.
        std::optional<SteadyTime> next;
        if (!m_queue.empty()) {
            next = m_queue.top().at;
        }
        if (timer && *timer > m_clock.now()) {
            next = next ? std::min(*next, *timer) : *timer;
        }
        if (!next) {
            throw Error("the simulated run stalled: nothing runs and nothing is due");
        }
        m_clock.set(std::max(m_clock.now(), *next));
        deliver_due();
    }
}

void Simulation::push(SteadyTime at, bool host_up, std::uint64_t id) {
    m_queue.push({at, m_order++, host_up, id});
}

void Simulation::deliver_due() {
    while (!m_queue.empty() && m_queue.top().at <= m_clock.now()) {
        Event event = m_queue.top();
        m_queue.pop();
        if (!event.host_up) {
            finish(event.id, event.at);
            continue;
        }
        std::size_t host = event.id;
        HostState state;
        state.up = true;
        state.cpus = m_past_hosts[host].cpus;
        state.setup_s = m_past_hosts[host].setup_s;
        m_events->on_host_state(host, state);
    }
}

// Ends an attempt whose end is due at `at`; an event left behind by a cancel that ended it sooner is ignored.
void Simulation::finish(std::uint64_t attempt, SteadyTime at) {
    auto it = m_running.find(attempt);
    if (it == m_running.end() || it->second.end != at) {
        return;
    }
    Outcome outcome;
    if (it->second.cancelled) {
        outcome.kind = Outcome::Kind::signaled;
        outcome.signal = SIGTERM;
    }
    outcome.start = wall_time(it->second.start);
    outcome.end = wall_time(at);
    m_running.erase(it);
    m_events->on_finished(attempt, outcome);
}

void Simulation::connect(std::size_t host) {
    push(m_clock.now() + steady(m_past_hosts[host].setup_s), true, host);
}

// The scheduler tells its listener of an attempt before it asks the transport to start it: the run time is
// chosen there, where the shard's job, index and command are known.
void Simulation::attempt_started(const Attempt& attempt) {
    std::size_t job = spec_index(attempt.job);
    std::optional<double> own = m_durations[job]->own(attempt.index, attempt.key);
    if (own && attempt.number == 1) {
        ++m_jobs[job].measured;
    }
    double seconds = own.value_or(m_durations[job]->median()) * m_past_hosts[attempt.host].speed;
    SteadyTime now = m_clock.now();
    m_running[attempt.id] = {now, now + steady(seconds)};
}

void Simulation::start(Launch launch) {
    push(m_running.at(launch.attempt).end, false, launch.attempt);
}

// A timeout: the attempt ends now, killed.
void Simulation::cancel(std::uint64_t attempt, std::chrono::milliseconds) {
    auto it = m_running.find(attempt);
    if (it == m_running.end()) {
        return;
    }
    it->second.cancelled = true;
    it->second.end = m_clock.now();
    push(it->second.end, false, attempt);
}

void Simulation::attempt_finished(const Attempt& attempt, const AttemptEnd& end) {
    std::size_t job = spec_index(attempt.job);
    auto start = end.outcome.start.time_since_epoch();
    auto stop = end.outcome.end.time_since_epoch();
    double seconds = Seconds(stop - start).count();
    m_busy[attempt.host] += seconds;
    m_t_total += seconds;
    ++m_attempts;
    PredictedJob& predicted = m_jobs[job];
    predicted.t_total_s += seconds;
    m_job_first[job] = std::min(m_job_first[job].value_or(Seconds(start)), Seconds(start));
    predicted.end_s = std::max(predicted.end_s, Seconds(stop).count());
}

Prediction Simulation::prediction(const RunSummary& summary) const {
    Prediction result;
    result.makespan_s = summary.makespan_s;
    result.t_total_s = m_t_total;
    result.attempts = m_attempts;
    Seconds first = Seconds::max();
    for (const auto& start : m_job_first) {
        first = std::min(first, start.value_or(first));
    }
    result.jobs = m_jobs;
    for (std::size_t j = 0; j < result.jobs.size(); ++j) {
        PredictedJob& job = result.jobs[j];
        job.start_s = m_job_first[j] ? (*m_job_first[j] - first).count() : 0;
        job.end_s = m_job_first[j] ? job.end_s - first.count() : 0;
    }
    for (std::size_t h = 0; h < m_plan.spec->hosts.size(); ++h) {
        const HostSpec& spec = m_plan.spec->hosts[h];
        const PastHost& past = m_past_hosts[h];
        int slots = spec.auto_slots && past.cpus ? std::max(1, *past.cpus) : spec.slots;
        double capacity = slots * result.makespan_s;
        result.hosts.push_back({spec.name, slots, past.speed, m_busy[h], capacity > 0 ? m_busy[h] / capacity : 0});
        result.slots += static_cast<std::uint64_t>(slots);
    }
    double capacity = static_cast<double>(result.slots) * result.makespan_s;
    result.utilization = capacity > 0 ? std::min(1.0, result.t_total_s / capacity) : 0;
    result.critical_path = critical_path(result.jobs);
    return result;
}

// From the job that ends last back through the needs, each time to the need that ended last: the chain whose
// length the makespan waits for.
std::vector<std::size_t> Simulation::critical_path(const std::vector<PredictedJob>& jobs) const {
    const std::vector<JobSpec>& specs = m_plan.spec->jobs;
    auto later = [&](std::size_t a, std::size_t b) { return jobs[a].end_s > jobs[b].end_s; };
    std::vector<std::size_t> path;
    std::optional<std::size_t> at;
    for (std::size_t j = 0; j < jobs.size(); ++j) {
        at = !at || later(j, *at) ? j : at;
    }
    while (at) {
        path.push_back(*at);
        std::optional<std::size_t> need;
        for (const auto& name : specs[*at].needs) {
            auto it = std::find_if(specs.begin(), specs.end(), [&](const JobSpec& s) { return s.name == name; });
            auto n = static_cast<std::size_t>(it - specs.begin());
            need = !need || later(n, *need) ? n : need;
        }
        at = need;
    }
    std::reverse(path.begin(), path.end());
    return path;
}

} // namespace

Prediction predict(const Plan& plan, const PastDurations& past) {
    SimulatedClock clock;
    Simulation simulation(plan, past, clock);
    Scheduler scheduler(plan, clock, simulation, SchedulerOptions{});
    simulation.run(scheduler);
    return simulation.prediction(scheduler.summary());
}

} // namespace sshard::core
