// The report from hand-made journals with known answers.
#include "core/report.hpp"

#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <gtest/gtest.h>

namespace sshard::core {
namespace {

// tests/data/report_run: hosts a and b with 2 slots each. j[0] runs on a over [0, 4), j[1] fails on a over
// [0, 2) and succeeds on b over [2, 6), j[2] fails for good on b over [0, 3); j[3] never runs; job k's 2
// shards are skipped; b is lost once. a sent two samples (CPU 50% and 100%, 100 and 200 MiB used), b none.
// Accounting measured the peak memory of j[0] on a (70 MiB) and j[1]'s second try on b (100 MiB).
TEST(Report, KnownRunGivesExactNumbers) {
    Report r = build_report(std::string(SSHARD_TEST_DATA) + "/report_run");
    EXPECT_EQ(r.run.name, "demo");
    EXPECT_DOUBLE_EQ(r.run.makespan_s, 6.0);
    EXPECT_DOUBLE_EQ(r.run.t_total_s, 13.0);
    EXPECT_EQ(r.run.slots, 4u);
    EXPECT_DOUBLE_EQ(*r.run.utilization, 13.0 / 24.0);
    EXPECT_DOUBLE_EQ(*r.run.speedup, 13.0 / 6.0);
    EXPECT_DOUBLE_EQ(*r.run.cpu_efficiency, 4.0 / 6.0);
    EXPECT_EQ(r.run.shards.total, 6u);
    EXPECT_EQ(r.run.shards.succeeded, 2u);
    EXPECT_EQ(r.run.shards.failed, 1u);
    EXPECT_EQ(r.run.shards.skipped, 2u);
    EXPECT_EQ(r.run.attempts, 4u);
    EXPECT_EQ(r.run.retries, 1u);
    EXPECT_EQ(r.run.host_losses, 1u);

    ASSERT_EQ(r.hosts.size(), 2u);
    EXPECT_DOUBLE_EQ(r.hosts[0].busy_s, 6.0);
    EXPECT_DOUBLE_EQ(*r.hosts[0].idle_s, 6.0);
    EXPECT_DOUBLE_EQ(*r.hosts[0].utilization, 0.5);
    EXPECT_DOUBLE_EQ(r.hosts[1].busy_s, 7.0);
    EXPECT_DOUBLE_EQ(*r.hosts[1].utilization, 7.0 / 12.0);
    EXPECT_EQ(r.hosts[1].losses, 1u);
    EXPECT_EQ(r.hosts[0].failures, 1u);
    EXPECT_EQ(r.hosts[0].setup_s, 0.25);
    EXPECT_EQ(r.hosts[0].samples, 2u);
    EXPECT_DOUBLE_EQ(*r.hosts[0].cpu_busy_mean, 0.75);
    EXPECT_DOUBLE_EQ(*r.hosts[0].cpu_busy_peak, 1.0);
    EXPECT_EQ(*r.hosts[0].mem_used_peak, 200u * 1024 * 1024);
    EXPECT_FALSE(r.hosts[1].cpu_busy_mean) << "b sent no samples";
    EXPECT_EQ(r.hosts[0].max_rss, 70u * 1024 * 1024);
    EXPECT_EQ(r.hosts[1].max_rss, 100u * 1024 * 1024);

    const JobReport& j = r.jobs.at(0);
    EXPECT_DOUBLE_EQ(j.duration_s->min, 2.0);
    EXPECT_DOUBLE_EQ(j.duration_s->p50, 3.0);
    EXPECT_DOUBLE_EQ(j.duration_s->p95, 4.0);
    EXPECT_DOUBLE_EQ(j.duration_s->max, 4.0);
    EXPECT_DOUBLE_EQ(*j.makespan_s, 6.0);
    EXPECT_EQ(j.max_rss, 100u * 1024 * 1024);
    EXPECT_FALSE(r.jobs.at(1).max_rss) << "k ran nothing";

    ASSERT_EQ(r.failures.size(), 1u);
    EXPECT_EQ(r.failures[0].job, "j");
    EXPECT_EQ(r.failures[0].index, 2u);
    EXPECT_EQ(r.failures[0].reason, "exit 2");
    EXPECT_EQ(r.failures[0].stderr_tail, "first\nsecond\nlast line");
    ASSERT_EQ(r.not_run.size(), 1u);
    EXPECT_EQ(r.not_run[0].count, 2u);

    // a: both slots busy for the first third, one for the second, none for the last.
    EXPECT_DOUBLE_EQ(r.hosts[0].timeline.front(), 1.0);
    EXPECT_DOUBLE_EQ(r.hosts[0].timeline[30], 0.5);
    EXPECT_DOUBLE_EQ(r.hosts[0].timeline.back(), 0.0);
}

// Slots that could not be used are not counted: b never connected, and --max-parallel 2 caps a's 4. What was not
// measured (CPU, a job that never ran, b's idle time) is none, not zero.
TEST(Report, CountsUsableSlotsAndNothingUnmeasured) {
    char name[] = "/tmp/sshard_report_XXXXXX";
    std::string dir = mkdtemp(name);
    std::ofstream(dir + "/journal.jsonl")
        << R"({"event":"run_start","time":0,"run":"r","name":"n","max_parallel":2,"hosts":[{"name":"a","slots":4},{"name":"b","slots":2}],"jobs":[{"name":"j","shards":1},{"name":"k","shards":1}]})"
           "\n"
        << R"({"event":"host_up","time":0,"host":"a","setup_s":0.1})"
           "\n"
        << R"({"event":"host_down","time":0,"host":"b","reason":"refused"})"
           "\n"
        << R"({"event":"attempt_end","job":"j","index":0,"attempt":1,"host":"a","start":10,"end":14,"verdict":"succeeded"})"
           "\n";
    Report r = build_report(dir);
    std::filesystem::remove_all(dir);
    EXPECT_EQ(r.run.slots, 2u);
    EXPECT_DOUBLE_EQ(*r.run.utilization, 4.0 / (2 * 4.0));
    EXPECT_FALSE(r.run.cpu_s);
    EXPECT_FALSE(r.run.cpu_efficiency);
    ASSERT_EQ(r.hosts.size(), 2u);
    EXPECT_TRUE(r.hosts[0].connected);
    EXPECT_FALSE(r.hosts[0].cpu_user_s);
    EXPECT_FALSE(r.hosts[1].connected);
    EXPECT_FALSE(r.hosts[1].utilization);
    EXPECT_FALSE(r.hosts[1].idle_s);
    ASSERT_EQ(r.jobs.size(), 2u);
    EXPECT_TRUE(r.jobs[0].duration_s);
    EXPECT_FALSE(r.jobs[1].duration_s);
    EXPECT_FALSE(r.jobs[1].makespan_s);
    EXPECT_FALSE(r.jobs[1].cpu_efficiency);
}

// A Slurm host's attempts count on the compute nodes they name, each with its CPUs as slots; the host itself,
// whose every attempt named a node, has no row. Other hosts keep theirs.
TEST(Report, SlurmAttemptsCountOnTheirNodes) {
    char name[] = "/tmp/sshard_report_XXXXXX";
    std::string dir = mkdtemp(name);
    std::ofstream(dir + "/journal.jsonl")
        << R"({"event":"run_start","time":0,"run":"r","name":"n","hosts":[{"name":"hpc","slots":256},{"name":"q","slots":64}],"jobs":[{"name":"j","shards":4}]})"
           "\n"
        << R"({"event":"attempt_end","job":"j","index":0,"attempt":1,"host":"hpc","node":"n1","node_cpus":4,"max_rss":3000,"start":0,"end":10,"verdict":"succeeded"})"
           "\n"
        << R"({"event":"attempt_end","job":"j","index":1,"attempt":1,"host":"hpc","node":"n2","node_cpus":2,"max_rss":9000,"start":0,"end":5,"verdict":"succeeded"})"
           "\n"
        << R"({"event":"attempt_end","job":"j","index":2,"attempt":1,"host":"hpc","node":"n1","node_cpus":4,"max_rss":5000,"start":0,"end":10,"verdict":"failed"})"
           "\n"
        << R"({"event":"attempt_end","job":"j","index":3,"attempt":1,"host":"q","start":0,"end":1,"verdict":"succeeded"})"
           "\n";
    Report r = build_report(dir);
    std::filesystem::remove_all(dir);
    ASSERT_EQ(r.hosts.size(), 3u);
    EXPECT_EQ(r.hosts[0].name, "q");
    EXPECT_EQ(r.hosts[1].name, "n1");
    EXPECT_EQ(r.hosts[1].slots, 4);
    EXPECT_EQ(r.hosts[1].shards, 2u);
    EXPECT_DOUBLE_EQ(*r.hosts[1].idle_s, 4 * 10.0 - 20.0);
    EXPECT_DOUBLE_EQ(*r.hosts[1].utilization, 0.5);
    EXPECT_EQ(r.hosts[2].name, "n2");
    EXPECT_DOUBLE_EQ(*r.hosts[2].utilization, 5.0 / 20.0);
    EXPECT_EQ(r.run.slots, 64u + 4u + 2u);
    // Peak memory where accounting measured it: the largest of each node's and the job's attempts; none for q.
    EXPECT_EQ(r.hosts[1].max_rss, 5000u);
    EXPECT_EQ(r.hosts[2].max_rss, 9000u);
    EXPECT_FALSE(r.hosts[0].max_rss);
    EXPECT_EQ(r.jobs[0].max_rss, 9000u);
    ASSERT_EQ(r.failures.size(), 1u);
    EXPECT_EQ(r.failures[0].hosts, std::vector<std::string>{"n1"});
}

TEST(Report, ResumedRunCountsEachSessionsSpanAndLaterSuccess) {
    char name[] = "/tmp/sshard_report_XXXXXX";
    std::string dir = mkdtemp(name);
    std::ofstream(dir + "/journal.jsonl")
        << R"({"event":"run_start","time":0,"run":"r","name":"n","hosts":[{"name":"a","slots":1}],"jobs":[{"name":"j","shards":2}]})"
           "\n"
        << R"({"event":"attempt_end","job":"j","index":0,"attempt":1,"host":"a","start":10,"end":12,"verdict":"failed"})"
           "\n"
        << R"({"event":"run_start","time":100,"run":"r","name":"n","hosts":[{"name":"a","slots":1}],"jobs":[{"name":"j","shards":2}]})"
           "\n"
        << R"({"event":"attempt_end","job":"j","index":0,"attempt":1,"host":"a","start":100,"end":101,"verdict":"succeeded"})"
           "\n"
        << R"({"event":"attempt_end","job":"j","index":1,"attempt":1,"host":"a","start":101,"end":104,"verdict":"succeeded"})"
           "\n";
    Report r = build_report(dir);
    EXPECT_DOUBLE_EQ(r.run.makespan_s, 2.0 + 4.0) << "the pause between the sessions is not counted";
    EXPECT_EQ(r.run.shards.succeeded, 2u);
    EXPECT_EQ(r.run.shards.failed, 0u) << "a failed shard that a resume ran again with success";
    EXPECT_TRUE(r.failures.empty());
    std::filesystem::remove_all(dir);
}

TEST(Report, SumsHowLongEachHostWasHeldBackAndSaysWhy) {
    char name[] = "/tmp/sshard_report_XXXXXX";
    std::string dir = mkdtemp(name);
    auto start = [](int t) {
        return R"({"event":"run_start","time":)" + std::to_string(t) +
               R"(,"run":"r","name":"n","hosts":[{"name":"a","slots":1},{"name":"b","slots":1}],"jobs":[]})"
               "\n";
    };
    auto hold = [](const char* event, const char* host, const char* kind, int t) {
        return fmt::format(R"({{"event":"{}","time":{},"host":"{}","kind":"{}","reason":"why"}})"
                           "\n",
                           event, t, host, kind);
    };
    std::ofstream(dir + "/journal.jsonl")
        << start(0) << hold("host_held", "a", "load", 2) << hold("host_released", "a", "load", 5)
        << hold("host_held", "a", "memory", 6) << hold("host_released", "a", "memory", 7)
        << hold("host_held", "a", "load", 8)
        << hold("host_held", "b", "memory", 9)
        // The runner was killed with both held: their holds end at its last event.
        << R"({"event":"host_sample","time":10,"host":"b","cpu_busy":0.5,"mem_used":1,"mem_total":2})"
           "\n"
        << start(100) << hold("host_held", "b", "memory", 101) << hold("host_released", "b", "memory", 104);
    Report r = build_report(dir);
    ASSERT_EQ(r.hosts.size(), 2u);
    EXPECT_DOUBLE_EQ(r.hosts[0].held_s, 3.0 + 1.0 + 2.0);
    EXPECT_EQ(r.hosts[0].held_for, (std::vector<std::string>{"load", "memory"}));
    EXPECT_DOUBLE_EQ(r.hosts[1].held_s, 1.0 + 3.0);
    EXPECT_EQ(r.hosts[1].held_for, std::vector<std::string>{"memory"});
    std::filesystem::remove_all(dir);
}

TEST(Report, CountsEachShardOnceByItsLastOutcome) {
    char name[] = "/tmp/sshard_report_XXXXXX";
    std::string dir = mkdtemp(name);
    auto start = [](int shards_j, int shards_k) {
        return R"({"event":"run_start","time":0,"run":"r","hosts":[{"name":"a","slots":1}],"jobs":[{"name":"j","shards":)" +
               std::to_string(shards_j) + R"(},{"name":"k","shards":)" + std::to_string(shards_k) + "}]}\n";
    };
    auto end = [](const std::string& job, int index, const std::string& verdict, int t) {
        return R"({"event":"attempt_end","job":")" + job + R"(","index":)" + std::to_string(index) +
               R"(,"host":"a","start":)" + std::to_string(t) + R"(,"end":)" + std::to_string(t + 1) +
               R"(,"verdict":")" + verdict + "\"}\n";
    };
    std::ofstream(dir + "/journal.jsonl")
        << start(3, 2) << end("j", 0, "succeeded", 0) << end("j", 1, "failed", 1) << end("j", 2, "succeeded", 2)
        << R"({"event":"shards_not_run","job":"k","count":2,"as":"skipped","reason":"r","indices":[[0,2]]})"
           "\n"
        // A resume with --retry-failed and an edited spec: j has 2 shards now, j[0]'s command changed.
        << start(2, 2) << end("j", 0, "succeeded", 10) << end("j", 1, "retry", 11) << end("j", 1, "succeeded", 12)
        << end("k", 0, "succeeded", 13);
    Report r = build_report(dir);
    ASSERT_EQ(r.jobs.size(), 2u);
    EXPECT_EQ(r.jobs[0].shards.total, 2u);
    EXPECT_EQ(r.jobs[0].shards.succeeded, 2u) << "j[0] ran twice, j[2] is gone from the spec";
    EXPECT_EQ(r.jobs[0].attempts, 6u);
    EXPECT_EQ(r.jobs[1].shards.succeeded, 1u);
    EXPECT_EQ(r.jobs[1].shards.skipped, 0u) << "skipped is a session's verdict: the resume ran k again";
    EXPECT_TRUE(r.not_run.empty());
    EXPECT_TRUE(r.failures.empty());
    EXPECT_TRUE(r.run.interrupted) << "the last session has no run_end";
    EXPECT_EQ(r.run.sessions.size(), 2u);
    EXPECT_DOUBLE_EQ(r.run.makespan_s, 3.0 + 4.0);
    std::filesystem::remove_all(dir);
}

TEST(Report, ListsAttemptsWhoseOutputCouldNotBeWritten) {
    char name[] = "/tmp/sshard_report_XXXXXX";
    std::string dir = mkdtemp(name);
    std::ofstream(dir + "/journal.jsonl")
        << R"({"event":"run_start","time":0,"run":"r","hosts":[{"name":"a","slots":1}],"jobs":[{"name":"j","shards":1}]})"
           "\n"
        << R"({"event":"attempt_end","job":"j","index":0,"attempt":2,"host":"a","start":0,"end":1,"verdict":"succeeded",)"
           R"("output_error":"cannot write 'out/j/0.2.out': No space left on device"})"
           "\n";
    Report r = build_report(dir);
    ASSERT_EQ(r.output_errors.size(), 1u);
    EXPECT_EQ(r.output_errors[0].job, "j");
    EXPECT_EQ(r.output_errors[0].attempt, 2);
    EXPECT_EQ(r.output_errors[0].message, "cannot write 'out/j/0.2.out': No space left on device");
    std::filesystem::remove_all(dir);
}

TEST(Report, ActiveTimeLeavesOutThePauses) {
    std::vector<Span> sessions = {{100, 110}, {200, 205}};
    EXPECT_DOUBLE_EQ(active_seconds(sessions, 90), 0);
    EXPECT_DOUBLE_EQ(active_seconds(sessions, 104), 4);
    EXPECT_DOUBLE_EQ(active_seconds(sessions, 150), 10) << "a pause falls at the next session's start";
    EXPECT_DOUBLE_EQ(active_seconds(sessions, 203), 13);
    EXPECT_DOUBLE_EQ(active_seconds(sessions, 300), 15);
}

TEST(Report, Percentiles) {
    std::vector<double> values;
    for (int i = 1; i <= 100; ++i) {
        values.push_back(i);
    }
    EXPECT_EQ(percentile(values, 0.5), 50);
    EXPECT_EQ(percentile(values, 0.95), 95);
    EXPECT_EQ(percentile({7}, 0.95), 7);
    EXPECT_EQ(percentile({}, 0.5), 0);
}

} // namespace
} // namespace sshard::core
