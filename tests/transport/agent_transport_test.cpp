// The runner's side of `hosts: slurm_allocation` against an agent that lies: a fake `srun` first on PATH plays
// the step, writing frames from a file, so these tests need no Slurm (tests/slurm/slurm_agent_test.cpp runs the
// real agent in real steps). The runner believes only well-formed frames in their order.
#include "transport/agent_transport.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <mutex>
#include <string>
#include <vector>

#include "core/agent_protocol.hpp"

namespace sshard::transport {
namespace {

namespace agent = core::agent;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

// What the transport reported, for the test to wait on.
class AgentEventLog : public core::TransportEvents {
public:
    void on_finished(std::uint64_t /*attempt*/, core::Outcome /*outcome*/) override {}
    void on_host_state(std::size_t /*host*/, core::HostState state) override {
        std::lock_guard lock(m_mutex);
        m_states.push_back(std::move(state));
        m_changed.notify_all();
    }
    void on_host_sample(std::size_t /*host*/, core::HostSample sample) override {
        std::lock_guard lock(m_mutex);
        m_samples.push_back(sample);
    }
    // The host's states once it has been reported down (or all of them after 20 s, which fails the test).
    std::vector<core::HostState> states_until_down() {
        std::unique_lock lock(m_mutex);
        m_changed.wait_for(lock, 20s, [&] { return !m_states.empty() && !m_states.back().up; });
        return m_states;
    }
    std::vector<core::HostSample> samples() {
        std::lock_guard lock(m_mutex);
        return m_samples;
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_changed;
    std::vector<core::HostState> m_states;
    std::vector<core::HostSample> m_samples;
};

// A sample frame whose CPU share is `busy` millionths, whatever the encoder would allow.
std::string raw_sample(std::uint32_t busy) {
    std::string frame = agent::encode(agent::NodeSample{.cpu_busy = 0, .mem_used = 1, .mem_total = 2});
    for (int i = 0; i < 4; ++i) {
        frame[5 + i] = static_cast<char>(busy >> (24 - 8 * i));
    }
    return frame;
}

class AgentTransportTest : public testing::Test {
protected:
    void SetUp() override {
        m_dir = fs::temp_directory_path() / ("sshard-agent-transport-" + std::to_string(::getpid()));
        fs::create_directories(m_dir);
        const char* path = std::getenv("PATH");
        m_path = path != nullptr ? path : "/usr/bin:/bin";
        ::setenv("PATH", (m_dir.string() + ":" + m_path).c_str(), 1);
        core::HostSpec node;
        node.name = "node1";
        node.slots = 2;
        node.transport = core::TransportKind::slurm_agent;
        m_hosts.push_back(node);
    }
    void TearDown() override {
        ::setenv("PATH", m_path.c_str(), 1);
        ::unsetenv("SLURM_MEM_PER_NODE");
        fs::remove_all(m_dir);
    }

    // The fake srun writes `frames` as its agent's output, then waits for the end of its input.
    void agent_writes(const std::string& frames) const {
        std::ofstream(m_dir / "frames", std::ios::binary) << frames;
        std::ofstream(m_dir / "srun") << "#!/bin/sh\ncat '" << (m_dir / "frames").string()
                                      << "'\nexec cat >/dev/null\n";
        fs::permissions(m_dir / "srun", fs::perms::owner_all);
    }

    fs::path m_dir;
    std::string m_path;
    std::vector<core::HostSpec> m_hosts;
    AgentEventLog m_events;
};

TEST_F(AgentTransportTest, ASampleBeforeTheReadyFrameIsRefused) {
    agent_writes(agent::encode(agent::NodeSample{.cpu_busy = 0.5, .mem_used = 1, .mem_total = 2}) +
                 agent::encode(agent::AgentReady{.cpus = 2, .memory = 1 << 30}));
    AgentTransport transport(m_events, m_hosts);
    transport.connect(0);
    auto states = m_events.states_until_down();
    ASSERT_EQ(states.size(), 1u);
    EXPECT_FALSE(states[0].up);
    EXPECT_NE(states[0].reason.find("the agent on node1 ended (the agent sent a sample before its ready frame; "),
              std::string::npos)
        << states[0].reason;
    EXPECT_TRUE(m_events.samples().empty());
    transport.shutdown();
}

// Samples within bounds reach the scheduler; one past them ends the node. The ready frame's memory is cut to
// what the allocation has on the node.
TEST_F(AgentTransportTest, ASampleOutOfRangeEndsTheNode) {
    ::setenv("SLURM_MEM_PER_NODE", "512", 1);
    agent_writes(agent::encode(agent::AgentReady{.cpus = 2, .memory = 1ULL << 32}) +
                 agent::encode(agent::NodeSample{.cpu_busy = 0.25, .mem_used = 100, .mem_total = 1ULL << 32}) +
                 raw_sample(2'000'000));
    AgentTransport transport(m_events, m_hosts);
    transport.connect(0);
    auto states = m_events.states_until_down();
    ASSERT_EQ(states.size(), 2u);
    EXPECT_TRUE(states[0].up);
    EXPECT_EQ(states[0].memory, 512ULL << 20);
    EXPECT_EQ(states[0].cpus, 2);
    EXPECT_NE(states[1].reason.find("(bad frame from the agent: sample frame has CPU 2000000 millionths busy (at "
                                    "most 1000000); "),
              std::string::npos)
        << states[1].reason;
    auto samples = m_events.samples();
    ASSERT_EQ(samples.size(), 1u);
    EXPECT_EQ(samples[0].cpu_busy, 0.25);
    EXPECT_EQ(samples[0].mem_used, 100u);
    EXPECT_EQ(samples[0].mem_total, 1ULL << 32);
    transport.shutdown();
}

} // namespace
} // namespace sshard::transport
