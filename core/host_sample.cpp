#include "core/host_sample.hpp"

#include <algorithm>
#include <charconv>
#include <vector>

namespace sshard::core {

namespace {

std::vector<std::uint64_t> numbers(std::string_view line) {
    std::vector<std::uint64_t> out;
    const char* p = line.data();
    const char* end = line.data() + line.size();
    while (p < end) {
        while (p < end && (*p < '0' || *p > '9')) {
            ++p;
        }
        std::uint64_t value = 0;
        auto [next, ec] = std::from_chars(p, end, value);
        if (ec != std::errc()) {
            break;
        }
        out.push_back(value);
        p = next;
    }
    return out;
}

// The number after "<key>:" in meminfo, in bytes (the file counts kB).
std::optional<std::uint64_t> meminfo_bytes(std::string_view text, std::string_view key) {
    auto at = text.find(key);
    while (at != std::string_view::npos && at != 0 && text[at - 1] != '\n') {
        at = text.find(key, at + 1);
    }
    if (at == std::string_view::npos) {
        return std::nullopt;
    }
    auto line = text.substr(at + key.size(), text.find('\n', at) - at - key.size());
    auto values = numbers(line);
    return values.empty() ? std::nullopt : std::optional(values[0] * 1024);
}

} // namespace

std::optional<ProcReading> parse_proc(std::string_view text) {
    if (text.rfind("cpu ", 0) != 0) {
        return std::nullopt;
    }
    // "cpu  user nice system idle iowait irq softirq steal guest guest_nice": guests are within user and nice.
    auto values = numbers(text.substr(0, text.find('\n')));
    auto total_mem = meminfo_bytes(text, "MemTotal:");
    auto available = meminfo_bytes(text, "MemAvailable:");
    if (values.size() < 5 || !total_mem || !available) {
        return std::nullopt;
    }
    ProcReading reading;
    for (std::size_t i = 0; i < std::min<std::size_t>(values.size(), 8); ++i) {
        reading.cpu_total += values[i];
    }
    reading.cpu_idle = values[3] + values[4];
    reading.mem_total = *total_mem;
    reading.mem_used = *total_mem - std::min(*total_mem, *available);
    return reading;
}

std::optional<HostSample> sample_between(const ProcReading& before, const ProcReading& after) {
    if (after.cpu_total <= before.cpu_total) {
        return std::nullopt;
    }
    double total = static_cast<double>(after.cpu_total - before.cpu_total);
    double idle = static_cast<double>(after.cpu_idle >= before.cpu_idle ? after.cpu_idle - before.cpu_idle : 0);
    HostSample sample;
    sample.cpu_busy = std::clamp(1.0 - idle / total, 0.0, 1.0);
    sample.mem_used = after.mem_used;
    sample.mem_total = after.mem_total;
    return sample;
}

} // namespace sshard::core
