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

LocalSampler::LocalSampler(core::TransportEvents& events) : m_events(events) {
    m_thread = std::thread([this] { run(); });
}

LocalSampler::~LocalSampler() {
    stop();
}

void LocalSampler::add(std::size_t host) {
    std::lock_guard lock(m_mutex);
    if (std::find(m_hosts.begin(), m_hosts.end(), host) == m_hosts.end()) {
        m_hosts.push_back(host); // a host that reconnects is sampled once all the same
    }
}

void LocalSampler::stop() {
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_one();
    if (m_thread.joinable()) {
        m_thread.join();
    }
}

void LocalSampler::run() {
    auto previous = read_proc();
    std::unique_lock lock(m_mutex);
    while (!m_wake.wait_for(lock, core::k_sample_interval, [&] { return m_stop; })) {
        lock.unlock();
        auto reading = read_proc();
        auto sample = previous && reading ? core::sample_between(*previous, *reading) : std::nullopt;
        previous = reading;
        lock.lock();
        for (std::size_t host : sample ? m_hosts : std::vector<std::size_t>{}) {
            m_events.on_host_sample(host, *sample);
        }
    }
}

} // namespace sshard::transport
