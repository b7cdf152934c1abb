#include "core/cpu_count.hpp"

#include <algorithm>
#include <thread>
#include <unistd.h>

namespace sshard::core {

int local_cpu_count() {
    long cpus = std::thread::hardware_concurrency();
    if (cpus <= 0) {
        cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
    }
    return static_cast<int>(std::clamp(cpus, 1L, 1L << 20));
}

} // namespace sshard::core
