#include "core/report.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/journal.hpp"

namespace sshard::core {

namespace {

using nlohmann::json;

struct JobState {
    JobReport report;
    std::vector<double> durations;
    double first = 0;
    double last = 0;
    double cpu_s = 0;
    double cpu_measured_s = 0; // run time of the attempts that measured CPU
};

struct HostState {
    HostReport report;
    bool auto_slots = false;
    bool up = false;
};

// Everything one pass over the journal gathers.
class Collector {
public:
    explicit Collector(std::string run_dir) : m_run_dir(std::move(run_dir)) {}

    void visit(const json& e);
    Report finish();

private:
    void run_start(const json& e);
    void attempt_end(const json& e);
    void shard_failed(const json& e, const std::string& job, std::uint64_t index);
    JobState& job(const std::string& name);
    HostState& host(const std::string& name);
    std::string stderr_tail(const std::string& job, std::uint64_t index, int attempt) const;

    std::string m_run_dir;
    Report m_report;
    std::vector<std::string> m_job_order;
    std::map<std::string, JobState> m_jobs;
    std::vector<std::string> m_host_order;
    std::map<std::string, HostState> m_hosts;
    std::map<std::pair<std::string, std::uint64_t>, FailedShard> m_failed; // shards whose last try failed
    std::map<std::pair<std::string, std::uint64_t>, std::pair<std::vector<std::string>, int>> m_tries;
    std::optional<double> m_session_first;
    double m_session_last = 0;
    double m_cpu_measured_s = 0;
};

JobState& Collector::job(const std::string& name) {
    auto [it, added] = m_jobs.try_emplace(name);
    if (added) {
        it->second.report.name = name;
        m_job_order.push_back(name);
    }
    return it->second;
}

HostState& Collector::host(const std::string& name) {
    auto [it, added] = m_hosts.try_emplace(name);
    if (added) {
        it->second.report.name = name;
        m_host_order.push_back(name);
    }
    return it->second;
}

void Collector::visit(const json& e) {
    const std::string kind = e.value("event", "");
    if (kind == "run_start") {
        run_start(e);
    } else if (kind == "host_up") {
        HostState& h = host(e.at("host"));
        h.up = true;
        if (!h.report.setup_s) {
            h.report.setup_s = e.value("setup_s", 0.0);
        }
        if (h.auto_slots && e.contains("cpus") && e["cpus"].is_number()) {
            h.report.slots = std::max(1, e["cpus"].get<int>());
        }
    } else if (kind == "host_down") {
        HostState& h = host(e.at("host"));
        if (h.up) {
            ++h.report.losses;
            ++m_report.run.host_losses;
        }
        h.up = false;
    } else if (kind == "host_sample") {
        HostReport& h = host(e.at("host")).report;
        double busy = e.at("cpu_busy");
        std::uint64_t used = e.at("mem_used");
        ++h.samples;
        h.cpu_busy_mean = h.cpu_busy_mean.value_or(0) + busy; // a sum until finish()
        h.cpu_busy_peak = std::max(h.cpu_busy_peak.value_or(0), busy);
        h.mem_used_peak = std::max(h.mem_used_peak.value_or(0), used);
        h.mem_total = e.value("mem_total", std::uint64_t{0});
    } else if (kind == "attempt_end") {
        attempt_end(e);
    } else if (kind == "shards_not_run") {
        bool failed = e.value("as", "") == "failed";
        NotRun group{e.at("job"), e.at("count"), failed, e.value("reason", "")};
        (failed ? job(group.job).report.shards.failed : job(group.job).report.shards.skipped) += group.count;
        m_report.not_run.push_back(std::move(group));
    } else if (kind == "run_end") {
        m_report.run.interrupted = e.value("interrupted", false);
    }
}

void Collector::run_start(const json& e) {
    // A resume starts a new session: the makespan counts each session's span, not the pause between them.
    if (m_session_first) {
        m_report.run.makespan_s += m_session_last - *m_session_first;
    }
    m_session_first.reset();
    m_report.run.name = e.value("name", "");
    m_report.run.run_id = e.value("run", "");
    if (m_report.run.start == 0) {
        m_report.run.start = e.value("time", 0.0);
    }
    for (const auto& h : e.at("hosts")) {
        HostState& state = host(h.at("name"));
        state.auto_slots = h.value("auto_slots", false);
        state.report.slots = h.value("slots", 1);
    }
    for (const auto& j : e.at("jobs")) {
        job(j.at("name")).report.shards.total = j.at("shards");
    }
}

void Collector::attempt_end(const json& e) {
    const std::string job_name = e.at("job");
    const std::uint64_t index = e.at("index");
    const std::string host_name = e.at("host");
    const std::string verdict = e.value("verdict", "");
    double start = e.value("start", 0.0);
    double end = e.value("end", start);
    double d = std::max(0.0, end - start);
    RunReport& run = m_report.run;
    ++run.attempts;
    run.t_total_s += d;
    run.start = run.attempts == 1 ? start : std::min(run.start, start);
    run.end = std::max(run.end, end);
    m_session_first = m_session_first ? std::min(*m_session_first, start) : start;
    m_session_last = std::max(m_session_last, end);

    JobState& j = job(job_name);
    j.first = j.report.attempts == 0 ? start : std::min(j.first, start);
    j.last = std::max(j.last, end);
    ++j.report.attempts;
    j.report.t_total_s += d;
    j.durations.push_back(d);
    HostState& h = host(host_name);
    ++h.report.shards;
    h.report.busy_s += d;
    if (e.contains("cpu_user_s")) {
        double user = e["cpu_user_s"].get<double>();
        double sys = e.value("cpu_sys_s", 0.0);
        h.report.cpu_user_s += user;
        h.report.cpu_sys_s += sys;
        j.cpu_s += user + sys;
        j.cpu_measured_s += d;
        run.cpu_s += user + sys;
        m_cpu_measured_s += d;
    }
    if (verdict == "retry" || verdict == "requeued") {
        ++run.retries;
        ++j.report.retries;
    }
    if (verdict == "retry" || verdict == "failed") {
        ++h.report.failures;
    }
    auto key = std::pair(job_name, index);
    if (verdict == "succeeded") {
        ++j.report.shards.succeeded;
        m_tries.erase(key);
        if (m_failed.erase(key) != 0) {
            --j.report.shards.failed; // a resume with --retry-failed ran it again, with success
        }
        return;
    }
    // Only shards with an unsuccessful try are tracked, so memory follows the failures, not the run.
    auto& [hosts, tries] = m_tries[key];
    if (std::find(hosts.begin(), hosts.end(), host_name) == hosts.end()) {
        hosts.push_back(host_name);
    }
    tries = std::max(tries, e.value("attempt", 1));
    if (verdict == "failed") {
        ++j.report.shards.failed;
        FailedShard& f = m_failed[key];
        f = {job_name, index, hosts, tries, e.value("reason", ""), e.value("output_error", ""), {}};
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
    RunReport& run = m_report.run;
    if (m_session_first) {
        run.makespan_s += m_session_last - *m_session_first;
    }
    for (const auto& name : m_job_order) {
        JobState& j = m_jobs.at(name);
        std::sort(j.durations.begin(), j.durations.end());
        j.report.duration_s = {j.durations.empty() ? 0 : j.durations.front(), percentile(j.durations, 0.5),
                               percentile(j.durations, 0.95), j.durations.empty() ? 0 : j.durations.back()};
        j.report.cpu_efficiency = j.cpu_measured_s > 0 ? j.cpu_s / j.cpu_measured_s : 0;
        j.report.makespan_s = j.last - j.first;
        run.shards.total += j.report.shards.total;
        run.shards.succeeded += j.report.shards.succeeded;
        run.shards.failed += j.report.shards.failed;
        run.shards.skipped += j.report.shards.skipped;
        m_report.jobs.push_back(std::move(j.report));
    }
    for (const auto& name : m_host_order) {
        HostReport& h = m_hosts.at(name).report;
        double capacity = h.slots * run.makespan_s;
        h.idle_s = std::max(0.0, capacity - h.busy_s);
        h.utilization = capacity > 0 ? std::min(1.0, h.busy_s / capacity) : 0;
        if (h.samples > 0) {
            *h.cpu_busy_mean /= static_cast<double>(h.samples);
        }
        run.slots += static_cast<std::uint64_t>(h.slots);
        m_report.hosts.push_back(std::move(h));
    }
    double capacity = static_cast<double>(run.slots) * run.makespan_s;
    run.speedup = run.makespan_s > 0 ? run.t_total_s / run.makespan_s : 0;
    run.utilization = capacity > 0 ? std::min(1.0, run.t_total_s / capacity) : 0;
    run.cpu_efficiency = m_cpu_measured_s > 0 ? run.cpu_s / m_cpu_measured_s : 0;
    for (auto& [key, failure] : m_failed) {
        if (m_report.failures.size() == k_max_failures) {
            ++m_report.more_failures;
            continue;
        }
        failure.stderr_tail = stderr_tail(failure.job, failure.index, failure.attempts);
        m_report.failures.push_back(std::move(failure));
    }
    return std::move(m_report);
}

// Adds each attempt's time to the slices of its host's timeline it overlaps.
void fill_timelines(const std::string& journal, Report& report) {
    std::map<std::string, HostReport*> hosts;
    for (auto& h : report.hosts) {
        h.timeline.assign(k_timeline_slices, 0.0);
        hosts[h.name] = &h;
    }
    double from = report.run.start;
    double span = report.run.end - from;
    if (span <= 0) {
        return;
    }
    double slice = span / k_timeline_slices;
    read_journal(journal, [&](const json& e, int) {
        if (e.value("event", "") != "attempt_end") {
            return;
        }
        HostReport* h = hosts.at(e.at("host"));
        double start = e.value("start", 0.0) - from;
        double end = e.value("end", 0.0) - from;
        auto first = static_cast<std::size_t>(std::clamp(start / slice, 0.0, k_timeline_slices - 1.0));
        for (std::size_t i = first; i < k_timeline_slices && i * slice < end; ++i) {
            double overlap = std::min(end, (i + 1) * slice) - std::max(start, i * slice);
            h->timeline[i] += std::max(0.0, overlap);
        }
    });
    for (auto& h : report.hosts) {
        for (double& busy : h.timeline) {
            busy = h.slots > 0 ? std::min(1.0, busy / (slice * h.slots)) : 0;
        }
    }
}

} // namespace

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
    read_journal(journal, [&](const json& e, int line) {
        try {
            collector.visit(e);
        } catch (const json::exception& error) {
            throw Error(fmt::format("journal '{}' line {}: bad {} event: {}", journal, line, e.value("event", "?"),
                                    error.what()));
        }
    });
    Report report = collector.finish();
    fill_timelines(journal, report);
    return report;
}

} // namespace sshard::core
