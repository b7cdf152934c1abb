#include "core/job_graph.hpp"

#include <algorithm>
#include <cassert>
#include <map>

namespace sshard::core {

namespace {

enum Colour { k_unseen = 0, k_on_path = 1, k_finished = 2 };

} // namespace

JobGraph::JobGraph(const std::vector<JobSpec>& jobs) : m_jobs(jobs) {
    std::map<std::string, std::size_t> by_name;
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        by_name.emplace(jobs[i].name, i);
    }
    for (const auto& job : jobs) {
        auto& needs = m_needs.emplace_back();
        for (const auto& need : job.needs) {
            auto it = by_name.find(need);
            needs.push_back(it == by_name.end() ? std::nullopt : std::optional(it->second));
        }
    }
}

std::vector<JobGraph::UnknownNeed> JobGraph::unknown_needs() const {
    std::vector<UnknownNeed> unknown;
    for (std::size_t job = 0; job < m_jobs.size(); ++job) {
        for (std::size_t n = 0; n < m_needs[job].size(); ++n) {
            if (!m_needs[job][n]) {
                unknown.push_back({job, m_jobs[job].needs[n]});
            }
        }
    }
    return unknown;
}

// Depth-first search with colours; a job reached again while on the path closes a cycle.
std::vector<JobGraph::Cycle> JobGraph::cycles() const {
    std::vector<int> colour(m_jobs.size(), k_unseen);
    std::vector<std::size_t> path;
    std::vector<Cycle> cycles;
    for (std::size_t job = 0; job < m_jobs.size(); ++job) {
        if (colour[job] == k_unseen) {
            visit(job, colour, path, cycles);
        }
    }
    return cycles;
}

void JobGraph::visit(std::size_t job, std::vector<int>& colour, std::vector<std::size_t>& path,
                     std::vector<Cycle>& cycles) const {
    colour[job] = k_on_path;
    path.push_back(job);
    for (const auto& need : m_needs[job]) {
        assert(need);
        if (colour[*need] == k_on_path) {
            Cycle cycle{job, {}};
            for (auto it = std::find(path.begin(), path.end(), *need); it != path.end(); ++it) {
                cycle.path.push_back(m_jobs[*it].name);
            }
            cycle.path.push_back(m_jobs[*need].name);
            cycles.push_back(std::move(cycle));
        } else if (colour[*need] == k_unseen) {
            visit(*need, colour, path, cycles);
        }
    }
    path.pop_back();
    colour[job] = k_finished;
}

// Kahn's algorithm, picking the best ready job each time.
std::vector<std::size_t> JobGraph::dispatch_order() const {
    std::vector<std::size_t> pending;
    for (const auto& needs : m_needs) {
        pending.push_back(needs.size());
    }
    std::vector<bool> placed(m_jobs.size(), false);
    std::vector<std::size_t> order;
    while (order.size() < m_jobs.size()) {
        std::optional<std::size_t> best;
        for (std::size_t i = 0; i < m_jobs.size(); ++i) {
            if (!placed[i] && pending[i] == 0 && (!best || m_jobs[i].priority > m_jobs[*best].priority)) {
                best = i;
            }
        }
        assert(best);
        placed[*best] = true;
        order.push_back(*best);
        for (std::size_t i = 0; i < m_jobs.size(); ++i) {
            pending[i] -= static_cast<std::size_t>(std::count(m_needs[i].begin(), m_needs[i].end(), best));
        }
    }
    return order;
}

JobGraph::Readiness JobGraph::readiness(std::size_t job, const JobResult& result) const {
    Readiness readiness{true, std::nullopt};
    for (const auto& need : m_needs[job]) {
        assert(need);
        std::optional<bool> succeeded = result(*need);
        readiness.ready = readiness.ready && succeeded.has_value();
        if (succeeded == false && !readiness.failed_need) {
            readiness.failed_need = *need;
        }
    }
    return readiness;
}

} // namespace sshard::core
