#include "core/plan.hpp"

#include <algorithm>
#include <string_view>
#include <unordered_map>

#include "core/hosts.hpp"
#include "core/job_graph.hpp"

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

// Each each_host shard's host, by the name the loader gave it.
std::vector<std::size_t> pinned_hosts(const Spec& spec, const JobSpec& job) {
    std::vector<std::size_t> pinned;
    if (const auto* each_host = std::get_if<EachHostShards>(&job.shards)) {
        std::unordered_map<std::string_view, std::size_t> index;
        for (std::size_t i = 0; i < spec.hosts.size(); ++i) {
            index.emplace(spec.hosts[i].name, i);
        }
        for (const auto& name : each_host->hosts) {
            pinned.push_back(index.at(name));
        }
    }
    return pinned;
}

} // namespace

Plan make_plan(const Spec& spec) {
    Plan plan;
    plan.spec = &spec;
    for (std::size_t index : JobGraph(spec.jobs).dispatch_order()) {
        const JobSpec& job = spec.jobs[index];
        auto stage = job.stage.empty() ? nullptr : std::make_shared<StageSet>(job.stage, job.workdir);
        plan.jobs.push_back(
            {&job, ShardSet(job), eligible_hosts(spec, job), pinned_hosts(spec, job), std::move(stage)});
        plan.total_shards += plan.jobs.back().shards.size();
    }
    return plan;
}

} // namespace sshard::core
