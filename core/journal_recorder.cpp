#include "core/journal_recorder.hpp"

#include <cmath>

namespace sshard::core {

namespace {

using nlohmann::json;

const char* verdict_name(Verdict verdict) {
    switch (verdict) {
    case Verdict::succeeded:
        return "succeeded";
    case Verdict::retry:
        return "retry";
    case Verdict::requeued:
        return "requeued";
    case Verdict::failed:
        return "failed";
    case Verdict::unfinished:
        return "unfinished";
    }
    return "";
}

const char* outcome_name(const AttemptEnd& end) {
    if (end.timed_out) {
        return "timed_out";
    }
    switch (end.outcome.kind) {
    case Outcome::Kind::exited:
        return "exited";
    case Outcome::Kind::signaled:
        return "signaled";
    case Outcome::Kind::transport_failed:
        return "transport_failed";
    }
    return "";
}

json now_event(const char* name) {
    return {{"event", name}, {"time", unix_seconds(std::chrono::system_clock::now())}};
}

} // namespace

void JournalRecorder::run_started(const std::string& run_id, const std::string& spec_path, bool resumed,
                                  WallTime time) {
    json hosts = json::array();
    for (const auto& host : m_plan.spec->hosts) {
        hosts.push_back({{"name", host.name}, {"slots", host.slots}, {"auto_slots", host.auto_slots}});
    }
    json jobs = json::array();
    for (const auto& job : m_plan.jobs) {
        jobs.push_back({{"name", job.job->name}, {"shards", job.shards.size()}, {"priority", job.job->priority}});
    }
    m_journal.append({{"event", "run_start"},
                      {"time", unix_seconds(time)},
                      {"run", run_id},
                      {"name", m_plan.spec->name},
                      {"spec", spec_path},
                      {"spec_hash", m_plan.spec->hash},
                      {"resume", resumed},
                      {"hosts", hosts},
                      {"jobs", jobs}});
}

void JournalRecorder::host_changed(std::size_t host, const HostState& state) {
    json event = now_event(state.up ? "host_up" : "host_down");
    event["host"] = m_plan.spec->hosts[host].name;
    if (state.up) {
        event["setup_s"] = state.setup_s;
        event["cpus"] = state.cpus ? json(*state.cpus) : json(nullptr);
    } else {
        event["reason"] = state.reason;
    }
    m_journal.append(event);
}

void JournalRecorder::host_sampled(std::size_t host, const HostSample& sample) {
    json event = now_event("host_sample");
    event["host"] = m_plan.spec->hosts[host].name;
    event["cpu_busy"] = sample.cpu_busy;
    event["mem_used"] = sample.mem_used;
    event["mem_total"] = sample.mem_total;
    m_journal.append(event);
}

void JournalRecorder::attempt_started(const Attempt& attempt) {
    m_journal.append({{"event", "attempt_start"},
                      {"time", unix_seconds(attempt.start)},
                      {"id", attempt.id},
                      {"job", attempt.job->name},
                      {"index", attempt.index},
                      {"attempt", attempt.number},
                      {"host", m_plan.spec->hosts[attempt.host].name}});
}

void JournalRecorder::attempt_finished(const Attempt& attempt, const AttemptEnd& end) {
    const Outcome& outcome = end.outcome;
    json event = {{"event", "attempt_end"},
                  {"time", unix_seconds(outcome.end)},
                  {"id", attempt.id},
                  {"job", attempt.job->name},
                  {"index", attempt.index},
                  {"attempt", attempt.number},
                  {"host", m_plan.spec->hosts[attempt.host].name},
                  {"start", unix_seconds(outcome.start)},
                  {"end", unix_seconds(outcome.end)},
                  {"outcome", outcome_name(end)},
                  {"verdict", verdict_name(end.verdict)},
                  {"command", attempt.command},
                  {"key", attempt.key}};
    if (outcome.kind == Outcome::Kind::exited) {
        event["exit_code"] = outcome.exit_code;
    }
    if (outcome.kind == Outcome::Kind::signaled) {
        event["signal"] = outcome.signal;
    }
    if (!end.reason.empty()) {
        event["reason"] = end.reason;
    }
    if (!end.output_error.empty()) {
        event["output_error"] = end.output_error;
    }
    if (outcome.cpu_user_s && outcome.cpu_sys_s) {
        event["cpu_user_s"] = *outcome.cpu_user_s;
        event["cpu_sys_s"] = *outcome.cpu_sys_s;
    }
    m_journal.append(event);
}

void JournalRecorder::shards_not_run(const JobSpec& job, std::uint64_t count, bool failed, const std::string& reason) {
    json event = now_event("shards_not_run");
    event["job"] = job.name;
    event["count"] = count;
    event["as"] = failed ? "failed" : "skipped";
    event["reason"] = reason;
    m_journal.append(event);
}

void JournalRecorder::run_finished(const RunSummary& summary) {
    json jobs = json::array();
    for (const auto& job : summary.jobs) {
        jobs.push_back({{"name", job.name},
                        {"total", job.total},
                        {"succeeded", job.succeeded},
                        {"failed", job.failed},
                        {"skipped", job.skipped},
                        {"unfinished", job.unfinished},
                        {"retried", job.retried},
                        {"recalled", job.recalled},
                        {"makespan_s", job.makespan_s}});
    }
    json event = now_event("run_end");
    event["makespan_s"] = summary.makespan_s;
    event["interrupted"] = summary.interrupted;
    event["no_hosts"] = summary.no_hosts;
    event["jobs"] = jobs;
    m_journal.append(event);
}

} // namespace sshard::core
