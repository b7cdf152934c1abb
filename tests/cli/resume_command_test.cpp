// End-to-end: the journal's promises with the real binary. Once a shard's end is recorded it never runs again,
// every shard is accounted for exactly once, and the journal stays readable whatever stops the runner.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sys/mount.h>
#include <sys/wait.h>

#include "tests/cli/binary.hpp"

namespace sshard::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// "job[index]" of the attempts that ended in the last session (after the last run_start).
std::set<std::string> last_session_ran(const std::string& run_dir) {
    std::set<std::string> ran;
    for (const auto& e : journal_events(run_dir)) {
        if (e["event"] == "run_start") {
            ran.clear();
        } else if (e["event"] == "attempt_end") {
            ran.insert(e["job"].get<std::string>() + "[" + std::to_string(e["index"].get<int>()) + "]");
        }
    }
    return ran;
}

// Whether a spawned sshard has exited, leaving it for wait_sshard to collect.
bool exited(const Spawned& running) {
    siginfo_t info{};
    return waitid(P_PID, static_cast<id_t>(running.pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
           info.si_pid == running.pid;
}

class ResumeCommand : public E2eTest {
protected:
    void TearDown() override {
        ::umount2((m_dir + "/disk").c_str(), MNT_DETACH);
        E2eTest::TearDown();
    }

    std::string write_spec(const std::string& jobs) const {
        return write_file("jobs.yaml", "version: 1\nhosts: [{name: here, transport: local, slots: 4}]\njobs:\n" + jobs);
    }
    std::string run_dir() const { return m_dir + "/run"; }
    // Runs `spec`, whose six shards wait for m_dir/go but the first ones, Ctrl-C once two have succeeded, then
    // makes go and resumes: the resume must end with all six succeeded.
    void interrupt_after_two_then_resume(const std::string& spec) {
        Spawned first = spawn_sshard({"run", spec, "--run-dir", run_dir()});
        ASSERT_TRUE(
            eventually([&] { return count_events(journal_events(run_dir()), "attempt_end", "succeeded") == 2; }));
        ::kill(first.pid, SIGINT);
        EXPECT_EQ(wait_sshard(first).exit_code, 130);
        std::ofstream(m_dir + "/go") << "";
        Result r = run_sshard({"run", "--resume", run_dir()});
        EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
        EXPECT_NE(r.out.find("  shards 6: 6 succeeded, 0 failed, 0 skipped, 0 not run\n"), std::string::npos) << r.out;
    }
};

TEST_F(ResumeCommand, EachEditRunsExactlyTheShardsThatAreNewOrChanged) {
    std::string spec = write_spec("  - {name: j, command: 'echo {item}', shards: {items: [a, b, c]}}\n"
                                  "  - {name: k, command: 'echo $SSHARD_INDEX', shards: {count: 2}}\n");
    ASSERT_EQ(run_sshard({"run", spec, "--run-dir", run_dir()}).exit_code, 0);
    struct Edit {
        std::string what;
        std::string jobs;
        std::set<std::string> reruns;
    };
    const std::vector<Edit> edits = {
        {"nothing",
         "  - {name: j, command: 'echo {item}', shards: {items: [a, b, c]}}\n"
         "  - {name: k, command: 'echo $SSHARD_INDEX', shards: {count: 2}}\n",
         {}},
        {"items appended",
         "  - {name: j, command: 'echo {item}', shards: {items: [a, b, c, d]}}\n"
         "  - {name: k, command: 'echo $SSHARD_INDEX', shards: {count: 2}}\n",
         {"j[3]"}},
        {"items reordered",
         "  - {name: j, command: 'echo {item}', shards: {items: [b, a, c, d]}}\n"
         "  - {name: k, command: 'echo $SSHARD_INDEX', shards: {count: 2}}\n",
         {"j[0]", "j[1]"}},
        {"command changed",
         "  - {name: j, command: 'printf %s {item}', shards: {items: [b, a, c, d]}}\n"
         "  - {name: k, command: 'echo $SSHARD_INDEX', shards: {count: 2}}\n",
         {"j[0]", "j[1]", "j[2]", "j[3]"}},
        {"job renamed",
         "  - {name: j, command: 'printf %s {item}', shards: {items: [b, a, c, d]}}\n"
         "  - {name: k2, command: 'echo $SSHARD_INDEX', shards: {count: 2}}\n",
         {"k2[0]", "k2[1]"}},
        {"count raised",
         "  - {name: j, command: 'printf %s {item}', shards: {items: [b, a, c, d]}}\n"
         "  - {name: k2, command: 'echo $SSHARD_INDEX', shards: {count: 4}}\n",
         {"k2[2]", "k2[3]"}},
    };
    for (const auto& edit : edits) {
        write_spec(edit.jobs);
        Result r = run_sshard({"run", spec, "--resume", run_dir()});
        EXPECT_EQ(r.exit_code, 0) << edit.what << "\n" << r.out << r.err;
        EXPECT_EQ(last_session_ran(run_dir()), edit.reruns) << edit.what;
    }
    Result report = run_sshard({"report", run_dir(), "--format", "json"});
    nlohmann::json doc = nlohmann::json::parse(report.out);
    EXPECT_EQ(doc["run"]["shards"]["total"], 8) << "the latest spec's shards: j[0-3], k2[0-3]";
    EXPECT_EQ(doc["run"]["shards"]["succeeded"], 8);
    EXPECT_EQ(doc["run"]["attempts"], 5 + 1 + 2 + 4 + 2 + 2);
}

TEST_F(ResumeCommand, ShardsThatShareOneCommandResumeByIndex) {
    // The common `count` job that reads $SSHARD_INDEX: every shard has the same command text. Interrupted after
    // two shards finished and four did not, its resume must run those four.
    std::string quick = write_spec("  - name: work\n    command: '[ $SSHARD_INDEX -lt 2 ] || [ -e " + m_dir +
                                   "/go ] || sleep 30'\n    shards: {count: 6}\n");
    interrupt_after_two_then_resume(quick);
    EXPECT_EQ(last_session_ran(run_dir()), (std::set<std::string>{"work[2]", "work[3]", "work[4]", "work[5]"}));
}

TEST_F(ResumeCommand, RepeatedItemsAndMatrixValuesResumeByIndex) {
    // Items and matrix values that repeat give shards of one command text: each is still a shard of its own.
    std::string until_go = "; [ $SSHARD_INDEX -lt 1 ] || [ -e " + m_dir + "/go ] || sleep 30'";
    std::string spec =
        write_spec("  - {name: items, command: 'echo {item}" + until_go + ", shards: {items: [a, a, a]}}\n" +
                   "  - {name: grid, command: 'echo {x}" + until_go + ", shards: {matrix: {x: [b, b, b]}}}\n");
    interrupt_after_two_then_resume(spec);
    EXPECT_EQ(last_session_ran(run_dir()), (std::set<std::string>{"items[1]", "items[2]", "grid[1]", "grid[2]"}));
}

TEST_F(ResumeCommand, LinesFilesAreKeptWithTheRun) {
    std::ofstream(m_dir + "/inputs.txt") << "x\ny\n";
    std::string spec = write_spec("  - {name: j, command: 'echo {item}', shards: {lines: inputs.txt}}\n");
    ASSERT_EQ(run_sshard({"run", spec, "--run-dir", run_dir()}).exit_code, 0);
    EXPECT_EQ(read_file(run_dir() + "/inputs/j.lines"), "x\ny\n");
    std::ofstream(m_dir + "/inputs.txt") << "z\nx\ny\n";
    Result same = run_sshard({"run", "--resume", run_dir()});
    EXPECT_EQ(same.exit_code, 0) << same.err;
    EXPECT_EQ(last_session_ran(run_dir()), std::set<std::string>{}) << "the run's own copy, not the edited file";
    fs::remove(m_dir + "/inputs.txt");
    EXPECT_EQ(run_sshard({"run", "--resume", run_dir()}).exit_code, 0) << "the file is gone: the copy remains";
    std::ofstream(m_dir + "/inputs.txt") << "x\ny\nz\n";
    Result edited = run_sshard({"run", spec, "--resume", run_dir()});
    EXPECT_EQ(edited.exit_code, 0) << edited.err;
    EXPECT_EQ(last_session_ran(run_dir()), std::set<std::string>{"j[2]"});
    EXPECT_EQ(read_file(run_dir() + "/inputs/j.lines"), "x\ny\nz\n");
}

// The hosts of the attempts that ended in the last session.
std::set<std::string> last_session_hosts(const std::string& run_dir) {
    std::set<std::string> hosts;
    for (const auto& e : journal_events(run_dir)) {
        if (e["event"] == "run_start") {
            hosts.clear();
        } else if (e["event"] == "attempt_end") {
            hosts.insert(e["host"].get<std::string>());
        }
    }
    return hosts;
}

TEST_F(ResumeCommand, AResumeRunsOnTheHostsItsRunWasGivenOnTheCommandLine) {
    // The spec's own host is "here"; the run was told to use others. A resume without host flags must not fall
    // back to the spec's host, and one with new flags uses those from then on.
    std::string spec = write_spec("  - {name: j, command: '[ -e " + m_dir + "/fixed ]', shards: {count: 4}}\n");
    std::ofstream(m_dir + "/hosts.txt") << "filed slots=2\n";
    Result first = run_sshard({"run", spec, "--run-dir", run_dir(), "--hosts", "2/alpha,2/beta", "--local"});
    ASSERT_EQ(first.exit_code, 1) << first.out << first.err;
    EXPECT_EQ(last_session_hosts(run_dir()), (std::set<std::string>{"alpha", "beta"}));

    Result same = run_sshard({"run", "--resume", run_dir(), "--retry-failed"});
    EXPECT_EQ(same.exit_code, 1) << same.out << same.err;
    EXPECT_EQ(last_session_hosts(run_dir()), (std::set<std::string>{"alpha", "beta"}));

    fs::create_directory(m_dir + "/elsewhere");
    Result other =
        run_sshard({"run", "--resume", run_dir(), "--retry-failed", "--hostfile", "hosts.txt", "--local"}, m_dir);
    EXPECT_EQ(other.exit_code, 1) << other.out << other.err;
    EXPECT_EQ(last_session_hosts(run_dir()), std::set<std::string>{"filed"});

    std::ofstream(m_dir + "/fixed") << "";
    Result last = run_sshard({"run", "--resume", run_dir(), "--retry-failed"}, m_dir + "/elsewhere");
    EXPECT_EQ(last.exit_code, 0) << last.out << last.err;
    EXPECT_EQ(last_session_hosts(run_dir()), std::set<std::string>{"filed"}) << "the host file, from another directory";
}

TEST_F(ResumeCommand, TornLastLineIsIgnoredAndCutOffDamageElsewhereIsNamed) {
    std::string spec = write_spec("  - {name: j, command: 'echo {index}', shards: {count: 3}}\n");
    ASSERT_EQ(run_sshard({"run", spec, "--run-dir", run_dir()}).exit_code, 0);
    std::string whole = read_file(run_dir() + "/journal.jsonl");
    std::ofstream(run_dir() + "/journal.jsonl", std::ios::app) << R"({"event":"attempt_end","job":"j","ind)";
    Result report = run_sshard({"report", run_dir()});
    EXPECT_EQ(report.exit_code, 0) << report.err;
    EXPECT_NE(report.out.find("shards 3: 3 succeeded"), std::string::npos) << report.out;
    Result resumed = run_sshard({"run", "--resume", run_dir()});
    EXPECT_EQ(resumed.exit_code, 0) << resumed.err;
    std::string after = read_file(run_dir() + "/journal.jsonl");
    EXPECT_EQ(after.rfind(whole + "{\"event\":\"run_start\"", 0), 0u) << "the torn line is cut off before appending";
    EXPECT_EQ(count_events(journal_events(run_dir()), "attempt_end"), 3u);

    std::ofstream(run_dir() + "/journal.jsonl") << whole.substr(0, whole.find('\n') + 1) << "{\"event\":\n"
                                                << whole.substr(whole.find('\n') + 1);
    std::string expected = "sshard: error: journal '" + run_dir() + "/journal.jsonl' line 2 is not valid JSON: ";
    Result damaged = run_sshard({"report", run_dir()});
    EXPECT_EQ(damaged.exit_code, 3);
    EXPECT_EQ(damaged.err.rfind(expected, 0), 0u) << damaged.err;
    Result refused = run_sshard({"run", "--resume", run_dir()});
    EXPECT_EQ(refused.exit_code, 3);
    EXPECT_EQ(refused.err.rfind(expected, 0), 0u) << refused.err;
}

TEST_F(ResumeCommand, FullDiskStopsTheRunAndAResumeFinishesIt) {
    fs::create_directory(m_dir + "/disk");
    // 12 KiB: the spec takes a page, the journal gets two, enough for a score of attempts out of 300.
    if (::mount("tmpfs", (m_dir + "/disk").c_str(), "tmpfs", 0, "size=12k") != 0) {
        GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(errno);
    }
    std::string spec = write_spec("  - {name: j, command: 'echo $SSHARD_INDEX >> " + m_dir +
                                  "/ran.log; sleep 0.02', shards: {count: 300}}\n");
    std::string dir = m_dir + "/disk/run";
    Result full = run_sshard({"run", spec, "--run-dir", dir});
    EXPECT_EQ(full.exit_code, 3) << full.out << full.err;
    std::string reason = "sshard: error: cannot write journal '" + dir + "/journal.jsonl': No space left on device";
    EXPECT_NE(full.err.find(reason + ": stopping the run\n"), std::string::npos) << full.err;
    EXPECT_NE(full.err.find(reason + "; the journal keeps what was recorded before"), std::string::npos) << full.err;
    std::string ran_before = read_file(m_dir + "/ran.log");
    EXPECT_LT(std::count(ran_before.begin(), ran_before.end(), '\n'), 150) << "dispatch went on";
    Result report = run_sshard({"report", dir});
    EXPECT_EQ(report.exit_code, 0) << "what was committed stays readable: " << report.err;
    std::set<int> recorded;
    for (const auto& e : journal_events(dir)) {
        if (e["event"] == "attempt_end" && e["verdict"] == "succeeded") {
            recorded.insert(e["index"].get<int>());
        }
    }
    ASSERT_FALSE(recorded.empty());

    ASSERT_EQ(::mount("tmpfs", (m_dir + "/disk").c_str(), "tmpfs", MS_REMOUNT, "size=4m"), 0);
    std::ofstream(m_dir + "/ran.log", std::ios::app) << "resume\n";
    Result resumed = run_sshard({"run", "--resume", dir});
    EXPECT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
    std::string log = read_file(m_dir + "/ran.log");
    std::istringstream after(log.substr(log.find("resume\n") + 7));
    for (std::string line; std::getline(after, line);) {
        EXPECT_EQ(recorded.count(std::stoi(line)), 0u) << "shard " << line << " was recorded as done, and ran again";
    }
    std::map<int, int> succeeded;
    for (const auto& e : journal_events(dir)) {
        if (e["event"] == "attempt_end" && e["verdict"] == "succeeded") {
            ++succeeded[e["index"].get<int>()];
        }
    }
    EXPECT_EQ(succeeded.size(), 300u);
    for (const auto& [index, n] : succeeded) {
        EXPECT_EQ(n, 1) << "shard " << index;
    }
}

TEST_F(ResumeCommand, JournalThatCannotRecordTheStartDispatchesNothing) {
    fs::create_directory(m_dir + "/disk");
    // Two pages: the spec's copy and the lock file fill them, and the journal's run_start finds no room.
    if (::mount("tmpfs", (m_dir + "/disk").c_str(), "tmpfs", 0, "size=8k") != 0) {
        GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(errno);
    }
    std::string spec = write_spec("  - {name: j, command: 'touch " + m_dir + "/ran', shards: {count: 3}}\n");
    Result r = run_sshard({"run", spec, "--run-dir", m_dir + "/disk/run"});
    EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
    EXPECT_EQ(r.err,
              "sshard: error: cannot write journal '" + m_dir + "/disk/run/journal.jsonl': No space left on device\n");
    EXPECT_FALSE(fs::exists(m_dir + "/ran"));
}

TEST_F(ResumeCommand, RunKilledAsItsFirstShardStartsResumes) {
    std::string spec =
        write_spec("  - {name: j, command: 'touch " + m_dir + "/started; sleep 0.2', shards: {count: 3}}\n");
    Spawned run = spawn_sshard({"run", spec, "--run-dir", run_dir()});
    ASSERT_TRUE(eventually([&] { return fs::exists(m_dir + "/started"); }));
    ::kill(run.pid, SIGKILL);
    wait_sshard(run);
    auto events = journal_events(run_dir());
    ASSERT_FALSE(events.empty()) << "a shard ran before run_start was on disk";
    EXPECT_EQ(events.front()["event"], "run_start");
    Result resumed = run_sshard({"run", "--resume", run_dir()});
    EXPECT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;

    // Killed before its run_start was on disk, a run ran nothing: its resume runs it all.
    std::ofstream(run_dir() + "/journal.jsonl", std::ios::trunc).flush();
    Result again = run_sshard({"run", "--resume", run_dir()});
    EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
    EXPECT_EQ(last_session_ran(run_dir()), (std::set<std::string>{"j[0]", "j[1]", "j[2]"}));
}

TEST_F(ResumeCommand, AttemptsAreNumberedAcrossResumesUnderTheRunsOwnId) {
    std::string spec = write_spec("  - {name: j, command: 'echo try {attempt} $SSHARD_RUN; [ -e " + m_dir +
                                  "/go ] || sleep 30', shards: {count: 2}}\n");
    Spawned first = spawn_sshard({"run", spec, "--joblog", m_dir + "/joblog"}, m_dir);
    // Stopped once both shards have printed (a shard that has started may not have run its echo yet).
    ASSERT_TRUE(eventually([&] {
        std::string out = m_dir + "/.sshard/runs/latest/out/j/";
        return !read_file(out + "0.1.out").empty() && !read_file(out + "1.1.out").empty();
    }));
    ::kill(first.pid, SIGTERM);
    EXPECT_EQ(wait_sshard(first).exit_code, 130);
    std::ofstream(m_dir + "/go") << "";
    Result r = run_sshard({"run", "--resume", ".sshard/runs/latest", "--joblog", m_dir + "/joblog"}, m_dir);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    std::string id = fs::read_symlink(m_dir + "/.sshard/runs/latest").string();
    std::string out = m_dir + "/.sshard/runs/" + id + "/out/j/";
    EXPECT_EQ(read_file(out + "0.1.out"), "try 1 " + id + "\n") << "the first attempt's output stays";
    EXPECT_EQ(read_file(out + "0.2.out"), "try 2 " + id + "\n");
    std::set<int> ids;
    std::size_t starts = 0;
    for (const auto& e : journal_events(m_dir + "/.sshard/runs/" + id)) {
        if (e["event"] == "run_start") {
            EXPECT_EQ(e["run"], id);
            ++starts;
        } else if (e["event"] == "attempt_end") {
            EXPECT_TRUE(ids.insert(e["id"].get<int>()).second) << "attempt id " << e["id"] << " repeats";
        }
    }
    EXPECT_EQ(starts, 2u);
    EXPECT_EQ(ids.size(), 4u);
    std::string joblog = read_file(m_dir + "/joblog");
    std::set<std::string> seqs;
    std::istringstream lines(joblog);
    std::string line;
    std::getline(lines, line); // header
    while (std::getline(lines, line)) {
        EXPECT_TRUE(seqs.insert(line.substr(0, line.find('\t'))).second) << joblog;
    }
    EXPECT_EQ(seqs.size(), 4u);
}

TEST_F(ResumeCommand, ReportCountsShardsNotAttemptsAndAgreesWithTheJournal) {
    std::string spec =
        write_spec("  - {name: j, command: '[ {index} -ne 1 ] || [ -e " + m_dir + "/fixed ]', shards: {count: 3}}\n");
    EXPECT_EQ(run_sshard({"run", spec, "--run-dir", run_dir()}).exit_code, 1);
    std::ofstream(m_dir + "/fixed") << "";
    Result again = run_sshard({"run", "--resume", run_dir(), "--retry-failed"});
    EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
    EXPECT_NE(again.out.find("  shards 3: 3 succeeded, 0 failed, 0 skipped, 0 not run\n"), std::string::npos)
        << again.out;
    EXPECT_NE(again.out.find(", 4 attempts, "), std::string::npos) << again.out;
    EXPECT_NE(again.out.find("\u250a"), std::string::npos) << "the timeline marks the resume: " << again.out;
    nlohmann::json doc = nlohmann::json::parse(run_sshard({"report", run_dir(), "--format", "json"}).out);
    EXPECT_EQ(doc["jobs"][0]["shards"]["succeeded"], 3);
    EXPECT_EQ(doc["run"]["sessions"].size(), 2u);
    EXPECT_NE(run_sshard({"report", run_dir(), "--format", "html"}).out.find("<line class=\"resume\""),
              std::string::npos);
    double spans = 0;
    for (const auto& s : doc["run"]["sessions"]) {
        spans += s["end"].get<double>() - s["start"].get<double>();
    }
    EXPECT_DOUBLE_EQ(doc["run"]["makespan_s"].get<double>(), spans);
    nlohmann::json end = journal_events(run_dir()).back();
    ASSERT_EQ(end["event"], "run_end");
    EXPECT_EQ(end["jobs"][0]["succeeded"], doc["jobs"][0]["shards"]["succeeded"]);
    EXPECT_EQ(end["jobs"][0]["failed"], doc["jobs"][0]["shards"]["failed"]);
}

TEST_F(ResumeCommand, FailFastReportAgreesWithTheJournalsSummary) {
    // `a` fails for good while each shard of `b` waits a minute for its retry: those fail, none is lost.
    std::string spec = write_spec("  - {name: a, command: 'sleep 0.3; exit 1'}\n"
                                  "  - {name: b, command: 'exit 1', retries: 2, backoff: 1m, shards: {count: 3}}\n"
                                  "  - {name: c, command: 'true', needs: a}\n");
    Result r = run_sshard({"run", spec, "--run-dir", run_dir(), "--fail-fast"});
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.out.find("  shards 5: 0 succeeded, 4 failed, 1 skipped, 0 not run\n"), std::string::npos) << r.out;
    nlohmann::json doc = nlohmann::json::parse(run_sshard({"report", run_dir(), "--format", "json"}).out);
    nlohmann::json end = journal_events(run_dir()).back();
    ASSERT_EQ(end["event"], "run_end");
    ASSERT_EQ(end["jobs"].size(), doc["jobs"].size());
    for (std::size_t i = 0; i < doc["jobs"].size(); ++i) {
        for (const char* key : {"succeeded", "failed", "skipped"}) {
            EXPECT_EQ(end["jobs"][i][key], doc["jobs"][i]["shards"][key]) << doc["jobs"][i]["name"] << " " << key;
        }
    }
}

TEST_F(ResumeCommand, RunnerKilledAtRandomPointsFinishesEveryShardExactlyOnce) {
    const char* replay = std::getenv("SSHARD_KILL_SEED");
    const unsigned long seed = replay != nullptr ? std::stoul(replay) : std::random_device{}();
    std::printf("random kills: seed %lu (SSHARD_KILL_SEED=%lu replays the kill times)\n", seed, seed);
    std::mt19937_64 rng(seed);
    std::string spec = write_spec("  - {name: j, command: 'echo {index} {attempt} >> " + m_dir +
                                  "/ran.log; sleep 0.05', shards: {count: 40}}\n");
    // Killed before it made its journal, a run ran nothing and is started again; else it resumes.
    auto next_run = [&] {
        if (fs::exists(run_dir() + "/journal.jsonl")) {
            return std::vector<std::string>{"run", "--resume", run_dir()};
        }
        EXPECT_EQ(read_file(m_dir + "/ran.log"), "") << "a shard ran in a run that cannot be resumed";
        fs::remove_all(run_dir());
        return std::vector<std::string>{"run", spec, "--run-dir", run_dir()};
    };
    for (int round = 0; round < 8; ++round) {
        Spawned run = spawn_sshard(next_run());
        // Killed at a random time, unless it ended before.
        eventually([&] { return exited(run); },
                   std::chrono::milliseconds(std::uniform_int_distribution<int>(20, 400)(rng)));
        ::kill(run.pid, SIGKILL);
        wait_sshard(run);
    }
    Result last = run_sshard(next_run());
    ASSERT_EQ(last.exit_code, 0) << "seed " << seed << "\n" << last.out << last.err;
    std::map<int, int> finished_at; // the attempt that finished each shard
    for (const auto& e : journal_events(run_dir())) {
        if (e["event"] == "attempt_end" && e["verdict"] == "succeeded") {
            EXPECT_EQ(finished_at.count(e["index"].get<int>()), 0u) << "seed " << seed << ": " << e;
            finished_at[e["index"].get<int>()] = e["attempt"].get<int>();
        }
    }
    EXPECT_EQ(finished_at.size(), 40u) << "seed " << seed;
    std::istringstream log(read_file(m_dir + "/ran.log"));
    for (int index = 0, attempt = 0; log >> index >> attempt;) {
        EXPECT_LE(attempt, finished_at[index]) << "seed " << seed << ": shard " << index << " ran after it finished";
    }
}

} // namespace
} // namespace sshard::test
