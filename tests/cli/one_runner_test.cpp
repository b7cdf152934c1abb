// End-to-end: one runner per run directory. A second runner of a run, started while the first still runs, is
// refused before it touches anything; the lock goes with the runner, however it ends.
#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <nlohmann/json.hpp>
#include <sys/file.h>
#include <unistd.h>

#include "tests/cli/binary.hpp"

namespace sshard::test {
namespace {

namespace fs = std::filesystem;

class OneRunner : public E2eTest {
protected:
    void SetUp() override {
        E2eTest::SetUp();
        m_run = m_dir + "/nightly";
        // Each shard waits (at most 30 s) for the test to create `go`, so the run is surely still running.
        std::ofstream(m_dir + "/jobs.yaml") << R"(version: 1
hosts: [{name: here, transport: local, slots: 4}]
jobs:
  - name: wait
    command: 'i=0; while [ ! -e go ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done'
    workdir: )" + m_dir + R"(
    shards: {count: 4}
)";
    }
    void TearDown() override {
        std::ofstream(m_dir + "/go"); // releases shards a failed test left waiting
        E2eTest::TearDown();
    }

    // Whether a process other than the runner could take the run's lock now; takes and drops it if so.
    bool lock_free() const {
        int fd = ::open((m_run + "/lock").c_str(), O_RDONLY | O_CLOEXEC);
        bool free = fd >= 0 && ::flock(fd, LOCK_EX | LOCK_NB) == 0;
        ::close(fd);
        return free;
    }

    std::vector<nlohmann::json> events(const std::string& kind) const {
        std::vector<nlohmann::json> found;
        std::ifstream in(m_run + "/journal.jsonl");
        for (std::string line; std::getline(in, line);) {
            auto e = nlohmann::json::parse(line);
            if (e["event"] == kind) {
                found.push_back(e);
            }
        }
        return found;
    }

    // How many times each shard was recorded as succeeded.
    std::map<int, int> successes() const {
        std::map<int, int> counts;
        for (const auto& e : events("attempt_end")) {
            counts[e["index"].get<int>()] += e["verdict"] == "succeeded" ? 1 : 0;
        }
        return counts;
    }

    std::string in_use_by(int pid) const {
        return "sshard: error: run nightly is in use by pid " + std::to_string(pid) + "\n";
    }

    std::string m_run;
};

TEST_F(OneRunner, ASecondRunnerIsRefusedAndTheLockDiesWithTheFirst) {
    Spawned first = spawn_sshard({"run", m_dir + "/jobs.yaml", "--run-dir", m_run, "--progress", "never"});
    std::string pid_line = std::to_string(first.pid) + "\n";
    ASSERT_TRUE(
        eventually([&] { return read_file(m_run + "/lock") == pid_line && events("attempt_start").size() == 4; }));
    EXPECT_FALSE(lock_free()) << "another process can take the lock of a running run";
    std::string spec_before = read_file(m_run + "/spec.yaml");

    Result second = run_sshard({"run", "--resume", m_run, "--joblog", m_dir + "/second.joblog"});
    EXPECT_EQ(second.exit_code, 2);
    EXPECT_EQ(second.err, in_use_by(first.pid));
    EXPECT_EQ(second.out, "");
    EXPECT_FALSE(fs::exists(m_dir + "/second.joblog"));
    Result edited = run_sshard({"run", m_dir + "/jobs.yaml", "--resume", m_run});
    EXPECT_EQ(edited.exit_code, 2);
    EXPECT_EQ(edited.err, in_use_by(first.pid));
    EXPECT_EQ(read_file(m_run + "/spec.yaml"), spec_before);
    EXPECT_EQ(events("run_start").size(), 1u) << "a refused runner wrote to the journal";

    Result report = run_sshard({"report", m_run});
    EXPECT_EQ(report.exit_code, 0) << report.err;
    EXPECT_NE(report.out.find("nightly"), std::string::npos) << report.out;

    // SIGKILL: no destructor runs, the kernel alone releases the lock.
    ::kill(first.pid, SIGKILL);
    EXPECT_EQ(wait_sshard(first).exit_code, 128 + SIGKILL);
    EXPECT_TRUE(lock_free());
    std::ofstream(m_dir + "/go");
    Result resumed = run_sshard({"run", "--resume", m_run});
    EXPECT_EQ(resumed.exit_code, 0) << resumed.err;
    EXPECT_EQ(successes(), (std::map<int, int>{{0, 1}, {1, 1}, {2, 1}, {3, 1}}));
}

TEST_F(OneRunner, TwoResumesAtOnceRunEachShardOnce) {
    Spawned first = spawn_sshard({"run", m_dir + "/jobs.yaml", "--run-dir", m_run, "--progress", "never"});
    ASSERT_TRUE(eventually([&] { return events("attempt_start").size() == 4; }));
    ::kill(first.pid, SIGTERM);
    ASSERT_EQ(wait_sshard(first).exit_code, 130);

    Spawned a = spawn_sshard({"run", "--resume", m_run, "--progress", "never"});
    Spawned b = spawn_sshard({"run", "--resume", m_run, "--progress", "never"});
    // The shards wait for `go`, so the winner still runs when the loser tries.
    ASSERT_TRUE(eventually([&] {
        return read_file(a.err_path).find("in use") != std::string::npos ||
               read_file(b.err_path).find("in use") != std::string::npos;
    }));
    std::ofstream(m_dir + "/go");
    Result ra = wait_sshard(a);
    Result rb = wait_sshard(b);
    bool a_won = ra.exit_code == 0;
    EXPECT_EQ((a_won ? ra : rb).exit_code, 0) << ra.err << rb.err;
    EXPECT_EQ((a_won ? rb : ra).exit_code, 2);
    EXPECT_EQ((a_won ? rb : ra).err, in_use_by(a_won ? a.pid : b.pid));
    EXPECT_EQ(successes(), (std::map<int, int>{{0, 1}, {1, 1}, {2, 1}, {3, 1}}));
    EXPECT_EQ(events("run_start").size(), 2u);
}

} // namespace
} // namespace sshard::test
