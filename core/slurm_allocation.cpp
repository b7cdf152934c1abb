#include "core/slurm_allocation.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <fmt/format.h>
#include <limits>

#include "core/hostlist.hpp"
#include "core/spec_limits.hpp"

namespace sshard::core {

namespace {

// A count in SLURM_JOB_CPUS_PER_NODE: digits only, at least 1.
int count_of(std::string_view digits, std::string_view item) {
    int value = 0;
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (digits.empty() || error != std::errc{} || end != digits.data() + digits.size() || value < 1) {
        throw HostlistError(fmt::format("bad SLURM_JOB_CPUS_PER_NODE item '{}' (expected N or N(xM))", item));
    }
    return value;
}

// Megabytes as Slurm writes them in the environment, in bytes; nullopt for 0 (all of a node's) and for text
// that is not such a number.
std::optional<std::uint64_t> megabytes(const char* text) {
    if (text == nullptr) {
        return std::nullopt;
    }
    std::string_view digits(text);
    std::uint64_t value = 0;
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    constexpr std::uint64_t k_mib = 1024 * 1024;
    if (digits.empty() || error != std::errc{} || end != digits.data() + digits.size() || value == 0 ||
        value > std::numeric_limits<std::uint64_t>::max() / k_mib) {
        return std::nullopt;
    }
    return value * k_mib;
}

} // namespace

std::vector<int> expand_cpus_per_node(std::string_view text) {
    std::vector<int> cpus;
    while (true) {
        std::string_view item = text.substr(0, text.find(','));
        std::size_t open = item.find("(x");
        int repeat = 1;
        if (open != std::string_view::npos) {
            if (item.back() != ')') {
                throw HostlistError(fmt::format("bad SLURM_JOB_CPUS_PER_NODE item '{}' (expected N or N(xM))", item));
            }
            repeat = count_of(item.substr(open + 2, item.size() - open - 3), item);
        }
        int count = count_of(item.substr(0, open), item);
        if (cpus.size() + static_cast<std::size_t>(repeat) > k_max_hosts_per_pattern) {
            throw HostlistError(
                fmt::format("SLURM_JOB_CPUS_PER_NODE names more than {} nodes", k_max_hosts_per_pattern));
        }
        cpus.insert(cpus.end(), static_cast<std::size_t>(repeat), count);
        if (item.size() == text.size()) {
            return cpus;
        }
        text.remove_prefix(item.size() + 1);
    }
}

std::vector<HostSpec> allocation_hosts(const char* nodelist, const char* cpus_per_node) {
    if (nodelist == nullptr || cpus_per_node == nullptr) {
        throw HostlistError(fmt::format("'{}' needs a Slurm allocation, and {} is not set: run sshard inside "
                                        "salloc or sbatch, or use 'sshard submit'",
                                        k_slurm_allocation,
                                        nodelist == nullptr ? "SLURM_JOB_NODELIST" : "SLURM_JOB_CPUS_PER_NODE"));
    }
    std::vector<std::string> names;
    for (const auto& pattern : split_hostlists(nodelist)) {
        for (auto& name : expand_hostlist(pattern, k_max_hosts_per_pattern)) {
            names.push_back(std::move(name));
        }
    }
    std::vector<int> cpus = expand_cpus_per_node(cpus_per_node);
    if (cpus.size() != names.size()) {
        throw HostlistError(fmt::format("SLURM_JOB_NODELIST '{}' has {} nodes but SLURM_JOB_CPUS_PER_NODE '{}' {}",
                                        nodelist, names.size(), cpus_per_node, cpus.size()));
    }
    std::vector<HostSpec> hosts;
    for (std::size_t i = 0; i < names.size(); ++i) {
        HostSpec host;
        host.name = names[i];
        host.slots = std::min(cpus[i], k_max_slots);
        host.transport = TransportKind::slurm_agent;
        hosts.push_back(std::move(host));
    }
    return hosts;
}

std::vector<HostSpec> allocation_hosts_from_environment() {
    return allocation_hosts(std::getenv("SLURM_JOB_NODELIST"), std::getenv("SLURM_JOB_CPUS_PER_NODE"));
}

std::optional<std::uint64_t> AllocationMemory::on_node(int cpus) const {
    if (per_node) {
        return per_node;
    }
    if (per_cpu && cpus > 0 && *per_cpu <= std::numeric_limits<std::uint64_t>::max() / static_cast<unsigned>(cpus)) {
        return *per_cpu * static_cast<unsigned>(cpus);
    }
    return std::nullopt;
}

AllocationMemory allocation_memory(const char* per_node, const char* per_cpu) {
    return {megabytes(per_node), megabytes(per_cpu)};
}

AllocationMemory allocation_memory_from_environment() {
    return allocation_memory(std::getenv("SLURM_MEM_PER_NODE"), std::getenv("SLURM_MEM_PER_CPU"));
}

} // namespace sshard::core
