// `hosts: slurm_allocation`: inside an salloc or sbatch allocation, its nodes are the hosts, each with as many
// slots as the allocation has CPUs on it. Slurm says both in the environment of the allocation's processes:
// SLURM_JOB_NODELIST (a hostlist, `node[1-3],gpu5`) and SLURM_JOB_CPUS_PER_NODE (counts in node order, a run
// of equal ones folded as `N(xM)`: `2(x3),1`).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "core/spec.hpp"

namespace sshard::core {

// The word that names the allocation as the hosts, in a spec and in --hosts.
constexpr std::string_view k_slurm_allocation = "slurm_allocation";

// Expands SLURM_JOB_CPUS_PER_NODE: "2(x3),1" -> {2, 2, 2, 1}. Throws HostlistError naming the bad part.
std::vector<int> expand_cpus_per_node(std::string_view text);

// The allocation's nodes as hosts of transport slurm_agent, from the values of SLURM_JOB_NODELIST and
// SLURM_JOB_CPUS_PER_NODE (null: unset). Throws HostlistError when either is unset (not inside an allocation),
// malformed, or when they disagree on the number of nodes.
std::vector<HostSpec> allocation_hosts(const char* nodelist, const char* cpus_per_node);

// allocation_hosts() with this process's environment.
std::vector<HostSpec> allocation_hosts_from_environment();

// The memory an allocation was given, as sbatch and salloc say it for --mem and --mem-per-cpu in
// SLURM_MEM_PER_NODE and SLURM_MEM_PER_CPU (megabytes); nothing when it asked for none, or for 0 (all of each
// node's).
struct AllocationMemory {
    std::optional<std::uint64_t> per_node; // bytes
    std::optional<std::uint64_t> per_cpu;  // bytes
    // The memory the allocation has on a node where it has `cpus` CPUs; nullopt: the node's own.
    std::optional<std::uint64_t> on_node(int cpus) const;
};

// The AllocationMemory of the values of SLURM_MEM_PER_NODE and SLURM_MEM_PER_CPU (null: unset); a value that is
// not a number of megabytes, which Slurm never sets, counts as unset.
AllocationMemory allocation_memory(const char* per_node, const char* per_cpu);

// allocation_memory() with this process's environment.
AllocationMemory allocation_memory_from_environment();

} // namespace sshard::core
