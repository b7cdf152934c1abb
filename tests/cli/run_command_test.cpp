// End-to-end: `sshard run` with the real binary on this machine (local transport).
#include <csignal>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <set>

#include "tests/cli/binary.hpp"
#include "tests/core/shell_test_util.hpp"

namespace sshard::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Whether a process still runs. A zombie does not: in some sandboxes nobody reaps orphans.
bool process_alive(int pid) {
    std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    auto paren = stat.rfind(')');
    return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
}

class RunCommand : public E2eTest {
protected:
    std::string write_spec(const std::string& text) const { return write_file("jobs.yaml", text); }

    // The peak memory of a run of one shard that prints a line: what this build of sshard needs before any
    // output (under AddressSanitizer, most of 100 MiB), against which a flood of output is measured.
    long baseline_rss_kib() const {
        std::string spec = write_file("baseline.yaml", "version: 1\nhosts: [{name: here, transport: local}]\n"
                                                       "jobs: [{name: one, command: 'echo one'}]\n");
        Result r = run_sshard({"run", spec, "--run-dir", m_dir + "/baseline"});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        return r.max_rss_kib;
    }
};

TEST_F(RunCommand, RunsEveryShardAndSummarises) {
    std::string spec = write_spec(R"(version: 1
name: hello
jobs:
  - {name: greet, command: 'echo "hi {item} from $SSHARD_JOB/$SSHARD_INDEX"', shards: {items: [a, b, c]}}
  - {name: after, command: 'true', needs: greet}
)");
    Result r = run_sshard({"run", spec, "--run-dir", m_dir + "/run"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("\ngreet                 3    3    0    0     3 "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("  shards 4: 4 succeeded, 0 failed, 0 skipped, 0 not run\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\nrecords in " + m_dir + "/run\n"), std::string::npos) << r.out;
    EXPECT_EQ(read_file(m_dir + "/run/out/greet/1.1.out"), "hi b from greet/1\n");
    EXPECT_FALSE(fs::exists(m_dir + "/run/out/greet/1.1.err")) << "empty output makes no file";
    auto events = journal_events(m_dir + "/run");
    EXPECT_EQ(events.front()["event"], "run_start");
    EXPECT_EQ(events.back()["event"], "run_end");
    EXPECT_EQ(count_events(events, "attempt_end", "succeeded"), 4u);
    EXPECT_EQ(fs::status(m_dir + "/run").permissions() & fs::perms::all, fs::perms::owner_all);
}

TEST_F(RunCommand, FlakyShardSucceedsOnRetry) {
    std::string spec = write_spec(R"(version: 1
jobs:
  - name: flaky
    command: 'if [ -e marker ]; then echo ok; else touch marker; echo first try fails >&2; exit 1; fi'
    workdir: )" + m_dir + R"(
    retries: 2
    backoff: 10ms
)");
    Result r = run_sshard({"run", spec, "--run-dir", m_dir + "/run"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto events = journal_events(m_dir + "/run");
    EXPECT_EQ(count_events(events, "attempt_end", "retry"), 1u);
    EXPECT_EQ(count_events(events, "attempt_end", "succeeded"), 1u);
    EXPECT_EQ(read_file(m_dir + "/run/out/flaky/0.1.err"), "first try fails\n");
    EXPECT_EQ(read_file(m_dir + "/run/out/flaky/0.2.out"), "ok\n");
}

TEST_F(RunCommand, PermanentFailureExits1AndKeepsStderr) {
    std::string spec = write_spec(R"(version: 1
jobs:
  - {name: bad, command: 'echo broken >&2; exit 3', retries: 1, backoff: 0}
  - {name: later, command: 'true', needs: [bad]}
)");
    Result r = run_sshard({"run", spec, "--run-dir", m_dir + "/run"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(read_file(m_dir + "/run/out/bad/0.2.err"), "broken\n");
    EXPECT_NE(r.out.find("\nfailures\n  bad[0] on localhost after 2 attempts: exit 3\n    | broken\n"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("  later: 1 shard skipped: needs 'bad', which did not fully succeed\n"), std::string::npos)
        << r.out;
}

TEST_F(RunCommand, TimeoutLeavesNoProcessBehind) {
    std::string spec = write_spec(R"(version: 1
jobs:
  - name: slow
    command: 'sleep 60 & echo $! > child.pid; trap "" TERM; sleep 60; wait'
    workdir: )" + m_dir + R"(
    timeout: 300ms
)");
    Result r = run_sshard({"run", spec, "--run-dir", m_dir + "/run"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.out.find("timed out after 300ms"), std::string::npos) << r.out;
    int child = std::stoi(read_file(m_dir + "/child.pid"));
    EXPECT_FALSE(process_alive(child)) << "the shard's background sleep survived";
}

TEST_F(RunCommand, InterruptExits130WithAValidJournal) {
    std::string spec = write_spec("version: 1\njobs: [{name: long, command: 'sleep 30', shards: {count: 4}}]\n");
    Spawned run = spawn_sshard({"run", spec, "--run-dir", m_dir + "/run"});
    // Interrupted while its shards run: a run interrupted before any started would pass on 0 == 0 below.
    bool started = eventually([&] { return count_events(journal_events(m_dir + "/run"), "attempt_start") > 0; }, 10s);
    kill(run.pid, SIGINT);
    Result r = wait_sshard(run);
    ASSERT_TRUE(started) << "the shards did not start";
    EXPECT_EQ(r.exit_code, 130) << r.err;
    auto events = journal_events(m_dir + "/run");
    EXPECT_EQ(events.back()["event"], "run_end");
    EXPECT_EQ(events.back()["interrupted"], true);
    EXPECT_EQ(count_events(events, "attempt_end", "unfinished"), count_events(events, "attempt_start"));
}

TEST_F(RunCommand, KilledRunResumesOnlyWhatIsUnfinished) {
    std::string spec = write_spec(R"(version: 1
hosts: [{name: here, transport: local, slots: 4}]
jobs:
  - name: work
    command: 'echo {index} >> done.log; sleep 0.2'
    workdir: )" + m_dir + R"(
    shards: {count: 40}
)");
    Spawned first = spawn_sshard({"run", spec, "--run-dir", m_dir + "/run"});
    eventually([&] { return count_events(journal_events(m_dir + "/run"), "attempt_end") >= 8; }, 8s);
    kill(first.pid, SIGKILL);
    wait_sshard(first);
    std::set<int> recorded;
    for (const auto& e : journal_events(m_dir + "/run")) {
        if (e["event"] == "attempt_end" && e["verdict"] == "succeeded") {
            recorded.insert(e["index"].get<int>());
        }
    }
    ASSERT_GE(recorded.size(), 8u);
    ASSERT_LT(recorded.size(), 40u);
    std::ofstream(m_dir + "/done.log", std::ios::app) << "resume\n";

    Result r = run_sshard({"run", "--resume", m_dir + "/run"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::ifstream log(m_dir + "/done.log");
    std::set<int> rerun;
    bool after = false;
    for (std::string line; std::getline(log, line);) {
        if (line == "resume") {
            after = true;
        } else if (after) {
            rerun.insert(std::stoi(line));
        }
    }
    for (int i = 0; i < 40; ++i) {
        EXPECT_NE(recorded.count(i) == 1, rerun.count(i) == 1) << "shard " << i;
    }
    std::set<int> succeeded;
    for (const auto& e : journal_events(m_dir + "/run")) {
        if (e["event"] == "attempt_end" && e["verdict"] == "succeeded") {
            succeeded.insert(e["index"].get<int>());
        }
    }
    EXPECT_EQ(succeeded.size(), 40u);
}

TEST_F(RunCommand, EditedSpecOnResumeRunsOnlyNewOrChangedShards) {
    std::string spec = write_spec("version: 1\njobs: [{name: j, command: 'echo {item}', shards: {items: [a, b]}}]\n");
    ASSERT_EQ(run_sshard({"run", spec, "--run-dir", m_dir + "/run"}).exit_code, 0);
    write_spec("version: 1\njobs: [{name: j, command: 'echo {item}', shards: {items: [a, b, c]}}]\n");
    Result r = run_sshard({"run", spec, "--resume", m_dir + "/run"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto events = journal_events(m_dir + "/run");
    EXPECT_EQ(count_events(events, "attempt_end", "succeeded"), 3u);
    EXPECT_EQ(events[events.size() - 2]["index"], 2);
}

TEST_F(RunCommand, DryRunTouchesNothing) {
    std::string spec = write_spec("version: 1\njobs: [{name: j, command: 'touch x'}]\n");
    Result r = run_sshard({"run", spec, "--dry-run"}, m_dir);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("[0] touch x"), std::string::npos);
    EXPECT_FALSE(fs::exists(m_dir + "/.sshard"));
    EXPECT_FALSE(fs::exists(m_dir + "/x"));
}

TEST_F(RunCommand, DefaultRunDirAndLatestLink) {
    std::string spec = write_spec("version: 1\nname: demo\njobs: [{name: j, command: 'true'}]\n");
    Result r = run_sshard({"run", spec}, m_dir);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(fs::exists(m_dir + "/.sshard/runs/latest/journal.jsonl"));
    EXPECT_EQ(fs::read_symlink(m_dir + "/.sshard/runs/latest").string().rfind("demo-", 0), 0u);
}

TEST_F(RunCommand, UnreachableHostsExit3AfterTheDownLimit) {
    // A loopback address where nothing listens: refused at once, and no traffic leaves the machine.
    std::string spec = write_spec("version: 1\nhosts: [\"127.0.0.99:1\"]\njobs: [{name: j, command: 'true'}]\n");
    Result r = run_sshard({"run", spec, "--down-limit", "1s", "--run-dir", m_dir + "/run"});
    EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
    EXPECT_NE(r.err.find("sshard: host 127.0.0.99 is down: 127.0.0.99: cannot connect to "), std::string::npos)
        << r.err;
    EXPECT_NE(r.out.find("  j: 1 shard failed: no eligible host was up for 1s"), std::string::npos) << r.out;
}

// A host that stays down is reported once, not at each reconnect that fails, and its error names where ssh_config
// sent the connection. The shard runs until the journal holds the second failed connect.
TEST_F(RunCommand, HostDownIsPrintedOncePerChangeWithItsResolvedAddress) {
    std::string config = write_file("ssh_config", "Host ghost\n  HostName 127.0.0.99\n  Port 1\n  User nobody\n");
    std::string run = m_dir + "/run";
    std::string spec =
        write_spec("version: 1\nhosts: [{name: here, transport: local}, ghost]\n"
                   "jobs: [{name: j, hosts: [here], timeout: 30s, command: 'i=0; while [ $(grep -c "
                   "host_down " +
                   run + "/journal.jsonl) -lt 2 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done'}]\n");
    Result r = run_sshard({"run", spec, "--ssh-config", config, "--run-dir", run});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_GE(count_events(journal_events(run), "host_down"), 2u) << "ghost was tried again";
    std::string message = "sshard: host ghost is down: ghost: cannot connect to nobody@127.0.0.99:1: ";
    auto first = r.err.find(message);
    EXPECT_NE(first, std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("is down", first + message.size()), std::string::npos) << "printed again: " << r.err;
}

TEST_F(RunCommand, LocalRunsSshHostsOnThisMachine) {
    std::string spec = write_spec("version: 1\nhosts: [node1]\njobs: [{name: j, command: 'echo $SSHARD_HOST'}]\n");
    Result r = run_sshard({"run", spec, "--local", "--run-dir", m_dir + "/run"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(read_file(m_dir + "/run/out/j/0.1.out"), "node1\n");
}

TEST_F(RunCommand, ReportAndJoblogOfAFinishedRun) {
    std::string spec = write_spec(R"(version: 1
hosts: [{name: here, transport: local, slots: 2}]
jobs:
  - {name: ok, command: 'echo {index}', shards: {count: 3}}
  - {name: bad, command: 'echo failing >&2; exit 4'}
)");
    std::string joblog = m_dir + "/joblog";
    Result r = run_sshard({"run", spec, "--run-dir", m_dir + "/run", "--joblog", joblog});
    EXPECT_EQ(r.exit_code, 1) << r.err;

    Result text = run_sshard({"report", m_dir + "/run"});
    EXPECT_EQ(text.exit_code, 0) << text.err;
    EXPECT_EQ(text.out.rfind("run jobs (run)\n  shards 4: 3 succeeded, 1 failed, 0 skipped, 0 not run\n", 0), 0u)
        << text.out;
    Result latest = run_sshard({"report"}, m_dir);
    EXPECT_EQ(latest.exit_code, 2) << "no .sshard/runs here";

    Result json = run_sshard({"report", m_dir + "/run", "--format", "json"});
    auto doc = nlohmann::json::parse(json.out);
    EXPECT_EQ(doc["run"]["shards"]["total"], 4);
    EXPECT_EQ(doc["run"]["attempts"], 4);
    double busy = 0;
    for (const auto& host : doc["hosts"]) {
        busy += host["busy_s"].get<double>();
    }
    EXPECT_NEAR(busy, doc["run"]["t_total_s"].get<double>(), 1e-6);
    EXPECT_GE(doc["run"]["utilization"].get<double>(), 0.0);
    EXPECT_LE(doc["run"]["utilization"].get<double>(), 1.0);
    EXPECT_EQ(doc["failures"][0]["stderr_tail"], "failing");

    Result csv = run_sshard({"report", m_dir + "/run", "--format", "csv"});
    EXPECT_EQ(std::count(csv.out.begin(), csv.out.end(), '\n'), 5) << csv.out;
    EXPECT_EQ(csv.out.rfind("job,index,attempt,host,start,end,outcome,exit_code,signal,verdict,", 0), 0u);

    std::string log = read_file(joblog);
    EXPECT_EQ(log.rfind("Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n", 0), 0u);
    EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 5) << log;
    EXPECT_NE(log.find("\there\t"), std::string::npos);
    EXPECT_NE(log.find("\t0\t0\t4\t0\techo failing >&2; exit 4\n"), std::string::npos) << log;
}

TEST_F(RunCommand, CommandsThatMisbehaveKeepTheRunnerBoundedAndTheRecordRight) {
    std::string spec = write_spec(R"(version: 1
hosts: [{name: here, transport: local, slots: 4}]
jobs:
  - name: flood
    command: 'head -c 300000000 /dev/zero'
  - name: binary
    command: 'printf "a\000b\377\n"; printf "no newline at the end"'
  - name: closer
    command: 'exec >&- 2>&-; sleep 1; exit 7'
  - name: daemon
    command: '(sleep 30 &) ; echo started'
    timeout: 10s
  - name: mute
    command: 'echo $$ > mute.pid; exec >&- 2>&-; sleep 60'
    workdir: )" + m_dir + R"(
    timeout: 2s
)");
    long baseline = baseline_rss_kib();
    Result r = run_sshard({"run", spec, "--run-dir", m_dir + "/run", "--stream"});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_LT(r.max_rss_kib, baseline + 64 * 1024) << "300 MB of output must stream to disk, not into memory";
    EXPECT_EQ(fs::file_size(m_dir + "/run/out/flood/0.1.out"), 300000000u);
    EXPECT_EQ(read_file(m_dir + "/run/out/binary/0.1.out"), std::string("a\0b\377\nno newline at the end", 26));
    EXPECT_NE(r.out.find("binary[0]@here: no newline at the end\n"), std::string::npos) << "the last line, unended";
    EXPECT_NE(r.out.find("  closer[0] on here after 1 attempt: exit 7\n"), std::string::npos) << r.out;
    EXPECT_EQ(read_file(m_dir + "/run/out/daemon/0.1.out"), "started\n");
    EXPECT_NE(r.out.find("  mute[0] on here after 1 attempt: timed out after 2s\n"), std::string::npos) << r.out;
    EXPECT_FALSE(process_alive(std::stoi(read_file(m_dir + "/mute.pid")))) << "closing stdout hid it from the timeout";
    auto attempts = count_events(journal_events(m_dir + "/run"), "attempt_end");
    EXPECT_EQ(attempts, 5u);
}

TEST_F(RunCommand, GigabytesOfOutputStreamToDisk) {
    // 2.5 GB: past 2^31 bytes, where a 32-bit count would wrap.
    constexpr std::uint64_t k_bytes = 2'500'000'000;
    if (fs::space(m_dir).available < 3 * k_bytes) {
        GTEST_SKIP() << "needs " << 3 * k_bytes / 1'000'000'000 << " GB free in " << m_dir;
    }
    std::string spec = write_spec("version: 1\nhosts: [{name: here, transport: local}]\n"
                                  "jobs: [{name: flood, command: 'head -c " +
                                  std::to_string(k_bytes) + " /dev/zero'}]\n");
    long baseline = baseline_rss_kib();
    Result r = run_sshard({"run", spec, "--run-dir", m_dir + "/run"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_LT(r.max_rss_kib, baseline + 64 * 1024) << "output must stream to disk, not into memory";
    EXPECT_EQ(fs::file_size(m_dir + "/run/out/flood/0.1.out"), k_bytes);
    EXPECT_NE(r.out.find("shards 1: 1 succeeded"), std::string::npos) << r.out;
}

TEST_F(RunCommand, SpecWithBytesThatAreNotUtf8RunsAndResumesExactlyOnce) {
    // File names in Latin-1, say: the values reach the command byte for byte, and the journal (JSON, so it
    // writes U+FFFD for them) still knows the shards on resume.
    std::string spec =
        write_spec("version: 1\nhosts: [{name: here, transport: local}]\n"
                   "jobs: [{name: j, command: 'printf %s {item}', shards: {items: [\"caf\xe9\", \"\xff\"]}}]\n");
    Result r = run_sshard({"run", spec, "--run-dir", m_dir + "/run"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(read_file(m_dir + "/run/out/j/0.1.out"), "caf\xe9");
    EXPECT_EQ(read_file(m_dir + "/run/out/j/1.1.out"), "\xff");
    Result resumed = run_sshard({"run", "--resume", m_dir + "/run"});
    EXPECT_EQ(resumed.exit_code, 0) << resumed.err;
    EXPECT_EQ(count_events(journal_events(m_dir + "/run"), "attempt_end"), 2u) << "nothing runs twice";
}

TEST_F(RunCommand, HostileItemsLinesAndMatrixValuesStayLiteral) {
    // As words, inside the command's double quotes (lines) and inside its single quotes (matrix {b}).
    const std::vector<std::string> hostile = {"$(touch pwned)",
                                              "; touch pwned",
                                              "`touch pwned`",
                                              "' ; touch pwned '",
                                              "a  b",
                                              "\"",
                                              "\\",
                                              "*",
                                              "$HOME",
                                              "|| touch pwned",
                                              "-n",
                                              "{item}",
                                              "x > pwned",
                                              "&& touch pwned #"};
    auto yaml_quoted = [](const std::string& value) {
        std::string out = "\"";
        for (char c : value) {
            out += c == '"' || c == '\\' ? std::string("\\") + c : std::string(1, c);
        }
        return out + "\"";
    };
    std::string items;
    std::string lines;
    for (const auto& value : hostile) {
        items += (items.empty() ? "" : ", ") + yaml_quoted(value);
        lines += value + "\n";
    }
    std::ofstream(m_dir + "/lines.txt") << lines;
    std::string spec = write_spec("version: 1\nhosts: [{name: here, transport: local, slots: 4}]\njobs:\n"
                                  "  - {name: items, command: \"printf '<%s>' {item}\", workdir: " +
                                  m_dir + ", shards: {items: [" + items +
                                  "]}}\n"
                                  "  - {name: lines, command: \"printf '<%s>' \\\"{item}\\\"\", workdir: " +
                                  m_dir +
                                  ", shards: {lines: lines.txt}}\n"
                                  "  - {name: matrix, command: \"printf '<%s>' {a} '{b}'\", workdir: " +
                                  m_dir + ", shards: {matrix: {a: [" + items + "], b: [" + items + "]}}}\n");
    Result r = run_sshard({"run", spec, "--run-dir", m_dir + "/run"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    const std::size_t n = hostile.size();
    for (std::size_t i = 0; i < n; ++i) {
        std::string index = std::to_string(i);
        EXPECT_EQ(read_file(m_dir + "/run/out/items/" + index + ".1.out"), "<" + hostile[i] + ">");
        EXPECT_EQ(read_file(m_dir + "/run/out/lines/" + index + ".1.out"), "<" + hostile[i] + ">");
        for (std::size_t j = 0; j < n; ++j) {
            EXPECT_EQ(read_file(m_dir + "/run/out/matrix/" + std::to_string(i * n + j) + ".1.out"),
                      "<" + hostile[i] + "><" + hostile[j] + ">");
        }
    }
    EXPECT_FALSE(fs::exists(m_dir + "/pwned"));
}

TEST_F(RunCommand, ClosedOutputStopsTheRunInOrder) {
    // `sshard run --stream | head -n 1`: the reader goes; the runner must not die of SIGPIPE mid-run.
    std::string spec = write_spec("version: 1\nhosts: [{name: here, transport: local, slots: 2}]\n"
                                  "jobs: [{name: j, command: 'for i in 1 2 3 4 5 6 7 8 9 10; do echo $i; sleep 0.3; "
                                  "done', shards: {count: 6}}]\n");
    std::string command = "( " + sshard_binary() + " run " + spec + " --run-dir " + m_dir + "/run --stream 2>" + m_dir +
                          "/err; echo $? >" + m_dir + "/status ) | head -n 1";
    std::string first = core::test::run_shell(command);
    EXPECT_TRUE(first == "j[0]@here: 1\n" || first == "j[1]@here: 1\n") << first;
    EXPECT_EQ(read_file(m_dir + "/status"), "130\n") << read_file(m_dir + "/err");
    EXPECT_NE(read_file(m_dir + "/err").find("sshard: standard output was closed: stopping\n"), std::string::npos);
    auto events = journal_events(m_dir + "/run");
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back()["event"], "run_end");
    EXPECT_EQ(events.back()["interrupted"], true);
    EXPECT_EQ(count_events(events, "attempt_start"), count_events(events, "attempt_end"))
        << "every started shard is recorded";
}

TEST_F(RunCommand, StreamTagsOutputLines) {
    std::string spec = write_spec("version: 1\njobs: [{name: j, command: 'echo out; echo err >&2'}]\n");
    Result r = run_sshard({"run", spec, "--stream", "--run-dir", m_dir + "/run"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out.rfind("j[0]@localhost: out\n", 0), 0u) << r.out;
    EXPECT_EQ(r.err, "j[0]@localhost: err\n");
}

TEST_F(RunCommand, UsageErrors) {
    EXPECT_EQ(run_sshard({"run"}).exit_code, 2);
    EXPECT_EQ(run_sshard({"run", "x.yaml", "--retry-failed"}).exit_code, 2);
    EXPECT_EQ(run_sshard({"run", "x.yaml", "--max-parallel", "0"}).exit_code, 2);
    std::string spec = write_spec("version: 1\njobs: [{name: j, command: 'true'}]\n");
    Result bad_limit = run_sshard({"run", spec, "--down-limit", "soon"});
    EXPECT_EQ(bad_limit.exit_code, 2);
    EXPECT_EQ(bad_limit.err, "--down-limit: 'soon' is not a duration above zero, up to 100 days, such as 30s or 5m\n"
                             "Run with --help for more information.\n");
    Result r = run_sshard({"run", "--resume", m_dir});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, "sshard: error: '" + m_dir + "' is not a run directory (no journal.jsonl in it)\n");
}

} // namespace
} // namespace sshard::test
