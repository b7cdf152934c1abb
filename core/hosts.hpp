// Host strings and host filters: how a spec names its hosts and how a job picks among them.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/spec.hpp"

namespace sshard::core {

// Parses `[slots/][user@]hostlist[:port]` (GNU parallel's `8/user@node[1-4]:2222`) into one HostSpec per
// expanded name, transport ssh. Throws HostlistError with a message naming the bad part.
std::vector<HostSpec> parse_host_string(std::string_view text);

// Parses a comma-separated list of host strings (the --hosts flag); commas inside brackets belong to the
// hostlist; `slurm_allocation` alone is the nodes of the allocation sshard runs in (core/slurm_allocation.hpp).
// Throws HostlistError, also for a host listed twice.
std::vector<HostSpec> parse_host_list(std::string_view text);

// Whether a host name matches one filter pattern: the pattern is expanded as a hostlist, and each expansion
// is matched as a shell glob (`*`, `?`). Throws HostlistError for a bad pattern.
bool host_matches(std::string_view name, std::string_view pattern);

// Indices of the hosts a filter admits, in host order. Throws HostlistError for a bad pattern.
std::vector<std::size_t> filter_hosts(const std::vector<HostSpec>& hosts, const HostFilter& filter);

} // namespace sshard::core
