// Predictions from hand-made journals whose run times are known, so each makespan has one right answer.
#include "core/simulation.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "core/spec_loader.hpp"

namespace sshard::core {
namespace {

// A successful attempt of `job`'s shard `index` (command `work {index}`) that ran `seconds` on `host`.
AttemptEndEvent success(const std::string& job, std::uint64_t index, const std::string& host, double seconds) {
    AttemptEndEvent e;
    e.job = job;
    e.index = index;
    e.host = host;
    e.start = 100;
    e.end = 100 + seconds;
    e.verdict = Verdict::succeeded;
    e.key = "work " + std::to_string(index);
    return e;
}

class SimulationTest : public testing::Test {
protected:
    void SetUp() override {
        char name[] = "/tmp/sshard-simulation-XXXXXX";
        m_dir = ::mkdtemp(name);
    }
    void TearDown() override { std::filesystem::remove_all(m_dir); }

    // The journal of a past run made of `events`.
    PastDurations past(const std::vector<JournalEvent>& events) {
        std::string path = m_dir + "/journal.jsonl";
        std::ofstream out(path);
        out << encode_event(RunStartEvent{}) << '\n';
        for (const auto& event : events) {
            out << encode_event(event) << '\n';
        }
        out.close();
        return PastDurations::read(path);
    }

    Prediction predict_spec(const std::string& yaml, const PastDurations& durations) {
        m_spec = load_spec_text("jobs.yaml", yaml);
        return predict(make_plan(m_spec), durations);
    }

    std::string m_dir;
    Spec m_spec;
};

// Shards of 4, 3, 2 and 1 s on two one-slot hosts: a takes 0 (to 4) then 3 (to 5), b takes 1 (to 3) then 2
// (to 5).
TEST_F(SimulationTest, KnownRunTimesGiveAnExactMakespan) {
    auto durations =
        past({success("j", 0, "a", 4), success("j", 1, "a", 3), success("j", 2, "a", 2), success("j", 3, "a", 1)});
    Prediction p = predict_spec(R"(version: 1
hosts: [{name: a, transport: local}, {name: b, transport: local}]
jobs: [{name: j, command: 'work {index}', shards: {count: 4}}]
)",
                                durations);
    EXPECT_DOUBLE_EQ(p.makespan_s, 5.0);
    EXPECT_DOUBLE_EQ(p.t_total_s, 10.0);
    EXPECT_EQ(p.slots, 2u);
    EXPECT_DOUBLE_EQ(p.utilization, 1.0);
    EXPECT_EQ(p.attempts, 4u);
    ASSERT_EQ(p.hosts.size(), 2u);
    EXPECT_DOUBLE_EQ(p.hosts[0].busy_s, 5.0);
    EXPECT_DOUBLE_EQ(p.hosts[1].busy_s, 5.0);
    EXPECT_DOUBLE_EQ(p.hosts[1].utilization, 1.0);
    EXPECT_EQ(p.jobs.at(0).measured, 4u);
}

// Shards the past run did not have take the job's median (2 s of 1, 2 and 6).
TEST_F(SimulationTest, UnknownShardsTakeTheJobMedian) {
    auto durations = past({success("j", 0, "a", 1), success("j", 1, "a", 2), success("j", 2, "a", 6)});
    Prediction p = predict_spec(R"(version: 1
hosts: [{name: a, transport: local}]
jobs: [{name: j, command: 'work {index}', shards: {count: 5}}]
)",
                                durations);
    EXPECT_DOUBLE_EQ(p.makespan_s, 1 + 2 + 6 + 2 + 2);
    EXPECT_EQ(p.jobs.at(0).measured, 3u);
}

// A shard whose command changed since is another shard: it takes the median too.
TEST_F(SimulationTest, AChangedCommandIsNotMeasured) {
    auto durations = past({success("j", 0, "a", 1), success("j", 1, "a", 9), success("j", 2, "a", 2)});
    Prediction p = predict_spec(R"(version: 1
hosts: [{name: a, transport: local}]
jobs: [{name: j, command: 'other {index}', shards: {count: 3}}]
)",
                                durations);
    EXPECT_DOUBLE_EQ(p.makespan_s, 3 * 2.0);
    EXPECT_EQ(p.jobs.at(0).measured, 0u);
}

// `slow` took twice as long as `fast` for the same work: it has speed 2; a host new to the past run has the
// median speed (1, `fast`'s).
TEST_F(SimulationTest, HostSpeedScalesRunTimes) {
    std::vector<JournalEvent> events;
    for (std::uint64_t i = 0; i < 8; ++i) {
        events.emplace_back(success("j", i, i % 2 == 0 ? "fast" : "slow", i % 2 == 0 ? 1.0 : 2.0));
    }
    auto durations = past(events);
    EXPECT_DOUBLE_EQ(durations.host("slow").speed, 2.0);
    EXPECT_DOUBLE_EQ(durations.host("fast").speed, 1.0);
    EXPECT_DOUBLE_EQ(durations.host("new").speed, 1.0);
    auto on = [&](const std::string& host) {
        return predict_spec(
                   "version: 1\nhosts: [{name: " + host +
                       ", transport: local}]\njobs: [{name: j, command: 'work {index}', shards: {count: 8}}]\n",
                   durations)
            .makespan_s;
    };
    EXPECT_DOUBLE_EQ(on("slow"), 16.0);
    EXPECT_DOUBLE_EQ(on("fast"), 8.0);
    EXPECT_DOUBLE_EQ(on("new"), 8.0);
}

// b needs a and d needs b and c: the path goes a (0-2), b (2-5), d (5-6); c (0-1) ends early.
TEST_F(SimulationTest, NeedsChainAndCriticalPath) {
    auto durations =
        past({success("a", 0, "h", 2), success("b", 0, "h", 3), success("c", 0, "h", 1), success("d", 0, "h", 1)});
    Prediction p = predict_spec(R"(version: 1
hosts: [{name: h, transport: local, slots: 2}]
jobs:
  - {name: a, command: 'work {index}'}
  - {name: b, command: 'work {index}', needs: [a]}
  - {name: c, command: 'work {index}'}
  - {name: d, command: 'work {index}', needs: [b, c]}
)",
                                durations);
    EXPECT_DOUBLE_EQ(p.makespan_s, 6.0);
    ASSERT_EQ(p.critical_path, (std::vector<std::size_t>{0, 1, 3}));
    EXPECT_DOUBLE_EQ(p.jobs[1].start_s, 2.0);
    EXPECT_DOUBLE_EQ(p.jobs[3].start_s, 5.0);
    EXPECT_DOUBLE_EQ(p.jobs[3].end_s, 6.0);
    EXPECT_DOUBLE_EQ(p.jobs[2].end_s, 1.0);
}

// One slot: the job of the higher priority runs first although it comes later in the spec.
TEST_F(SimulationTest, PrioritiesHonoured) {
    auto durations = past({success("low", 0, "h", 1), success("high", 0, "h", 3)});
    Prediction p = predict_spec(R"(version: 1
hosts: [{name: h, transport: local}]
jobs:
  - {name: low, command: 'work {index}'}
  - {name: high, command: 'work {index}', priority: 5}
)",
                                durations);
    EXPECT_DOUBLE_EQ(p.jobs[1].start_s, 0.0);
    EXPECT_DOUBLE_EQ(p.jobs[0].start_s, 3.0);
    EXPECT_DOUBLE_EQ(p.makespan_s, 4.0);
    EXPECT_EQ(p.critical_path, std::vector<std::size_t>{0});
}

// A shard that would outlast its timeout is killed at it, and tried again on the other host after the backoff.
TEST_F(SimulationTest, TimeoutsAndRetriesFollowTheScheduler) {
    auto durations = past({success("j", 0, "a", 5)});
    Prediction p = predict_spec(R"(version: 1
hosts: [{name: a, transport: local}, {name: b, transport: local}]
jobs: [{name: j, command: 'work {index}', timeout: 2s, retries: 1, backoff: {initial: 1s, max: 1s}}]
)",
                                durations);
    EXPECT_EQ(p.attempts, 2u);
    EXPECT_DOUBLE_EQ(p.t_total_s, 4.0);
    EXPECT_GE(p.makespan_s, 4.0) << "2 s, the backoff, 2 s";
}

TEST_F(SimulationTest, PredictingTwiceGivesTheSameFigures) {
    std::vector<JournalEvent> events;
    for (std::uint64_t i = 0; i < 50; ++i) {
        events.emplace_back(success("j", i, i % 3 == 0 ? "a" : "b", 0.1 + static_cast<double>(i % 7)));
    }
    auto durations = past(events);
    std::string yaml = R"(version: 1
hosts: [{name: a, transport: local, slots: 3}, {name: b, transport: local, slots: 2}, {name: c, transport: local}]
jobs: [{name: j, command: 'work {index}', shards: {count: 80}, retries: 2}]
)";
    Prediction first = predict_spec(yaml, durations);
    Prediction second = predict_spec(yaml, durations);
    EXPECT_EQ(first.makespan_s, second.makespan_s);
    EXPECT_EQ(first.t_total_s, second.t_total_s);
    EXPECT_EQ(first.hosts[2].busy_s, second.hosts[2].busy_s);
}

TEST_F(SimulationTest, AJobThePastRunNeverFinishedIsAnError) {
    auto durations = past({success("j", 0, "h", 1)});
    try {
        predict_spec("version: 1\njobs: [{name: other, command: x}]\n", durations);
        FAIL() << "no error";
    } catch (const UsageError& e) {
        EXPECT_STREQ(e.what(),
                     "job 'other' has no shard that succeeded in the past run: no run time to predict it from");
    }
}

TEST_F(SimulationTest, OnlySuccessesCount) {
    AttemptEndEvent failed = success("j", 0, "h", 50);
    failed.verdict = Verdict::retry;
    EXPECT_THROW(past({failed}), UsageError);
    auto durations = past({failed, success("j", 0, "h", 2)});
    EXPECT_DOUBLE_EQ(durations.job("j")->median(), 2.0);
}

TEST_F(SimulationTest, AnEmptyJournalIsAnError) {
    std::string path = m_dir + "/empty.jsonl";
    std::ofstream(path).close();
    try {
        PastDurations::read(path);
        FAIL() << "no error";
    } catch (const UsageError& e) {
        EXPECT_EQ(std::string(e.what()), "'" + path + "' is empty: the run recorded nothing to predict from");
    }
}

} // namespace
} // namespace sshard::core
