// How many CPUs and how much memory this machine has: the slots of the implicit local host, `slots: auto` on
// local hosts, what `sshard hosts --check` shows for them, and the capacity a job's `cpus` and `memory` are
// checked against at load.
#pragma once

#include <cstdint>
#include <optional>

namespace sshard::core {

// This machine's CPU count: the threads the C++ library reports, else the online CPUs; at least 1 when neither
// knows.
int local_cpu_count();

// This machine's physical memory in bytes; nullopt when the system does not say.
std::optional<std::uint64_t> local_memory_size();

} // namespace sshard::core
