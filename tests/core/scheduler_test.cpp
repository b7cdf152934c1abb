// The scheduler driven by hand: a fake transport that records what it is asked, and a clock that only moves
// when a test moves it.
#include "core/scheduler.hpp"

#include <csignal>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/spec_loader.hpp"
#include "tests/core/fake_clock.hpp"

namespace sshard::core {
namespace {

using namespace std::chrono_literals;

using test::FakeClock;

class FakeTransport final : public Transport {
public:
    TransportEvents* events = nullptr;
    bool auto_up = true;
    std::optional<int> cpus;
    std::optional<std::uint64_t> memory;
    std::vector<Launch> launches;
    std::vector<std::size_t> connects;
    std::vector<std::uint64_t> cancels;
    std::vector<std::size_t> added;
    std::vector<std::size_t> disconnects;
    bool reports = false; // reports_starts

    void connect(std::size_t host) override {
        connects.push_back(host);
        if (auto_up) {
            HostState state;
            state.up = true;
            state.cpus = cpus;
            state.memory = memory;
            events->on_host_state(host, state);
        }
    }
    void start(Launch launch) override { launches.push_back(std::move(launch)); }
    void cancel(std::uint64_t attempt, std::chrono::milliseconds) override { cancels.push_back(attempt); }
    void shutdown() override {}
    void add_host(std::size_t host) override { added.push_back(host); }
    void disconnect(std::size_t host) override { disconnects.push_back(host); }
    bool reports_starts(std::size_t) const override { return reports; }
};

class Recorder final : public RunListener {
public:
    std::vector<std::string> log;
    std::optional<RunSummary> finished;

    void attempt_finished(const Attempt& a, const AttemptEnd& end) override {
        static const char* verdicts[] = {"succeeded", "retry", "requeued", "failed", "unfinished"};
        log.push_back(fmt::format("{}[{}]#{} {} {}", a.job->name, a.index, a.number,
                                  verdicts[static_cast<int>(end.verdict)], end.reason));
        if (!end.output_error.empty()) {
            log.back() += " [" + end.output_error + "]";
        }
    }
    void shards_not_run(const JobSpec& job, const std::vector<IndexRange>& indices, bool failed,
                        const std::string& reason) override {
        std::string ranges;
        for (const auto& r : indices) {
            ranges += fmt::format("{}[{},{})", ranges.empty() ? "" : " ", r.from, r.to);
        }
        log.push_back(fmt::format("{} {} {}: {}", job.name, ranges, failed ? "failed" : "skipped", reason));
    }
    void host_held(std::size_t host, const HostHold& hold) override {
        log.push_back(hold.held ? fmt::format("host {} held ({}): {}", host, hold.kind, hold.reason)
                                : fmt::format("host {} free", host));
    }
    void host_added(std::size_t host) override { log.push_back(fmt::format("host {} added", host)); }
    void run_finished(const RunSummary& summary) override { finished = summary; }
};

struct Harness {
    // With `auto_up` false, hosts stay connecting until the test says how their connection went.
    // With `room`, that many hosts can be added during the run.
    explicit Harness(const std::string& yaml, SchedulerOptions options = {}, bool auto_up = true,
                     std::size_t room = 0) {
        spec = load_spec_text("jobs.yaml", yaml);
        spec.hosts.reserve(spec.hosts.size() + room);
        options.host_table = &spec.hosts;
        plan = make_plan(spec);
        scheduler = std::make_unique<Scheduler>(plan, clock, recorder, std::move(options));
        transport.events = scheduler.get();
        transport.auto_up = auto_up;
        scheduler->start(transport);
        scheduler->step();
    }

    // "job[index]@host" of the attempts launched, from `from` on.
    std::vector<std::string> launched(std::size_t from = 0) const {
        std::vector<std::string> out;
        for (std::size_t i = from; i < transport.launches.size(); ++i) {
            out.push_back(describe(transport.launches[i]));
        }
        return out;
    }
    std::string describe(const Launch& launch) const {
        auto value = [&](const char* name) {
            for (const auto& [k, v] : launch.env) {
                if (k == name) {
                    return v;
                }
            }
            return std::string();
        };
        return value("SSHARD_JOB") + "[" + value("SSHARD_INDEX") + "]@" + value("SSHARD_HOST");
    }
    // Finishes the launch number `n` (0-based) and steps.
    void finish(std::size_t n, int exit_code = 0) {
        Outcome outcome;
        outcome.exit_code = exit_code;
        scheduler->on_finished(transport.launches.at(n).attempt, outcome);
        scheduler->step();
    }
    void lose_host(std::size_t n) {
        Outcome outcome;
        outcome.kind = Outcome::Kind::transport_failed;
        outcome.reason = "connection reset";
        scheduler->on_finished(transport.launches.at(n).attempt, outcome);
        scheduler->step();
    }
    // Moves the clock and steps; a second step handles what the first one's timers caused (a reconnect the
    // fake answers at once), as the real loop would on its next turn.
    void advance(Duration d) {
        clock.advance(d);
        scheduler->step();
        scheduler->step();
    }
    const JobSummary& job(const std::string& name) const {
        for (const auto& j : recorder.finished.value().jobs) {
            if (j.name == name) {
                return j;
            }
        }
        throw std::runtime_error("no job " + name);
    }

    Spec spec;
    Plan plan;
    FakeClock clock;
    FakeTransport transport;
    Recorder recorder;
    std::unique_ptr<Scheduler> scheduler;
};

TEST(Scheduler, HighestJobPriorityFirstThenSpecOrderThenIndex) {
    Harness h(R"(version: 1
hosts: [a]
jobs:
  - {name: low, command: x, shards: {count: 2}}
  - {name: high, command: x, shards: {count: 2}, priority: 5}
)");
    EXPECT_EQ(h.launched(), std::vector<std::string>{"high[0]@a"});
    h.finish(0);
    h.finish(1);
    h.finish(2);
    h.finish(3);
    EXPECT_EQ(h.launched(), (std::vector<std::string>{"high[0]@a", "high[1]@a", "low[0]@a", "low[1]@a"}));
    EXPECT_TRUE(h.scheduler->finished());
    EXPECT_EQ(h.job("high").succeeded, 2u);
}

TEST(Scheduler, FillsSlotsHighestHostPriorityFirstThenLeastLoaded) {
    Harness h(R"(version: 1
hosts:
  - {name: small, slots: 1}
  - {name: big, slots: 4}
  - {name: best, slots: 2, priority: 9}
jobs:
  - {name: j, command: x, shards: {count: 9}}
)");
    EXPECT_EQ(h.launched(), (std::vector<std::string>{"j[0]@best", "j[1]@best", "j[2]@small", "j[3]@big", "j[4]@big",
                                                      "j[5]@big", "j[6]@big"}));
    h.finish(2);
    EXPECT_EQ(h.launched(7), std::vector<std::string>{"j[7]@small"});
}

TEST(Scheduler, MaxParallelCapsShardsInFlight) {
    SchedulerOptions options;
    options.max_parallel = 3;
    Harness h("version: 1\nhosts: [8/a, 8/b]\njobs: [{name: j, command: x, shards: {count: 10}}]\n", options);
    EXPECT_EQ(h.transport.launches.size(), 3u);
    h.finish(0);
    EXPECT_EQ(h.transport.launches.size(), 4u);
}

TEST(Scheduler, RetriesAfterBackoffOnAnotherHost) {
    SchedulerOptions options;
    options.seed = 7;
    Harness h(R"(version: 1
hosts: [a, b]
jobs: [{name: j, command: x, shards: {count: 2}, retries: 1, backoff: 10s}]
)",
              options);
    EXPECT_EQ(h.launched(), (std::vector<std::string>{"j[0]@a", "j[1]@b"}));
    h.finish(1);    // j[1] done, b free
    h.finish(0, 3); // j[0] fails on a: a retry is due after 5..10 s
    EXPECT_EQ(h.transport.launches.size(), 2u);
    h.advance(4999ms);
    EXPECT_EQ(h.transport.launches.size(), 2u);
    h.advance(5001ms);
    EXPECT_EQ(h.launched(2), std::vector<std::string>{"j[0]@b"});
    EXPECT_EQ(h.transport.launches[2].env[3], (std::pair<std::string, std::string>{"SSHARD_ATTEMPT", "2"}));
    h.finish(2);
    EXPECT_EQ(h.recorder.log,
              (std::vector<std::string>{"j[1]#1 succeeded ", "j[0]#1 retry exit 3", "j[0]#2 succeeded "}));
    EXPECT_EQ(h.job("j").retried, 1u);
    EXPECT_EQ(h.job("j").succeeded, 2u);
}

TEST(Scheduler, RetryWaitsForAnUntriedHostThatIsBusy) {
    Harness h("version: 1\nhosts: [a, b]\njobs: [{name: j, command: x, shards: {count: 2}, retries: 1, backoff: 0}]\n");
    h.finish(0, 1); // j[0] fails on a; b still runs j[1]
    EXPECT_EQ(h.transport.launches.size(), 2u) << "must not go back to a while b is up";
    h.finish(1);
    EXPECT_EQ(h.launched(2), std::vector<std::string>{"j[0]@b"});
}

TEST(Scheduler, ARetryWaitingForABusyHostIsNoTimerAlreadyDue) {
    // The run loop sleeps until the deadline step() gives: one already past would make it spin until b is free.
    Harness h("version: 1\nhosts: [a, b]\njobs: [{name: j, command: x, shards: {count: 2}, retries: 1, backoff: 0}]\n");
    h.finish(0, 1);
    std::optional<SteadyTime> deadline = h.scheduler->step();
    EXPECT_TRUE(!deadline || *deadline > h.clock.now());
    h.finish(1);
    EXPECT_EQ(h.launched(2), std::vector<std::string>{"j[0]@b"});
}

TEST(Scheduler, RetryReturnsToTheSameHostWhenNoOtherIsUp) {
    Harness h("version: 1\nhosts: [a]\njobs: [{name: j, command: x, retries: 2, backoff: 0}]\n");
    h.finish(0, 1);
    h.finish(1, 1);
    h.finish(2, 1);
    EXPECT_EQ(h.launched(), (std::vector<std::string>{"j[0]@a", "j[0]@a", "j[0]@a"}));
    EXPECT_EQ(h.recorder.log.back(), "j[0]#3 failed exit 1");
    EXPECT_EQ(h.job("j").failed, 1u);
}

TEST(Scheduler, BackoffGrowsByTheFactorUpToTheMax) {
    Harness h("version: 1\nhosts: [a]\njobs: [{name: j, command: x, retries: 4, "
              "backoff: {initial: 2s, max: 5s, factor: 2}}]\n");
    std::vector<Duration> expected_max = {2s, 4s, 5s, 5s};
    for (std::size_t i = 0; i < expected_max.size(); ++i) {
        h.finish(i, 1);
        Duration waited{0};
        while (h.transport.launches.size() == i + 1) {
            h.advance(10ms);
            waited += 10ms;
        }
        EXPECT_GE(waited, expected_max[i] / 2 - 10ms) << "retry " << i + 1;
        EXPECT_LE(waited, expected_max[i] + 10ms) << "retry " << i + 1;
    }
}

TEST(Scheduler, LostHostRequeuesWithoutUsingARetryAndReconnects) {
    Harness h("version: 1\nhosts: [a, b]\njobs: [{name: j, command: x, shards: {count: 2}}]\n");
    h.transport.auto_up = false;
    h.lose_host(0);
    EXPECT_EQ(h.recorder.log, std::vector<std::string>{"j[0]#1 requeued connection reset"});
    EXPECT_EQ(h.transport.launches.size(), 2u) << "a is down and b is busy";
    h.finish(1);
    EXPECT_EQ(h.launched(2), std::vector<std::string>{"j[0]@b"});
    EXPECT_EQ(h.transport.connects, (std::vector<std::size_t>{0, 1}));
    h.advance(1s); // the reconnect backoff (0.5..1 s) has passed
    EXPECT_EQ(h.transport.connects, (std::vector<std::size_t>{0, 1, 0}));
    h.finish(2);
    EXPECT_EQ(h.job("j").succeeded, 2u);
    EXPECT_EQ(h.job("j").failed, 0u);
}

TEST(Scheduler, HostComesBackAndIsUsedAgain) {
    Harness h("version: 1\nhosts: [a]\njobs: [{name: j, command: x, shards: {count: 2}}]\n");
    h.lose_host(0);
    EXPECT_EQ(h.transport.launches.size(), 1u);
    h.advance(1s); // reconnects: the fake brings it up at once
    EXPECT_EQ(h.launched(1), std::vector<std::string>{"j[0]@a"});
}

TEST(Scheduler, ShardFailsAfterTooManyLostHosts) {
    SchedulerOptions options;
    options.max_requeues = 1;
    Harness h("version: 1\nhosts: [a]\njobs: [{name: j, command: x}]\n", options);
    h.lose_host(0);
    h.advance(1s);
    h.lose_host(1);
    EXPECT_EQ(h.recorder.log.back(), "j[0]#2 failed lost its host 2 times; last: connection reset");
}

TEST(Scheduler, JobsWaitForWhatTheyNeedAndAreSkippedWhenItFails) {
    Harness h(R"(version: 1
hosts: [4/a]
jobs:
  - {name: build, command: x}
  - {name: test, command: x, needs: build, shards: {count: 3}}
  - {name: lint, command: x}
  - {name: deploy, command: x, needs: [test, lint]}
)");
    EXPECT_EQ(h.launched(), (std::vector<std::string>{"build[0]@a", "lint[0]@a"}));
    h.finish(1);
    h.finish(0);
    EXPECT_EQ(h.launched(2), (std::vector<std::string>{"test[0]@a", "test[1]@a", "test[2]@a"}));
    h.finish(2);
    h.finish(3, 1);
    h.finish(4);
    EXPECT_TRUE(h.scheduler->finished());
    EXPECT_EQ(h.recorder.log.back(), "deploy [0,1) skipped: needs 'test', which did not fully succeed");
    EXPECT_EQ(h.job("deploy").skipped, 1u);
    EXPECT_EQ(h.job("test").failed, 1u);
}

TEST(Scheduler, FailFastStartsNothingNewButLetsRunningShardsFinish) {
    SchedulerOptions options;
    options.fail_fast = true;
    Harness h("version: 1\nhosts: [2/a]\njobs: [{name: j, command: x, shards: {count: 5}}, {name: k, command: x}]\n",
              options);
    h.finish(0, 1);
    EXPECT_EQ(h.transport.launches.size(), 2u);
    EXPECT_FALSE(h.scheduler->finished());
    h.finish(1);
    EXPECT_TRUE(h.scheduler->finished());
    EXPECT_EQ(h.job("j").failed, 1u);
    EXPECT_EQ(h.job("j").succeeded, 1u);
    EXPECT_EQ(h.job("j").skipped, 3u);
    EXPECT_EQ(h.job("k").skipped, 1u);
}

TEST(Scheduler, FailFastFailsShardsWaitingForARetryAndSaysWhich) {
    SchedulerOptions options;
    options.fail_fast = true;
    Harness h("version: 1\nhosts: [2/a]\njobs: [{name: j, command: x, retries: 1, backoff: 10s, shards: {count: 3}}]\n",
              options);
    h.finish(0, 1); // j[0] and j[1] wait for their retry
    h.finish(1, 1);
    h.advance(10s);
    EXPECT_EQ(h.launched(2), (std::vector<std::string>{"j[2]@a", "j[0]@a"}));
    h.finish(3, 1); // j[0] fails for good: nothing new starts
    h.finish(2);
    EXPECT_TRUE(h.scheduler->finished());
    EXPECT_EQ(h.recorder.log.back(), "j [1,2) failed: --fail-fast: the run stopped before its next try");
    EXPECT_EQ(h.job("j").failed, 2u);
    EXPECT_EQ(h.job("j").succeeded, 1u);
    EXPECT_EQ(h.job("j").skipped, 0u);
}

TEST(Scheduler, TimeoutCancelsAndFails) {
    Harness h("version: 1\nhosts: [a]\njobs: [{name: j, command: x, timeout: 30s}]\n");
    h.advance(29s);
    EXPECT_TRUE(h.transport.cancels.empty());
    h.advance(1s);
    EXPECT_EQ(h.transport.cancels, std::vector<std::uint64_t>{h.transport.launches[0].attempt});
    Outcome killed;
    killed.kind = Outcome::Kind::signaled;
    killed.signal = SIGTERM;
    h.scheduler->on_finished(h.transport.launches[0].attempt, killed);
    h.scheduler->step();
    EXPECT_EQ(h.recorder.log.back(), "j[0]#1 failed timed out after 30s");
}

TEST(Scheduler, TimeoutCountsFromWhenTheCommandStartedOnItsHost) {
    Harness h("version: 1\nhosts: [a]\njobs: [{name: j, command: x, timeout: 30s}]\n");
    h.advance(20s); // the transport's set-up before the command starts
    h.scheduler->on_started(h.transport.launches[0].attempt);
    h.scheduler->step();
    h.advance(29s);
    EXPECT_TRUE(h.transport.cancels.empty());
    h.advance(1s);
    EXPECT_EQ(h.transport.cancels, std::vector<std::uint64_t>{h.transport.launches[0].attempt});
}

// Where the transport reports starts (SSH), a set-up longer than the timeout cancels nothing: the timeout
// waits for the start.
TEST(Scheduler, ASetUpLongerThanTheTimeoutCountsNothingWhereTheTransportReportsStarts) {
    Harness h("version: 1\nhosts: [a]\njobs: [{name: j, command: x, timeout: 30s}]\n", {}, false);
    h.transport.reports = true;
    HostState up;
    up.up = true;
    h.scheduler->on_host_state(0, up);
    h.scheduler->step();
    ASSERT_EQ(h.transport.launches.size(), 1U);
    h.advance(60s); // the set-up, twice the timeout
    EXPECT_TRUE(h.transport.cancels.empty());
    h.scheduler->on_started(h.transport.launches[0].attempt);
    h.scheduler->step();
    h.advance(29s);
    EXPECT_TRUE(h.transport.cancels.empty());
    h.advance(1s);
    EXPECT_EQ(h.transport.cancels, std::vector<std::uint64_t>{h.transport.launches[0].attempt});
}

TEST(Scheduler, NoHostUpForTheDownLimitFailsTheRest) {
    SchedulerOptions options;
    options.down_limit = 10s;
    Harness h("version: 1\nhosts: [a]\njobs: [{name: j, command: x, shards: {count: 3}}]\n", options);
    h.transport.auto_up = false;
    h.lose_host(0);
    HostState down;
    down.reason = "connection refused";
    for (int i = 0; i < 20 && !h.scheduler->finished(); ++i) {
        h.advance(1s);
        if (h.transport.connects.size() > 1) {
            h.scheduler->on_host_state(0, down);
        }
    }
    EXPECT_TRUE(h.scheduler->finished());
    EXPECT_EQ(h.recorder.log.back(),
              "j [0,3) failed: no eligible host was up for 10s (last error: connection refused)");
    EXPECT_TRUE(h.recorder.finished->no_hosts);
}

// A first connection that waits its turn (handshakes are limited) has not failed; the limit counts from the
// first failure.
TEST(Scheduler, DownLimitCountsFromTheFirstFailureNotWhileTheFirstConnectionIsMade) {
    SchedulerOptions options;
    options.down_limit = 10s;
    Harness h("version: 1\nhosts: [a]\njobs: [{name: j, command: x}]\n", options, false);
    h.advance(30s);
    EXPECT_FALSE(h.scheduler->finished());
    HostState down;
    down.reason = "connection refused";
    h.scheduler->on_host_state(0, down);
    h.scheduler->step();
    h.advance(9s);
    EXPECT_FALSE(h.scheduler->finished());
    h.advance(1s);
    EXPECT_TRUE(h.scheduler->finished());
    EXPECT_EQ(h.recorder.log.back(),
              "j [0,1) failed: no eligible host was up for 10s (last error: connection refused)");
}

TEST(Scheduler, InterruptCancelsRunningShardsAndCountsTheRestUnfinished) {
    Harness h("version: 1\nhosts: [2/a]\njobs: [{name: j, command: x, shards: {count: 5}}]\n");
    h.scheduler->interrupt();
    h.scheduler->step();
    EXPECT_EQ(h.transport.cancels.size(), 2u);
    EXPECT_FALSE(h.scheduler->finished());
    h.finish(0, 143);
    h.finish(1);
    EXPECT_TRUE(h.scheduler->finished());
    EXPECT_TRUE(h.recorder.finished->interrupted);
    EXPECT_EQ(h.job("j").unfinished, 4u);
    EXPECT_EQ(h.job("j").succeeded, 1u);
}

TEST(Scheduler, ResumeSkipsRecordedShards) {
    ShardHistory history;
    history.add_finished("j", 1, {}, "run 1", true);
    history.add_finished("j", 3, {}, "run 3", false);
    history.add_finished("j", 2, {}, "run 0", true); // another shard's command at this index: not this shard
    history.add_attempt("j", 2, 2);
    history.seal();
    SchedulerOptions options;
    options.history = &history;
    options.first_attempt_id = 10;
    Harness h("version: 1\nhosts: [8/a]\njobs: [{name: j, command: 'run {index}', shards: {count: 4}}]\n", options);
    EXPECT_EQ(h.launched(), (std::vector<std::string>{"j[0]@a", "j[2]@a"}));
    EXPECT_EQ(h.transport.launches[0].attempt, 10u) << "attempt ids go on from the journal's";
    EXPECT_EQ(h.transport.launches[1].env[3], (std::pair<std::string, std::string>("SSHARD_ATTEMPT", "3")))
        << "attempt numbers go on from the journal's";
    h.finish(0);
    h.finish(1);
    EXPECT_EQ(h.job("j").succeeded, 3u);
    EXPECT_EQ(h.job("j").failed, 1u);
    EXPECT_EQ(h.job("j").recalled, 2u);
}

// A shard whose last attempt was submitted and never ended continues that attempt on its host, once: lost
// again, it starts afresh. On another host it starts afresh at once.
TEST(Scheduler, ResumeFollowsSubmittedAttemptsOnTheirHost) {
    ShardHistory history;
    history.add_attempt("j", 0, 2);
    history.add_submitted("j", 0, SubmittedAttempt{2, "a", "7_0 M /d"});
    history.add_attempt("j", 1, 1);
    history.add_submitted("j", 1, SubmittedAttempt{1, "elsewhere", "7_1 M /d"});
    history.seal();
    SchedulerOptions options;
    options.history = &history;
    Harness h("version: 1\nhosts: [8/a]\njobs: [{name: j, command: 'run {attempt}', shards: {count: 2}}]\n", options);
    ASSERT_EQ(h.launched(), (std::vector<std::string>{"j[0]@a", "j[1]@a"}));
    EXPECT_EQ(h.transport.launches[0].resume, "7_0 M /d");
    EXPECT_EQ(h.transport.launches[0].command, "run 2") << "the same attempt, not a new one";
    EXPECT_EQ(h.transport.launches[1].resume, "") << "recorded on another host";
    EXPECT_EQ(h.transport.launches[1].command, "run 2");
    h.lose_host(0);
    h.advance(std::chrono::seconds(60));
    ASSERT_EQ(h.launched(2), (std::vector<std::string>{"j[0]@a"}));
    EXPECT_EQ(h.transport.launches[2].resume, "");
    EXPECT_EQ(h.transport.launches[2].command, "run 3");
}

TEST(Scheduler, ResumeFindsShardsThatShareOneCommandByIndex) {
    ShardHistory history;
    history.add_finished("j", 0, {}, "work", true);
    history.add_finished("j", 1, {}, "work", true);
    history.seal();
    SchedulerOptions options;
    options.history = &history;
    Harness h("version: 1\nhosts: [8/a]\njobs: [{name: j, command: work, shards: {count: 4}}]\n", options);
    EXPECT_EQ(h.launched(), (std::vector<std::string>{"j[2]@a", "j[3]@a"}));
}

TEST(Scheduler, ResumeWithRetryFailedRerunsFailedShards) {
    ShardHistory history;
    history.add_finished("j", 1, {}, "run 1", false);
    history.seal();
    SchedulerOptions options;
    options.history = &history;
    options.retry_failed = true;
    Harness h("version: 1\nhosts: [8/a]\njobs: [{name: j, command: 'run {index}', shards: {count: 2}}]\n", options);
    EXPECT_EQ(h.launched(), (std::vector<std::string>{"j[0]@a", "j[1]@a"}));
}

TEST(Scheduler, AutoSlotsComeFromTheHostsCpuCount) {
    Harness h("version: 1\nhosts: [{name: a, slots: auto}]\njobs: [{name: j, command: x, shards: {count: 9}}]\n");
    EXPECT_EQ(h.transport.launches.size(), 1u) << "no CPU count reported: one slot";
    h.transport.cpus = 4;
    h.lose_host(0);
    h.advance(1s);
    EXPECT_EQ(h.transport.launches.size(), 5u);
}

TEST(Scheduler, ShardEnvironment) {
    SchedulerOptions options;
    options.run_id = "r-1";
    Harness h("version: 1\nhosts: [a]\njobs: [{name: j, command: x, env: {K: v}, shards: {count: 3}}]\n", options);
    std::vector<std::pair<std::string, std::string>> env = {{"K", "v"},
                                                            {"SSHARD_JOB", "j"},
                                                            {"SSHARD_INDEX", "0"},
                                                            {"SSHARD_COUNT", "3"},
                                                            {"SSHARD_ATTEMPT", "1"},
                                                            {"SSHARD_HOST", "a"},
                                                            {"SSHARD_RUN", "r-1"}};
    EXPECT_EQ(h.transport.launches[0].env, env);
}

// The output of one attempt, lost to a full disk when `error` is set.
class LosingSink final : public OutputSink {
public:
    explicit LosingSink(std::string error) : m_error(std::move(error)) {}
    void write(Stream, std::string_view) override {}
    std::string close() override { return m_error; }

private:
    std::string m_error;
};

TEST(Scheduler, AnAttemptWhoseRecordsCannotBeWrittenFails) {
    SchedulerOptions options;
    options.make_output = [](const Attempt& a) {
        return std::make_shared<LosingSink>(a.index % 2 == 0 ? fmt::format("cannot write '{}.out': full", a.index)
                                                             : "");
    };
    std::vector<std::string> recorded;
    options.record_end = [&](const Attempt& a, const Outcome& o) {
        recorded.push_back(fmt::format("{}[{}] exit {}", a.job->name, a.index, o.exit_code));
        return a.index >= 2 ? std::string("cannot write joblog 'log': full") : std::string();
    };
    Harness h("version: 1\nhosts: [4/a]\njobs: [{name: j, command: x, shards: {count: 4}}]\n", options);
    h.finish(0);
    h.finish(1);
    h.finish(2, 3);
    h.finish(3);
    EXPECT_EQ(h.recorder.log, (std::vector<std::string>{
                                  "j[0]#1 failed cannot write '0.out': full [cannot write '0.out': full]",
                                  "j[1]#1 succeeded ",
                                  "j[2]#1 failed exit 3 [cannot write '2.out': full]",
                                  "j[3]#1 failed cannot write joblog 'log': full [cannot write joblog 'log': full]",
                              }));
    EXPECT_EQ(recorded, (std::vector<std::string>{"j[0] exit 0", "j[1] exit 0", "j[2] exit 3", "j[3] exit 0"}));
    EXPECT_EQ(h.job("j").failed, 3u);
}

TEST(Scheduler, EmptyJobIsDoneAtOnce) {
    Harness h("version: 1\nhosts: [a]\njobs: [{name: j, command: x, shards: {count: 0}}, "
              "{name: k, command: x, needs: j}]\n");
    EXPECT_EQ(h.launched(), std::vector<std::string>{"k[0]@a"});
}

TEST(Scheduler, AShardTakesItsJobsCpusInSlots) {
    Harness h(R"(version: 1
hosts: [4/a, 2/b]
jobs:
  - {name: wide, command: x, shards: {count: 3}, cpus: 3}
  - {name: thin, command: x, shards: {count: 4}}
)");
    // wide fits only a (b has 2 slots): one at a time; thin fills what is left, the least loaded first.
    EXPECT_EQ(h.launched(), (std::vector<std::string>{"wide[0]@a", "thin[0]@b", "thin[1]@b", "thin[2]@a"}));
    h.finish(0); // a: 1 of 4 in use, wide needs 3
    EXPECT_EQ(h.launched(4), std::vector<std::string>{"wide[1]@a"});
    h.finish(2); // b: 1 of 2
    EXPECT_EQ(h.launched(5), std::vector<std::string>{"thin[3]@b"});
}

TEST(Scheduler, AHostIsNeverPromisedMoreMemoryThanItHas) {
    Harness h(R"(version: 1
hosts: [8/a]
jobs: [{name: j, command: x, shards: {count: 4}, memory: 3G}]
)",
              {}, false);
    h.transport.events->on_host_state(0, HostState{true, "", std::nullopt, 8ull << 30, 0, ""});
    h.scheduler->step();
    EXPECT_EQ(h.launched(), (std::vector<std::string>{"j[0]@a", "j[1]@a"})) << "8 GiB holds two of 3 GiB";
    h.finish(0);
    EXPECT_EQ(h.launched(2), std::vector<std::string>{"j[2]@a"});
}

TEST(Scheduler, AJobWhoseShardFitsNoHostFailsOnceTheirSizesAreKnown) {
    Harness h(R"(version: 1
hosts: [{name: a, slots: auto}, {name: b, slots: auto}]
jobs:
  - {name: big, command: x, shards: {count: 3}, cpus: 16}
  - {name: fat, command: x, memory: 1G}
  - {name: small, command: x, cpus: 2}
)",
              {}, false);
    h.transport.events->on_host_state(0, HostState{true, "", 8, std::nullopt, 0, ""});
    h.scheduler->step();
    EXPECT_EQ(h.launched(), std::vector<std::string>{"small[0]@a"}) << "b may still be big enough";
    h.transport.events->on_host_state(1, HostState{true, "", 4, std::nullopt, 0, ""});
    h.scheduler->step();
    h.finish(0);
    EXPECT_EQ(h.recorder.log,
              (std::vector<std::string>{
                  "big [0,3) failed: a shard needs 16 CPUs, more slots than any of its hosts has (the most: 8)",
                  "fat [0,1) failed: a shard needs 1 GiB of memory, and none of its hosts says how much it has "
                  "(from Linux's /proc/meminfo)",
                  "small[0]#1 succeeded "}));
    ASSERT_TRUE(h.scheduler->finished());
    EXPECT_EQ(h.job("big").failed, 3u);
}

TEST(Scheduler, AHostOverItsLoadOrMemoryLimitTakesNoNewShardUntilBackUnder) {
    Harness h(R"(version: 1
hosts: [{name: a, slots: 4, max_load: 0.8, min_free_memory: 1G}]
jobs: [{name: j, command: x, shards: {count: 6}}]
)",
              {}, false);
    constexpr std::uint64_t gib = 1ull << 30;
    h.transport.events->on_host_sample(0, HostSample{0.9, 1 * gib, 8 * gib}); // before it is up: still counted
    h.transport.events->on_host_state(0, HostState{true, "", std::nullopt, 8 * gib, 0, ""});
    h.scheduler->step();
    EXPECT_TRUE(h.launched().empty());
    h.transport.events->on_host_sample(0, HostSample{0.5, 1 * gib, 8 * gib});
    h.scheduler->step();
    EXPECT_EQ(h.transport.launches.size(), 4u);
    h.transport.events->on_host_sample(0, HostSample{0.5, 15 * gib / 2, 8 * gib});
    h.scheduler->step();
    h.finish(0);
    h.finish(1);
    EXPECT_EQ(h.transport.launches.size(), 4u) << "held: no new shard on the free slots";
    h.transport.events->on_host_sample(0, HostSample{0.3, 2 * gib, 8 * gib});
    h.scheduler->step();
    EXPECT_EQ(h.transport.launches.size(), 6u);
    EXPECT_EQ(h.recorder.log,
              (std::vector<std::string>{"host 0 held (load): CPU 90% busy, over max_load 80%", "host 0 free",
                                        "host 0 held (memory): 512 MiB of memory free, under "
                                        "min_free_memory 1 GiB",
                                        "j[0]#1 succeeded ", "j[1]#1 succeeded ", "host 0 free"}));
}

TEST(Scheduler, AHostAddedDuringTheRunIsConnectedAndTakesTheJobsThatAdmitIt) {
    Harness h(R"(version: 1
defaults: {max_load: 0.5}
hosts: [{name: a, labels: [x]}]
jobs:
  - {name: any, command: x, shards: {count: 3}}
  - {name: labelled, command: x, shards: {count: 2}, hosts: {labels: [x]}, needs: any}
)",
              {}, true, 4);
    std::vector<std::string> answers;
    auto answer = [&](const std::string& e) { answers.push_back(e); };
    HostSpec b;
    b.name = "b";
    b.slots = 2;
    h.scheduler->add_host(b, answer);
    h.scheduler->add_host(b, answer); // known by now: an undrain, which changes nothing
    h.scheduler->step();
    EXPECT_EQ(answers, (std::vector<std::string>{"", ""}));
    EXPECT_EQ(h.transport.added, std::vector<std::size_t>{1});
    EXPECT_EQ(h.transport.connects, (std::vector<std::size_t>{0, 1}));
    ASSERT_EQ(h.spec.hosts.size(), 2u);
    EXPECT_EQ(h.spec.hosts[1].max_load, 0.5) << "defaults' limits";
    h.scheduler->step(); // b's connection, as the fake reports it
    EXPECT_EQ(h.launched(), (std::vector<std::string>{"any[0]@a", "any[1]@b", "any[2]@b"}));
    h.finish(0);
    h.finish(1);
    h.finish(2);
    EXPECT_EQ(h.launched(3), (std::vector<std::string>{"labelled[0]@a"})) << "b has no label x";
}

TEST(Scheduler, AHostThatDoesNotFitInTheTableIsRefused) {
    Harness h("version: 1\nhosts: [a]\njobs: [{name: j, command: x}]\n");
    std::string error;
    HostSpec b;
    b.name = "b";
    h.scheduler->add_host(b, [&](const std::string& e) { error = e; });
    h.scheduler->step();
    EXPECT_EQ(error, "host 'b' not added: the run has no room for more hosts");
    EXPECT_EQ(h.spec.hosts.size(), 1u);
}

TEST(Scheduler, ADrainedHostFinishesItsShardsTakesNoNewOneAndIsLetGo) {
    Harness h("version: 1\nhosts: [2/a, 2/b]\njobs: [{name: j, command: x, shards: {count: 6}}]\n");
    EXPECT_EQ(h.launched(), (std::vector<std::string>{"j[0]@a", "j[1]@b", "j[2]@a", "j[3]@b"}));
    std::vector<std::string> answers;
    auto answer = [&](const std::string& e) { answers.push_back(e); };
    h.scheduler->drain_hosts({"a", "nope"}, true, "test", answer);
    h.scheduler->drain_hosts({"bb"}, true, "test", answer);
    h.scheduler->drain_hosts({"a"}, true, "sshard hosts drain", answer);
    h.scheduler->step();
    EXPECT_EQ(answers, (std::vector<std::string>{"the run has no host 'nope'",
                                                 "the run has no host 'bb' (did you mean 'b'?)", ""}));
    h.finish(0); // a: one shard left, no new one
    EXPECT_EQ(h.transport.launches.size(), 4u);
    EXPECT_TRUE(h.transport.disconnects.empty());
    h.finish(2);
    EXPECT_EQ(h.transport.disconnects, std::vector<std::size_t>{0});
    h.finish(1);
    h.finish(3);
    EXPECT_EQ(h.launched(4), (std::vector<std::string>{"j[4]@b", "j[5]@b"}));
    h.advance(1h);
    EXPECT_EQ(h.transport.connects, (std::vector<std::size_t>{0, 1})) << "a drained host is not reconnected";
    h.scheduler->drain_hosts({"a"}, false, "sshard hosts undrain", answer);
    h.scheduler->step();
    EXPECT_EQ(h.transport.connects, (std::vector<std::size_t>{0, 1, 0}));
    EXPECT_EQ(h.recorder.log.front(), "host 0 held (drain): sshard hosts drain");
    EXPECT_NE(std::find(h.recorder.log.begin(), h.recorder.log.end(), "host 0 free"), h.recorder.log.end());
    h.finish(4);
    h.finish(5);
    EXPECT_TRUE(h.scheduler->finished());
    EXPECT_EQ(h.job("j").succeeded, 6u);
}

} // namespace
} // namespace sshard::core
