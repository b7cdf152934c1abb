// Peak memory over Slurm: where the cluster keeps accounting, each shard's MaxRSS from sacct reaches the journal
// and the report. This binary's cluster is one with accounting (tests/slurm/cluster.sh start --accounting:
// MariaDB and slurmdbd), which ctest starts beside the shared one; the shared cluster, without accounting, shows
// n/a (slurm_run_test.cpp).
#include <gtest/gtest.h>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/slurm/slurm_fixture.hpp"

namespace sshard::test {
namespace {

constexpr std::uint64_t k_mib = 1024 * 1024;

using SlurmMemory = SlurmTest;

// A shard that holds 60 MiB for two seconds, over Slurm's sampling interval of one (tail keeps its one line whole until
// its input ends) and one that holds next to nothing: each one's MaxRSS is in its attempt_end, the job's and the node's
// largest in the report.
TEST_F(SlurmMemory, MaxRssFromAccountingReachesTheJournalAndReport) {
    write_file("jobs.yaml", R"(version: 1
hosts:
  - {name: hpc, transport: slurm, slots: 2, slurm: {partition: debug}}
jobs:
  - name: big
    command: '{ head -c 60M /dev/zero; sleep 2; } | tail | wc -c'
  - name: small
    command: sleep 2
)");
    Result r = run_sshard({"run", m_dir + "/jobs.yaml", "--run-dir", m_dir + "/run"}, m_dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::map<std::string, nlohmann::json> ends;
    for (const auto& event : journal_events(m_dir + "/run")) {
        if (event["event"] == "attempt_end") {
            ends[event["job"].get<std::string>()] = event;
        }
    }
    ASSERT_TRUE(ends["big"].contains("max_rss")) << ends["big"].dump();
    ASSERT_TRUE(ends["small"].contains("max_rss")) << ends["small"].dump();
    auto big = ends["big"]["max_rss"].get<std::uint64_t>();
    auto small = ends["small"]["max_rss"].get<std::uint64_t>();
    EXPECT_GE(big, 60 * k_mib);
    EXPECT_LT(big, 120 * k_mib);
    EXPECT_GT(small, 0u);
    EXPECT_LT(small, 30 * k_mib);
    Result report = run_sshard({"report", m_dir + "/run", "--format", "json"}, m_dir);
    ASSERT_EQ(report.exit_code, 0) << report.err;
    auto json = nlohmann::json::parse(report.out);
    ASSERT_EQ(json["jobs"].size(), 2u);
    EXPECT_EQ(json["jobs"][0]["max_rss_bytes"], big) << report.out;
    EXPECT_EQ(json["jobs"][1]["max_rss_bytes"], small) << report.out;
    for (const auto& host : json["hosts"]) {
        if (host["name"] == "node1") {
            EXPECT_EQ(host["max_rss_bytes"], big) << report.out;
        }
    }
    Result text = run_sshard({"report", m_dir + "/run"}, m_dir);
    EXPECT_NE(text.out.find(std::to_string((big + k_mib / 2) / k_mib) + " MiB"), std::string::npos) << text.out;
}

} // namespace
} // namespace sshard::test
