// Samples this machine's CPU and memory from /proc for the local hosts of a run, on a thread of its own,
// every core::k_sample_interval, and reports each sample for every local host that has connected.
#pragma once

#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/host_sample.hpp"
#include "core/transport.hpp"

namespace sshard::transport {

class LocalSampler {
public:
    explicit LocalSampler(core::TransportEvents& events);
    // Stops the thread.
    ~LocalSampler();
    LocalSampler(const LocalSampler&) = delete;
    LocalSampler& operator=(const LocalSampler&) = delete;

    // Starts reporting samples for `host`. Thread-safe.
    void add(std::size_t host);
    // Stops sampling; no report comes after it returns.
    void stop();

private:
    void run();

    core::TransportEvents& m_events;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::vector<std::size_t> m_hosts;
    bool m_stop = false;
    std::thread m_thread;
};

} // namespace sshard::transport
