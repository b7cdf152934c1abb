// End-to-end over Slurm: the real binary against the one-node cluster that tests/slurm/cluster.sh runs (node1
// in partition debug). Each sbatch cycle costs Slurm seconds, so each test makes the most of few arrays. The
// tests skip when Slurm is not installed (scripts/setup installs it).
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <gtest/gtest.h>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <sys/wait.h>

#include "tests/slurm/slurm_fixture.hpp"

namespace sshard::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// What squeue shows of every job on the cluster: "" when none is queued or running.
std::string queue() {
    std::string path = make_temp_dir() + "/q";
    std::string command = "squeue -h -o '%i %T' >" + path + " 2>&1";
    int status = std::system(command.c_str());
    std::string text = status == 0 ? read_file(path) : "squeue failed: " + read_file(path);
    fs::remove_all(fs::path(path).parent_path());
    return text;
}

// Runs a shell command; its exit status, 0 for success.
int shell(const std::string& command) {
    return std::system(command.c_str());
}

// Sets node1 back to service when it goes out of scope, whatever the test did to it.
struct NodeResumer {
    NodeResumer() = default;
    NodeResumer(const NodeResumer&) = delete;
    NodeResumer& operator=(const NodeResumer&) = delete;
    ~NodeResumer() { shell("scontrol update nodename=node1 state=resume >/dev/null 2>&1"); }
};

class SlurmRun : public SlurmTest {
protected:
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
    // Writes `script` as the program `name` in m_dir/bin, which spawn_with_fakes() puts ahead on PATH.
    void fake(const std::string& name, const std::string& script) const {
        fs::create_directories(m_dir + "/bin");
        fs::permissions(write_file("bin/" + name, script), fs::perms::owner_all);
    }
    // sshard with the fakes ahead of Slurm's programs on its PATH.
    Spawned spawn_with_fakes(const std::vector<std::string>& args) const {
        std::string saved = std::getenv("PATH");
        ::setenv("PATH", (m_dir + "/bin:" + saved).c_str(), 1);
        Spawned spawned = spawn_sshard(args, m_dir);
        ::setenv("PATH", saved.c_str(), 1);
        return spawned;
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
    EXPECT_FALSE(last["codes/0"].contains("max_rss")) << "the cluster keeps no accounting";
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

// A shard's timeout counts from when its task leaves Slurm's queue: a task pending behind another job (all
// eight CPUs held for 6 s) for longer than its 2 s timeout still runs, and succeeds.
TEST_F(SlurmRun, TimeInTheQueueCountsAgainstNoTimeout) {
    std::string held = m_dir + "/held";
    ASSERT_EQ(shell("sbatch -Q -n 8 -o /dev/null --wrap 'sleep 6; touch " + held + "'"), 0);
    ASSERT_TRUE(eventually([] { return queue().find("RUNNING") != std::string::npos; }, 30s)) << queue();
    spec("  - name: quick\n    command: '[ -e " + held + " ] && echo after the holder'\n    timeout: 2s\n");
    Result r = run({"run", m_dir + "/jobs.yaml"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(ends()["quick/0"]["outcome"], "exited") << ends()["quick/0"].dump();
    EXPECT_EQ(read_file(m_dir + "/run/out/quick/0.1.out"), "after the holder\n");
    EXPECT_TRUE(eventually([] { return queue().empty(); }, 10s)) << queue();
}

// The runner killed with SIGKILL while its tasks run, then --resume: the resumed run follows the tasks still
// running and takes the status of those that ended meanwhile from their files; no shard runs twice, and the
// report counts every shard once.
TEST_F(SlurmRun, ResumeAfterKillReattachesToItsTasks) {
    std::string log = m_dir + "/ran";
    spec(R"(  - name: work
    command: 'echo start {index} >>)" +
         log + R"(; if [ {index} -lt 3 ]; then sleep 1; else sleep 6; fi; echo end {index} >>)" + log + R"('
    shards: {count: 6}
)");
    auto lines = [&](const std::string& word) {
        std::istringstream in(fs::exists(log) ? read_file(log) : "");
        std::map<std::string, int> seen;
        for (std::string kind, index; in >> kind >> index;) {
            seen[index] += kind == word ? 1 : 0;
        }
        std::erase_if(seen, [](const auto& entry) { return entry.second == 0; });
        return seen;
    };
    Spawned spawned = spawn_sshard({"run", m_dir + "/jobs.yaml", "--run-dir", m_dir + "/run"}, m_dir);
    bool all_submitted = eventually(
        [&] {
            return lines("start").size() == 6 &&
                   count_events(journal_events(m_dir + "/run"), "attempt_submitted") == 6 && lines("end").empty();
        },
        60s);
    ::kill(spawned.pid, SIGKILL);
    wait_sshard(spawned);
    ASSERT_TRUE(all_submitted) << queue();
    // Shards 0 to 2 end while no runner watches them; 3 to 5 still run when the resume begins.
    ASSERT_TRUE(eventually([&] { return lines("end").size() == 3; }, 30s)) << read_file(log);
    ASSERT_NE(queue(), "");
    Result r = run_sshard({"run", "--resume", m_dir + "/run"}, m_dir);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto started = lines("start");
    auto ended = lines("end");
    EXPECT_EQ(started.size(), 6u) << read_file(log);
    for (const auto& [index, count] : started) {
        EXPECT_EQ(count, 1) << "shard " << index << " ran " << count << " times";
        EXPECT_EQ(ended[index], 1) << "shard " << index;
    }
    auto last = ends();
    ASSERT_EQ(last.size(), 6u);
    for (const auto& [shard, event] : last) {
        EXPECT_EQ(event["verdict"], "succeeded") << event.dump();
        EXPECT_EQ(event["attempt"], 1) << event.dump();
        EXPECT_EQ(event["node"], "node1") << event.dump();
    }
    Result report = run_sshard({"report", m_dir + "/run", "--format", "json"}, m_dir);
    ASSERT_EQ(report.exit_code, 0) << report.err;
    auto json = nlohmann::json::parse(report.out);
    EXPECT_EQ(json["run"]["shards"]["succeeded"], 6) << report.out;
    EXPECT_EQ(json["run"]["shards"]["total"], 6) << report.out;
    // The cluster keeps no accounting: the memory of its shards is unknown, not 0.
    EXPECT_TRUE(json["jobs"][0]["max_rss_bytes"].is_null()) << report.out;
    for (const auto& host : json["hosts"]) {
        EXPECT_TRUE(host["max_rss_bytes"].is_null()) << report.out;
    }
    EXPECT_EQ(queue(), "");
}

// The runner killed after sbatch has accepted an array but before the journal heard of it (here an sbatch ahead on
// PATH submits, then holds its answer back): the resume finds that array by its script in the run directory and
// cancels it before it submits the shards again, so that no shard runs to its end twice.
TEST_F(SlurmRun, ResumeCancelsAnArrayTheJournalNeverHeardOf) {
    std::string bin = m_dir + "/bin";
    fake("sbatch", "#!/bin/sh\n"
                   "/usr/bin/sbatch \"$@\" >\"$0.out\" || exit 1\n"
                   "echo $$ >\"$0.pid\"\n"
                   "exec sleep 60\n");
    std::string log = m_dir + "/ran", go = m_dir + "/go";
    spec("  - name: work\n    command: 'echo start {index} >>" + log + "; for i in $(seq 600); do [ -e " + go +
         " ] && break; sleep 0.1; done; echo end {index} >>" + log + "'\n    shards: {count: 2}\n");
    Spawned first = spawn_with_fakes({"run", m_dir + "/jobs.yaml", "--run-dir", m_dir + "/run"});
    bool submitted = eventually([&] { return !read_file(bin + "/sbatch.pid").empty(); }, 30s);
    ::kill(first.pid, SIGKILL);
    wait_sshard(first);
    if (submitted) {
        ::kill(std::stoi(read_file(bin + "/sbatch.pid")), SIGKILL);
    }
    ASSERT_TRUE(submitted) << queue();
    ASSERT_EQ(count_events(journal_events(m_dir + "/run"), "attempt_submitted"), 0u);
    std::string orphan = read_file(bin + "/sbatch.out");
    orphan = orphan.substr(0, orphan.find_first_of(";\n"));
    ASSERT_NE(queue().find(orphan + "_"), std::string::npos) << "the array is in Slurm: " << queue();

    Spawned resumed = spawn_sshard({"run", "--resume", m_dir + "/run"}, m_dir);
    bool resubmitted =
        eventually([&] { return count_events(journal_events(m_dir + "/run"), "attempt_submitted") == 2; }, 30s);
    write_file("go", "");
    Result r = wait_sshard(resumed);
    ASSERT_TRUE(resubmitted) << queue();
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(eventually([] { return queue().empty(); }, 10s)) << queue();
    std::istringstream in(read_file(log));
    std::map<std::string, int> ends;
    for (std::string kind, index; in >> kind >> index;) {
        ends[index] += kind == "end" ? 1 : 0;
    }
    EXPECT_EQ(ends, (std::map<std::string, int>{{"0", 1}, {"1", 1}})) << read_file(log);
}

// The node fails under a running task (set down): Slurm ends the task NODE_FAIL, and the shard runs again once
// the node is back, without using a retry (the job has none).
TEST_F(SlurmRun, NodeFailRequeuesWithoutARetry) {
    std::string flag = m_dir + "/flag";
    spec("  - name: one\n    command: '[ -e " + flag + " ] || { touch " + flag + "; sleep 120; }; echo done'\n");
    Spawned spawned = spawn_sshard({"run", m_dir + "/jobs.yaml", "--run-dir", m_dir + "/run"}, m_dir);
    bool running = eventually([&] { return fs::exists(flag); }, 60s);
    NodeResumer resumer;
    EXPECT_EQ(shell("scontrol update nodename=node1 state=down reason=sshard-test"), 0);
    auto requeued = [&] { return count_events(journal_events(m_dir + "/run"), "attempt_end", "requeued") == 1; };
    bool was_requeued = eventually(requeued, 30s);
    // Back in service (unless slurmd's next registration has brought it back already: ReturnToService=2).
    shell("scontrol update nodename=node1 state=resume >/dev/null 2>&1");
    Result r = wait_sshard(spawned);
    ASSERT_TRUE(running) << queue();
    EXPECT_TRUE(was_requeued) << queue();
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::vector<nlohmann::json> attempts;
    for (const auto& event : journal_events(m_dir + "/run")) {
        if (event["event"] == "attempt_end") {
            attempts.push_back(event);
        }
    }
    ASSERT_EQ(attempts.size(), 2u) << r.err;
    EXPECT_EQ(attempts[0]["outcome"], "transport_failed");
    EXPECT_NE(attempts[0]["reason"].get<std::string>().find("NODE_FAIL"), std::string::npos) << attempts[0].dump();
    EXPECT_EQ(attempts[1]["verdict"], "succeeded");
    EXPECT_EQ(read_file(m_dir + "/run/out/one/0.2.out"), "done\n");
}

// "Temporarily unable to accept job" (here from an sbatch ahead on PATH that refuses once, as Slurm does at
// MaxJobCount) is a back-off: the same shards go again, no retry is used, nothing fails.
TEST_F(SlurmRun, TemporaryRefusalIsABackOff) {
    fake("sbatch", "#!/bin/sh\n"
                   "echo x >>\"$0.calls\"\n"
                   "[ -e \"$0.refused\" ] && exec /usr/bin/sbatch \"$@\"\n"
                   ": >\"$0.refused\"\n"
                   "echo 'sbatch: error: Slurm temporarily unable to accept job, sleeping and retrying' >&2\n"
                   "echo 'sbatch: error: Batch job submission failed: Resource temporarily unavailable' >&2\n"
                   "exit 1\n");
    spec("  - name: two\n    command: echo {index}\n    shards: {count: 2}\n");
    Result r = wait_sshard(spawn_with_fakes({"run", m_dir + "/jobs.yaml", "--run-dir", m_dir + "/run"}));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(read_file(m_dir + "/bin/sbatch.calls"), "x\nx\n") << "refused once, then one array for both shards";
    for (const auto& [shard, event] : ends()) {
        EXPECT_EQ(event["verdict"], "succeeded") << event.dump();
        EXPECT_EQ(event["attempt"], 1) << event.dump();
    }
    EXPECT_EQ(ends().size(), 2u);
}

// sacct's answer is read defensively: rows for the run's own tasks with hostile MaxRSS values (an sacct ahead on
// PATH that answers so for every array it is asked about) give no memory, never a wrong one, and the run goes on.
TEST_F(SlurmRun, GarbledAccountingGivesNoMemory) {
    fake("sacct", "#!/bin/sh\n"
                  "echo \"$@\" >>\"$0.calls\"\n"
                  "while [ $# -gt 1 ] && [ \"$1\" != -j ]; do shift; done\n"
                  "for j in $(echo \"$2\" | tr , ' '); do\n"
                  "  printf '%s_0.batch|COMPLETED|-5\\n%s_1.batch|COMPLETED|99999999999999999999P\\n' $j $j\n"
                  "  printf '%s_0.batch|COMPLETED|12\\377\\n%s_1|COMPLETED|7\\n%s_1.batch||\\n' $j $j $j\n"
                  "done\n");
    spec("  - name: two\n    command: echo {index}\n    shards: {count: 2}\n");
    Result r = wait_sshard(spawn_with_fakes({"run", m_dir + "/jobs.yaml", "--run-dir", m_dir + "/run"}));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    ASSERT_EQ(ends().size(), 2u);
    for (const auto& [shard, event] : ends()) {
        EXPECT_EQ(event["verdict"], "succeeded") << event.dump();
        EXPECT_FALSE(event.contains("max_rss")) << event.dump();
    }
    EXPECT_NE(read_file(m_dir + "/bin/sacct.calls").find("-o JobID,State,MaxRSS -j "), std::string::npos);
}

// A run directory that the compute node does not see (here: a tmpfs mounted over its parent in the runner's
// own mount namespace) leaves the first task without a status: the host is down for the run with a message
// that says why, and the run stops once --down-limit has passed (exit 3: no host stayed up).
TEST_F(SlurmRun, RunDirectoryTheNodeCannotSeeIsNamed) {
    std::string hidden = m_dir + "/hidden";
    fs::create_directory(hidden);
    spec("  - name: lost\n    command: 'true'\n");
    std::string command = "unshare -m sh -c 'mount -t tmpfs -o size=16m tmpfs \"$1\" && exec \"$2\" run \"$3\" "
                          "--run-dir \"$1/run\" --down-limit 1s' sh " +
                          hidden + " " + SSHARD_BINARY + " " + m_dir + "/jobs.yaml >" + m_dir + "/out 2>" + m_dir +
                          "/err";
    int status = shell(command);
    std::string err = read_file(m_dir + "/err");
    ASSERT_TRUE(WIFEXITED(status)) << err;
    EXPECT_EQ(WEXITSTATUS(status), 3) << "no host stayed up: " << err;
    EXPECT_NE(err.find("without writing its status"), std::string::npos) << err;
    EXPECT_NE(err.find("is the run directory on a filesystem the compute nodes share?"), std::string::npos) << err;
    EXPECT_EQ(queue(), "");
}

} // namespace
} // namespace sshard::test
