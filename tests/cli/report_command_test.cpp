// End-to-end: `sshard report` prints exactly the expected text and JSON for a known journal, and reports of
// real runs name every job and host whole and show n/a, not zero, where nothing was measured.
#include <cstdlib>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/cli/binary.hpp"

namespace sshard::test {
namespace {

TEST(ReportCommand, WholeTextAndJson) {
    setenv("TZ", "UTC", 1); // the report shows local times
    std::string run = data_path("report_run");
    Result text = run_sshard({"report", run});
    EXPECT_EQ(text.exit_code, 0) << text.err;
    EXPECT_EQ(text.out, read_file(run + "/expected.txt"));
    Result json = run_sshard({"report", run, "--format", "json"});
    EXPECT_EQ(json.exit_code, 0) << json.err;
    EXPECT_EQ(json.out, read_file(run + "/expected.json"));
}

TEST(ReportCommand, NotARunDirectory) {
    Result r = run_sshard({"report", data_path("report_run/out")});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err,
              "sshard: error: '" + data_path("report_run/out") + "' is not a run directory (no journal.jsonl in it)\n");
}

class ReportOfARun : public E2eTest {};

// The lines of `text` that start with `prefix`.
std::vector<std::string> lines_starting(const std::string& text, const std::string& prefix) {
    std::vector<std::string> found;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (line.rfind(prefix, 0) == 0) {
            found.push_back(line);
        }
    }
    return found;
}

// Names that share a long start are all printed whole, in every table; a name past 40 characters is shortened in
// the middle, visibly, and keeps its distinct end.
TEST_F(ReportOfARun, NamesAreNeverCutSilently) {
    std::string long_job = "a-job-whose-name-is-much-longer-than-forty-characters-" + std::string(20, 'x') + "-end1";
    std::string spec = write_file("jobs.yaml", "version: 1\nhosts: ['render-node-east-00[1-3]']\njobs:\n"
                                               "  - {name: render-frames-of-the-east-wing, command: 'true', "
                                               "shards: {count: 3}}\n  - {name: " +
                                                   long_job + ", command: 'true'}\n");
    Result r = run_sshard({"run", spec, "--local", "--run-dir", m_dir + "/run"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    for (const std::string name : {"render-node-east-001", "render-node-east-002", "render-node-east-003"}) {
        // The hosts table, the host use table and the timeline.
        EXPECT_EQ(lines_starting(r.out, name + " ").size(), 2u) << name << "\n" << r.out;
        EXPECT_EQ(lines_starting(r.out, "  " + name + " ").size(), 1u) << name << "\n" << r.out;
    }
    EXPECT_EQ(lines_starting(r.out, "render-frames-of-the-east-wing ").size(), 1u) << r.out;
    EXPECT_EQ(r.out.find(long_job), std::string::npos) << "a 78-character name is shortened: " << r.out;
    auto shortened = lines_starting(r.out, long_job.substr(0, 19) + "\u2026" + long_job.substr(long_job.size() - 20));
    EXPECT_EQ(shortened.size(), 1u) << r.out;
    // Columns stay aligned: the last is right-aligned, so every line of a table ends in the same column.
    auto header = lines_starting(r.out, "job ");
    ASSERT_EQ(header.size(), 1u);
    EXPECT_EQ(header[0].size(), lines_starting(r.out, "render-frames")[0].size()) << r.out;
    EXPECT_EQ(header[0].size(), shortened[0].size() - 2) << "the 3 bytes of \u2026 take one column: " << r.out;
}

// A job that never ran and CPU time that was never measured show n/a, and null in JSON; a host that never
// connected is down, and neither it nor slots beyond --max-parallel count in the run's slots.
TEST_F(ReportOfARun, NothingUnmeasuredIsZeroAndOnlyUsableSlotsCount) {
    std::string spec = write_file("jobs.yaml", R"(version: 1
hosts:
  - {name: here, slots: 4, transport: local}
  - 127.0.0.99:1
jobs:
  - {name: fails, command: 'exit 3', hosts: [here]}
  - {name: after, command: 'true', needs: [fails]}
)");
    Result r = run_sshard({"run", spec, "--max-parallel", "2", "--run-dir", m_dir + "/run"});
    ASSERT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.out.find(" 2 slots, "), std::string::npos) << "4 slots capped at 2, none of the down host: " << r.out;
    auto after = lines_starting(r.out, "after ");
    ASSERT_EQ(after.size(), 1u) << r.out;
    EXPECT_EQ(after[0].find("0s"), std::string::npos) << after[0];
    EXPECT_EQ(after[0].find('%'), std::string::npos) << after[0];
    auto down = lines_starting(r.out, "127.0.0.99 ");
    ASSERT_EQ(down.size(), 2u) << r.out;
    EXPECT_NE(down[0].find(" down "), std::string::npos) << down[0];
    EXPECT_EQ(down[0].find('%'), std::string::npos) << down[0];

    Result json = run_sshard({"report", m_dir + "/run", "--format", "json"});
    ASSERT_EQ(json.exit_code, 0) << json.err;
    auto doc = nlohmann::json::parse(json.out);
    EXPECT_EQ(doc["run"]["slots"], 2);
    EXPECT_EQ(doc["jobs"][1]["name"], "after");
    for (const char* key : {"t_total_s", "duration_s", "cpu_efficiency", "makespan_s"}) {
        EXPECT_TRUE(doc["jobs"][1][key].is_null()) << key << ": " << doc["jobs"][1];
    }
    EXPECT_TRUE(doc["jobs"][0]["cpu_efficiency"].is_number()) << "the local transport measures CPU";
    EXPECT_TRUE(doc["jobs"][0]["max_rss_bytes"].is_null()) << "only Slurm's accounting measures peak memory";
    for (const char* key : {"idle_s", "utilization", "setup_s", "cpu_user_s", "cpu_sys_s", "max_rss_bytes"}) {
        EXPECT_TRUE(doc["hosts"][1][key].is_null()) << key << ": " << doc["hosts"][1];
    }
}

// Peak memory is a column only where some attempt measured it (Slurm's accounting): a run of local shards has
// none, rather than a column of n/a; the same run with one attempt's peak in its journal shows it.
TEST_F(ReportOfARun, PeakMemoryIsAColumnOnlyWhereMeasured) {
    std::string spec = write_file("jobs.yaml", "version: 1\njobs:\n  - {name: j, command: 'true'}\n");
    ASSERT_EQ(run_sshard({"run", spec, "--local", "--run-dir", m_dir + "/run"}).exit_code, 0);
    Result unmeasured = run_sshard({"report", m_dir + "/run"});
    ASSERT_EQ(unmeasured.exit_code, 0) << unmeasured.err;
    EXPECT_EQ(unmeasured.out.find("max rss"), std::string::npos) << unmeasured.out;
    std::string journal;
    std::istringstream in(read_file(m_dir + "/run/journal.jsonl"));
    for (std::string line; std::getline(in, line);) {
        auto event = nlohmann::json::parse(line);
        if (event["event"] == "attempt_end") {
            event["max_rss"] = 50 * 1048576;
        }
        journal += event.dump() + "\n";
    }
    write_file("run/journal.jsonl", journal);
    Result measured = run_sshard({"report", m_dir + "/run"});
    ASSERT_EQ(measured.exit_code, 0) << measured.err;
    auto header = lines_starting(measured.out, "job ");
    ASSERT_EQ(header.size(), 1u) << measured.out;
    EXPECT_NE(header[0].find("max rss"), std::string::npos) << measured.out;
    EXPECT_EQ(lines_starting(measured.out, "j ").at(0).substr(header[0].find("max rss")), " 50 MiB") << measured.out;
}

} // namespace
} // namespace sshard::test
