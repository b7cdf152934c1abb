// End-to-end: no silent data loss in a run's records. A shard's output or joblog line that hits a full disk
// (a small tmpfs) fails the attempt, names the file in the journal and the report, and the run exits 1; a
// joblog that cannot be written at all stops the run before anything is made or dispatched.
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/cli/binary.hpp"
#include "tests/small_disk.hpp"

namespace sshard::test {
namespace {

namespace fs = std::filesystem;

class OutputErrors : public E2eTest {
protected:
    std::string write_spec(const std::string& jobs) const {
        return write_file("jobs.yaml", "version: 1\nhosts: [{name: here, transport: local, slots: 2}]\njobs:\n" + jobs);
    }

    static std::vector<nlohmann::json> attempt_ends(const std::string& run) {
        std::vector<nlohmann::json> found;
        for (const auto& e : journal_events(run)) {
            if (e["event"] == "attempt_end") {
                found.push_back(e);
            }
        }
        return found;
    }
};

TEST_F(OutputErrors, FullDiskUnderShardOutputFailsTheAttempt) {
    std::string run = m_dir + "/run";
    std::string spec = write_spec("  - {name: prep, command: 'true'}\n");
    ASSERT_EQ(run_sshard({"run", spec, "--run-dir", run}).exit_code, 0);
    SmallDisk disk(run + "/out", 64 * 1024);
    if (!disk.mounted()) {
        GTEST_SKIP() << "cannot mount a tmpfs here (needs root)";
    }
    // Three shards of 40 kB each for 64 kB: at least one cannot be kept whole.
    write_spec("  - {name: prep, command: 'true'}\n"
               "  - {name: big, command: 'head -c 40000 /dev/zero; echo note >&2', shards: {count: 3}}\n");
    Result r = run_sshard({"run", spec, "--resume", run, "--progress", "never"});
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    int failed = 0;
    for (const auto& e : attempt_ends(run)) {
        if (e["job"] != "big") {
            continue;
        }
        std::string stem =
            run + "/out/big/" + std::to_string(e["index"].get<int>()) + "." + std::to_string(e["attempt"].get<int>());
        if (e["verdict"] == "succeeded") {
            EXPECT_FALSE(e.contains("output_error")) << e;
            EXPECT_EQ(fs::file_size(stem + ".out"), 40000u) << "a success with a truncated output";
            EXPECT_EQ(read_file(stem + ".err"), "note\n");
            continue;
        }
        ++failed;
        EXPECT_EQ(e["verdict"], "failed") << e;
        std::string error = e.value("output_error", "");
        EXPECT_TRUE(error == "cannot write '" + stem + ".out': No space left on device" ||
                    error == "cannot write '" + stem + ".err': No space left on device")
            << e;
        EXPECT_EQ(e.value("reason", ""), error) << "the command itself succeeded";
        EXPECT_NE(r.out.find("big[" + std::to_string(e["index"].get<int>()) + "] on here after 1 attempt: " + error),
                  std::string::npos)
            << r.out;
    }
    EXPECT_GE(failed, 1);
    Result json = run_sshard({"report", run, "--format", "json"});
    auto report = nlohmann::json::parse(json.out);
    ASSERT_EQ(report["failures"].size(), static_cast<std::size_t>(failed));
    ASSERT_FALSE(report["output_errors"].empty());
    EXPECT_NE(report["output_errors"][0]["message"].get<std::string>().find("No space left on device"),
              std::string::npos);
}

TEST_F(OutputErrors, FullDiskUnderTheJoblogFailsTheAttemptAndLeavesWholeLines) {
    SmallDisk disk(m_dir + "/small", 16 * 1024);
    if (!disk.mounted()) {
        GTEST_SKIP() << "cannot mount a tmpfs here (needs root)";
    }
    std::ofstream(m_dir + "/small/filler") << std::string(12 * 1024, 'f'); // leaves one page
    // Lines of some 260 bytes: a page holds about 15 of the 30.
    std::string joblog = m_dir + "/small/joblog";
    std::string spec =
        write_spec("  - {name: log, command: ': " + std::string(200, 'x') + " {index}', shards: {count: 30}}\n");
    Result r = run_sshard({"run", spec, "--run-dir", m_dir + "/run", "--joblog", joblog, "--progress", "never"});
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    std::size_t logged = 0;
    std::size_t lost = 0;
    for (const auto& e : attempt_ends(m_dir + "/run")) {
        if (e.contains("output_error")) {
            ++lost;
            EXPECT_EQ(e["output_error"], "cannot write joblog '" + joblog + "': No space left on device");
            EXPECT_EQ(e["verdict"], "failed");
        } else {
            ++logged;
            EXPECT_EQ(e["verdict"], "succeeded");
        }
    }
    EXPECT_GE(lost, 1u);
    EXPECT_GE(logged, 1u);
    std::string text = read_file(joblog);
    ASSERT_FALSE(text.empty());
    EXPECT_EQ(text.back(), '\n') << "half a line was left";
    std::istringstream lines(text);
    std::size_t rows = 0;
    for (std::string line; std::getline(lines, line); ++rows) {
        EXPECT_EQ(std::count(line.begin(), line.end(), '\t'), 8) << line;
    }
    EXPECT_EQ(rows, logged + 1) << "one line per attempt recorded as logged, and the header";
}

TEST_F(OutputErrors, UnwritableJoblogStopsTheRunBeforeItStarts) {
    std::string spec = write_spec("  - {name: j, command: 'touch " + m_dir + "/ran'}\n");
    std::string joblog = m_dir + "/missing/joblog";
    Result r = run_sshard({"run", spec, "--joblog", joblog}, m_dir);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, "sshard: error: cannot write joblog '" + joblog + "': No such file or directory\n");
    EXPECT_FALSE(fs::exists(m_dir + "/.sshard")) << "a half-made run directory was left";
    r = run_sshard({"run", spec, "--joblog", joblog, "--run-dir", m_dir + "/run"}, m_dir);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_FALSE(fs::exists(m_dir + "/run"));
    EXPECT_FALSE(fs::exists(m_dir + "/ran")) << "a shard was dispatched";
}

} // namespace
} // namespace sshard::test
