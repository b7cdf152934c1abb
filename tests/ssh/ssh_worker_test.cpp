// End-to-end over SSH: what slot workers promise, tried against the loopback cluster. The hosts share this
// machine, so a test looks at their processes directly. ctest runs these a second time with the test switch
// SSHARD_TEST_NO_WORKER (a channel per shard), minus the tests of what only workers give.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include "tests/ssh/ssh_fixture.hpp"

namespace sshard::test {
namespace {

// Reads pids written by shards, one or more a line, once `lines` lines are there (up to 30 s).
std::vector<int> wait_for_pids(const std::string& path, std::size_t lines) {
    std::vector<int> pids;
    bool complete = eventually(
        [&] {
            std::ifstream in(path);
            pids.clear();
            std::size_t count = 0;
            for (std::string line; std::getline(in, line); ++count) {
                std::istringstream words(line);
                for (int pid; words >> pid;) {
                    pids.push_back(pid);
                }
            }
            return count >= lines;
        },
        30s);
    if (!complete) {
        ADD_FAILURE() << "fewer than " << lines << " lines in " << path;
        return {};
    }
    return pids;
}

// The field after the command name in /proc/PID/stat: 1 is the ppid, 3 the session.
long stat_field(const std::string& stat, int field) {
    auto paren = stat.rfind(')');
    if (paren == std::string::npos) {
        return -1;
    }
    std::istringstream rest(stat.substr(paren + 2));
    std::string word;
    for (int i = 0; i <= field && rest >> word; ++i) {
    }
    return std::atol(word.c_str());
}

// Live processes whose pid, or session, is one of `pids`.
std::vector<int> alive_in(const std::vector<int>& pids) {
    std::vector<int> alive;
    for (const auto& entry : fs::directory_iterator("/proc")) {
        std::string name = entry.path().filename();
        if (name.find_first_not_of("0123456789") != std::string::npos) {
            continue;
        }
        int pid = std::stoi(name);
        long session = stat_field(read_file("/proc/" + name + "/stat"), 3);
        bool ours = std::find(pids.begin(), pids.end(), pid) != pids.end() ||
                    std::find(pids.begin(), pids.end(), session) != pids.end();
        if (ours && process_alive(pid)) {
            alive.push_back(pid);
        }
    }
    return alive;
}

// An ssh_config naming slow1: node1 reached from the address for which the cluster's hosts are slow to start
// a shard (3 s in sshd before a slot worker's or a shard's own channel runs its command: tests/ssh/cluster.sh).
std::string slow_start_config(const std::string& dir) {
    std::string config = read_file(k_cluster + "/ssh_config");
    auto begin = config.find("Host node1\n");
    auto end = config.find("\n\n", begin);
    std::string block = config.substr(begin, end - begin);
    block.replace(0, std::string("Host node1").size(), "Host slow1\n  BindAddress 127.0.0.250");
    std::string path = dir + "/slow_ssh_config";
    std::ofstream(path) << block << "\n";
    return path;
}

// What runs on host I of the cluster: every process below its sshd listener, by pid, with its process group and
// whether it is one of sshd's own (a connection's privileged monitor and unprivileged child).
struct HostProcess {
    long pgid = 0;
    bool sshd = false;
};
std::map<int, HostProcess> host_processes(int host) {
    int listener = std::stoi(read_file(k_cluster + "/host" + std::to_string(host) + "/sshd.pid"));
    std::map<int, std::vector<int>> children;
    std::map<int, HostProcess> all;
    for (const auto& entry : fs::directory_iterator("/proc")) {
        std::string name = entry.path().filename();
        if (name.find_first_not_of("0123456789") != std::string::npos || !process_alive(std::stoi(name))) {
            continue;
        }
        std::string stat = read_file("/proc/" + name + "/stat");
        children[static_cast<int>(stat_field(stat, 1))].push_back(std::stoi(name));
        all[std::stoi(name)] = {stat_field(stat, 2), read_file("/proc/" + name + "/comm") == "sshd\n"};
    }
    std::map<int, HostProcess> below;
    std::vector<int> queue = children[listener];
    while (!queue.empty()) {
        int pid = queue.back();
        queue.pop_back();
        below[pid] = all[pid];
        queue.insert(queue.end(), children[pid].begin(), children[pid].end());
    }
    return below;
}

class SshWorker : public SshFixture {
protected:
    void expect_only_the_shards_and_a_fixed_cost_per_slot_or_host(int shards);
};

// Issue 11: a timeout counts from when the command starts on its host, not from the set-up of its channel. On
// slow1 each new slot worker (and, without workers, each shard's channel) takes 3 s to start its command,
// three times the jobs' timeout: the quick shards still succeed, at least one of them on a worker opened for
// it (three slots, one worker open at connect), and a command that itself runs past the timeout is killed.
TEST_F(SshWorker, TimeoutCountsFromTheCommandsStartOnItsHostNotFromItsChannelsSetUp) {
    std::string spec = write_spec(R"~(version: 1
hosts: [3/slow1]
jobs:
  - name: quick
    command: 'sleep 0.1; echo "slept $CLUSTER_SLOW_START"'
    timeout: 1s
    shards: {count: 2}
  - name: long
    command: sleep 5
    timeout: 1s
)~");
    Result r = run_sshard({"run", spec, "--ssh-config", slow_start_config(m_dir), "--run-dir", m_dir + "/run"});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    std::map<std::string, std::string> outcomes;
    for (const auto& a : attempts()) {
        outcomes[a["job"].get<std::string>() + "/" + std::to_string(a["index"].get<int>())] =
            a["outcome"].get<std::string>() + " " + a["verdict"].get<std::string>();
    }
    std::map<std::string, std::string> expected = {
        {"quick/0", "exited succeeded"}, {"quick/1", "exited succeeded"}, {"long/0", "timed_out failed"}};
    EXPECT_EQ(outcomes, expected) << r.err;
    for (const std::string index : {"0", "1"}) {
        // The host's set-up did take its 3 s before this shard's command.
        EXPECT_EQ(read_file(m_dir + "/run/out/quick/" + index + ".1.out"), "slept 3\n");
    }
}

TEST_F(SshWorker, OutputOfConsecutiveShardsOnOneSlotNeverMixes) {
    std::string spec = write_spec(R"~(version: 1
hosts: [1/node1]
jobs:
  - name: mix
    command: '(while :; do echo "bg {index}"; echo "bg {index}" >&2; done) & echo "shard {index}"; echo "err {index}" >&2'
    shards: {count: 12}
)~");
    Result r = run({"run", spec});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    for (int i = 0; i < 12; ++i) {
        std::string own = std::to_string(i);
        for (const auto& [suffix, first] : {std::pair{".out", "shard "}, std::pair{".err", "err "}}) {
            std::istringstream text(read_file(m_dir + "/run/out/mix/" + own + ".1" + suffix));
            bool found = false;
            for (std::string line; std::getline(text, line);) {
                found = found || line == first + own;
                EXPECT_TRUE(line == first + own || line == "bg " + own) << "shard " << i << ": '" << line << "'";
            }
            EXPECT_TRUE(found) << i << suffix;
        }
    }
}

TEST_F(SshWorker, EnvValuesNeverAppearOnTheHostsProcessList) {
    std::string secret = "hunter2-" + std::to_string(std::random_device{}());
    std::string spec = write_spec(R"~(version: 1
hosts: ["2/node[1-2]"]
jobs:
  - name: j
    command: 'sleep 1; printf %s "$SECRET" | wc -c'
    env: {SECRET: ")~" + secret + R"~("}
    shards: {count: 8}
)~");
    Spawned running = spawn_sshard(cluster_args({"run", spec}));
    int polls_seeing_shards = 0;
    while (process_alive(running.pid)) {
        FILE* ps = popen("ps -eo args", "r");
        std::string listing;
        char buffer[4096];
        while (std::size_t n = fread(buffer, 1, sizeof buffer, ps)) {
            listing.append(buffer, n);
        }
        pclose(ps);
        EXPECT_EQ(listing.find(secret), std::string::npos) << listing;
        polls_seeing_shards += listing.find("sleep 1") != std::string::npos ? 1 : 0;
        std::this_thread::sleep_for(50ms);
    }
    Result r = wait_sshard(running);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_GT(polls_seeing_shards, 0) << "ps ran while shards ran";
    EXPECT_EQ(std::stoul(read_file(m_dir + "/run/out/j/0.1.out")), secret.size()) << "the shard got the value";
}

TEST_F(SshWorker, SigkilledRunnerLeavesNoShardOrWorkerOnAnyHost) {
    std::string spec = write_spec(R"~(version: 1
hosts: ["2/node[1-4]"]
jobs:
  - name: j
    command: 'trap "" TERM; sleep 60 & echo "$$ $! $PPID" >> )~" +
                                  m_dir + R"~(/pids; sleep 60'
    shards: {count: 8}
)~");
    Spawned running = spawn_sshard(cluster_args({"run", spec}));
    std::vector<int> pids = wait_for_pids(m_dir + "/pids", 8);
    std::vector<int> workers;
    for (std::size_t i = 2; i < pids.size(); i += 3) {
        // A shard's parent is its worker's runner, whose parent is the worker's own shell.
        workers.push_back(static_cast<int>(stat_field(read_file("/proc/" + std::to_string(pids[i]) + "/stat"), 1)));
    }
    pids.insert(pids.end(), workers.begin(), workers.end());
    ASSERT_FALSE(alive_in(pids).empty());
    kill(running.pid, SIGKILL);
    wait_sshard(running);
    // The shards ignore TERM, so they end by the KILL after the grace (5 s): everything must be gone within
    // grace + 2 s.
    EXPECT_TRUE(eventually([&] { return alive_in(pids).empty(); }, 7s)) << alive_in(pids).size() << " processes left";
}

// Issue 11: killing a host's shards when sshard goes costs no extra process per shard. While `shards` shards
// run at once on node2 (one slot each), the host holds each shard's own process group (the shell that runs
// its command, and `sleep`), the connection's two sshd processes, and else: on slot workers, the slot's
// worker (two shells, one per slot: sshard(1), SSH); on channels of their own, the host's one supervisor.
// Polled until all shards run, as a sample's `cat` comes and goes.
void SshWorker::expect_only_the_shards_and_a_fixed_cost_per_slot_or_host(int shards) {
    std::string pids_file = m_dir + "/pids" + std::to_string(shards);
    std::string spec = write_file("count" + std::to_string(shards) + ".yaml",
                                  "version: 1\nhosts: [" + std::to_string(shards) + "/node2]\njobs:\n  - name: j\n" +
                                      "    command: 'echo $$ >> " + pids_file + "; sleep 30'\n" +
                                      "    shards: {count: " + std::to_string(shards) + "}\n");
    bool workers = std::getenv("SSHARD_TEST_NO_WORKER") == nullptr;
    int others_expected = workers ? 2 * shards : 1;
    Spawned running = spawn_sshard(
        {"run", spec, "--ssh-config", k_cluster + "/ssh_config", "--run-dir", m_dir + "/run" + std::to_string(shards)});
    std::vector<int> shells = wait_for_pids(pids_file, static_cast<std::size_t>(shards));
    std::string last;
    bool as_designed = eventually(
        [&] {
            std::map<long, int> group_sizes;
            int sshd = 0;
            int others = 0;
            for (const auto& [pid, process] : host_processes(2)) {
                bool in_shard = std::find(shells.begin(), shells.end(), process.pgid) != shells.end();
                (in_shard ? group_sizes[process.pgid] : process.sshd ? sshd : others) += 1;
            }
            last = "sshd " + std::to_string(sshd) + ", others " + std::to_string(others) + ", shard groups";
            bool groups_ok = static_cast<int>(group_sizes.size()) == shards;
            for (const auto& [pgid, size] : group_sizes) {
                last += " " + std::to_string(size);
                groups_ok = groups_ok && size == 2;
            }
            return groups_ok && sshd == 2 && others == others_expected;
        },
        5s);
    EXPECT_TRUE(as_designed) << shards << " shards (" << (workers ? "slot workers" : "channels of their own")
                             << "): expected sshd 2, others " << others_expected << ", shard groups of 2; last seen "
                             << last;
    kill(running.pid, SIGINT);
    wait_sshard(running);
}

TEST_F(SshWorker, ShardsRunningAtOnceCostTheHostNoProcessBeyondTheirOwnButPerSlotOrHost) {
    expect_only_the_shards_and_a_fixed_cost_per_slot_or_host(2);
    expect_only_the_shards_and_a_fixed_cost_per_slot_or_host(8);
}

TEST_F(SshWorker, WhatAShardLeavesEndsWithItUnlessTheJobDetaches) {
    std::string spec = write_spec(R"~(version: 1
hosts: [node3]
jobs:
  - name: attached
    command: 'sleep 30 >/dev/null 2>&1 & echo $! > )~" +
                                  m_dir + R"~(/attached; echo started'
  - name: detached
    command: 'sleep 30 >/dev/null 2>&1 & echo $! > )~" +
                                  m_dir + R"~(/detached; echo started'
    detach: true
  - name: holding
    command: 'sleep 60 & echo $! > )~" +
                                  m_dir + R"~(/holding; echo started'
)~");
    Result r = run({"run", spec});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(read_file(m_dir + "/run/out/attached/0.1.out"), "started\n");
    EXPECT_EQ(read_file(m_dir + "/run/out/holding/0.1.out"), "started\n");
    int attached = std::stoi(read_file(m_dir + "/attached"));
    int detached = std::stoi(read_file(m_dir + "/detached"));
    int holding = std::stoi(read_file(m_dir + "/holding"));
    EXPECT_TRUE(eventually([&] { return !process_alive(attached); }, 5s)) << "a background process ends with its shard";
    EXPECT_TRUE(eventually([&] { return !process_alive(holding); }, 5s)) << "a background process ends with its shard";
    // The shard's own command ends at once; a shard that waited for what keeps its output open would take 60 s.
    for (const auto& a : attempts()) {
        if (a["job"] == "holding") {
            EXPECT_LT(a["end"].get<double>() - a["start"].get<double>(), 30.0) << "the shard waited for its leftover";
        }
    }
    EXPECT_TRUE(process_alive(detached)) << "detach: true leaves it running";
    kill(detached, SIGKILL);
}

TEST_F(SshWorker, FallbackIsSaidOnceInTheOutputAndInHostsCheck) {
    const char* before = std::getenv("SSHARD_TEST_NO_WORKER");
    std::string saved = before != nullptr ? before : "";
    setenv("SSHARD_TEST_NO_WORKER", "1", 1);
    // Four shards that wait for each other on two 2-slot hosts: both hosts must connect, or the run fails.
    std::string spec = write_spec("version: 1\nhosts: [\"2/node[1-2]\"]\n"
                                  "jobs:\n  - name: j\n    shards: {count: 4}\n    timeout: 60\n"
                                  "    command: touch " +
                                  m_dir + "/m{index}; until [ $(ls " + m_dir +
                                  " | grep -c '^m') -ge 4 ]; do sleep 0.05; done; echo {index}\n");
    Result r = run({"run", spec});
    Result check = run_sshard({"hosts", spec, "--check", "--ssh-config", k_cluster + "/ssh_config"});
    before != nullptr ? setenv("SSHARD_TEST_NO_WORKER", saved.c_str(), 1) : unsetenv("SSHARD_TEST_NO_WORKER");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    for (const std::string host : {"node1", "node2"}) {
        std::string said = "sshard: host " + host + " runs a channel per shard: SSHARD_TEST_NO_WORKER is set\n";
        auto at = r.err.find(said);
        EXPECT_NE(at, std::string::npos) << r.err;
        EXPECT_EQ(r.err.find(said, at + 1), std::string::npos) << r.err;
    }
    EXPECT_EQ(read_file(m_dir + "/run/out/j/3.1.out"), "3\n");
    EXPECT_NE(check.out.find("(a channel per shard: SSHARD_TEST_NO_WORKER is set)"), std::string::npos) << check.out;
}

} // namespace
} // namespace sshard::test
