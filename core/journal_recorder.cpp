#include "core/journal_recorder.hpp"

#include <chrono>

namespace sshard::core {

namespace {

OutcomeKind outcome_kind(const AttemptEnd& end) {
    if (end.timed_out) {
        return OutcomeKind::timed_out;
    }
    switch (end.outcome.kind) {
    case Outcome::Kind::exited:
        return OutcomeKind::exited;
    case Outcome::Kind::signaled:
        return OutcomeKind::signaled;
    case Outcome::Kind::transport_failed:
        return OutcomeKind::transport_failed;
    }
    return OutcomeKind::exited;
}

double now() {
    return unix_seconds(std::chrono::system_clock::now());
}

std::uint64_t count(const std::vector<IndexRange>& indices) {
    std::uint64_t n = 0;
    for (const auto& range : indices) {
        n += range.to - range.from;
    }
    return n;
}

} // namespace

void JournalRecorder::run_started(const Session& session, WallTime time) {
    RunStartEvent event;
    event.time = unix_seconds(time);
    event.run = session.run_id;
    event.name = m_plan.spec->name;
    event.spec = session.spec_path;
    event.spec_hash = m_plan.spec->hash;
    event.resume = session.resumed;
    if (session.max_parallel != 0) {
        event.max_parallel = session.max_parallel;
    }
    event.host_flags = session.host_flags;
    for (const auto& host : m_plan.spec->hosts) {
        event.hosts.push_back({host.name, host.slots, host.auto_slots});
    }
    for (const auto& job : m_plan.jobs) {
        event.jobs.push_back({job.job->name, job.shards.size(), job.job->priority});
    }
    m_journal.append(event);
}

void JournalRecorder::host_changed(std::size_t host, const HostState& state) {
    const std::string& name = m_plan.spec->hosts[host].name;
    if (state.up) {
        m_journal.append(HostUpEvent{now(), name, state.setup_s, state.cpus});
    } else {
        m_journal.append(HostDownEvent{now(), name, state.reason});
    }
}

void JournalRecorder::host_sampled(std::size_t host, const HostSample& sample) {
    m_journal.append(
        HostSampleEvent{now(), m_plan.spec->hosts[host].name, sample.cpu_busy, sample.mem_used, sample.mem_total});
}

void JournalRecorder::host_added(std::size_t host) {
    const HostSpec& spec = m_plan.spec->hosts[host];
    m_journal.append(HostAddedEvent{now(), spec.name, spec.slots, spec.auto_slots});
}

void JournalRecorder::host_held(std::size_t host, const HostHold& hold) {
    m_journal.append(HostHoldEvent{now(), m_plan.spec->hosts[host].name, hold.held, hold.kind, hold.reason});
}

void JournalRecorder::attempt_started(const Attempt& attempt) {
    m_journal.append(AttemptStartEvent{unix_seconds(attempt.start), attempt.id, attempt.job->name, attempt.index,
                                       attempt.number, m_plan.spec->hosts[attempt.host].name});
}

void JournalRecorder::attempt_submitted(const Attempt& attempt, const std::string& handle) {
    m_journal.append(AttemptSubmittedEvent{now(), attempt.id, attempt.job->name, attempt.index, attempt.number,
                                           m_plan.spec->hosts[attempt.host].name, handle});
}

void JournalRecorder::attempt_finished(const Attempt& attempt, const AttemptEnd& end) {
    const Outcome& outcome = end.outcome;
    AttemptEndEvent event;
    event.time = unix_seconds(outcome.end);
    event.id = attempt.id;
    event.job = attempt.job->name;
    event.index = attempt.index;
    event.attempt = attempt.number;
    event.host = m_plan.spec->hosts[attempt.host].name;
    event.node = outcome.node;
    event.node_cpus = outcome.node_cpus;
    event.max_rss = outcome.max_rss;
    event.start = unix_seconds(outcome.start);
    event.end = unix_seconds(outcome.end);
    event.outcome = outcome_kind(end);
    if (outcome.kind == Outcome::Kind::exited) {
        event.exit_code = outcome.exit_code;
    }
    if (outcome.kind == Outcome::Kind::signaled) {
        event.signal = outcome.signal;
    }
    event.verdict = end.verdict;
    event.reason = end.reason;
    event.command = attempt.command;
    event.key = attempt.key;
    event.inputs = attempt.inputs;
    if (outcome.cpu_user_s && outcome.cpu_sys_s) {
        event.cpu_user_s = outcome.cpu_user_s;
        event.cpu_sys_s = outcome.cpu_sys_s;
    }
    if (!end.output_error.empty()) {
        event.output_error = end.output_error;
    }
    event.transfer = outcome.transfer;
    m_journal.append(event);
}

void JournalRecorder::shards_not_run(const JobSpec& job, const std::vector<IndexRange>& indices, bool failed,
                                     const std::string& reason) {
    m_journal.append(ShardsNotRunEvent{now(), job.name, count(indices), failed, reason, indices});
}

void JournalRecorder::run_finished(const RunSummary& summary) {
    m_journal.append(RunEndEvent{now(), summary.makespan_s, summary.interrupted, summary.no_hosts, summary.jobs});
}

} // namespace sshard::core
