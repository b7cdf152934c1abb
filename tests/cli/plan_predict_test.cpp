// End-to-end: `sshard plan --predict` against real runs of shards that sleep a known time.
#include <filesystem>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/cli/binary.hpp"

namespace sshard::test {
namespace {

using Json = nlohmann::json;

// Two jobs of 8 shards of 0.2 s, one after the other, on two local hosts of 2 slots: four rounds.
constexpr const char* k_spec = R"(version: 1
name: naps
hosts: [{name: h1, transport: local, slots: 2}, {name: h2, transport: local, slots: 2}]
jobs:
  - {name: first, command: sleep 0.2, shards: {count: 8}}
  - {name: then, command: sleep 0.2, shards: {count: 8}, needs: [first]}
)";

class PlanPredict : public E2eTest {
protected:
    // Runs `spec` into m_dir/run and returns the run's report as JSON.
    Json run(const std::string& spec) {
        Result r =
            run_sshard({"run", write_file("spec.yaml", spec), "--run-dir", m_dir + "/run", "--progress", "never"});
        Result report = run_sshard({"report", m_dir + "/run", "--format", "json"});
        EXPECT_EQ(report.exit_code, 0) << report.err;
        return Json::parse(report.out);
    }
    Json predict(std::vector<std::string> extra = {}) {
        std::vector<std::string> args = {"plan", "--predict", m_dir + "/run", "--format", "json"};
        args.insert(args.end(), extra.begin(), extra.end());
        Result r = run_sshard(args);
        EXPECT_EQ(r.exit_code, 0) << r.err;
        return Json::parse(r.out);
    }
};

TEST_F(PlanPredict, ReplaysTheRunsTimesWithItsOwnSpecAndOtherHosts) {
    Json report = run(k_spec);
    ASSERT_EQ(report["run"]["shards"]["succeeded"], 16);
    double shortest = 1e9;
    double longest = 0;
    for (const auto& job : report["jobs"]) {
        shortest = std::min(shortest, job["duration_s"]["min"].get<double>());
        longest = std::max(longest, job["duration_s"]["max"].get<double>());
    }

    Json p = predict();
    Json predicted = p["predicted"];
    // The same shards on the same hosts: about the same run time in all (a shard the simulation places on another
    // host than it ran on takes its time scaled by the two hosts' relative speeds, which differ by noise), and two
    // rounds of each job.
    double t_total = report["run"]["t_total_s"].get<double>();
    EXPECT_NEAR(predicted["t_total_s"].get<double>(), t_total, 0.01 * t_total);
    double makespan = predicted["makespan_s"].get<double>();
    EXPECT_GE(makespan, 4 * shortest - 1e-3);
    EXPECT_LE(makespan, 4 * longest + 1e-3);
    EXPECT_EQ(predicted["slots"], 4);
    EXPECT_NEAR(predicted["utilization"].get<double>(),
                predicted["t_total_s"].get<double>() / (4 * predicted["makespan_s"].get<double>()), 1e-9);
    double busy = 0;
    for (const auto& host : p["hosts"]) {
        EXPECT_NEAR(host["predicted_utilization"].get<double>(),
                    host["predicted_busy_s"].get<double>() / (host["slots"].get<double>() * makespan), 1e-9);
        busy += host["predicted_busy_s"].get<double>();
    }
    EXPECT_NEAR(busy, predicted["t_total_s"].get<double>(), 1e-6);
    ASSERT_EQ(p["critical_path"].size(), 2u);
    EXPECT_EQ(p["critical_path"][0]["job"], "first");
    EXPECT_EQ(p["critical_path"][1]["job"], "then");
    EXPECT_EQ(p["jobs"][1]["measured"], 8);

    // The spec named on the command line is the run's own: the same prediction.
    EXPECT_EQ(predict({m_dir + "/spec.yaml"}), p);

    // Twice the hosts: one round of each job instead of two, about half the makespan.
    Json doubled = predict({"--hosts", "2/h[1-4]"});
    double ratio = doubled["predicted"]["makespan_s"].get<double>() / makespan;
    EXPECT_GT(ratio, 0.35);
    EXPECT_LT(ratio, 0.65);
    EXPECT_EQ(doubled["hosts"].size(), 4u);
    EXPECT_EQ(doubled["hosts"][3]["speed"], 1.0) << "a host new to the run has the median speed";

    Result text = run_sshard({"plan", "--predict", m_dir + "/run"});
    EXPECT_EQ(text.exit_code, 0) << text.err;
    EXPECT_NE(text.out.find("predicted run 'naps' with the run times of " + m_dir + "/run\n  makespan "),
              std::string::npos)
        << text.out;
    EXPECT_NE(text.out.find("\ncritical path (through needs)\n  first "), std::string::npos) << text.out;
}

TEST_F(PlanPredict, NotARunDirectory) {
    Result r = run_sshard({"plan", "--predict", m_dir});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, "sshard: error: '" + m_dir + "' is not a run directory (no journal.jsonl in it)\n");
}

TEST_F(PlanPredict, ARunWhereNoShardSucceeded) {
    run("version: 1\nhosts: [{name: h, transport: local}]\njobs: [{name: j, command: exit 3, shards: {count: 2}}]\n");
    Result r = run_sshard({"plan", "--predict", m_dir + "/run"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, "sshard: error: '" + m_dir +
                         "/run/journal.jsonl' has no shard that succeeded: no run time to predict from\n");
    EXPECT_EQ(r.out, "");
}

TEST_F(PlanPredict, AnEmptyJournal) {
    std::filesystem::create_directory(m_dir + "/run");
    std::filesystem::permissions(m_dir + "/run", std::filesystem::perms::owner_all);
    write_file("run/journal.jsonl", "");
    Result r = run_sshard({"plan", "--predict", m_dir + "/run", write_file("spec.yaml", k_spec)});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err,
              "sshard: error: '" + m_dir + "/run/journal.jsonl' is empty: the run recorded nothing to predict from\n");
}

TEST_F(PlanPredict, NeitherSpecNorRunDir) {
    Result r = run_sshard({"plan"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("SPEC (or --predict RUN_DIR) is required"), std::string::npos) << r.err;
}

} // namespace
} // namespace sshard::test
