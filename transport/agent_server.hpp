// The agent side of `sshard agent` (core/agent_protocol.hpp): reads start and cancel frames on its stdin, runs
// the shards on this node with a LocalTransport (process groups, cancel grace, a GroupSupervisor that kills
// them if the agent dies), and writes their output and ends as frames on its stdout. It trusts only its stdin:
// when that ends, or brings a bad frame, or stdout cannot be written, every shard is killed and the agent
// returns. A shard whose start frame carried a timeout is cancelled by the agent itself k_timeout_slack after
// it, should the runner's own cancel not have come (a runner stopped or cut off). Once it has said it is ready, it
// samples its node with a LocalSampler and sends each sample.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "core/agent_protocol.hpp"
#include "core/transport.hpp"
#include "core/unique_fd.hpp"
#include "transport/local_sampler.hpp"
#include "transport/local_transport.hpp"

namespace sshard::transport {

class AgentServer final : public core::TransportEvents {
public:
    static constexpr std::chrono::milliseconds k_timeout_slack{5000};

    // Serves frames read from `in_fd` and writes to `out_fd`. Throws core::Error when the local transport
    // cannot start.
    AgentServer(int in_fd, int out_fd);

    // Serves until `in_fd` ends (returns "") or a problem stops it (returns what, for humans); in both cases
    // every shard has been killed and its end written, as far as `out_fd` takes it.
    std::string serve();

    void on_finished(std::uint64_t attempt, core::Outcome outcome) override;
    void on_host_state(std::size_t host, core::HostState state) override;
    void on_host_sample(std::size_t host, core::HostSample sample) override;

    // Writes one frame to `out_fd`, whole; thread-safe. A failed write marks the output broken.
    void send(const core::agent::Message& message);

private:
    using Clock = std::chrono::steady_clock;

    std::string read_input(core::agent::Decoder& decoder, bool& ended);
    void handle(core::agent::Message& message);
    void start(core::agent::StartShard& start);
    void cancel_overdue();
    int poll_timeout_ms() const;

    int m_in_fd;
    int m_out_fd;
    std::mutex m_mutex;                // guards m_running, m_out_broken and writes to m_out_fd
    std::set<std::uint64_t> m_running; // started, end not yet sent
    bool m_out_broken = false;         // a write to m_out_fd failed: the runner is gone
    core::UniqueFd m_wake;             // an eventfd, readable once the output is broken
    std::multimap<Clock::time_point, std::uint64_t> m_deadlines; // main thread only
    // Last, these two: their threads call back into the members above.
    LocalSampler m_sampler;
    LocalTransport m_local;
};

} // namespace sshard::transport
