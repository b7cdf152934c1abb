// How many CPUs this machine has: the slots of the implicit local host, `slots: auto` on local hosts, and what
// `sshard hosts --check` shows for them.
#pragma once

namespace sshard::core {

// This machine's CPU count: the threads the C++ library reports, else the online CPUs; at least 1 when neither
// knows.
int local_cpu_count();

} // namespace sshard::core
