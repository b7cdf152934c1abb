// End-to-end: `stage` and `collect` on local hosts, through the real binary. The same rules hold as over SSH
// (tests/ssh/stage_test.cpp): incremental staging, collected files in the run directory, hostile paths refused,
// and the journal, the report and the joblog agreeing with the bytes on disk.
#include <filesystem>
#include <gtest/gtest.h>
#include <map>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include "tests/cli/binary.hpp"
#include "tests/small_disk.hpp"

namespace sshard::test {
namespace {

namespace fs = std::filesystem;

class Transfer : public E2eTest {
protected:
    void SetUp() override {
        E2eTest::SetUp();
        fs::create_directories(m_dir + "/tree/sub");
        write_file("tree/a.txt", "alpha\n");
        write_file("tree/sub/b.txt", std::string(5000, 'b'));
        fs::permissions(m_dir + "/tree/sub/b.txt", fs::perms(0750));
    }

    std::string spec(const std::string& collect = "") {
        return write_file("jobs.yaml",
                          "version: 1\njobs:\n  - name: use\n    shards: {count: 3}\n    workdir: " + m_dir +
                              "/work\n    stage:\n      - {from: tree, to: staged/tree}\n"
                              "    command: cat staged/tree/a.txt > out-{index}.txt\n" +
                              collect);
    }
    Result run(const std::string& path, const std::string& run_dir) {
        return run_sshard(
            {"run", path, "--run-dir", m_dir + "/" + run_dir, "--joblog", m_dir + "/" + run_dir + ".log"});
    }
    // Each attempt's reason ("" when none) by shard index, from the journal of run directory `run_dir`.
    std::map<std::uint64_t, std::string> attempt_reasons(const std::string& run_dir) {
        std::map<std::uint64_t, std::string> reasons;
        for (const auto& e : journal_events(m_dir + "/" + run_dir)) {
            if (e["event"] == "attempt_end") {
                reasons[e["index"].get<std::uint64_t>()] = e.value("reason", "");
            }
        }
        return reasons;
    }
    // The bytes staged and collected over the run's attempts, from its journal.
    std::pair<std::uint64_t, std::uint64_t> moved(const std::string& run_dir) {
        std::uint64_t sent = 0;
        std::uint64_t received = 0;
        for (const auto& e : journal_events(m_dir + "/" + run_dir)) {
            if (e["event"] == "attempt_end" && e.contains("transfer")) {
                sent += e["transfer"]["sent_bytes"].get<std::uint64_t>();
                received += e["transfer"]["received_bytes"].get<std::uint64_t>();
            }
        }
        return {sent, received};
    }
};

TEST_F(Transfer, StagesOnceThenSendsOnlyWhatChanged) {
    fs::create_directories(m_dir + "/work");
    std::string path = spec();
    Result first = run(path, "r1");
    ASSERT_EQ(first.exit_code, 0) << first.err;
    EXPECT_EQ(read_file(m_dir + "/work/out-2.txt"), "alpha\n");
    EXPECT_EQ(read_file(m_dir + "/work/staged/tree/sub/b.txt"), std::string(5000, 'b'));
    struct stat st {};
    ASSERT_EQ(::stat((m_dir + "/work/staged/tree/sub/b.txt").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0750u);
    EXPECT_EQ(fs::last_write_time(m_dir + "/work/staged/tree/a.txt"), fs::last_write_time(m_dir + "/tree/a.txt"));
    EXPECT_EQ(moved("r1").first, 5006u) << "staged once for the host, not once per shard";

    Result second = run(path, "r2");
    ASSERT_EQ(second.exit_code, 0) << second.err;
    EXPECT_EQ(moved("r2").first, 0u);

    write_file("tree/a.txt", "changed\n");
    Result third = run(path, "r3");
    ASSERT_EQ(third.exit_code, 0) << third.err;
    EXPECT_EQ(moved("r3").first, 8u) << "only the changed file";
    EXPECT_EQ(read_file(m_dir + "/work/out-0.txt"), "changed\n");
    EXPECT_NE(read_file(m_dir + "/r3.log").find("\t8\t0\t0\t0\t"), std::string::npos) << read_file(m_dir + "/r3.log");
}

TEST_F(Transfer, CollectsAFilePerShardAndReportsTheBytes) {
    fs::create_directories(m_dir + "/work");
    std::string path = spec("    collect:\n      - {from: \"out-{index}.txt\", to: \"results/{job}/{index}.txt\"}\n"
                            "      - {from: \"none-{index}\", to: \"none/{index}\", optional: true}\n");
    Result r = run(path, "r");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::uint64_t on_disk = 0;
    for (int i = 0; i < 3; ++i) {
        std::string file = m_dir + "/r/results/use/" + std::to_string(i) + ".txt";
        EXPECT_EQ(read_file(file), "alpha\n");
        on_disk += fs::file_size(file);
    }
    EXPECT_FALSE(fs::exists(m_dir + "/r/none"));
    EXPECT_EQ(moved("r").second, on_disk);
    Result report = run_sshard({"report", m_dir + "/r", "--format", "json"});
    ASSERT_EQ(report.exit_code, 0) << report.err;
    auto doc = nlohmann::json::parse(report.out);
    EXPECT_EQ(doc["hosts"][0]["transfer"]["received_bytes"], on_disk);
    EXPECT_EQ(doc["hosts"][0]["transfer"]["received_files"], 3);
    EXPECT_EQ(doc["jobs"][0]["transfer"]["sent_bytes"], 5006);
    Result text = run_sshard({"report", m_dir + "/r"});
    EXPECT_NE(text.out.find("host localhost"), std::string::npos) << text.out;
    Result html = run_sshard({"report", m_dir + "/r", "--format", "html"});
    EXPECT_NE(html.out.find("<title>collecting: 1 file, 6 bytes in "), std::string::npos) << html.out;
    EXPECT_NE(html.out.find("<title>staging: 2 files, 5006 bytes in "), std::string::npos) << html.out;
}

TEST_F(Transfer, PlanJsonListsWhatEachJobStagesAndCollects) {
    std::string path = spec("    collect:\n      - {from: \"out-{index}.txt\", to: \"results/{index}.txt\"}\n");
    Result r = run_sshard({"plan", path, "--format", "json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto job = nlohmann::json::parse(r.out)["jobs"][0];
    EXPECT_EQ(job["stage"], nlohmann::json::parse(R"([{"from": "tree", "to": "staged/tree", "files": 2,
                                                      "bytes": 5006}])"));
    EXPECT_EQ(job["collect"], nlohmann::json::parse(R"([{"from": "out-{index}.txt", "to": "results/{index}.txt",
                                                        "optional": false}])"));
    EXPECT_EQ(job["collect_on_failure"], false);
}

TEST_F(Transfer, RefusesHostilePathsAndMissingFiles) {
    fs::create_directories(m_dir + "/work");
    fs::create_symlink("/etc/passwd", m_dir + "/work/link");
    fs::create_symlink("/etc", m_dir + "/work/etc");
    fs::create_directories(m_dir + "/work/dir");
    std::string path = write_file("jobs.yaml", "version: 1\njobs:\n  - name: bad\n    shards: {items: [\"../../x\", "
                                               "link, missing, etc/passwd, dir]}\n    workdir: " +
                                                   m_dir +
                                                   "/work\n    command: \"true\"\n    collect:\n"
                                                   "      - {from: \"{item}\", to: \"got/{index}\"}\n");
    Result r = run(path, "r");
    EXPECT_EQ(r.exit_code, 1) << r.err;
    auto reasons = attempt_reasons("r");
    EXPECT_EQ(reasons[0], "collect refused: '../../x' to 'got/0' would leave its directory");
    EXPECT_EQ(reasons[1], "collect refused: 'link' is a symbolic link on the host");
    EXPECT_EQ(reasons[2], "collect: 'missing' is missing on the host");
    EXPECT_EQ(reasons[3], "collect refused: 'etc/passwd' is a symbolic link on the host") << "a link on the way";
    EXPECT_EQ(reasons[4], "collect refused: 'dir' is not a regular file on the host");
    EXPECT_FALSE(fs::exists(m_dir + "/r/got"));
    EXPECT_FALSE(fs::exists(m_dir + "/x"));
}

// Names from a lines file hold any bytes: Latin-1, a terminal escape. They are collected as named, and a reason
// that quotes one reaches the journal as valid JSON and the terminal without the escape.
TEST_F(Transfer, CollectsNamesOfAnyBytesAndQuotesThemSafely) {
    fs::create_directories(m_dir + "/work");
    write_file("names", "caf\xe9\nesc\x1b[2Jx\n");
    std::string path = write_file("jobs.yaml", "version: 1\njobs:\n  - name: odd\n    shards: {lines: names}\n"
                                               "    workdir: " +
                                                   m_dir +
                                                   "/work\n    command: printf {index} > {item}\n"
                                                   "    collect:\n      - {from: \"{item}\", to: \"got/{index}\"}\n"
                                                   "      - {from: \"{item}.none\", to: \"none/{index}\"}\n");
    Result r = run(path, "r");
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(read_file(m_dir + "/r/got/0"), "0");
    EXPECT_EQ(read_file(m_dir + "/r/got/1"), "1");
    EXPECT_EQ(r.err.find('\x1b'), std::string::npos) << r.err;
    auto reasons = attempt_reasons("r");
    ASSERT_EQ(reasons.size(), 2u);
    for (const auto& [index, reason] : reasons) {
        EXPECT_NE(reason.find(".none' is missing on the host"), std::string::npos) << index << ": " << reason;
    }
}

// collect_on_failure: a failed shard's files are collected too, and the attempt stays failed; without it they
// are not.
TEST_F(Transfer, CollectsAfterAFailureOnlyWhenAsked) {
    fs::create_directories(m_dir + "/work");
    for (const char* on_failure : {"true", "false"}) {
        std::string path = write_file("jobs.yaml", "version: 1\njobs:\n  - name: f\n    workdir: " + m_dir +
                                                       "/work\n    command: echo log > log; exit 3\n"
                                                       "    collect: [{from: log, to: got/log}]\n"
                                                       "    collect_on_failure: " +
                                                       on_failure + "\n");
        std::string run_dir = std::string("r-") + on_failure;
        Result r = run(path, run_dir);
        EXPECT_EQ(r.exit_code, 1) << r.err;
        EXPECT_EQ(fs::exists(m_dir + "/" + run_dir + "/got/log"), on_failure == std::string("true")) << on_failure;
        EXPECT_EQ(moved(run_dir).second, on_failure == std::string("true") ? 4u : 0u);
    }
}

// A collected file larger than the run directory's disk fails its attempt with the reason and leaves no part
// file; what was collected before stays whole, and the journal still takes the attempt's end.
TEST_F(Transfer, ACollectThatFillsTheDiskFailsItsAttemptAndKeepsTheRest) {
    SmallDisk disk(m_dir + "/small", 256 * 1024);
    if (!disk.mounted()) {
        GTEST_SKIP() << "mounting a tmpfs needs root";
    }
    fs::create_directories(m_dir + "/work");
    std::string path = write_file("jobs.yaml", "version: 1\njobs:\n  - name: big\n    shards: {items: [1, 1024]}\n"
                                               "    workdir: " +
                                                   m_dir +
                                                   "/work\n    command: head -c {item}K /dev/zero > out-{index}\n"
                                                   "    collect: [{from: \"out-{index}\", to: \"got/{index}\"}]\n");
    Result r = run(path, "small/run");
    EXPECT_EQ(r.exit_code, 1) << r.err;
    auto reasons = attempt_reasons("small/run");
    EXPECT_EQ(reasons[0], "");
    EXPECT_EQ(reasons[1], "collect: cannot write '" + m_dir + "/small/run/got/1': No space left on device");
    EXPECT_EQ(fs::file_size(m_dir + "/small/run/got/0"), 1024u);
    for (const auto& entry : fs::directory_iterator(m_dir + "/small/run/got")) {
        EXPECT_EQ(entry.path().filename(), "0") << "no part file left";
    }
}

} // namespace
} // namespace sshard::test
