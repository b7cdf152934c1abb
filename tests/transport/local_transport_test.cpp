#include "transport/local_transport.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace sshard::transport {
namespace {

using namespace std::chrono_literals;
using core::Outcome;
using core::Stream;

// Only a hang fails against these: nothing here should take more than a fraction of them.
constexpr auto k_patience = 20s;

// Records an attempt's output, and whether any of it came after the attempt's outcome.
class RecordingSink : public core::OutputSink {
public:
    void write(Stream stream, std::string_view data) override {
        std::lock_guard lock(m_mutex);
        if (m_finished) {
            m_late_writes = true;
        }
        (stream == Stream::out ? m_out : m_err).append(data);
        m_changed.notify_all();
    }

    void mark_finished() {
        std::lock_guard lock(m_mutex);
        m_finished = true;
    }

    // Waits until stdout contains `text`.
    bool wait_for_out(const std::string& text) {
        std::unique_lock lock(m_mutex);
        return m_changed.wait_for(lock, k_patience, [&] { return m_out.find(text) != std::string::npos; });
    }

    std::string out() {
        std::lock_guard lock(m_mutex);
        return m_out;
    }
    std::string err() {
        std::lock_guard lock(m_mutex);
        return m_err;
    }
    bool late_writes() {
        std::lock_guard lock(m_mutex);
        return m_late_writes;
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_changed;
    std::string m_out;
    std::string m_err;
    bool m_finished = false;
    bool m_late_writes = false;
};

// Records every event; tests wait on it for outcomes.
class RecordingEvents : public core::TransportEvents {
public:
    void on_finished(std::uint64_t attempt, Outcome outcome) override {
        std::lock_guard lock(m_mutex);
        if (auto it = m_sinks.find(attempt); it != m_sinks.end()) {
            it->second->mark_finished();
        }
        m_outcomes[attempt].push_back(std::move(outcome));
        ++m_finished_count;
        m_changed.notify_all();
    }

    void on_host_state(std::size_t host, core::HostState state) override {
        std::lock_guard lock(m_mutex);
        m_host_states.emplace_back(host, std::move(state));
        m_changed.notify_all();
    }

    // Must be called before the attempt starts, so the sink can tell output that came after the outcome.
    void watch(std::uint64_t attempt, std::shared_ptr<RecordingSink> sink) {
        std::lock_guard lock(m_mutex);
        m_sinks[attempt] = std::move(sink);
    }

    std::optional<Outcome> wait_for(std::uint64_t attempt) {
        std::unique_lock lock(m_mutex);
        if (!m_changed.wait_for(lock, k_patience, [&] { return m_outcomes.contains(attempt); })) {
            return std::nullopt;
        }
        return m_outcomes[attempt].front();
    }

    bool wait_for_count(std::size_t count) {
        std::unique_lock lock(m_mutex);
        return m_changed.wait_for(lock, k_patience, [&] { return m_finished_count >= count; });
    }

    std::optional<core::HostState> wait_for_host(std::size_t host) {
        std::unique_lock lock(m_mutex);
        auto found = [&] {
            return std::find_if(m_host_states.begin(), m_host_states.end(),
                                [&](const auto& entry) { return entry.first == host; });
        };
        if (!m_changed.wait_for(lock, k_patience, [&] { return found() != m_host_states.end(); })) {
            return std::nullopt;
        }
        return found()->second;
    }

    std::map<std::uint64_t, std::vector<Outcome>> outcomes() {
        std::lock_guard lock(m_mutex);
        return m_outcomes;
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_changed;
    std::map<std::uint64_t, std::shared_ptr<RecordingSink>> m_sinks;
    std::map<std::uint64_t, std::vector<Outcome>> m_outcomes;
    std::size_t m_finished_count = 0;
    std::vector<std::pair<std::size_t, core::HostState>> m_host_states;
};

class LocalTransportTest : public testing::Test {
protected:
    void SetUp() override {
        // Processes a shard leaves behind are reparented to this process, so the tests can reap them and see
        // their process groups disappear even where init does not reap orphans.
        ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
        std::string pattern = (std::filesystem::temp_directory_path() / "sshard-local-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        m_dir = std::filesystem::canonical(pattern);
    }

    void TearDown() override {
        m_transport.shutdown();
        std::filesystem::remove_all(m_dir);
    }

    core::Launch launch(std::string command) {
        core::Launch launch;
        launch.attempt = ++m_last_attempt;
        launch.command = std::move(command);
        launch.output = std::make_shared<RecordingSink>();
        return launch;
    }

    // Starts the launch and returns its sink; the outcome comes from m_events.wait_for.
    std::shared_ptr<RecordingSink> start(core::Launch launch) {
        auto sink = std::static_pointer_cast<RecordingSink>(launch.output);
        m_events.watch(launch.attempt, sink);
        m_transport.start(std::move(launch));
        return sink;
    }

    struct Result {
        Outcome outcome;
        std::string out;
        std::string err;
    };

    Result run(core::Launch launch) {
        std::uint64_t attempt = launch.attempt;
        auto sink = start(std::move(launch));
        std::optional<Outcome> outcome = m_events.wait_for(attempt);
        EXPECT_TRUE(outcome) << "no outcome for attempt " << attempt;
        EXPECT_FALSE(sink->late_writes()) << "output arrived after the outcome";
        return {outcome.value_or(Outcome{}), sink->out(), sink->err()};
    }

    pid_t read_pgid() {
        std::ifstream file(m_dir / "pgid");
        pid_t pgid = 0;
        file >> pgid;
        return pgid;
    }

    RecordingEvents m_events;
    LocalTransport m_transport{m_events, 1};
    std::filesystem::path m_dir;
    std::uint64_t m_last_attempt = 0;
};

// Reaps whatever of the group was reparented here and reports whether the group is gone.
bool group_disappears(pid_t pgid) {
    const auto deadline = std::chrono::steady_clock::now() + k_patience;
    while (std::chrono::steady_clock::now() < deadline) {
        while (::waitpid(-pgid, nullptr, WNOHANG) > 0) {
        }
        if (::kill(-pgid, 0) == -1 && errno == ESRCH) {
            return true;
        }
        std::this_thread::sleep_for(10ms);
    }
    return false;
}

TEST_F(LocalTransportTest, ConnectReportsThisMachineUp) {
    m_transport.connect(0);
    std::optional<core::HostState> state = m_events.wait_for_host(0);
    ASSERT_TRUE(state);
    EXPECT_TRUE(state->up);
    ASSERT_TRUE(state->cpus);
    EXPECT_GT(*state->cpus, 0);
}

TEST_F(LocalTransportTest, ExitCodeZero) {
    Result result = run(launch("true"));
    EXPECT_EQ(result.outcome.kind, Outcome::Kind::exited);
    EXPECT_EQ(result.outcome.exit_code, 0);
    EXPECT_LE(result.outcome.start, result.outcome.end);
    EXPECT_TRUE(result.outcome.cpu_user_s);
    EXPECT_TRUE(result.outcome.cpu_sys_s);
}

TEST_F(LocalTransportTest, ExitCodeThree) {
    Result result = run(launch("echo hello; exit 3"));
    EXPECT_EQ(result.outcome.kind, Outcome::Kind::exited);
    EXPECT_EQ(result.outcome.exit_code, 3);
    EXPECT_EQ(result.out, "hello\n");
}

TEST_F(LocalTransportTest, SignalIsReported) {
    Result result = run(launch("kill -TERM $$"));
    EXPECT_EQ(result.outcome.kind, Outcome::Kind::signaled);
    EXPECT_EQ(result.outcome.signal, SIGTERM);
}

TEST_F(LocalTransportTest, StdoutAndStderrStaySeparateAndComplete) {
    Result result = run(launch("(head -c 1000000 /dev/zero | tr '\\0' x) & "
                               "(head -c 500000 /dev/zero | tr '\\0' y >&2) & wait"));
    EXPECT_EQ(result.outcome.kind, Outcome::Kind::exited);
    EXPECT_EQ(result.out.size(), 1'000'000U);
    EXPECT_EQ(result.out.find_first_not_of('x'), std::string::npos);
    EXPECT_EQ(result.err.size(), 500'000U);
    EXPECT_EQ(result.err.find_first_not_of('y'), std::string::npos);
}

TEST_F(LocalTransportTest, OutputWithoutSinkIsDiscarded) {
    core::Launch plain = launch("head -c 300000 /dev/zero; echo oops >&2; exit 4");
    plain.output = nullptr;
    const std::uint64_t attempt = plain.attempt;
    m_transport.start(std::move(plain));
    std::optional<Outcome> outcome = m_events.wait_for(attempt);
    ASSERT_TRUE(outcome);
    EXPECT_EQ(outcome->exit_code, 4);
}

TEST_F(LocalTransportTest, EnvironmentIsInheritedAndOverridden) {
    core::Launch with_env = launch("printf '%s|%s|%s|%s' \"$SSHARD_TEST_VALUE\" \"$HOME\" \"$SSHARD_TWICE\" "
                                   "\"${PATH:+has path}\"");
    with_env.env = {{"SSHARD_TEST_VALUE", "a b"}, {"HOME", "/override"}, {"SSHARD_TWICE", "1"}, {"SSHARD_TWICE", "2"}};
    Result result = run(std::move(with_env));
    EXPECT_EQ(result.out, "a b|/override|2|has path");
}

TEST_F(LocalTransportTest, WorkdirIsApplied) {
    core::Launch in_dir = launch("pwd -P");
    in_dir.workdir = m_dir.string();
    Result result = run(std::move(in_dir));
    EXPECT_EQ(result.outcome.exit_code, 0);
    EXPECT_EQ(result.out, m_dir.string() + "\n");
}

TEST_F(LocalTransportTest, MissingWorkdirExits127WithMessage) {
    core::Launch in_dir = launch("echo should not run");
    in_dir.workdir = "/nonexistent/sshard-test";
    Result result = run(std::move(in_dir));
    EXPECT_EQ(result.outcome.kind, Outcome::Kind::exited);
    EXPECT_EQ(result.outcome.exit_code, 127);
    EXPECT_EQ(result.out, "");
    EXPECT_EQ(result.err, "sshard: cannot change to directory '/nonexistent/sshard-test': No such file or directory\n");
}

TEST_F(LocalTransportTest, CpuTimeIsMeasured) {
    Result result = run(launch("i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done"));
    EXPECT_EQ(result.outcome.exit_code, 0);
    ASSERT_TRUE(result.outcome.cpu_user_s);
    ASSERT_TRUE(result.outcome.cpu_sys_s);
    EXPECT_GT(*result.outcome.cpu_user_s + *result.outcome.cpu_sys_s, 0.0);
}

TEST_F(LocalTransportTest, CancelEndsCommandWithTerm) {
    core::Launch sleeper = launch("echo ready; sleep 100");
    const std::uint64_t attempt = sleeper.attempt;
    auto sink = start(std::move(sleeper));
    ASSERT_TRUE(sink->wait_for_out("ready"));
    m_transport.cancel(attempt, 60s);
    std::optional<Outcome> outcome = m_events.wait_for(attempt);
    ASSERT_TRUE(outcome);
    // TERM, not the KILL that only a minute's grace would bring.
    EXPECT_EQ(outcome->kind, Outcome::Kind::signaled);
    EXPECT_EQ(outcome->signal, SIGTERM);
}

TEST_F(LocalTransportTest, CancelKillsCommandThatIgnoresTermAfterGrace) {
    core::Launch stubborn = launch("trap '' TERM; echo ready; sleep 100");
    const std::uint64_t attempt = stubborn.attempt;
    auto sink = start(std::move(stubborn));
    ASSERT_TRUE(sink->wait_for_out("ready"));
    m_transport.cancel(attempt, 200ms);
    std::optional<Outcome> outcome = m_events.wait_for(attempt);
    ASSERT_TRUE(outcome);
    EXPECT_EQ(outcome->kind, Outcome::Kind::signaled);
    EXPECT_EQ(outcome->signal, SIGKILL);
}

TEST_F(LocalTransportTest, CancelLeavesNoProcessOfTheShard) {
    // The shell dies of TERM at once; one of its children ignores TERM and would outlive it.
    core::Launch family = launch("echo $$ > pgid; (trap '' TERM; sleep 100) & sleep 100 & echo ready; wait");
    family.workdir = m_dir.string();
    const std::uint64_t attempt = family.attempt;
    auto sink = start(std::move(family));
    ASSERT_TRUE(sink->wait_for_out("ready"));
    m_transport.cancel(attempt, 60s);
    std::optional<Outcome> outcome = m_events.wait_for(attempt);
    ASSERT_TRUE(outcome);
    EXPECT_EQ(outcome->kind, Outcome::Kind::signaled);
    EXPECT_EQ(outcome->signal, SIGTERM);
    const pid_t pgid = read_pgid();
    ASSERT_GT(pgid, 1);
    EXPECT_TRUE(group_disappears(pgid));
}

TEST_F(LocalTransportTest, BackgroundProcessHoldingOutputDoesNotDelayOutcome) {
    core::Launch leaver = launch("echo $$ > pgid; sleep 30 & echo done");
    leaver.workdir = m_dir.string();
    const auto before = std::chrono::steady_clock::now();
    Result result = run(std::move(leaver));
    const auto elapsed = std::chrono::steady_clock::now() - before;
    EXPECT_EQ(result.outcome.exit_code, 0);
    EXPECT_EQ(result.out, "done\n");
    EXPECT_LT(elapsed, 10s);
    // Not cancelled, so the transport leaves the sleep alone; the test cleans up after itself.
    const pid_t pgid = read_pgid();
    ASSERT_GT(pgid, 1);
    ::kill(-pgid, SIGKILL);
    EXPECT_TRUE(group_disappears(pgid));
}

TEST_F(LocalTransportTest, ManyConcurrentAttemptsAreEachDeliveredOnce) {
    constexpr std::size_t k_attempts = 200;
    constexpr std::size_t k_in_flight = 16;
    for (std::size_t i = 0; i < k_attempts; ++i) {
        if (i >= k_in_flight) {
            ASSERT_TRUE(m_events.wait_for_count(i - k_in_flight + 1));
        }
        start(launch("exit " + std::to_string(i % 4)));
    }
    ASSERT_TRUE(m_events.wait_for_count(k_attempts));
    m_transport.shutdown();
    auto outcomes = m_events.outcomes();
    ASSERT_EQ(outcomes.size(), k_attempts);
    for (const auto& [attempt, delivered] : outcomes) {
        ASSERT_EQ(delivered.size(), 1U) << "attempt " << attempt;
        EXPECT_EQ(delivered.front().kind, Outcome::Kind::exited);
        EXPECT_EQ(delivered.front().exit_code, static_cast<int>((attempt - 1) % 4));
    }
}

TEST_F(LocalTransportTest, ShutdownDeliversOutcomesOfRunningAttempts) {
    for (int i = 0; i < 5; ++i) {
        start(launch("sleep 100"));
    }
    m_transport.shutdown();
    auto outcomes = m_events.outcomes();
    ASSERT_EQ(outcomes.size(), 5U);
    for (const auto& [attempt, delivered] : outcomes) {
        ASSERT_EQ(delivered.size(), 1U);
        EXPECT_EQ(delivered.front().kind, Outcome::Kind::signaled);
        EXPECT_EQ(delivered.front().signal, SIGKILL);
    }
}

TEST_F(LocalTransportTest, DestructorShutsDown) {
    RecordingEvents events;
    {
        LocalTransport transport(events, 1);
        transport.start(launch("sleep 100"));
    }
    auto outcomes = events.outcomes();
    ASSERT_EQ(outcomes.size(), 1U);
    EXPECT_EQ(outcomes.begin()->second.front().signal, SIGKILL);
}

TEST_F(LocalTransportTest, CancelOfUnknownAttemptIsIgnored) {
    m_transport.cancel(12345, 0ms);
    Result result = run(launch("echo fine"));
    EXPECT_EQ(result.out, "fine\n");
}

TEST_F(LocalTransportTest, FailureToCreatePipesIsTransportFailed) {
    // Everything the descriptor-starved stretch below calls has run once before it: sanitizer runtimes need
    // descriptors for their first checks of a type.
    EXPECT_EQ(run(launch("true")).outcome.exit_code, 0);
    {
        core::Launch warm_up = launch("true"); // its sink's destructor is checked here, not when starved
    }
    core::Launch doomed = launch("true");
    const std::uint64_t attempt = doomed.attempt;
    // With the descriptor limit at the lowest free descriptor, no new one can be made.
    const int lowest_free = ::dup(2);
    ASSERT_GE(lowest_free, 0);
    ::close(lowest_free);
    rlimit saved{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
    rlimit tight = saved;
    tight.rlim_cur = static_cast<rlim_t>(lowest_free);
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &tight), 0);
    m_transport.start(std::move(doomed));
    std::optional<Outcome> outcome = m_events.wait_for(attempt);
    ::setrlimit(RLIMIT_NOFILE, &saved);
    ASSERT_TRUE(outcome);
    EXPECT_EQ(outcome->kind, Outcome::Kind::transport_failed);
    EXPECT_EQ(outcome->reason, "cannot create a pipe: Too many open files");
    // The transport still works once descriptors are available again.
    EXPECT_EQ(run(launch("exit 5")).outcome.exit_code, 5);
}

} // namespace
} // namespace sshard::transport
