// End-to-end: what shards printed, shown by `run --group` as they end and by `sshard output` afterwards (or
// while the run goes on), with the real binary on this machine.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>

#include "tests/cli/binary.hpp"

namespace sshard::test {
namespace {

namespace fs = std::filesystem;

std::string block(const std::string& title, const std::string& text) {
    return "----------------\n" + title + "\n----------------\n" + text;
}

class OutputCommand : public testing::Test {
protected:
    void SetUp() override { m_dir = make_temp_dir(); }
    void TearDown() override { fs::remove_all(m_dir); }

    std::string write_spec(const std::string& text) {
        std::string path = m_dir + "/jobs.yaml";
        std::ofstream(path) << text;
        return path;
    }
    // A finished run: `greet` prints the same for 0, 1 and 3; `check` fails on 1 after one retry.
    std::string finished_run() {
        std::string spec = write_spec(R"(version: 1
hosts: [{name: here, transport: local, slots: 4}]
jobs:
  - name: greet
    command: 'if [ {item} = b ]; then echo bee; else echo same; echo warn >&2; fi'
    shards: {items: [a, b, c, d]}
  - name: check
    retries: 1
    backoff: {initial: 10ms}
    command: 'echo "check {index} try {attempt}"; [ {index} != 1 ]'
    shards: {count: 2}
)");
        Result r = run_sshard({"run", spec, "--run-dir", m_dir + "/run"});
        EXPECT_EQ(r.exit_code, 1) << r.err;
        return m_dir + "/run";
    }

    std::string m_dir;
};

// Shards that write a line at a time in parallel still come out whole, each under its header.
TEST_F(OutputCommand, GroupPrintsEachShardWholeWhenItEnds) {
    std::string spec = write_spec(R"(version: 1
hosts: [{name: here, transport: local, slots: 3}]
jobs:
  - name: talk
    retries: 1
    backoff: {initial: 10ms}
    command: 'for n in 1 2 3; do echo {item}-$n; sleep 0.05; done; echo {item}-err >&2; [ {attempt} = 2 ] || [ {item} != y ]'
    shards: {items: [x, y, z]}
)");
    Result r = run_sshard({"run", "--group", spec, "--run-dir", m_dir + "/run"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    for (std::string item : {"x", "y", "z"}) {
        std::string title = "talk[" + std::to_string(item[0] - 'x') + "]@here";
        EXPECT_NE(r.out.find(block(title, item + "-1\n" + item + "-2\n" + item + "-3\n")), std::string::npos) << r.out;
        EXPECT_NE(r.err.find(block(title + " (stderr)", item + "-err\n")), std::string::npos) << r.err;
    }
    EXPECT_EQ(r.out.find("talk[1]@here"), r.out.rfind("talk[1]@here")) << "the retried attempt is not shown";
    EXPECT_EQ(run_sshard({"run", "--group", "--stream", spec}).exit_code, 2);
}

// A reader that does not keep up holds up the printing of blocks, not the run: with one slot, the shards after a
// big one start while its block waits in a full pipe. The reader reads only once the journal shows them ended.
TEST_F(OutputCommand, GroupPrintingDoesNotHoldUpTheRun) {
    std::string spec = write_spec(R"(version: 1
hosts: [{name: here, transport: local, slots: 1}]
jobs:
  - {name: big, priority: 1, command: "head -c 1000000 /dev/zero | tr '\\0' a; echo"}
  - {name: small, command: 'echo small {index}', shards: {count: 3}}
)");
    std::string run = m_dir + "/run";
    std::string reader = "i=0; until grep -q '\"index\":2,\"job\":\"small\"' " + run +
                         "/journal.jsonl 2>/dev/null || [ $i -ge 150 ]; do sleep 0.1; i=$((i+1)); done; "
                         "[ $i -lt 150 ] && echo ran >" +
                         m_dir + "/verdict; cat >" + m_dir + "/out";
    std::string command = sshard_binary() + " run --group " + spec + " --run-dir " + run + " | { " + reader + "; }";
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
    EXPECT_EQ(read_file(m_dir + "/verdict"), "ran\n") << "the small shards waited for the big one's block";
    std::string out = read_file(m_dir + "/out");
    EXPECT_NE(out.find(block("big[0]@here", std::string(1000000, 'a') + "\n")), std::string::npos);
    for (int i = 0; i < 3; ++i) {
        std::string title = "small[" + std::to_string(i) + "]@here";
        EXPECT_NE(out.find(block(title, "small " + std::to_string(i) + "\n")), std::string::npos) << title;
    }
}

TEST_F(OutputCommand, PrintsTheLastAttemptOfSelectedShards) {
    std::string run = finished_run();
    Result all = run_sshard({"output", run});
    EXPECT_EQ(all.exit_code, 0) << all.err;
    EXPECT_EQ(all.out, block("greet[0]@here", "same\n") + block("greet[0]@here (stderr)", "warn\n") +
                           block("greet[1]@here", "bee\n") + block("greet[2]@here", "same\n") +
                           block("greet[2]@here (stderr)", "warn\n") + block("greet[3]@here", "same\n") +
                           block("greet[3]@here (stderr)", "warn\n") + block("check[0]@here", "check 0 try 1\n") +
                           block("check[1]@here", "check 1 try 2\n"));
    EXPECT_EQ(run_sshard({"output", run, "greet[1]", "check"}).out, block("greet[1]@here", "bee\n") +
                                                                        block("check[0]@here", "check 0 try 1\n") +
                                                                        block("check[1]@here", "check 1 try 2\n"));
    EXPECT_EQ(run_sshard({"output", run, "greet[0-1,3]"}).out.find("greet[2]"), std::string::npos);
    EXPECT_EQ(run_sshard({"output", run, "--failed"}).out, block("check[1]@here", "check 1 try 2\n"));
}

TEST_F(OutputCommand, FoldGathersIdenticalOutput) {
    std::string run = finished_run();
    Result r = run_sshard({"output", "--fold", run, "greet"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out,
              block("greet[0,2-3]", "same\n") + block("greet[0,2-3] (stderr)", "warn\n") + block("greet[1]", "bee\n"));
}

TEST_F(OutputCommand, DefaultRunDirAndBadSelectors) {
    std::string spec = write_spec("version: 1\njobs: [{name: j, command: 'echo {index}', shards: {count: 2}}]\n");
    ASSERT_EQ(run_sshard({"run", spec}, m_dir).exit_code, 0);
    EXPECT_EQ(run_sshard({"output", "j[1]"}, m_dir).out, block("j[1]@localhost", "1\n"));
    Result unknown = run_sshard({"output", "k"}, m_dir);
    EXPECT_EQ(unknown.exit_code, 2);
    EXPECT_NE(unknown.err.find("sshard: error: no job 'k' in run 'jobs-"), std::string::npos) << unknown.err;
    EXPECT_NE(unknown.err.find("' (its jobs: j)\n"), std::string::npos) << unknown.err;
    for (const char* bad : {"j[", "j[2-1]", "j[a]", "j[1,]", "j[1]x"}) {
        Result r = run_sshard({"output", bad}, m_dir);
        EXPECT_EQ(r.exit_code, 2) << bad;
        EXPECT_EQ(r.err, std::string("sshard: error: bad selector '") + bad +
                             "' (a job's name, or its shards as in job[3], job[0-9] or job[0-3,7])\n");
    }
    EXPECT_EQ(run_sshard({"output", m_dir + "/nowhere"}).exit_code, 2);
}

// A running run holds its lock; reading its output needs none, and shows the shards that ended.
TEST_F(OutputCommand, ReadsARunningRun) {
    std::string spec = write_spec(R"(version: 1
hosts: [{name: here, transport: local, slots: 2}]
jobs:
  - name: w
    command: 'echo started {index}; if [ {index} = 1 ]; then while [ ! -e )" +
                                  m_dir + R"(/go ]; do sleep 0.02; done; fi'
    shards: {count: 2}
)");
    Spawned running = spawn_sshard({"run", spec, "--run-dir", m_dir + "/run"});
    EXPECT_TRUE(
        eventually([&] { return read_file(m_dir + "/run/journal.jsonl").find("attempt_end") != std::string::npos; }));
    Result r = run_sshard({"output", m_dir + "/run"});
    std::ofstream(m_dir + "/go") << "";
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, block("w[0]@here", "started 0\n"));
    EXPECT_EQ(wait_sshard(running).exit_code, 0);
    EXPECT_EQ(run_sshard({"output", m_dir + "/run", "w[1]"}).out, block("w[1]@here", "started 1\n"));
}

} // namespace
} // namespace sshard::test
