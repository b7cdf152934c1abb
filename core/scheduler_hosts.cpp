// Hosts that change while the run goes: added from a host file, drained and undrained. A drained host keeps
// its running shards and takes no new one; once idle, it is let go (process_timers disconnects it).
#include <fmt/format.h>

#include "core/hosts.hpp"
#include "core/names.hpp"
#include "core/scheduler_impl.hpp"

namespace sshard::core {

std::string Scheduler::Impl::add_host(HostSpec spec) {
    if (hosts.find(spec.name)) {
        drain_hosts({spec.name}, false, "");
        return {};
    }
    std::vector<HostSpec>* table = options.host_table;
    if (table == nullptr || table->size() == table->capacity()) {
        return fmt::format("host '{}' not added: the run has no room for more hosts", spec.name);
    }
    spec.max_load = spec.max_load ? spec.max_load : plan.spec->host_defaults.max_load;
    spec.min_free_memory = spec.min_free_memory ? spec.min_free_memory : plan.spec->host_defaults.min_free_memory;
    table->push_back(std::move(spec));
    std::size_t host = hosts.add(table->back());
    for (auto& job : jobs) {
        const auto& filter = job.planned->job->hosts;
        if (!filter || !filter_hosts({table->back()}, *filter).empty()) {
            job.eligible.push_back(host);
        }
    }
    listener.host_added(host);
    transport->add_host(host);
    transport->connect(host);
    return {};
}

std::string Scheduler::Impl::drain_hosts(const std::vector<std::string>& names, bool drain, const std::string& by) {
    std::vector<std::size_t> found;
    for (const auto& name : names) {
        auto host = hosts.find(name);
        if (!host) {
            std::vector<std::string> known;
            for (const auto& spec : plan.spec->hosts) {
                known.push_back(spec.name);
            }
            std::string hint = closest_match(name, known);
            return hint.empty() ? fmt::format("the run has no host '{}'", name)
                                : fmt::format("the run has no host '{}' (did you mean '{}'?)", name, hint);
        }
        found.push_back(*host);
    }
    for (std::size_t host : found) {
        if (hosts.set_drained(host, drain)) {
            listener.host_held(host, HostHold{drain, "drain", drain ? by : ""});
        }
    }
    return {};
}

} // namespace sshard::core
