#include "core/past_durations.hpp"

#include <algorithm>
#include <variant>

#include "core/error.hpp"
#include "core/fnv1a.hpp"
#include "core/journal.hpp"
#include "core/report.hpp"

namespace sshard::core {

namespace {

// A key as the journal holds it, hashed: the spec's command is compared in the journal's form.
std::uint64_t key_hash(std::string_view key) {
    return Fnv1a().add(journal_text(key)).value();
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return percentile(values, 0.5);
}

// A successful attempt, as read: its job and host by their number in the order first met.
struct Success {
    std::size_t job = 0;
    std::size_t host = 0;
    std::uint64_t index = 0;
    std::uint64_t key_hash = 0;
    double duration = 0;
};

// Names numbered in the order first met, so that a million attempts hold no million copies of a few names.
class Names {
public:
    std::size_t number(const std::string& name) {
        auto [it, added] = m_numbers.try_emplace(name, m_names.size());
        if (added) {
            m_names.push_back(name);
        }
        return it->second;
    }
    const std::string& name(std::size_t number) const { return m_names[number]; }
    std::size_t size() const { return m_names.size(); }

private:
    std::map<std::string, std::size_t> m_numbers;
    std::vector<std::string> m_names;
};

// Each host's speed: the median of its attempts' run times over their job's median, scaled to a median of 1.
std::vector<double> host_speeds(const std::vector<Success>& successes, const std::vector<double>& job_medians,
                                std::size_t hosts) {
    std::vector<std::vector<double>> ratios(hosts);
    for (const auto& s : successes) {
        if (job_medians[s.job] > 0) {
            ratios[s.host].push_back(s.duration / job_medians[s.job]);
        }
    }
    std::vector<double> speeds;
    for (auto& values : ratios) {
        double speed = values.empty() ? 1.0 : median(std::move(values));
        speeds.push_back(speed > 0 ? speed : 1.0);
    }
    double scale = median(speeds);
    for (double& speed : speeds) {
        speed = scale > 0 ? speed / scale : 1.0;
    }
    return speeds;
}

// What one pass over a journal gathers: the successful attempts, and each host's first connection.
struct Gathered {
    std::vector<Success> successes;
    Names jobs;
    Names hosts;
    std::map<std::string, PastHost> connected;
};

Gathered gather(const std::string& path) {
    Gathered g;
    bool any_event = false;
    read_journal(path, [&](const JournalEvent& event, int) {
        any_event = true;
        if (const auto* up = std::get_if<HostUpEvent>(&event)) {
            auto [it, added] = g.connected.try_emplace(up->host);
            if (added) {
                it->second.setup_s = up->setup_s;
                it->second.cpus = up->cpus;
            }
        }
        const auto* end = std::get_if<AttemptEndEvent>(&event);
        if (end != nullptr && end->verdict == Verdict::succeeded) {
            g.successes.push_back({g.jobs.number(end->job), g.hosts.number(end->host), end->index, key_hash(end->key),
                                   std::max(0.0, end->end - end->start)});
        }
    });
    if (!any_event) {
        throw UsageError("'" + path + "' is empty: the run recorded nothing to predict from");
    }
    if (g.successes.empty()) {
        throw UsageError("'" + path + "' has no shard that succeeded: no run time to predict from");
    }
    return g;
}

} // namespace

std::optional<double> JobDurations::own(std::uint64_t index, std::string_view key) const {
    auto it = std::lower_bound(m_shards.begin(), m_shards.end(), index,
                               [](const Shard& s, std::uint64_t i) { return s.index < i; });
    if (it == m_shards.end() || it->index != index || it->key_hash != key_hash(key)) {
        return std::nullopt;
    }
    return it->duration;
}

PastDurations PastDurations::read(const std::string& path) {
    Gathered g = gather(path);
    const std::vector<Success>& successes = g.successes;
    const Names& jobs = g.jobs;
    const Names& hosts = g.hosts;
    PastDurations past;
    past.m_hosts = std::move(g.connected);
    std::vector<std::vector<double>> durations(jobs.size());
    for (const auto& s : successes) {
        durations[s.job].push_back(s.duration);
    }
    std::vector<double> job_medians;
    for (auto& values : durations) {
        job_medians.push_back(median(std::move(values)));
        values.clear();
    }
    std::vector<double> speeds = host_speeds(successes, job_medians, hosts.size());
    std::vector<JobDurations*> by_number;
    for (std::size_t j = 0; j < jobs.size(); ++j) {
        by_number.push_back(&past.m_jobs[jobs.name(j)]);
    }
    for (const auto& s : successes) {
        double duration = s.duration / speeds[s.host];
        by_number[s.job]->m_shards.push_back({s.index, s.key_hash, duration});
        durations[s.job].push_back(duration);
    }
    for (std::size_t j = 0; j < jobs.size(); ++j) {
        by_number[j]->keep_last();
        by_number[j]->m_median = median(std::move(durations[j]));
    }
    std::vector<double> setups;
    std::vector<double> cpus;
    for (const auto& [name, host] : past.m_hosts) {
        setups.push_back(host.setup_s);
        if (host.cpus) {
            cpus.push_back(*host.cpus);
        }
    }
    for (std::size_t h = 0; h < hosts.size(); ++h) {
        past.m_hosts[hosts.name(h)].speed = speeds[h];
    }
    past.m_median_host.setup_s = median(std::move(setups));
    if (!cpus.empty()) {
        past.m_median_host.cpus = static_cast<int>(median(std::move(cpus)));
    }
    return past;
}

// A later success of the same shard (a resume after its spec changed) stands: the last of each index is kept.
void JobDurations::keep_last() {
    std::stable_sort(m_shards.begin(), m_shards.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
    auto last = std::unique(m_shards.rbegin(), m_shards.rend(),
                            [](const auto& a, const auto& b) { return a.index == b.index; });
    m_shards.erase(m_shards.begin(), last.base());
}

const JobDurations* PastDurations::job(const std::string& name) const {
    auto it = m_jobs.find(name);
    return it != m_jobs.end() ? &it->second : nullptr;
}

PastHost PastDurations::host(const std::string& name) const {
    auto it = m_hosts.find(name);
    return it != m_hosts.end() ? it->second : m_median_host;
}

} // namespace sshard::core
