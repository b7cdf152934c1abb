// End-to-end over Slurm: the real binary against the one-node cluster that tests/slurm/cluster.sh runs (node1
// in partition debug). Each sbatch cycle costs Slurm seconds, so each test makes the most of few arrays. The
// tests skip when Slurm is not installed (scripts/setup installs it).
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <gtest/gtest.h>
#include <map>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include "tests/cli/binary.hpp"

namespace sshard::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::string k_cluster = SSHARD_SLURM_DIR;

// What squeue shows of every job on the cluster: "" when none is queued or running.
std::string queue() {
    std::string path = make_temp_dir() + "/q";
    std::string command = "squeue -h -o '%i %T' >" + path + " 2>&1";
    int status = std::system(command.c_str());
    std::string text = status == 0 ? read_file(path) : "squeue failed: " + read_file(path);
    fs::remove_all(fs::path(path).parent_path());
    return text;
}

class SlurmRun : public E2eTest {
protected:
    void SetUp() override {
        if (!fs::exists("/usr/sbin/slurmctld") || !fs::exists("/usr/bin/sbatch")) {
            GTEST_SKIP() << "Slurm is not installed (scripts/setup installs slurm-wlm and munge)";
        }
        E2eTest::SetUp();
        ASSERT_TRUE(fs::exists(k_cluster + "/slurm.conf")) << "no Slurm test cluster in " << k_cluster;
        ::setenv("SLURM_CONF", (k_cluster + "/slurm.conf").c_str(), 1);
    }
    void TearDown() override {
        if (!m_dir.empty()) {
            E2eTest::TearDown();
        }
    }

    std::string spec(const std::string& jobs) const {
        return write_file("jobs.yaml", "version: 1\n"
                                       "hosts:\n"
                                       "  - {name: hpc, transport: slurm, slots: 8, slurm: {partition: debug}}\n"
                                       "jobs:\n" +
                                           jobs);
    }
    Result run(std::vector<std::string> args) {
        args.insert(args.end(), {"--run-dir", m_dir + "/run"});
        return run_sshard(args, m_dir);
    }
    // The last attempt_end of each shard, by "job/index".
    std::map<std::string, nlohmann::json> ends() const {
        std::map<std::string, nlohmann::json> last;
        for (const auto& event : journal_events(m_dir + "/run")) {
            if (event["event"] == "attempt_end") {
                last[event["job"].get<std::string>() + "/" + std::to_string(event["index"].get<int>())] = event;
            }
        }
        return last;
    }
};

// One run: priorities and needs order the jobs, a failing shard is retried, and exit codes 0, 3 and 200 and a
// signal come back exactly, with the wrapper's CPU times.
TEST_F(SlurmRun, ExitCodesSignalsRetriesAndNeeds) {
    std::string flag = m_dir + "/flag";
    spec(R"(  - name: codes
    command: 'case {item} in kill) kill -USR1 $$;; *) echo out {item}; echo err {item} >&2; exit {item};; esac'
    shards: {items: ["0", "3", "200", kill]}
    priority: 10
  - name: flaky
    command: '[ -e )" +
         flag + R"( ] || { touch )" + flag + R"(; exit 1; }; echo "second try on $SSHARD_HOST"'
    retries: 1
    backoff: {initial: 100ms, max: 100ms}
  - name: after
    command: echo after
    needs: [flaky]
)");
    Result r = run({"run", m_dir + "/jobs.yaml"});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    auto last = ends();
    ASSERT_EQ(last.size(), 6u) << r.err;
    EXPECT_EQ(last["codes/0"]["exit_code"], 0);
    EXPECT_EQ(last["codes/1"]["exit_code"], 3);
    EXPECT_EQ(last["codes/2"]["exit_code"], 200);
    EXPECT_EQ(last["codes/3"]["outcome"], "signaled");
    EXPECT_EQ(last["codes/3"]["signal"], SIGUSR1);
    EXPECT_TRUE(last["codes/0"].contains("cpu_user_s")) << last["codes/0"].dump();
    EXPECT_EQ(last["flaky/0"]["exit_code"], 0);
    EXPECT_EQ(last["flaky/0"]["attempt"], 2);
    EXPECT_EQ(last["after/0"]["exit_code"], 0);
    EXPECT_EQ(read_file(m_dir + "/run/out/codes/1.1.out"), "out 3\n");
    EXPECT_EQ(read_file(m_dir + "/run/out/codes/2.1.err"), "err 200\n");
    EXPECT_EQ(read_file(m_dir + "/run/out/flaky/0.2.out"), "second try on hpc\n");
    // `needs`: the job after flaky started once flaky's shard had succeeded.
    auto events = journal_events(m_dir + "/run");
    std::size_t flaky_done = 0, after_start = 0;
    for (std::size_t i = 0; i < events.size(); ++i) {
        if (events[i]["event"] == "attempt_end" && events[i]["job"] == "flaky" && events[i]["exit_code"] == 0) {
            flaky_done = i;
        }
        if (events[i]["event"] == "attempt_start" && events[i]["job"] == "after") {
            after_start = i;
        }
    }
    EXPECT_LT(flaky_done, after_start);
    EXPECT_TRUE(eventually([] { return queue().empty(); }, 10s)) << queue();
}

// A shard over its timeout is cancelled in Slurm, and Ctrl-C cancels everything of the run: nothing stays queued
// or running.
TEST_F(SlurmRun, TimeoutAndInterruptLeaveNothingInTheQueue) {
    spec(R"(  - name: slow
    command: sleep 300
    timeout: 2s
  - name: many
    command: sleep 300
    shards: {count: 12}
)");
    Spawned spawned = spawn_sshard({"run", m_dir + "/jobs.yaml", "--run-dir", m_dir + "/run"}, m_dir);
    auto timed_out = [&] {
        for (const auto& event : journal_events(m_dir + "/run")) {
            if (event["event"] == "attempt_end" && event["job"] == "slow") {
                return true;
            }
        }
        return false;
    };
    bool ended = eventually(timed_out, 60s);
    EXPECT_TRUE(ended) << queue();
    // Of the eight slots, seven hold `many` shards now, the rest of them wait for one.
    ::kill(spawned.pid, SIGINT);
    Result r = wait_sshard(spawned);
    EXPECT_EQ(r.exit_code, 130) << r.err;
    EXPECT_EQ(queue(), "");
    EXPECT_EQ(ends()["slow/0"]["outcome"], "timed_out") << ends()["slow/0"].dump();
}

} // namespace
} // namespace sshard::test
