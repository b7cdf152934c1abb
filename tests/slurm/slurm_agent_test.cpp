// End-to-end over Slurm allocations (`hosts: slurm_allocation`): the real binary inside salloc and sbatch on
// the one-node cluster of tests/slurm/cluster.sh (node1, 8 CPUs), its shards run by one `sshard agent` step.
// The tests skip when Slurm is not installed (scripts/setup installs it).
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <gtest/gtest.h>
#include <map>
#include <nlohmann/json.hpp>

#include "tests/slurm/slurm_fixture.hpp"

namespace sshard::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Runs `command` with sh; returns its stdout, or "" when it fails.
std::string shell_output(const std::string& command) {
    std::string dir = make_temp_dir();
    int status = std::system(("(" + command + ") >" + dir + "/out 2>" + dir + "/err").c_str());
    std::string out = status == 0 ? read_file(dir + "/out") : "";
    fs::remove_all(dir);
    return out;
}

// How many processes have `pattern` in their command line; `pattern` starts with a bracket expression, as
// `[s]leep`, so that it does not match the shell that runs pgrep.
int processes_matching(const std::string& pattern) {
    std::string out = shell_output("pgrep -c -f -- '" + pattern + "' || true");
    return out.empty() ? 0 : std::stoi(out);
}

class SlurmAllocation : public SlurmTest {
protected:
    // The last attempt_end of each shard, by "job/index".
    std::map<std::string, nlohmann::json> ends(const std::string& run) const {
        std::map<std::string, nlohmann::json> last;
        for (const auto& event : journal_events(run)) {
            if (event["event"] == "attempt_end") {
                last[event["job"].get<std::string>() + "/" + std::to_string(event["index"].get<int>())] = event;
            }
        }
        return last;
    }
};

// One run inside salloc: priorities and needs order the jobs, a failing shard is retried, a shard over its
// timeout is stopped, and exit codes 0, 3 and 200 and a signal come back exactly, with CPU times and the node as
// the host. The agent samples its node every 2 s: the run, 3 s at least, has the node's load and memory.
TEST_F(SlurmAllocation, RunsASpecInsideSalloc) {
    std::string flag = m_dir + "/flag";
    std::string spec = write_file("jobs.yaml", R"(version: 1
hosts: slurm_allocation
jobs:
  - name: codes
    command: 'case {item} in kill) kill -USR1 $$;; *) echo out {item}; echo err {item} >&2; exit {item};; esac'
    shards: {items: ["0", "3", "200", kill]}
    priority: 10
  - name: flaky
    command: '[ -e )" + flag + R"( ] || { touch )" +
                                                   flag + R"(; exit 1; }; echo "second try on $SSHARD_HOST"'
    retries: 1
    backoff: {initial: 100ms, max: 100ms}
  - name: after
    command: echo after
    needs: [flaky]
  - name: slow
    command: sleep 60
    timeout: 3s
)");
    std::string run = m_dir + "/run";
    std::string command = "cd " + m_dir + " && salloc --quiet --nodes=1 --ntasks=4 --job-name=sshard-agent-test " +
                          SSHARD_BINARY + " run " + spec + " --run-dir " + run + " --progress never";
    EXPECT_NE(std::system((command + " >" + m_dir + "/out 2>" + m_dir + "/err").c_str()), 0);
    auto last = ends(run);
    ASSERT_EQ(last.size(), 7u) << read_file(m_dir + "/err");
    EXPECT_EQ(last["codes/0"]["exit_code"], 0);
    EXPECT_EQ(last["codes/1"]["exit_code"], 3);
    EXPECT_EQ(last["codes/2"]["exit_code"], 200);
    EXPECT_EQ(last["codes/3"]["outcome"], "signaled");
    EXPECT_EQ(last["codes/3"]["signal"], SIGUSR1);
    EXPECT_TRUE(last["codes/0"].contains("cpu_user_s")) << last["codes/0"].dump();
    EXPECT_EQ(last["codes/0"]["host"], "node1");
    EXPECT_EQ(last["flaky/0"]["exit_code"], 0);
    EXPECT_EQ(last["flaky/0"]["attempt"], 2);
    EXPECT_EQ(last["after/0"]["exit_code"], 0);
    EXPECT_EQ(last["slow/0"]["outcome"], "timed_out") << last["slow/0"].dump();
    EXPECT_EQ(read_file(run + "/out/codes/1.1.out"), "out 3\n");
    EXPECT_EQ(read_file(run + "/out/codes/2.1.err"), "err 200\n");
    EXPECT_EQ(read_file(run + "/out/flaky/0.2.out"), "second try on node1\n");
    auto events = journal_events(run);
    std::size_t flaky_done = 0, after_start = 0, first_codes = events.size(), first_other = events.size();
    for (std::size_t i = 0; i < events.size(); ++i) {
        const auto& event = events[i];
        if (event["event"] == "attempt_end" && event["job"] == "flaky" && event["exit_code"] == 0) {
            flaky_done = i;
        }
        if (event["event"] == "attempt_start") {
            after_start = event["job"] == "after" ? i : after_start;
            first_codes = event["job"] == "codes" ? std::min(first_codes, i) : first_codes;
            first_other = event["job"] != "codes" ? std::min(first_other, i) : first_other;
        }
    }
    EXPECT_LT(flaky_done, after_start);
    EXPECT_LT(first_codes, first_other);
    Result report = run_sshard({"report", run});
    EXPECT_EQ(report.exit_code, 0) << report.err;
    EXPECT_NE(report.out.find("node1"), std::string::npos) << report.out;
    EXPECT_GE(count_events(events, "host_sample"), 1u);
    Result json = run_sshard({"report", run, "--format", "json"});
    ASSERT_EQ(json.exit_code, 0) << json.err;
    auto hosts = nlohmann::json::parse(json.out)["hosts"];
    ASSERT_EQ(hosts.size(), 1u) << json.out;
    EXPECT_EQ(hosts[0]["name"], "node1");
    EXPECT_GE(hosts[0]["samples"], 1);
    EXPECT_GE(hosts[0]["cpu_busy_peak"].get<double>(), 0.0) << hosts[0].dump();
    EXPECT_LE(hosts[0]["cpu_busy_peak"].get<double>(), 1.0) << hosts[0].dump();
    EXPECT_GT(hosts[0]["mem_used_peak_bytes"].get<std::uint64_t>(), 0u) << hosts[0].dump();
    EXPECT_LE(hosts[0]["mem_used_peak_bytes"], hosts[0]["mem_total_bytes"]) << hosts[0].dump();
}

// A step that dies (here its agent, killed by the shard) fails its shard as a transport failure: the node gets
// a new step and the shard runs again without using a retry.
TEST_F(SlurmAllocation, AStepThatDiesCostsNoRetry) {
    std::string flag = m_dir + "/flag";
    std::string spec =
        write_file("jobs.yaml", "version: 1\nhosts: slurm_allocation\njobs:\n  - name: once\n"
                                "    command: '[ -e " +
                                    flag + " ] || { touch " + flag + "; kill -KILL $PPID; sleep 30; }; echo again'\n");
    std::string run = m_dir + "/run";
    std::string command = "cd " + m_dir + " && salloc --quiet --nodes=1 --ntasks=2 " + SSHARD_BINARY + " run " + spec +
                          " --run-dir " + run + " --progress never";
    EXPECT_EQ(std::system((command + " >" + m_dir + "/out 2>" + m_dir + "/err").c_str()), 0)
        << read_file(m_dir + "/err");
    std::vector<std::string> outcomes;
    for (const auto& event : journal_events(run)) {
        if (event["event"] == "attempt_end") {
            outcomes.push_back(event["outcome"].get<std::string>());
        }
    }
    EXPECT_EQ(outcomes, (std::vector<std::string>{"transport_failed", "exited"}));
    EXPECT_EQ(ends(run)["once/0"]["exit_code"], 0);
    EXPECT_EQ(read_file(run + "/out/once/0.2.out"), "again\n");
}

// A node has no more memory for the jobs' `memory` than the allocation has on it: here --mem-per-cpu of 16M on
// 4 CPUs (set by hand: the test node's RealMemory cannot satisfy a real --mem), 64 MiB. A shard of 50M fits;
// one of 100M fits no node, and fails, though the machine has more.
TEST_F(SlurmAllocation, TheAllocationsMemoryBoundsTheNodes) {
    std::string spec = write_file("jobs.yaml", "version: 1\nhosts: slurm_allocation\njobs:\n"
                                               "  - {name: fits, command: 'echo fits', memory: 50M}\n"
                                               "  - {name: big, command: 'echo big', memory: 100M}\n");
    std::string run = m_dir + "/run";
    std::string command = "cd " + m_dir + " && salloc --quiet --nodes=1 --ntasks=4 env SLURM_MEM_PER_CPU=16 " +
                          SSHARD_BINARY + " run " + spec + " --run-dir " + run + " --progress never";
    EXPECT_NE(std::system((command + " >" + m_dir + "/out 2>" + m_dir + "/err").c_str()), 0);
    auto last = ends(run);
    EXPECT_EQ(last["fits/0"]["exit_code"], 0) << read_file(m_dir + "/err");
    EXPECT_EQ(read_file(run + "/out/fits/0.1.out"), "fits\n");
    EXPECT_EQ(last.count("big/0"), 0u);
    std::string reason;
    for (const auto& event : journal_events(run)) {
        if (event["event"] == "shards_not_run" && event["job"] == "big") {
            reason = event["reason"].get<std::string>();
        }
    }
    EXPECT_EQ(reason, "a shard needs 100 MiB of memory, more than any of its hosts has (the most: 64 MiB)");
}

// Outside an allocation the spec is in error, and says why.
TEST_F(SlurmAllocation, OutsideAnAllocationIsAClearError) {
    ::unsetenv("SLURM_JOB_NODELIST");
    std::string spec = write_file("jobs.yaml", "version: 1\nhosts: slurm_allocation\njobs:\n  - {name: a, command: "
                                               "'true'}\n");
    Result r = run_sshard({"run", spec, "--run-dir", m_dir + "/run"}, m_dir);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("'slurm_allocation' needs a Slurm allocation, and SLURM_JOB_NODELIST is not set"),
              std::string::npos)
        << r.err;
}

// The runner stopped by Ctrl-C (it ends the run in order, exit 130) or killed with SIGKILL while shards run
// leaves no agent and no shard behind: either way the agent reads the end of its input and kills them.
TEST_F(SlurmAllocation, StoppedOrKilledRunnerLeavesNoAgentOrShard) {
    std::string name = "sshard-kill-" + fs::path(m_dir).filename().string();
    ASSERT_EQ(std::system(("salloc --no-shell --quiet --nodes=1 --ntasks=2 --job-name=" + name).c_str()), 0);
    std::string job = shell_output("squeue -h -o %i -n " + name);
    ASSERT_FALSE(job.empty());
    job.pop_back();
    ::setenv("SLURM_JOB_ID", job.c_str(), 1);
    ::setenv("SLURM_JOB_NODELIST", "node1", 1);
    ::setenv("SLURM_JOB_CPUS_PER_NODE", "2", 1);
    std::string binary = SSHARD_BINARY;
    std::string agent_pattern = "[" + binary.substr(0, 1) + "]" + binary.substr(1) + " agent";
    for (int signal : {SIGINT, SIGKILL}) {
        std::string marker = m_dir + "/marker" + std::to_string(signal);
        std::string spec = write_file("jobs.yaml", "version: 1\nhosts: slurm_allocation\njobs:\n  - name: long\n    "
                                                   "command: 'sleep 300 # " +
                                                       marker + "'\n    shards: {count: 4}\n");
        std::string run = m_dir + "/run" + std::to_string(signal);
        Spawned runner = spawn_sshard({"run", spec, "--run-dir", run, "--progress", "never"}, m_dir);
        bool running = eventually([&] { return processes_matching("[s]leep 300 # " + marker) == 2; }, 30s);
        ::kill(runner.pid, signal);
        Result r = wait_sshard(runner);
        EXPECT_TRUE(running) << r.err;
        EXPECT_EQ(r.exit_code, signal == SIGINT ? 130 : 128 + SIGKILL) << r.err;
        EXPECT_TRUE(eventually([&] { return processes_matching("[s]leep 300 # " + marker) == 0; }, 20s)) << signal;
        EXPECT_TRUE(eventually([&] { return processes_matching(agent_pattern) == 0; }, 20s)) << signal;
    }
    std::system(("scancel " + job).c_str());
    for (const char* variable : {"SLURM_JOB_ID", "SLURM_JOB_NODELIST", "SLURM_JOB_CPUS_PER_NODE"}) {
        ::unsetenv(variable);
    }
}

// `sshard submit` runs the spec as a batch job on its own allocation; `sshard report` reads its run directory.
TEST_F(SlurmAllocation, SubmitRunsTheSpecInABatchJob) {
    std::string spec = write_file("jobs.yaml", "version: 1\nhosts: [localhost]\njobs:\n  - name: hello\n    command: "
                                               "'echo hello {index} from $SSHARD_HOST'\n    shards: {count: 3}\n");
    Result submitted = run_sshard({"submit", spec, "--nodes", "1", "--time", "5m", "--", "--ntasks=2"}, m_dir);
    ASSERT_EQ(submitted.exit_code, 0) << submitted.err;
    auto newline = submitted.out.find('\n');
    ASSERT_NE(newline, std::string::npos) << submitted.out;
    std::string job = submitted.out.substr(0, newline);
    std::string run = submitted.out.substr(newline + 1);
    ASSERT_FALSE(run.empty());
    run.pop_back();
    EXPECT_TRUE(fs::is_directory(run)) << run;
    auto done = [&] {
        for (const auto& event : journal_events(run)) {
            if (event["event"] == "run_end") {
                return true;
            }
        }
        return false;
    };
    EXPECT_TRUE(eventually(done, 60s)) << read_file(run + ".out");
    EXPECT_TRUE(eventually([&] { return shell_output("squeue -h -j " + job + " 2>/dev/null").empty(); }, 20s));
    Result report = run_sshard({"report"}, m_dir);
    EXPECT_EQ(report.exit_code, 0) << report.err;
    EXPECT_NE(report.out.find("node1"), std::string::npos) << report.out;
    EXPECT_EQ(read_file(run + "/out/hello/2.1.out"), "hello 2 from node1\n");
    // A job sbatch refuses is an error that quotes it, and leaves no run directory.
    Result refused = run_sshard({"submit", spec, "--", "--partition=nosuch"}, m_dir);
    EXPECT_EQ(refused.exit_code, 3);
    EXPECT_NE(refused.err.find("sshard: error: sbatch failed: sbatch: error: invalid partition specified: nosuch"),
              std::string::npos)
        << refused.err;
    int run_dirs = 0;
    for (const auto& entry : fs::directory_iterator(m_dir + "/.sshard/runs")) {
        run_dirs += entry.is_directory() && !entry.is_symlink() ? 1 : 0;
    }
    EXPECT_EQ(run_dirs, 1);
}

} // namespace
} // namespace sshard::test
