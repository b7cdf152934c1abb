#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/spec_loader.hpp"
#include "tests/core/spec_test_util.hpp"

namespace sshard::core {
namespace {

namespace fs = std::filesystem;

// A spec file in a temporary directory beside a small tree `model/` (a.txt, sub/b.txt) and a file `tool`.
class SpecTransfer : public ::testing::Test {
protected:
    void SetUp() override {
        m_dir = fs::temp_directory_path() / ("sshard-transfer-" + std::to_string(getpid()));
        fs::remove_all(m_dir);
        fs::create_directories(m_dir / "model/sub");
        std::ofstream(m_dir / "model/a.txt") << "a";
        std::ofstream(m_dir / "model/sub/b.txt") << "bb";
        std::ofstream(m_dir / "tool") << "#!/bin/sh\n";
    }
    void TearDown() override { fs::remove_all(m_dir); }

    std::string path() const { return (m_dir / "jobs.yaml").string(); }
    Spec load(const std::string& job_keys) const {
        return load_spec_text(
            path(), "version: 1\njobs:\n  - name: j\n    command: run {index}\n    shards: {count: 2}\n" + job_keys);
    }
    std::string errors(const std::string& job_keys) const {
        try {
            load(job_keys);
        } catch (const SpecError& e) {
            std::string out;
            for (const auto& diagnostic : e.diagnostics()) {
                out += format_diagnostic("jobs.yaml", diagnostic);
            }
            return out;
        }
        return "";
    }

    fs::path m_dir;
};

TEST_F(SpecTransfer, ReadsStageAndCollect) {
    Spec spec = load("    stage:\n      - {from: model, to: ./work//model/}\n      - {from: tool, to: work/tool, mode: "
                     "\"0755\"}\n    collect:\n      - {from: \"out-{index}.json\", to: \"r/{job}/{index}.json\", "
                     "optional: true}\n    collect_on_failure: true\n");
    const JobSpec& job = spec.jobs[0];
    ASSERT_EQ(job.stage.size(), 2u);
    EXPECT_EQ(job.stage[0].source, (m_dir / "model").string());
    EXPECT_EQ(job.stage[0].to, "work/model");
    EXPECT_FALSE(job.stage[0].mode);
    EXPECT_EQ(job.stage[1].mode, 0755u);
    ASSERT_EQ(job.collect.size(), 1u);
    EXPECT_EQ(job.collect[0].from, "out-{index}.json");
    EXPECT_EQ(job.collect[0].to, "r/{job}/{index}.json");
    EXPECT_TRUE(job.collect[0].optional);
    EXPECT_TRUE(job.collect_on_failure);
}

TEST_F(SpecTransfer, ReportsEveryBadPathWithItsPlace) {
    const std::string rule = "must be a relative path that stays inside its directory (no '..', not absolute)";
    EXPECT_EQ(errors("    stage:\n      - {from: missing, to: w}\n      - {from: model, to: ../w}\n"
                     "      - {from: tool, to: /abs, mode: \"0855\"}\n"),
              "jobs.yaml:7:16: error: cannot stage '" + (m_dir / "missing").string() +
                  "': No such file or directory\n          - {from: missing, to: w}\n" + std::string(19, ' ') + "^\n" +
                  "jobs.yaml:8:27: error: 'to' " + rule + ", not '../w'\n          - {from: model, to: ../w}\n" +
                  std::string(30, ' ') + "^\n" + "jobs.yaml:9:26: error: 'to' " + rule +
                  ", not '/abs'\n          - {from: tool, to: /abs, mode: \"0855\"}\n" + std::string(29, ' ') + "^\n" +
                  "jobs.yaml:9:38: error: 'mode' must be octal permission bits such as \"0755\", not '0855'\n"
                  "          - {from: tool, to: /abs, mode: \"0855\"}\n" +
                  std::string(41, ' ') + "^\n");
}

TEST_F(SpecTransfer, RefusesALinkInsideAStagedTree) {
    fs::create_symlink("/etc/passwd", m_dir / "model/sub/passwd");
    EXPECT_NE(errors("    stage:\n      - {from: model, to: w}\n")
                  .find("model/sub/passwd': it is a symbolic link (staging never follows links)"),
              std::string::npos);
}

// A link loop as `from` itself is refused as a link, not followed until the system gives up, and a FIFO (reading
// it would wait for a writer); staging into the workdir itself (`.`) is refused like `/`.
TEST_F(SpecTransfer, RefusesALinkLoopAFifoAndTheWorkdirItself) {
    fs::create_symlink(m_dir / "loop", m_dir / "loop");
    ASSERT_EQ(::mkfifo((m_dir / "fifo").c_str(), 0600), 0);
    std::string out = errors("    stage:\n      - {from: loop, to: w}\n      - {from: model, to: ./}\n"
                             "      - {from: fifo, to: f}\n");
    EXPECT_NE(out.find("jobs.yaml:7:16: error: cannot stage '" + (m_dir / "loop").string() +
                       "': it is a symbolic link (staging never follows links)"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("jobs.yaml:8:27: error: 'to' must be a relative path that stays inside its directory"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("jobs.yaml:9:16: error: cannot stage '" + (m_dir / "fifo").string() +
                       "': it is neither a file nor a directory"),
              std::string::npos)
        << out;
}

TEST_F(SpecTransfer, RefusesCollectPathsThatLeaveAndUnknownPlaceholders) {
    std::string out =
        errors("    collect:\n      - {from: ../../x, to: a}\n      - {from: a, to: /etc/x}\n"
               "      - {from: \"{item}\", to: b}\n      - {from: a}\n      - {from: a, to: journal.jsonl}\n");
    EXPECT_NE(out.find("jobs.yaml:7:16: error: 'from' must be a relative path"), std::string::npos) << out;
    EXPECT_NE(out.find("jobs.yaml:8:23: error: 'to' must be a relative path"), std::string::npos) << out;
    EXPECT_NE(out.find("jobs.yaml:9:16: error: unknown placeholder '{item}' in 'from'"), std::string::npos) << out;
    EXPECT_NE(out.find("jobs.yaml:10:9: error: a 'collect' entry needs 'from' (on the host) and 'to'"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("jobs.yaml:11:23: error: 'to' must not replace the run's own files"), std::string::npos) << out;
}

// Two entries that write to one place on a host (the same `to`, or one inside the other, in one workdir) would
// replace each other's files and manifest on every run, and one job's shards would find the other's files. The
// same entry in two jobs is one stage, shared; another workdir is another place.
TEST_F(SpecTransfer, RefusesTwoStageEntriesThatWriteToOnePlace) {
    std::string out =
        errors("    stage:\n      - {from: model, to: w/m}\n      - {from: tool, to: w/m/tool}\n"
               "  - name: k\n    command: run\n    stage:\n      - {from: model, to: w/m}\n"
               "      - {from: tool, to: w//m}\n"
               "  - name: l\n    workdir: elsewhere\n    command: run\n    stage: [{from: tool, to: w/m}]\n");
    EXPECT_EQ(out, "jobs.yaml:8:26: error: 'to' 'w/m/tool' is where job 'j' stages 'model' to 'w/m' too: two stage "
                   "entries must not write to one place\n          - {from: tool, to: w/m/tool}\n" +
                       std::string(29, ' ') + "^\n" +
                       "jobs.yaml:13:26: error: 'to' 'w/m' is where job 'j' stages 'model' to 'w/m' too: two stage "
                       "entries must not write to one place\n          - {from: tool, to: w//m}\n" +
                       std::string(29, ' ') + "^\n");
}

// A `to` without a placeholder that differs between shards ({job}, {host}, {attempt} and {count} do not) names
// one file that each shard's would replace. A job of one shard may have it; in an each_host job {host} differs.
TEST_F(SpecTransfer, RefusesACollectDestinationThatEveryShardShares) {
    std::string out = errors("    collect:\n      - {from: a, to: same}\n"
                             "      - {from: a, to: \"{job}-{host}-{attempt}-{count}\"}\n"
                             "      - {from: a, to: \"r/{index}\"}\n"
                             "  - name: one\n    command: run\n    collect: [{from: a, to: fixed}]\n"
                             "  - name: each\n    command: run\n    shards: each_host\n"
                             "    collect: [{from: a, to: \"{host}\"}]\n");
    const std::string rule = " is one file for every shard of the job, each replacing the last: put a placeholder "
                             "such as {index} in it\n";
    EXPECT_EQ(out, "jobs.yaml:7:23: error: 'to' 'same'" + rule + "          - {from: a, to: same}\n" +
                       std::string(26, ' ') + "^\n" + "jobs.yaml:8:23: error: 'to' '{job}-{host}-{attempt}-{count}'" +
                       rule + "          - {from: a, to: \"{job}-{host}-{attempt}-{count}\"}\n" + std::string(26, ' ') +
                       "^\n");
}

// Two entries with one `to` (in two jobs, or two in one) would have one's file replace the other's; {job} in it
// keeps two jobs' apart.
TEST_F(SpecTransfer, RefusesTwoCollectEntriesWithOneDestination) {
    std::string out = errors("    collect:\n      - {from: a, to: \"r/{index}\"}\n"
                             "      - {from: a, to: \"{job}/{index}\"}\n"
                             "  - name: k\n    command: run {index}\n    shards: {count: 2}\n"
                             "    collect:\n      - {from: b, to: \"{job}/{index}\"}\n"
                             "      - {from: b, to: \"r/{index}\"}\n");
    EXPECT_EQ(out, "jobs.yaml:14:23: error: 'to' 'r/{index}' is where another entry of job 'j' collects too, one "
                   "file replacing the other: put {job} or another name in it\n"
                   "          - {from: b, to: \"r/{index}\"}\n" +
                       std::string(26, ' ') + "^\n");
}

} // namespace
} // namespace sshard::core
