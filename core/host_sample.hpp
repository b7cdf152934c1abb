// A host's own resource use, read from Linux's /proc: how busy its CPUs were between two readings, and how
// much memory was in use. Transports read the files; this parses them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sshard::core {

// The counters of one reading of /proc/stat and /proc/meminfo.
struct ProcReading {
    std::uint64_t cpu_total = 0; // jiffies, all states
    std::uint64_t cpu_idle = 0;  // idle and iowait
    std::uint64_t mem_total = 0; // bytes
    std::uint64_t mem_used = 0;  // bytes: MemTotal - MemAvailable
};

// What a transport reports: the CPU busy share since the previous reading, and the memory in use now.
struct HostSample {
    double cpu_busy = 0; // 0..1
    std::uint64_t mem_used = 0;
    std::uint64_t mem_total = 0;
};

// A host held back from new shards by its `max_load` or `min_free_memory`, or free of it again.
struct HostHold {
    bool held = false;
    std::string kind;   // "load" or "memory"
    std::string reason; // for humans: "CPU 95% busy, over max_load 90%"
};

// Parses the text of /proc/stat followed by /proc/meminfo (as `cat /proc/stat /proc/meminfo` prints them);
// nullopt when either part is missing, as on hosts that are not Linux.
std::optional<ProcReading> parse_proc(std::string_view text);

// The sample between two readings of one host; nullopt when no CPU time passed.
std::optional<HostSample> sample_between(const ProcReading& before, const ProcReading& after);

} // namespace sshard::core
