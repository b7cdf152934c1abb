// End-to-end: run directories belong to their user. sshard refuses run directories, runs folders and `latest`
// links of another user or that others can write, never writes a shard's output through a swapped link, and
// makes the joblog private without following a link.
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/cli/binary.hpp"

namespace sshard::test {
namespace {

namespace fs = std::filesystem;

class RunDirOwner : public E2eTest {
protected:
    void SetUp() override {
        E2eTest::SetUp();
        m_run = m_dir + "/run";
        m_elsewhere = m_dir + "/elsewhere";
        fs::create_directory(m_elsewhere);
    }
    std::string write_spec(const std::string& command) const {
        return write_file("jobs.yaml", "version: 1\njobs:\n  - {name: prep, command: 'true'}\n" +
                                           (command.empty() ? "" : "  - {name: out, command: '" + command + "'}\n"));
    }
    // A finished run in m_run, and a spec whose new job writes output when the run is resumed.
    std::string finished_run() {
        EXPECT_EQ(run_sshard({"run", write_spec(""), "--run-dir", m_run}).exit_code, 0);
        return write_spec("echo secret");
    }
    static bool root() { return ::geteuid() == 0; }

    std::string m_run;
    std::string m_elsewhere;
};

TEST_F(RunDirOwner, RunDirectoryOthersCanWriteIsRefused) {
    std::string spec = finished_run();
    std::string journal = read_file(m_run + "/journal.jsonl");
    fs::permissions(m_run, fs::perms::group_write, fs::perm_options::add);
    std::string message = "sshard: error: run directory '" + m_run +
                          "' is writable by group (mode 0720): make it "
                          "private with 'chmod go-w " +
                          m_run + "'\n";
    Result r = run_sshard({"run", spec, "--resume", m_run});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, message);
    EXPECT_EQ(read_file(m_run + "/journal.jsonl"), journal);
    Result report = run_sshard({"report", m_run});
    EXPECT_EQ(report.exit_code, 2);
    EXPECT_EQ(report.err, message);
}

TEST_F(RunDirOwner, AnotherUsersRunDirectoryIsRefused) {
    if (!root()) {
        GTEST_SKIP() << "making a directory of another user needs root";
    }
    std::string spec = finished_run();
    std::string journal = read_file(m_run + "/journal.jsonl");
    ASSERT_EQ(::chown(m_run.c_str(), 65534, 65534), 0);
    Result r = run_sshard({"run", spec, "--resume", m_run});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, "sshard: error: run directory '" + m_run +
                         "' is owned by 'nobody', not by 'root': sshard uses "
                         "only its own user's run directories\n");
    EXPECT_EQ(read_file(m_run + "/journal.jsonl"), journal);
    EXPECT_FALSE(fs::exists(m_run + "/out/out"));
}

TEST_F(RunDirOwner, RunsFolderAndLatestLinkMustBeTheUsers) {
    std::string spec = write_spec("");
    std::string runs = m_dir + "/.sshard/runs";
    fs::create_directories(runs);
    fs::permissions(runs, fs::perms::all);
    Result open = run_sshard({"run", spec}, m_dir);
    EXPECT_EQ(open.exit_code, 2);
    EXPECT_EQ(open.err, "sshard: error: runs folder '.sshard/runs' is writable by group and others (mode 0777): make "
                        "it private with 'chmod go-w .sshard/runs'\n");
    EXPECT_TRUE(fs::is_empty(runs));
    fs::permissions(runs, fs::perms::owner_all);
    ASSERT_EQ(run_sshard({"run", spec}, m_dir).exit_code, 0);
    if (!root()) {
        return;
    }
    ASSERT_EQ(::lchown((runs + "/latest").c_str(), 65534, 65534), 0);
    std::string link_message = "sshard: error: link '.sshard/runs/latest' is owned by 'nobody', not by 'root': sshard "
                               "follows only its own user's links\n";
    Result resume = run_sshard({"run", "--resume", ".sshard/runs"}, m_dir);
    EXPECT_EQ(resume.exit_code, 2);
    EXPECT_EQ(resume.err, link_message);
    Result report = run_sshard({"report"}, m_dir);
    EXPECT_EQ(report.exit_code, 2);
    EXPECT_EQ(report.err, link_message);
    ASSERT_EQ(::chown(runs.c_str(), 65534, 65534), 0);
    Result foreign = run_sshard({"run", spec}, m_dir);
    EXPECT_EQ(foreign.exit_code, 2);
    EXPECT_EQ(foreign.err, "sshard: error: runs folder '.sshard/runs' is owned by 'nobody', not by 'root': sshard "
                           "uses only its own user's run directories\n");
}

TEST_F(RunDirOwner, ASwappedOutputFolderIsRefused) {
    std::string spec = finished_run();
    fs::rename(m_run + "/out", m_run + "/out.old");
    fs::create_directory_symlink(m_elsewhere, m_run + "/out");
    Result r = run_sshard({"run", spec, "--resume", m_run});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, "sshard: error: '" + m_run +
                         "/out' is a symbolic link: sshard writes run records only in real "
                         "directories\n");
    EXPECT_TRUE(fs::is_empty(m_elsewhere));
}

TEST_F(RunDirOwner, OutputFolderSwappedDuringTheRunIsNotFollowed) {
    // The shard waits (at most 30 s) for `go`, so the swap happens before it prints.
    std::string spec = write_spec("i=0; while [ ! -e " + m_dir +
                                  "/go ] && [ $i -lt 600 ]; do sleep 0.05; "
                                  "i=$((i+1)); done; echo secret");
    Spawned run = spawn_sshard({"run", spec, "--run-dir", m_run, "--progress", "never"});
    ASSERT_TRUE(
        eventually([&] { return read_file(m_run + "/journal.jsonl").find("attempt_start") != std::string::npos; }));
    fs::rename(m_run + "/out", m_run + "/out.moved");
    fs::create_directory_symlink(m_elsewhere, m_run + "/out");
    std::ofstream(m_dir + "/go");
    Result r = wait_sshard(run);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(read_file(m_run + "/out.moved/out/0.1.out"), "secret\n");
    EXPECT_TRUE(fs::is_empty(m_elsewhere));
}

TEST_F(RunDirOwner, ASwappedJobFolderCannotRedirectOutput) {
    std::string spec = finished_run();
    fs::create_directory_symlink(m_elsewhere, m_run + "/out/out");
    Result r = run_sshard({"run", spec, "--resume", m_run});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    std::string prefix = "cannot write '" + m_run + "/out/out/0.";
    std::string suffix = ".out': Too many levels of symbolic links";
    auto at = r.out.find(prefix);
    ASSERT_NE(at, std::string::npos) << r.out;
    EXPECT_EQ(r.out.compare(r.out.find('\n', at) - suffix.size(), suffix.size(), suffix), 0) << r.out;
    EXPECT_TRUE(fs::is_empty(m_elsewhere));
}

TEST_F(RunDirOwner, JoblogIsPrivateAndNeverFollowsALink) {
    std::string spec = write_spec("");
    std::string joblog = m_dir + "/joblog";
    ASSERT_EQ(run_sshard({"run", spec, "--run-dir", m_run, "--joblog", joblog}).exit_code, 0);
    struct stat info {};
    ASSERT_EQ(::stat(joblog.c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 07777, 0600u);
    std::string text = read_file(joblog);
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2) << "the header and the one attempt: " << text;

    fs::create_symlink(m_elsewhere + "/target", m_dir + "/linked");
    Result r = run_sshard({"run", spec, "--run-dir", m_dir + "/run2", "--joblog", m_dir + "/linked"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, "sshard: error: cannot write joblog '" + m_dir + "/linked': it is a symbolic link\n");
    EXPECT_FALSE(fs::exists(m_elsewhere + "/target"));
    EXPECT_FALSE(fs::exists(m_dir + "/run2"));
}

} // namespace
} // namespace sshard::test
