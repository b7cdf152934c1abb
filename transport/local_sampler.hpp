// Samples this machine's CPU and memory from /proc for the local hosts of a run, on a thread of its own,
// every core::k_sample_interval, and reports each sample for every local host that has connected.
#pragma once

#include <mutex>
#include <optional>
#include <vector>

#include "core/host_sample.hpp"
#include "core/ticker.hpp"
#include "core/transport.hpp"

namespace sshard::transport {

class LocalSampler {
public:
    explicit LocalSampler(core::TransportEvents& events);

    // Starts reporting samples for `host`. Thread-safe.
    void add(std::size_t host);
    // Stops sampling; no report comes after it returns.
    void stop();

private:
    void sample();

    core::TransportEvents& m_events;
    std::mutex m_mutex;
    std::vector<std::size_t> m_hosts;
    std::optional<core::ProcReading> m_previous; // the ticker's
    core::Ticker m_ticker;                       // last: its thread calls sample()
};

} // namespace sshard::transport
