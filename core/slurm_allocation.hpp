// `hosts: slurm_allocation`: inside an salloc or sbatch allocation, its nodes are the hosts, each with as many
// slots as the allocation has CPUs on it. Slurm says both in the environment of the allocation's processes:
// SLURM_JOB_NODELIST (a hostlist, `node[1-3],gpu5`) and SLURM_JOB_CPUS_PER_NODE (counts in node order, a run
// of equal ones folded as `N(xM)`: `2(x3),1`).
#pragma once

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

} // namespace sshard::core
