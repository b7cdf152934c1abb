// The scheduler's public face: its run state is built and started here, and transports' reports wait in a queue
// until step() hands them to the run state (scheduler_impl.hpp) on the scheduler's thread.
#include "core/scheduler.hpp"

#include <algorithm>

#include "core/scheduler_impl.hpp"

namespace sshard::core {

Scheduler::Impl::Impl(const Plan& plan_, const Clock& clock_, RunListener& listener_, SchedulerOptions options_)
    : plan(plan_), clock(clock_), listener(listener_), options(std::move(options_)), rng(options.seed),
      hosts(plan.spec->hosts, clock, rng, options.reconnect, options.down_limit), graph(plan.spec->jobs),
      by_spec_order(plan.jobs.size()), next_id(options.first_attempt_id) {
    for (const auto& planned : plan.jobs) {
        JobRun job;
        job.planned = &planned;
        job.spec_order = static_cast<std::size_t>(planned.job - plan.spec->jobs.data());
        job.summary.name = planned.job->name;
        job.summary.total = planned.shards.size();
        job.need = shard_need(*planned.job);
        job.eligible = planned.hosts;
        by_spec_order[job.spec_order] = jobs.size();
        jobs.push_back(std::move(job));
        by_priority.push_back(by_priority.size());
        timeouts = timeouts || planned.job->timeout.has_value();
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
    hosts.start();
    for (std::size_t i = 0; i < hosts.size(); ++i) {
        transport->connect(i);
    }
    update_waiting_jobs();
}

Scheduler::Scheduler(const Plan& plan, const Clock& clock, RunListener& listener, SchedulerOptions options)
    : m_impl(std::make_unique<Impl>(plan, clock, listener, std::move(options))) {}

Scheduler::~Scheduler() = default;

void Scheduler::start(Transport& transport) {
    m_impl->start(transport);
}

std::optional<SteadyTime> Scheduler::step() {
    for (const auto& event : m_events.take()) {
        switch (event.kind) {
        case QueuedEvent::Kind::finished:
            m_impl->handle_finished(event.attempt, event.outcome);
            break;
        case QueuedEvent::Kind::started:
            m_impl->handle_started(event.attempt);
            break;
        case QueuedEvent::Kind::submitted:
            m_impl->handle_submitted(event.attempt, event.by);
            break;
        case QueuedEvent::Kind::host_state:
            m_impl->handle_host_state(event.host, event.state);
            break;
        case QueuedEvent::Kind::host_sample:
            m_impl->handle_host_sample(event.host, event.sample);
            break;
        case QueuedEvent::Kind::interrupt:
            m_impl->interrupt();
            break;
        case QueuedEvent::Kind::add_host:
            m_impl->reply(event.done, m_impl->add_host(event.added));
            break;
        case QueuedEvent::Kind::drain:
            m_impl->reply(event.done, m_impl->drain_hosts(event.names, event.drain, event.by));
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
    m_events.wait(until);
}

void Scheduler::interrupt() {
    m_events.post(QueuedEvent{QueuedEvent::Kind::interrupt});
}

RunSummary Scheduler::summary() const {
    return m_impl->summary();
}

void Scheduler::add_host(HostSpec host, std::function<void(const std::string&)> done) {
    QueuedEvent event{QueuedEvent::Kind::add_host};
    event.added = std::move(host);
    event.done = std::move(done);
    m_events.post(std::move(event));
}

void Scheduler::drain_hosts(std::vector<std::string> hosts, bool drain, std::string by,
                            std::function<void(const std::string&)> done) {
    QueuedEvent event{QueuedEvent::Kind::drain};
    event.names = std::move(hosts);
    event.drain = drain;
    event.by = std::move(by);
    event.done = std::move(done);
    m_events.post(std::move(event));
}

void Scheduler::on_finished(std::uint64_t attempt, Outcome outcome) {
    QueuedEvent event{QueuedEvent::Kind::finished};
    event.attempt = attempt;
    event.outcome = std::move(outcome);
    m_events.post(std::move(event));
}

void Scheduler::on_started(std::uint64_t attempt) {
    QueuedEvent event{QueuedEvent::Kind::started};
    event.attempt = attempt;
    m_events.post(std::move(event));
}

void Scheduler::on_submitted(std::uint64_t attempt, std::string handle) {
    QueuedEvent event{QueuedEvent::Kind::submitted};
    event.attempt = attempt;
    event.by = std::move(handle);
    m_events.post(std::move(event));
}

void Scheduler::on_host_state(std::size_t host, HostState state) {
    QueuedEvent event{QueuedEvent::Kind::host_state};
    event.host = host;
    event.state = std::move(state);
    m_events.post(std::move(event));
}

void Scheduler::on_host_sample(std::size_t host, HostSample sample) {
    QueuedEvent event{QueuedEvent::Kind::host_sample};
    event.host = host;
    event.sample = sample;
    m_events.post(std::move(event));
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
