// `sshard agent` spoken to directly over its stdin and stdout, as a runner does: shards run and end exactly,
// and a closed or hostile input kills every shard before the agent exits.
#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "core/agent_protocol.hpp"
#include "tests/cli/binary.hpp"

namespace sshard::test {
namespace {

namespace agent = core::agent;
using namespace std::chrono_literals;

// An agent process with pipes to its stdin, stdout and stderr.
class AgentProcess {
public:
    AgentProcess() {
        int in[2], out[2], err[2];
        EXPECT_EQ(::pipe2(in, O_CLOEXEC) | ::pipe2(out, O_CLOEXEC) | ::pipe2(err, O_CLOEXEC), 0);
        const char* binary = sshard_binary().c_str();
        m_pid = ::fork();
        if (m_pid == 0) {
            ::dup2(in[0], 0);
            ::dup2(out[1], 1);
            ::dup2(err[1], 2);
            ::execl(binary, binary, "agent", nullptr);
            ::_exit(127);
        }
        ::close(in[0]);
        ::close(out[1]);
        ::close(err[1]);
        m_in = in[1];
        m_out = out[0];
        m_err = err[0];
    }
    ~AgentProcess() {
        close_input();
        if (m_pid > 0) {
            ::kill(m_pid, SIGKILL);
            wait();
        }
        ::close(m_out);
        ::close(m_err);
    }
    AgentProcess(const AgentProcess&) = delete;
    AgentProcess& operator=(const AgentProcess&) = delete;

    void send(const std::string& bytes) { EXPECT_EQ(::write(m_in, bytes.data(), bytes.size()), bytes.size()); }
    void close_input() {
        if (m_in >= 0) {
            ::close(m_in);
            m_in = -1;
        }
    }
    // The next message but the samples of the node, which samples() keeps; nothing at the end of the agent's
    // output or after 20 s.
    std::optional<agent::Message> next() {
        while (true) {
            if (auto message = m_decoder.next()) {
                if (auto* sample = std::get_if<agent::NodeSample>(&*message)) {
                    m_samples.push_back(*sample);
                    continue;
                }
                return message;
            }
            pollfd fd{m_out, POLLIN, 0};
            char buffer[4096];
            ssize_t got = ::poll(&fd, 1, 20'000) == 1 ? ::read(m_out, buffer, sizeof buffer) : 0;
            if (got <= 0) {
                return std::nullopt;
            }
            m_decoder.feed(std::string_view(buffer, static_cast<std::size_t>(got)));
        }
    }
    // The agent's exit status, once it exits.
    int wait() {
        int status = 0;
        ::waitpid(m_pid, &status, 0);
        m_pid = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::string errors() const {
        std::string text;
        char buffer[4096];
        for (ssize_t got = 0; (got = ::read(m_err, buffer, sizeof buffer)) > 0;) {
            text.append(buffer, static_cast<std::size_t>(got));
        }
        return text;
    }

    const std::vector<agent::NodeSample>& samples() const { return m_samples; }

private:
    pid_t m_pid = -1;
    int m_in = -1, m_out = -1, m_err = -1;
    agent::Decoder m_decoder;
    std::vector<agent::NodeSample> m_samples;
};

agent::StartShard make_start(std::uint64_t id, std::string command) {
    agent::StartShard start;
    start.id = id;
    start.command = std::move(command);
    return start;
}

// Whether a process runs `sleep 300 # marker`; the brackets keep the pattern from matching the shell that
// runs pgrep.
bool sleep_runs(const std::string& marker) {
    std::string command = "pgrep -f -- '[s]leep 300 # " + marker + "' >/dev/null";
    return std::system(command.c_str()) == 0;
}

class AgentCommand : public E2eTest {};

TEST_F(AgentCommand, RunsShardsAndReturnsTheirOutputAndEnds) {
    AgentProcess process;
    auto ready = process.next();
    ASSERT_TRUE(ready && std::holds_alternative<agent::AgentReady>(*ready));
    EXPECT_GT(std::get<agent::AgentReady>(*ready).cpus, 0u);
    agent::StartShard first = make_start(1, "echo \"$X\"; echo oops >&2; exit 200");
    first.env = {{"X", "a b"}};
    first.workdir = m_dir;
    process.send(agent::encode(first));
    process.send(agent::encode(make_start(2, "kill -USR1 $$")));
    std::map<std::uint64_t, agent::ShardEnd> ends;
    std::string out, err;
    while (ends.size() < 2) {
        auto message = process.next();
        ASSERT_TRUE(message.has_value());
        if (auto* output = std::get_if<agent::ShardOutput>(&*message)) {
            (output->stream == core::Stream::out ? out : err) += output->data;
        } else {
            auto& end = std::get<agent::ShardEnd>(*message);
            ends[end.id] = end;
        }
    }
    EXPECT_EQ(out, "a b\n");
    EXPECT_EQ(err, "oops\n");
    EXPECT_EQ(ends[1].kind, core::Outcome::Kind::exited);
    EXPECT_EQ(ends[1].exit_code, 200);
    EXPECT_TRUE(ends[1].cpu_user_s.has_value());
    EXPECT_EQ(ends[2].kind, core::Outcome::Kind::signaled);
    EXPECT_EQ(ends[2].signal, SIGUSR1);
    process.close_input();
    EXPECT_FALSE(process.next().has_value());
    EXPECT_EQ(process.wait(), 0);
}

// The end of the input and a hostile frame both kill what runs; the hostile frame is an error that says why.
TEST_F(AgentCommand, ClosedOrHostileInputKillsEveryShard) {
    for (bool hostile : {false, true}) {
        AgentProcess process;
        ASSERT_TRUE(process.next().has_value());
        std::string marker = m_dir + "/marker" + (hostile ? "1" : "0");
        process.send(agent::encode(make_start(7, "sleep 300 # " + marker + " & wait")));
        ASSERT_TRUE(eventually([&] { return sleep_runs(marker); }));
        if (hostile) {
            process.send(std::string("\x00\x00\x00\x01\x09", 5));
        } else {
            process.close_input();
        }
        auto end = process.next();
        ASSERT_TRUE(end && std::holds_alternative<agent::ShardEnd>(*end));
        EXPECT_EQ(std::get<agent::ShardEnd>(*end).signal, SIGKILL);
        EXPECT_EQ(process.wait(), hostile ? 3 : 0);
        EXPECT_EQ(process.errors(), hostile ? "sshard agent: error: bad frame on input: unknown frame type 9\n" : "");
        EXPECT_TRUE(eventually([&] { return !sleep_runs(marker); }, 10s));
    }
}

// The agent's own backstop: a shard past its timeout is cancelled by the agent k_timeout_slack (5 s) after it
// when no cancel comes from the runner (a runner stopped or cut off), its input still open. Meanwhile the agent
// samples its node every 2 s. Takes about 5 s.
TEST_F(AgentCommand, KillsAShardPastItsTimeoutWithoutACancel) {
    AgentProcess process;
    auto ready = process.next();
    ASSERT_TRUE(ready && std::holds_alternative<agent::AgentReady>(*ready));
    EXPECT_TRUE(process.samples().empty()); // none before the ready frame
    std::string marker = m_dir + "/marker";
    agent::StartShard start = make_start(5, "sleep 300 # " + marker + " & wait");
    start.timeout_ms = 100;
    process.send(agent::encode(start));
    ASSERT_TRUE(eventually([&] { return sleep_runs(marker); }));
    auto end = process.next();
    ASSERT_TRUE(end && std::holds_alternative<agent::ShardEnd>(*end));
    EXPECT_EQ(std::get<agent::ShardEnd>(*end).kind, core::Outcome::Kind::signaled);
    EXPECT_EQ(std::get<agent::ShardEnd>(*end).signal, SIGTERM);
    EXPECT_TRUE(eventually([&] { return !sleep_runs(marker); }, 10s));
    ASSERT_FALSE(process.samples().empty());
    for (const auto& sample : process.samples()) {
        EXPECT_GE(sample.cpu_busy, 0.0);
        EXPECT_LE(sample.cpu_busy, 1.0);
        EXPECT_GT(sample.mem_used, 0u);
        EXPECT_LE(sample.mem_used, sample.mem_total);
    }
    process.close_input();
    EXPECT_FALSE(process.next().has_value());
    EXPECT_EQ(process.wait(), 0);
}

} // namespace
} // namespace sshard::test
