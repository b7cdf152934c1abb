#include "core/plan.hpp"

#include <algorithm>
#include <map>

#include "core/hosts.hpp"

namespace sshard::core {

namespace {

std::vector<std::size_t> eligible_hosts(const Spec& spec, const JobSpec& job) {
    std::vector<std::size_t> hosts;
    if (job.hosts) {
        hosts = filter_hosts(spec.hosts, *job.hosts);
    } else {
        for (std::size_t i = 0; i < spec.hosts.size(); ++i) {
            hosts.push_back(i);
        }
    }
    std::stable_sort(hosts.begin(), hosts.end(),
                     [&](std::size_t a, std::size_t b) { return spec.hosts[a].priority > spec.hosts[b].priority; });
    return hosts;
}

// Kahn's algorithm, picking the best ready job each time; the spec has no cycles (the loader checked).
std::vector<const JobSpec*> dispatch_order(const Spec& spec) {
    std::map<std::string, std::size_t> pending;
    for (const auto& job : spec.jobs) {
        pending[job.name] = job.needs.size();
    }
    std::vector<const JobSpec*> order;
    std::vector<bool> placed(spec.jobs.size(), false);
    while (order.size() < spec.jobs.size()) {
        const JobSpec* best = nullptr;
        std::size_t best_index = 0;
        for (std::size_t i = 0; i < spec.jobs.size(); ++i) {
            const auto& job = spec.jobs[i];
            if (!placed[i] && pending[job.name] == 0 && (best == nullptr || job.priority > best->priority)) {
                best = &job;
                best_index = i;
            }
        }
        placed[best_index] = true;
        order.push_back(best);
        for (const auto& job : spec.jobs) {
            pending[job.name] -= std::count(job.needs.begin(), job.needs.end(), best->name);
        }
    }
    return order;
}

} // namespace

Plan make_plan(const Spec& spec) {
    Plan plan;
    plan.spec = &spec;
    for (const JobSpec* job : dispatch_order(spec)) {
        plan.jobs.push_back({job, ShardSet(*job), eligible_hosts(spec, *job)});
        plan.total_shards += plan.jobs.back().shards.size();
    }
    return plan;
}

} // namespace sshard::core
