#include "transport/local_sampler.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace sshard::transport {

namespace {

std::optional<core::ProcReading> read_proc() {
    std::ostringstream text;
    for (const char* path : {"/proc/stat", "/proc/meminfo"}) {
        std::ifstream in(path);
        text << in.rdbuf();
    }
    return core::parse_proc(text.str());
}

} // namespace

LocalSampler::LocalSampler(core::TransportEvents& events)
    : m_events(events), m_previous(read_proc()), m_ticker(core::k_sample_interval, [this] { sample(); }) {}

void LocalSampler::add(std::size_t host) {
    std::lock_guard lock(m_mutex);
    if (std::find(m_hosts.begin(), m_hosts.end(), host) == m_hosts.end()) {
        m_hosts.push_back(host); // a host that reconnects is sampled once all the same
    }
}

void LocalSampler::stop() {
    m_ticker.stop();
}

void LocalSampler::sample() {
    auto reading = read_proc();
    auto sample = m_previous && reading ? core::sample_between(*m_previous, *reading) : std::nullopt;
    m_previous = reading;
    if (!sample) {
        return;
    }
    std::lock_guard lock(m_mutex);
    for (std::size_t host : m_hosts) {
        m_events.on_host_sample(host, *sample);
    }
}

} // namespace sshard::transport
