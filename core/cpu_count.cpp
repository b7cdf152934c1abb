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

std::optional<std::uint64_t> local_memory_size() {
    long pages = ::sysconf(_SC_PHYS_PAGES);
    long page_size = ::sysconf(_SC_PAGE_SIZE);
    if (pages <= 0 || page_size <= 0) {
        return std::nullopt;
    }
    return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page_size);
}

} // namespace sshard::core
