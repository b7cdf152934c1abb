#include "core/report.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <fstream>
#include <map>
#include <set>

#include "core/journal.hpp"
#include "core/overloaded.hpp"
#include "core/report_timeline.hpp"

namespace sshard::core {

namespace {

// `part / whole`, or none when `whole` is no time at all.
std::optional<double> share(double part, double whole) {
    return whole > 0 ? std::optional(part / whole) : std::nullopt;
}

// A shard's last outcome, one byte a shard.
enum class ShardState : std::uint8_t { none, succeeded, failed, skipped, failed_not_run };

// What the report gathers about a job beyond its JobReport.
struct JobTally {
    JobReport report;
    std::vector<double> durations;
    std::vector<ShardState> shards; // by index
    double first = 0;
    double last = 0;
    double cpu_s = 0;
    double cpu_measured_s = 0; // run time of the attempts that measured CPU
    bool cpu_measured = false;
};

// What the report gathers about a host beyond its HostReport.
struct HostTally {
    HostReport report;
    bool auto_slots = false;
    bool up = false;
    std::optional<double> held_since;
};

// Everything one pass over the journal gathers.
class Collector {
public:
    explicit Collector(std::string run_dir) : m_run_dir(std::move(run_dir)) {}

    void visit(const JournalEvent& event);
    Report finish();

private:
    void run_start(const RunStartEvent& e);
    void host_up(const HostUpEvent& e);
    void host_down(const HostDownEvent& e);
    void host_sample(const HostSampleEvent& e);
    void host_hold(const HostHoldEvent& e);
    void end_holds();
    void attempt_end(const AttemptEndEvent& e);
    void count_in_run(const AttemptEndEvent& e, double d);
    void count_in_job(JobTally& j, const AttemptEndEvent& e, double d);
    void count_on_host(HostTally& h, const AttemptEndEvent& e, double d);
    void count_cpu(JobTally& j, HostTally& h, const AttemptEndEvent& e, double d);
    void note_output_error(const AttemptEndEvent& e);
    void shard_ended(JobTally& j, const AttemptEndEvent& e);
    void shards_not_run(const ShardsNotRunEvent& e);
    void count_shards(JobTally& j);
    void finish_job(JobTally& j);
    void finish_host(HostReport& h);
    void list_failures();
    JobTally& job(const std::string& name);
    HostTally& host(const std::string& name);
    std::string stderr_tail(const std::string& job, std::uint64_t index, int attempt) const;

    std::string m_run_dir;
    Report m_report;
    std::vector<std::string> m_job_order;
    std::map<std::string, JobTally> m_jobs;
    std::vector<std::string> m_host_order;
    std::map<std::string, HostTally> m_hosts;
    std::set<std::string> m_node_parents; // hosts some of whose attempts ran on a node they named
    std::map<std::pair<std::string, std::uint64_t>, FailedShard> m_failed; // shards whose last try failed
    std::map<std::pair<std::string, std::uint64_t>, std::pair<std::vector<std::string>, int>> m_tries;
    std::optional<Span> m_session;
    double m_cpu_measured_s = 0;
    std::optional<std::uint64_t> m_max_parallel; // the largest of the sessions', none when one had no cap
    bool m_uncapped = false;                     // a session ran without --max-parallel
    double m_last_time = 0;                      // of the latest event: where holds still open end
};

JobTally& Collector::job(const std::string& name) {
    auto [it, added] = m_jobs.try_emplace(name);
    if (added) {
        it->second.report.name = name;
        m_job_order.push_back(name);
    }
    return it->second;
}

HostTally& Collector::host(const std::string& name) {
    auto [it, added] = m_hosts.try_emplace(name);
    if (added) {
        it->second.report.name = name;
        m_host_order.push_back(name);
    }
    return it->second;
}

void Collector::visit(const JournalEvent& event) {
    std::visit(Overloaded{
                   [&](const RunStartEvent& e) { run_start(e); },
                   [&](const HostUpEvent& e) { host_up(e); },
                   [&](const HostDownEvent& e) { host_down(e); },
                   [&](const HostSampleEvent& e) { host_sample(e); },
                   [&](const HostHoldEvent& e) { host_hold(e); },
                   [&](const HostAddedEvent& e) {
                       HostTally& h = host(e.host);
                       h.auto_slots = e.auto_slots;
                       h.report.slots = e.slots;
                   },
                   [](const AttemptStartEvent&) {},
                   [](const AttemptSubmittedEvent&) {},
                   [&](const AttemptEndEvent& e) { attempt_end(e); },
                   [&](const ShardsNotRunEvent& e) { shards_not_run(e); },
                   [&](const RunEndEvent& e) { m_report.run.interrupted = e.interrupted; },
               },
               event);
    std::visit([&](const auto& e) { m_last_time = std::max(m_last_time, e.time); }, event);
}

void Collector::run_start(const RunStartEvent& e) {
    end_holds(); // a runner killed while a host was held wrote no release
    if (m_session) {
        m_report.run.sessions.push_back(*m_session);
        m_session.reset();
    }
    RunReport& run = m_report.run;
    run.name = e.name;
    run.run_id = e.run;
    run.interrupted = true; // until its run_end says otherwise: a runner that was killed wrote none
    if (run.start == 0) {
        run.start = e.time;
    }
    m_uncapped = m_uncapped || !e.max_parallel;
    m_max_parallel = m_uncapped ? std::nullopt : std::max(m_max_parallel, e.max_parallel);
    for (const auto& h : e.hosts) {
        HostTally& state = host(h.name);
        state.auto_slots = h.auto_slots;
        state.report.slots = h.slots;
    }
    // The shards are the latest spec's; verdicts of shards given up on without running are the session's.
    for (auto& [name, j] : m_jobs) {
        j.report.shards.total = 0;
        for (ShardState& state : j.shards) {
            state = state == ShardState::skipped || state == ShardState::failed_not_run ? ShardState::none : state;
        }
    }
    for (const auto& j : e.jobs) {
        job(j.name).report.shards.total = j.shards;
    }
    m_report.not_run.clear();
}

void Collector::host_up(const HostUpEvent& e) {
    HostTally& h = host(e.host);
    h.up = true;
    h.report.connected = true;
    if (!h.report.setup_s) {
        h.report.setup_s = e.setup_s;
    }
    if (h.auto_slots && e.cpus) {
        h.report.slots = std::max(1, *e.cpus);
    }
}

void Collector::host_down(const HostDownEvent& e) {
    HostTally& h = host(e.host);
    if (h.up) {
        ++h.report.losses;
        ++m_report.run.host_losses;
    }
    h.up = false;
}

void Collector::host_sample(const HostSampleEvent& e) {
    HostReport& h = host(e.host).report;
    ++h.samples;
    h.cpu_busy_mean = h.cpu_busy_mean.value_or(0) + e.cpu_busy; // a sum until finish()
    h.cpu_busy_peak = std::max(h.cpu_busy_peak.value_or(0), e.cpu_busy);
    h.mem_used_peak = std::max(h.mem_used_peak.value_or(0), e.mem_used);
    h.mem_total = e.mem_total;
}

void Collector::host_hold(const HostHoldEvent& e) {
    HostTally& h = host(e.host);
    if (!e.held) {
        h.report.held_s += h.held_since ? std::max(0.0, e.time - *h.held_since) : 0;
        h.held_since.reset();
        return;
    }
    h.held_since = h.held_since.value_or(e.time);
    auto& kinds = h.report.held_for;
    if (std::find(kinds.begin(), kinds.end(), e.kind) == kinds.end()) {
        kinds.push_back(e.kind);
    }
}

// Holds still open end with the latest event recorded.
void Collector::end_holds() {
    for (auto& [name, h] : m_hosts) {
        if (h.held_since) {
            host_hold(HostHoldEvent{m_last_time, name, false, {}, {}});
        }
    }
}

void Collector::attempt_end(const AttemptEndEvent& e) {
    double d = e.end - e.start;
    JobTally& j = job(e.job);
    HostTally& h = host(report_host(e));
    if (!e.node.empty()) {
        h.report.slots = std::max(h.report.slots, e.node_cpus.value_or(1));
        m_node_parents.insert(e.host);
    }
    count_in_run(e, d);
    count_in_job(j, e, d);
    count_on_host(h, e, d);
    j.report.transfer += e.transfer;
    h.report.transfer += e.transfer;
    if (e.cpu_user_s) {
        count_cpu(j, h, e, d);
    }
    if (e.max_rss) {
        j.report.max_rss = std::max(j.report.max_rss.value_or(0), *e.max_rss);
        h.report.max_rss = std::max(h.report.max_rss.value_or(0), *e.max_rss);
    }
    if (e.output_error) {
        note_output_error(e);
    }
    shard_ended(j, e);
}

// The run's attempts, time and retries, its span, and the span of the session the attempt belongs to.
void Collector::count_in_run(const AttemptEndEvent& e, double d) {
    RunReport& run = m_report.run;
    ++run.attempts;
    run.t_total_s += d;
    run.start = run.attempts == 1 ? e.start : std::min(run.start, e.start);
    run.end = std::max(run.end, e.end);
    m_session =
        m_session ? Span{std::min(m_session->start, e.start), std::max(m_session->end, e.end)} : Span{e.start, e.end};
    if (e.verdict == Verdict::retry || e.verdict == Verdict::requeued) {
        ++run.retries;
    }
}

void Collector::count_in_job(JobTally& j, const AttemptEndEvent& e, double d) {
    j.first = j.report.attempts == 0 ? e.start : std::min(j.first, e.start);
    j.last = std::max(j.last, e.end);
    ++j.report.attempts;
    j.report.t_total_s += d;
    j.durations.push_back(d);
    if (e.verdict == Verdict::retry || e.verdict == Verdict::requeued) {
        ++j.report.retries;
    }
}

// A requeue is the host's failure, not the shard's, and is not counted against the host here: its loss is.
void Collector::count_on_host(HostTally& h, const AttemptEndEvent& e, double d) {
    h.report.connected = true; // in journals that did not record its host_up
    ++h.report.shards;
    h.report.busy_s += d;
    if (e.verdict == Verdict::retry || e.verdict == Verdict::failed) {
        ++h.report.failures;
    }
}

// CPU time where the transport measured it, with the run time of the attempts that did, for the averages.
void Collector::count_cpu(JobTally& j, HostTally& h, const AttemptEndEvent& e, double d) {
    double cpu = *e.cpu_user_s + e.cpu_sys_s.value_or(0);
    h.report.cpu_user_s = h.report.cpu_user_s.value_or(0) + *e.cpu_user_s;
    h.report.cpu_sys_s = h.report.cpu_sys_s.value_or(0) + e.cpu_sys_s.value_or(0);
    j.cpu_s += cpu;
    j.cpu_measured_s += d;
    j.cpu_measured = true;
    m_report.run.cpu_s = m_report.run.cpu_s.value_or(0) + cpu;
    m_cpu_measured_s += d;
}

void Collector::note_output_error(const AttemptEndEvent& e) {
    if (m_report.output_errors.size() < k_max_failures) {
        m_report.output_errors.push_back({e.job, e.index, e.attempt, *e.output_error});
    } else {
        ++m_report.more_output_errors;
    }
}

// Keeps the shard's last outcome, and for shards whose last try failed, where and how often they ran.
void Collector::shard_ended(JobTally& j, const AttemptEndEvent& e) {
    auto key = std::pair(e.job, e.index);
    if (e.verdict == Verdict::succeeded) {
        m_tries.erase(key);
        m_failed.erase(key);
    } else {
        // Only shards with an unsuccessful try are tracked, so memory follows the failures, not the run.
        auto& [hosts, tries] = m_tries[key];
        if (std::find(hosts.begin(), hosts.end(), report_host(e)) == hosts.end()) {
            hosts.push_back(report_host(e));
        }
        tries = std::max(tries, e.attempt);
        if (e.verdict == Verdict::failed) {
            m_failed[key] = {e.job, e.index, hosts, tries, e.reason, {}};
        }
    }
    if (e.verdict != Verdict::succeeded && e.verdict != Verdict::failed) {
        return;
    }
    if (j.shards.size() <= e.index) {
        j.shards.resize(e.index + 1, ShardState::none);
    }
    j.shards[e.index] = e.verdict == Verdict::succeeded ? ShardState::succeeded : ShardState::failed;
}

void Collector::shards_not_run(const ShardsNotRunEvent& e) {
    JobTally& j = job(e.job);
    ShardState state = e.failed ? ShardState::failed_not_run : ShardState::skipped;
    for (const auto& range : e.indices) {
        if (j.shards.size() < range.to) {
            j.shards.resize(range.to, ShardState::none);
        }
        std::fill(j.shards.begin() + static_cast<std::ptrdiff_t>(range.from),
                  j.shards.begin() + static_cast<std::ptrdiff_t>(range.to), state);
    }
    m_report.not_run.push_back({e.job, e.count, e.failed, e.reason});
}

// A job's shard counts from its shards' last outcomes; shards beyond the latest spec's count are gone.
void Collector::count_shards(JobTally& j) {
    ShardCounts& counts = j.report.shards;
    std::size_t end = std::min<std::size_t>(j.shards.size(), counts.total);
    for (std::size_t i = 0; i < end; ++i) {
        switch (j.shards[i]) {
        case ShardState::succeeded:
            ++counts.succeeded;
            break;
        case ShardState::failed:
        case ShardState::failed_not_run:
            ++counts.failed;
            break;
        case ShardState::skipped:
            ++counts.skipped;
            break;
        case ShardState::none:
            break;
        }
    }
}

// The last up to five lines of an attempt's stderr, from its file in the run directory.
std::string Collector::stderr_tail(const std::string& job_name, std::uint64_t index, int attempt) const {
    std::ifstream in(fmt::format("{}/out/{}/{}.{}.err", m_run_dir, job_name, index, attempt), std::ios::binary);
    if (!in) {
        return {};
    }
    in.seekg(0, std::ios::end);
    std::streamoff size = in.tellg();
    std::streamoff from = std::max<std::streamoff>(0, size - 2048);
    in.seekg(from);
    std::string text(static_cast<std::size_t>(size - from), '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    while (!text.empty() && text.back() == '\n') {
        text.pop_back();
    }
    std::size_t cut = text.size();
    for (int lines = 0; lines < 5 && cut != std::string::npos && cut > 0; ++lines) {
        cut = text.rfind('\n', cut - 1);
    }
    return cut == std::string::npos || cut == 0 ? text : text.substr(cut + 1);
}

Report Collector::finish() {
    end_holds();
    RunReport& run = m_report.run;
    if (m_session) {
        run.sessions.push_back(*m_session);
    }
    for (const Span& session : run.sessions) {
        run.makespan_s += session.end - session.start;
    }
    for (const auto& name : m_job_order) {
        finish_job(m_jobs.at(name));
    }
    for (const auto& name : m_host_order) {
        HostReport& h = m_hosts.at(name).report;
        // A Slurm host whose every attempt ran on a node it named: its nodes are its rows and slots.
        if (h.shards == 0 && m_node_parents.contains(name)) {
            continue;
        }
        finish_host(h);
    }
    if (m_max_parallel) {
        run.slots = std::min(run.slots, *m_max_parallel);
    }
    double capacity = static_cast<double>(run.slots) * run.makespan_s;
    run.speedup = share(run.t_total_s, run.makespan_s);
    run.utilization = capacity > 0 ? std::optional(std::min(1.0, run.t_total_s / capacity)) : std::nullopt;
    run.cpu_efficiency = run.cpu_s ? share(*run.cpu_s, m_cpu_measured_s) : std::nullopt;
    list_failures();
    return std::move(m_report);
}

// A job's counts, durations and efficiency, added to the run's.
void Collector::finish_job(JobTally& j) {
    RunReport& run = m_report.run;
    count_shards(j);
    std::sort(j.durations.begin(), j.durations.end());
    if (!j.durations.empty()) {
        j.report.duration_s = Durations{j.durations.front(), percentile(j.durations, 0.5),
                                        percentile(j.durations, 0.95), j.durations.back()};
        j.report.makespan_s = j.last - j.first;
    }
    j.report.cpu_efficiency = j.cpu_measured ? share(j.cpu_s, j.cpu_measured_s) : std::nullopt;
    run.shards.total += j.report.shards.total;
    run.shards.succeeded += j.report.shards.succeeded;
    run.shards.failed += j.report.shards.failed;
    run.shards.skipped += j.report.shards.skipped;
    m_report.jobs.push_back(std::move(j.report));
}

// A host's use of its slots over the run's active time (its sessions, not the gaps between them). A host that
// never connected had no slots to use: it is down, neither idle nor counted in the run's slots.
void Collector::finish_host(HostReport& h) {
    RunReport& run = m_report.run;
    double capacity = h.slots * run.makespan_s;
    if (h.connected) {
        h.idle_s = std::max(0.0, capacity - h.busy_s);
        h.utilization = capacity > 0 ? std::optional(std::min(1.0, h.busy_s / capacity)) : std::nullopt;
        run.slots += static_cast<std::uint64_t>(h.slots);
    }
    if (h.samples > 0) {
        *h.cpu_busy_mean /= static_cast<double>(h.samples);
    }
    m_report.hosts.push_back(std::move(h));
}

// The first k_max_failures shards whose last outcome is a failed try, each with the tail of its stderr.
void Collector::list_failures() {
    for (auto& [key, failure] : m_failed) {
        const JobTally& j = m_jobs.at(key.first);
        if (key.second >= j.report.shards.total || j.shards[key.second] != ShardState::failed) {
            continue; // gone from the spec, or given up on without running by a later session
        }
        if (m_report.failures.size() == k_max_failures) {
            ++m_report.more_failures;
            continue;
        }
        failure.stderr_tail = stderr_tail(failure.job, failure.index, failure.attempts);
        m_report.failures.push_back(std::move(failure));
    }
}

} // namespace

double active_seconds(const std::vector<Span>& sessions, double t) {
    double offset = 0;
    for (const Span& session : sessions) {
        if (t <= session.start) {
            return offset;
        }
        if (t <= session.end) {
            return offset + t - session.start;
        }
        offset += session.end - session.start;
    }
    return offset;
}

double percentile(const std::vector<double>& sorted, double p) {
    if (sorted.empty()) {
        return 0;
    }
    auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(sorted.size())));
    return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

Report build_report(const std::string& run_dir) {
    std::string journal = run_dir + "/journal.jsonl";
    Collector collector(run_dir);
    read_journal(journal, [&](const JournalEvent& event, int) { collector.visit(event); });
    Report report = collector.finish();
    fill_timelines(journal, report);
    return report;
}

} // namespace sshard::core
