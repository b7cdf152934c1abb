// End-to-end: the spec keys that a day's work reaches for (`shards: each_host`, `pass_env` and --env, `shell`,
// YAML merge keys) and `sshard hosts` without a spec, with the real binary on this machine.
#include <cstdlib>
#include <filesystem>
#include <gtest/gtest.h>

#include "tests/cli/binary.hpp"

namespace sshard::test {
namespace {

namespace fs = std::filesystem;

// A loopback address where nothing listens: refused at once, and no traffic leaves the machine.
constexpr const char* k_down_host = "127.0.0.99:1";

class SpecKeys : public E2eTest {
protected:
    std::string write_spec(const std::string& text) const { return write_file("jobs.yaml", text); }

    // The host of every attempt of shard `index` of `job`, in the order they started.
    static std::vector<std::string> attempt_hosts(const std::vector<nlohmann::json>& events, const std::string& job,
                                                  int index) {
        std::vector<std::string> hosts;
        for (const auto& e : events) {
            if (e["event"] == "attempt_start" && e["job"] == job && e["index"] == index) {
                hosts.push_back(e["host"]);
            }
        }
        return hosts;
    }
};

// One shard per eligible host, pinned: its retry stays on its host, {host} is known to the plan, a job that
// needs it waits for all of them, and a host that is down fails its own shard alone, with the reason. A
// resume runs only that shard again.
TEST_F(SpecKeys, EachHostPinsAShardToEveryHostAndWaitsForALostOne) {
    std::string spec = write_spec(std::string(R"~(version: 1
hosts:
  - {name: a, transport: local, labels: [gpu]}
  - {name: b, transport: local, slots: 4}
  - ")~") + k_down_host + R"~("
jobs:
  - name: setup
    shards: each_host
    workdir: )~" + m_dir + R"~(
    retries: 1
    backoff: 10ms
    command: '[ -e {host}.tried ] || { touch {host}.tried; exit 1; }; echo {host} > {host}.setup'
  - name: gpu
    shards: each_host
    hosts: {labels: [gpu]}
    command: 'echo on {host} $SSHARD_HOST'
  - name: work
    needs: setup
    command: 'echo work'
)~");
    Result plan = run_sshard({"plan", spec});
    EXPECT_EQ(plan.exit_code, 0) << plan.err;
    EXPECT_NE(plan.out.find("[1] [ -e b.tried ] || { touch b.tried; exit 1; }; echo b > b.setup\n"), std::string::npos)
        << plan.out;
    EXPECT_NE(plan.out.find("[0] echo on a $SSHARD_HOST\n"), std::string::npos) << plan.out;
    EXPECT_EQ(plan.out.find("[1] echo on"), std::string::npos) << "one shard per eligible host: " << plan.out;

    Result r = run_sshard({"run", spec, "--down-limit", "1s", "--run-dir", m_dir + "/run"});
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    auto events = journal_events(m_dir + "/run");
    EXPECT_EQ(attempt_hosts(events, "setup", 0), (std::vector<std::string>{"a", "a"}));
    EXPECT_EQ(attempt_hosts(events, "setup", 1), (std::vector<std::string>{"b", "b"}));
    EXPECT_TRUE(attempt_hosts(events, "setup", 2).empty()) << "a pinned shard never moves";
    EXPECT_EQ(read_file(m_dir + "/b.setup"), "b\n");
    EXPECT_EQ(read_file(m_dir + "/run/out/gpu/0.1.out"), "on a a\n");
    EXPECT_NE(r.out.find("setup: 1 shard failed: its host 127.0.0.99 was not up for 1s (last error: "),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("work: 1 shard skipped: needs 'setup'"), std::string::npos) << r.out;

    // The host comes back (here: every host runs on this machine): only its shard runs, then the job after.
    Result resumed = run_sshard({"run", "--resume", m_dir + "/run", "--local"});
    EXPECT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
    events = journal_events(m_dir + "/run");
    EXPECT_EQ(attempt_hosts(events, "setup", 0).size(), 2u) << "not run again";
    EXPECT_EQ(attempt_hosts(events, "setup", 2), (std::vector<std::string>{"127.0.0.99", "127.0.0.99"}));
    EXPECT_EQ(read_file(m_dir + "/127.0.0.99.setup"), "127.0.0.99\n");
    EXPECT_EQ(attempt_hosts(events, "work", 0).size(), 1u);
}

TEST_F(SpecKeys, EachHostErrors) {
    std::string spec = write_spec(R"~(version: 1
hosts: [{name: a, transport: local}]
jobs:
  - {name: one, shards: every_host, command: 'true'}
  - {name: two, shards: each_host, hosts: [nothing], command: 'true'}
)~");
    Result r = run_sshard({"plan", spec});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find(":4:25: error: 'shards' must be a mapping (count, range, items, lines or matrix) or "
                         "'each_host', not 'every_host'\n"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find(":5:43: error: job 'two' matches no host\n"), std::string::npos) << r.err;
}

// A value that no quoting of a shell round trip would keep by accident.
const std::string k_hostile = "it's \"q\" $(touch pwned) `touch pwned` ${HOME} \\ \n'\n\t end";

// pass_env and --env give the shards this process's values byte for byte, hidden as env values are: not in the
// plan (without --show-env), the journal or any message.
TEST_F(SpecKeys, PassEnvGivesLocalValuesExactlyAndKeepsThemSecret) {
    ::setenv("SPEC_KEYS_A", k_hostile.c_str(), 1);
    ::setenv("SPEC_KEYS_B", "b from the job", 1);
    ::setenv("SPEC_KEYS_C", "c from --env", 1);
    std::string spec = write_spec(R"~(version: 1
defaults: {pass_env: [SPEC_KEYS_A], env: {SPEC_KEYS_B: default}}
jobs:
  - name: show
    workdir: )~" + m_dir + R"~(
    pass_env: [SPEC_KEYS_B]
    env: {SPEC_KEYS_C: spec}
    command: 'printf %s "$SPEC_KEYS_A" > a.out; printf %s "$SPEC_KEYS_B|$SPEC_KEYS_C" > bc.out'
)~");
    Result plan = run_sshard({"plan", spec, "--env", "SPEC_KEYS_C"});
    EXPECT_EQ(plan.exit_code, 0) << plan.err;
    EXPECT_NE(plan.out.find("env:      SPEC_KEYS_B SPEC_KEYS_A SPEC_KEYS_C (values hidden; --show-env)"),
              std::string::npos)
        << plan.out;
    EXPECT_EQ(plan.out.find("pwned"), std::string::npos) << plan.out;

    Result r = run_sshard({"run", spec, "--env", "SPEC_KEYS_C", "--run-dir", m_dir + "/run"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(read_file(m_dir + "/a.out"), k_hostile);
    EXPECT_EQ(read_file(m_dir + "/bc.out"), "b from the job|c from --env");
    EXPECT_FALSE(fs::exists(m_dir + "/pwned"));
    EXPECT_EQ(read_file(m_dir + "/run/journal.jsonl").find("pwned"), std::string::npos);
    EXPECT_EQ((r.out + r.err).find("pwned"), std::string::npos);
    ::unsetenv("SPEC_KEYS_A");
    ::unsetenv("SPEC_KEYS_B");
    ::unsetenv("SPEC_KEYS_C");
}

TEST_F(SpecKeys, PassEnvOfANameNotSetIsAnErrorThatSaysWhere) {
    ::unsetenv("SPEC_KEYS_UNSET");
    std::string spec = write_spec(R"~(version: 1
jobs:
  - {name: j, command: 'true', pass_env: [HOME, SPEC_KEYS_UNSET, SSHARD_JOB], env: {HOME: x}}
)~");
    Result r = run_sshard({"run", spec, "--run-dir", m_dir + "/run"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find(":3:43: error: 'HOME' is in both 'env' and 'pass_env'\n"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(":3:49: error: 'SPEC_KEYS_UNSET' is not set in sshard's environment, so it cannot be "
                         "passed on\n"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find(":3:66: error: 'SSHARD_JOB' is set by sshard itself"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(m_dir + "/run"));
    std::string good = write_file("good.yaml", "version: 1\njobs: [{name: j, command: 'true'}]\n");
    Result flag = run_sshard({"plan", good, "--env", "SPEC_KEYS_UNSET"});
    EXPECT_EQ(flag.exit_code, 2);
    EXPECT_EQ(flag.err, "sshard: error: bad --env 'SPEC_KEYS_UNSET': 'SPEC_KEYS_UNSET' is not set in sshard's "
                        "environment, so it cannot be passed on\n");
}

// The command goes to the job's shell whole; bash's own syntax fails under the default /bin/sh (dash here),
// and a shell the host lacks fails the attempt saying so.
TEST_F(SpecKeys, ShellRunsTheCommandInTheNamedShell) {
    std::string spec = write_spec(R"~(version: 1
defaults: {shell: bash}
jobs:
  - {name: bash, command: 'a=(x "y z"); echo "${a[1]}" {item}', shards: {items: ["it's $(x)"]
}
}
  - {name: default, shell: /bin/sh, command: 'a=(x "y z"); echo "${a[1]}"'}
  - {name: missing, shell: /nonexistent/sh, command: 'true'}
  - {name: missing_name, shell: no-such-shell-here, command: 'true'}
)~");
    Result r = run_sshard({"run", spec, "--run-dir", m_dir + "/run"});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(read_file(m_dir + "/run/out/bash/0.1.out"), "y z it's $(x)\n");
    EXPECT_NE(read_file(m_dir + "/run/out/default/0.1.err"), "") << "dash has no arrays";
    EXPECT_EQ(read_file(m_dir + "/run/out/missing/0.1.err"),
              "sshard: cannot run the shell '/nonexistent/sh': No such file or directory\n");
    EXPECT_EQ(read_file(m_dir + "/run/out/missing_name/0.1.err"),
              "sshard: cannot run the shell 'no-such-shell-here': No such file or directory\n");

    std::string bad = write_file("bad.yaml", "version: 1\njobs: [{name: j, command: 'true', shell: bin/bash}]\n");
    Result plan = run_sshard({"plan", bad});
    EXPECT_NE(plan.err.find(":2:42: error: bad shell 'bin/bash' (a name found in the host's PATH, such as bash, or "
                            "an absolute path)\n"),
              std::string::npos)
        << plan.err;
}

// Anchors, aliases and merge keys: explicit keys win over merged ones, an earlier mapping of a list over a later
// one, and an error in merged text is reported where that text is.
TEST_F(SpecKeys, MergeKeysFollowYaml11) {
    std::string spec = write_spec(R"~(version: 1
x-base: &base {command: 'echo base {item}', retries: 2, shards: {items: [a]}}
x-env: &env {env: {WHO: env}, retries: 1}
jobs:
  - {<<: *base, name: one}
  - <<: [*env, *base]
    name: two
    command: 'echo two $WHO'
)~");
    Result plan = run_sshard({"plan", spec, "--format", "json", "--show-env"});
    ASSERT_EQ(plan.exit_code, 0) << plan.err;
    auto jobs = nlohmann::json::parse(plan.out)["jobs"];
    EXPECT_EQ(jobs[0]["name"], "one");
    EXPECT_EQ(jobs[0]["retries"], 2);
    EXPECT_EQ(jobs[0]["shards"][0]["command"], "echo base a");
    EXPECT_EQ(jobs[1]["retries"], 1) << "the earlier mapping of the list wins";
    EXPECT_EQ(jobs[1]["env"]["WHO"], "env");
    EXPECT_EQ(jobs[1]["shards"][0]["command"], "echo two $WHO") << "the job's own key wins";

    std::string bad = write_file("bad.yaml", R"~(version: 1
x-base: &base {command: 'true', retries: many}
x-list: &list [1, 2]
jobs:
  - {<<: *base, name: one}
  - {<<: [*base, *list], name: two}
  - {<<: 3, name: three, command: 'true'}
)~");
    Result r = run_sshard({"plan", bad});
    EXPECT_EQ(r.exit_code, 2);
    auto at = r.err.find("bad.yaml:2:42: error: 'retries' must be a whole number, not 'many'\n");
    EXPECT_NE(at, std::string::npos) << "reported where the merged text is: " << r.err;
    EXPECT_EQ(r.err.find("bad.yaml:2:42:", at + 1), std::string::npos) << "once, though merged twice: " << r.err;
    EXPECT_NE(r.err.find("bad.yaml:3:9: error: '<<' merges a mapping or a list of mappings (such as *base or "
                         "[*a, *b]), not a list\n"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("bad.yaml:7:10: error: '<<' merges a mapping or a list of mappings (such as *base or "
                         "[*a, *b]), not '3'\n"),
              std::string::npos)
        << r.err;
}

// Aliases cost a few bytes each and may stand for whole trees: a spec whose aliases would expand to billions of
// values is refused at once, in bounded time and memory.
TEST_F(SpecKeys, AliasBombsAreRefused) {
    std::string text = "version: 1\nx-0: &a0 [a, a, a, a, a, a, a, a, a, a]\n";
    for (int i = 1; i < 10; ++i) {
        text += "x-" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
        for (int j = 0; j < 10; ++j) {
            text += (j == 0 ? "*a" : ", *a") + std::to_string(i - 1);
        }
        text += "]\n";
    }
    text += "x-m0: &m0 {k0: 0, k1: 1}\n";
    for (int i = 1; i < 30; ++i) {
        text += "x-m" + std::to_string(i) + ": &m" + std::to_string(i) + " {<<: [*m" + std::to_string(i - 1) + "], k" +
                std::to_string(i + 1) + ": 1}\n";
    }
    text += "jobs: [{name: j, command: 'true', shards: {items: *a9}}]\n";
    Result r = run_sshard({"plan", write_spec(text)});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find(":9:6: error: aliases expand this to more than 16777216 values\n"), std::string::npos)
        << r.err;
    EXPECT_LT(r.max_rss_kib, 200 * 1024) << "nothing was expanded";

    // yaml-cpp lets an alias stand inside the node it names: an endless tree, refused.
    Result cycle = run_sshard({"plan", write_file("cycle.yaml", "version: 1\nx-a: &a {b: {<<: *a}}\n"
                                                                "jobs: [{name: j, command: 'true'}]\n")});
    EXPECT_EQ(cycle.exit_code, 2);
    EXPECT_NE(cycle.err.find("cycle.yaml:2:6: error: an alias stands inside the node it names\n"), std::string::npos)
        << cycle.err;
}

TEST_F(SpecKeys, HostsWithoutASpec) {
    std::string file = write_file("hosts.txt", "# two\nnode[1-2] slots=3 labels=gpu\n");
    Result r = run_sshard({"hosts", "--hostfile", file});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.rfind("node1 ", 0), 0u) << r.out;
    EXPECT_NE(r.out.find("slots 3"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("+gpu"), std::string::npos) << r.out;
    Result list = run_sshard({"hosts", "--hosts", "4/u@n[1-3]:2222"});
    EXPECT_EQ(list.exit_code, 0) << list.err;
    EXPECT_NE(list.out.find("n3 "), std::string::npos) << list.out;
    EXPECT_NE(list.out.find("user u port 2222"), std::string::npos) << list.out;
    Result none = run_sshard({"hosts"});
    EXPECT_EQ(none.exit_code, 2);
    EXPECT_EQ(none.err, "sshard: error: hosts needs a SPEC or the hosts: --hosts LIST or --hostfile FILE\n");
}

} // namespace
} // namespace sshard::test
