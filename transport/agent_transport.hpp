// The transport for the nodes of the Slurm allocation sshard runs in (`hosts: slurm_allocation`): on each node
// one long-lived `srun -N1 -n1 --exact -w NODE --cpus-per-task=SLOTS --mem=0 sshard agent` step (agent_step.hpp)
// runs every shard the node gets, so Slurm's cost of a launch is paid once per node, not once per shard. The
// runner and the agents speak core/agent_protocol.hpp over the steps' stdin and stdout.
//
// A node's memory, for the jobs' `memory`, is what its agent measures, but no more than the allocation has on it
// (SLURM_MEM_PER_NODE, or SLURM_MEM_PER_CPU times its CPUs), where the allocation asked for memory.
//
// One I/O thread owns every step: it writes queued frames, reads output and ends, and notices a step that dies.
// A step that dies (or breaks the protocol, or is not ready within k_ready_timeout) fails its running shards as
// transport failures and reports its host down; the scheduler reconnects it later, which starts a new step.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/mailbox.hpp"
#include "core/slurm_allocation.hpp"
#include "core/spec.hpp"
#include "core/transport.hpp"
#include "transport/agent_step.hpp"

namespace sshard::transport {

class AgentTransport final : public core::Transport {
public:
    static constexpr std::chrono::seconds k_ready_timeout{60};
    // After the agents' input is closed at shutdown, how long they have to end before srun is killed.
    static constexpr std::chrono::seconds k_shutdown_wait{10};

    // Starts the I/O thread. `hosts` must outlive the transport. The steps run this same binary as the agent.
    // Throws core::Error when the thread cannot start or the binary's path cannot be found.
    AgentTransport(core::TransportEvents& events, const std::vector<core::HostSpec>& hosts);
    ~AgentTransport() override;
    AgentTransport(const AgentTransport&) = delete;
    AgentTransport& operator=(const AgentTransport&) = delete;

    // Starts the host's step; the host is up once its agent says it is ready.
    void connect(std::size_t host) override;
    // Sends the shard to its host's agent; a host without a ready agent fails it as a transport failure.
    void start(core::Launch launch) override;
    // Sends a cancel to the attempt's agent (TERM to its group, KILL after `grace`). Unknown attempts are ignored.
    void cancel(std::uint64_t attempt, std::chrono::milliseconds grace) override;
    // Closes every agent's input (each kills its shards and reports them), waits for their ends (at most
    // k_shutdown_wait, then srun is killed and what is left fails), and stops the thread.
    void shutdown() override;
    // Closes the host's step; its agent ends.
    void disconnect(std::size_t host) override;

private:
    using Clock = std::chrono::steady_clock;
    struct Request {
        enum class Kind { connect, start, cancel, disconnect, stop };
        Kind kind = Kind::stop;
        std::size_t host = 0;
        core::Launch launch{};
        std::uint64_t attempt = 0;
        std::chrono::milliseconds grace{};
    };
    struct Node {
        AgentStep step;
        bool ready = false;
        bool out_ended = false;
        bool err_ended = false;
        bool ending = false;          // its input is closed
        bool killed = false;          // srun was sent KILL at the deadline
        bool refused = false;         // it sent a frame out of turn: nothing more it sends is believed
        bool quiet = false;           // disconnected on purpose: its end is not a host failure
        bool reconnect = false;       // connected again while it was ending: a new step follows once it has ended
        Clock::time_point deadline{}; // to be ready, or to end after its input closed
        std::string problem;          // why it is being ended, for the host's state
    };
    struct Running {
        std::size_t host = 0;
        std::shared_ptr<core::OutputSink> output;
        core::WallTime start{};
    };

    void post(Request request);
    void run();
    void handle(Request& request);
    void launch_step(std::size_t host);
    void send_start(core::Launch& launch);
    void wait_for_events();
    void serve_output(std::size_t host, Node& node);
    void deliver(std::size_t host, Node& node, core::agent::Message& message);
    void end_node(Node& node, std::string problem);
    void check_deadlines();
    void finish_ended();
    void fail_host_attempts(std::size_t host, const std::string& reason);

    core::TransportEvents& m_events;
    const std::vector<core::HostSpec>& m_hosts;
    std::string m_agent;
    core::AllocationMemory m_memory; // a node's memory is no more than the allocation's on it
    core::Mailbox<Request> m_inbox{core::Mailbox<Request>::Wake::descriptor};
    bool m_stop_posted = false; // touched by the calling thread only

    // Only the I/O thread touches these.
    std::map<std::size_t, std::unique_ptr<Node>> m_nodes;
    std::map<std::uint64_t, Running> m_running;
    bool m_stopping = false;
    std::thread m_thread; // last: it starts once everything above exists
};

} // namespace sshard::transport
