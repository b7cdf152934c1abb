// End-to-end over SSH: a stalled or silent host blocks nothing else. Hosts that accept TCP but never speak SSH,
// next to the loopback cluster; a run that stops promptly, at its end and on Ctrl-C, whatever its hosts do.
// (The time a frozen host takes to be found is checked in ssh_run_test.cpp.)
#include <arpa/inet.h>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/cli/binary.hpp"
#include "tests/ssh/ssh_fixture.hpp"

namespace sshard::test {
namespace {

using Clock = std::chrono::steady_clock;

constexpr double k_connect_timeout_s = 10; // each handshake phase, SshOptions::connect_timeout
constexpr auto k_grace = 5s;               // the cancel grace

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// TCP listeners on 127.0.0.101.. that complete every connection (the kernel does, from the backlog) and
// never say a word: hosts that accept TCP but never speak SSH.
class SilentHosts {
public:
    explicit SilentHosts(int count) {
        for (int i = 0; i < count; ++i) {
            int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            sockaddr_in address{};
            address.sin_family = AF_INET;
            address.sin_addr.s_addr = htonl(INADDR_LOOPBACK + 100 + static_cast<unsigned>(i));
            socklen_t length = sizeof address;
            if (::bind(fd, reinterpret_cast<sockaddr*>(&address), length) != 0 || ::listen(fd, 64) != 0 ||
                ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
                ADD_FAILURE() << "cannot listen on 127.0.0." << 101 + i;
            }
            m_fds.push_back(fd);
            m_names.push_back("127.0.0." + std::to_string(101 + i) + ":" + std::to_string(ntohs(address.sin_port)));
        }
    }
    ~SilentHosts() {
        for (int fd : m_fds) {
            ::close(fd);
        }
    }
    // As YAML flow-sequence entries: "a", "b", ...
    std::string yaml() const {
        std::string list;
        for (const auto& name : m_names) {
            list += (list.empty() ? "\"" : ", \"") + name + "\"";
        }
        return list;
    }

private:
    std::vector<int> m_fds;
    std::vector<std::string> m_names;
};

class Stall : public SshFixture {
protected:
    std::vector<std::string> args(const std::string& spec) const {
        return {"run", spec, "--ssh-config", k_cluster + "/ssh_config", "--run-dir", m_dir + "/run"};
    }
    // Waits (up to 30 s) until `count` attempts have started on the hosts whose name starts with `prefix`.
    bool wait_for_starts(std::size_t count, const std::string& prefix = "node") const {
        return eventually(
            [&] {
                std::size_t started = 0;
                for (const auto& event : journal_events(m_dir + "/run")) {
                    started +=
                        event["event"] == "attempt_start" && event["host"].get<std::string>().rfind(prefix, 0) == 0;
                }
                return started >= count;
            },
            30s);
    }
};

TEST_F(Stall, SilentHostsNeverKeepHealthyOnesWaiting) {
    // Ten silent hosts first in the table, more than the 8 handshakes allowed at a time, then the cluster.
    SilentHosts silent(10);
    std::string spec = write_spec("version: 1\nhosts: [" + silent.yaml() +
                                  ", \"2/node[1-4]\"]\n"
                                  "jobs: [{name: j, command: 'sleep 0.2', shards: {count: 16}}]\n");
    auto start = Clock::now();
    Result r = run_sshard(args(spec));
    double took = seconds_since(start);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    // Before, the silent hosts held every handshake slot for the 10 s of a connect timeout, and the run also
    // waited for their pending connects before it exited: it could not end before one timeout had passed.
    EXPECT_LT(took, k_connect_timeout_s * 0.8) << "the silent hosts held up the healthy ones or the exit";
    for (const auto& event : journal_events(m_dir + "/run")) {
        if (event["event"] == "attempt_end") {
            EXPECT_EQ(event["host"].get<std::string>().rfind("node", 0), 0u) << event;
        }
    }
}

TEST_F(Stall, InterruptWithAFrozenHostExitsWithinTheGrace) {
    std::string spec = write_spec("version: 1\nhosts: [\"2/node[3-4]\"]\n"
                                  "jobs: [{name: j, command: 'sleep 60', shards: {count: 4}}]\n");
    Spawned running = spawn_sshard(args(spec));
    ASSERT_TRUE(wait_for_starts(4));
    EXPECT_TRUE(cluster("pause-host", 4));
    auto interrupted = Clock::now();
    ::kill(running.pid, SIGINT);
    Result r = wait_sshard(running);
    double took = seconds_since(interrupted);
    EXPECT_TRUE(cluster("resume-host", 4));
    EXPECT_EQ(r.exit_code, 130) << r.err;
    // The healthy host's shards end at the TERM; the frozen host's never answer and are given up 1 s after
    // the grace; the rest is slack for a loaded machine. Before, it took 50 s.
    EXPECT_LT(took, std::chrono::duration<double>(k_grace).count() + 5) << r.err;
    // By the rule sshard(1) gives, not by the 10 s of silence that loses a host in a run that goes on.
    std::string reason;
    for (const auto& event : journal_events(m_dir + "/run")) {
        if (event["event"] == "host_down" && event["host"] == "node4") {
            reason = event["reason"];
        }
    }
    EXPECT_NE(reason.find("no answer after a cancel's grace"), std::string::npos) << reason;
}

} // namespace
} // namespace sshard::test
