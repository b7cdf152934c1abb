// End-to-end over SSH: the real binary against the loopback cluster of real sshd hosts that
// tests/ssh/cluster.sh runs (node1..node4, mapped by its ssh_config). The hosts share this machine, so a test
// can look at their processes and files directly.
#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>

#include "tests/cli/binary.hpp"
#include "tests/ssh/ssh_fixture.hpp"

namespace sshard::test {
namespace {

// Whether the run's journal shows an attempt started on `host`.
bool attempt_started_on(const std::string& journal, const std::string& host) {
    std::ifstream in(journal);
    for (std::string line; std::getline(in, line);) {
        if (line.find("\"attempt_start\"") != std::string::npos &&
            line.find("\"host\":\"" + host + "\"") != std::string::npos) {
            return true;
        }
    }
    return false;
}

// How many lines the file at `path` has.
long line_count(const std::string& path) {
    std::ifstream in(path);
    return std::count(std::istreambuf_iterator<char>(in), {}, '\n');
}

class SshRun : public SshFixture {};

TEST_F(SshRun, MultiJobSpecRunsAcrossFourHosts) {
    // The eight hello shards wait for each other on eight slots: every host must connect and run two, or the
    // run fails (quick shards let the hosts that connect first run them all).
    std::string met = m_dir + "/met";
    fs::create_directory(met);
    fs::permissions(met, fs::perms::all);
    std::string spec = write_spec(
        R"~(version: 1
hosts: ["2/node[1-4]"]
jobs:
  - name: hello
    command: 'touch )~" +
        met + R"~(/{index}; until [ $(ls )~" + met +
        R"~( | wc -l) -ge 8 ]; do sleep 0.05; done; echo {item} "from $SSHARD_HOST as $(id -un) in $(pwd)"; echo warn {index} >&2'
    shards: {items: [a, "b c", "$(x)", d, e, f, g, h]}
    timeout: 60s
    env: {GREETING: "it's"}
    workdir: /tmp
  - name: burn
    command: 'i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; echo "$GREETING"'
    shards: {count: 4}
    env: {GREETING: "it's"}
    needs: hello
)~");
    Result r = run({"run", spec});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(read_file(m_dir + "/run/out/hello/1.1.out").substr(0, 4), "b c ");
    EXPECT_EQ(read_file(m_dir + "/run/out/hello/2.1.out").find("$(x) from node"), 0u);
    EXPECT_NE(read_file(m_dir + "/run/out/hello/0.1.out").find("as sshard-test in /tmp"), std::string::npos);
    EXPECT_EQ(read_file(m_dir + "/run/out/hello/3.1.err"), "warn 3\n") << "the wrapper's reports are removed";
    EXPECT_EQ(read_file(m_dir + "/run/out/burn/0.1.out"), "it's\n");
    std::set<std::string> hosts;
    double cpu = 0;
    for (const auto& a : attempts()) {
        hosts.insert(a["host"].get<std::string>());
        if (a["job"] == "burn") {
            cpu += a.at("cpu_user_s").get<double>() + a.at("cpu_sys_s").get<double>();
        }
    }
    EXPECT_EQ(hosts.size(), 4u);
    EXPECT_GT(cpu, 0.0);

    // The report agrees with itself: the hosts' busy time adds up to T_total, R is a share, and the makespan
    // covers the longest shard.
    Result report = run_sshard({"report", m_dir + "/run", "--format", "json"});
    ASSERT_EQ(report.exit_code, 0) << report.err;
    auto doc = nlohmann::json::parse(report.out);
    double busy = 0;
    for (const auto& host : doc["hosts"]) {
        busy += host["busy_s"].get<double>();
        EXPECT_GE(host["utilization"].get<double>(), 0.0);
        EXPECT_LE(host["utilization"].get<double>(), 1.0);
        EXPECT_TRUE(host["setup_s"].is_number());
    }
    EXPECT_NEAR(busy, doc["run"]["t_total_s"].get<double>(), 1e-6);
    EXPECT_GE(doc["run"]["utilization"].get<double>(), 0.0);
    EXPECT_LE(doc["run"]["utilization"].get<double>(), 1.0);
    double longest = 0;
    for (const auto& job : doc["jobs"]) {
        longest = std::max(longest, job["duration_s"]["max"].get<double>());
    }
    EXPECT_GE(doc["run"]["makespan_s"].get<double>(), longest);
    EXPECT_GT(doc["run"]["cpu_s"].get<double>(), 0.0);
}

TEST_F(SshRun, KilledHostsShardsSucceedElsewhere) {
    std::string spec = write_spec(R"~(version: 1
hosts: ["2/node[1-4]"]
jobs: [{name: j, command: 'sleep 0.5; echo done', shards: {count: 24}}]
)~");
    Spawned running = spawn_sshard(
        {"run", spec, "--ssh-config", k_cluster + "/ssh_config", "--run-dir", m_dir + "/run", "--down-limit", "1m"});
    ASSERT_TRUE(eventually([&] { return attempt_started_on(m_dir + "/run/journal.jsonl", "node4"); }, 30s))
        << "no attempt started on node4";
    EXPECT_TRUE(cluster("kill-host", 4));
    Result r = wait_sshard(running);
    EXPECT_TRUE(cluster("start-host", 4));
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.err.find("sshard: host node4 is down"), std::string::npos) << r.err;
    std::set<int> succeeded;
    bool requeued = false;
    for (const auto& a : attempts()) {
        requeued = requeued || a["verdict"] == "requeued";
        if (a["verdict"] == "succeeded") {
            succeeded.insert(a["index"].get<int>());
        }
    }
    EXPECT_EQ(succeeded.size(), 24u);
    EXPECT_TRUE(requeued);
}

TEST_F(SshRun, StoppedHostIsDetectedAndItsShardsRequeued) {
    std::string spec = write_spec(R"~(version: 1
hosts: ["2/node[3-4]"]
jobs: [{name: j, command: 'sleep 1; echo done', shards: {count: 8}}]
)~");
    Spawned running = spawn_sshard(
        {"run", spec, "--ssh-config", k_cluster + "/ssh_config", "--run-dir", m_dir + "/run", "--down-limit", "2m"});
    ASSERT_TRUE(eventually([&] { return attempt_started_on(m_dir + "/run/journal.jsonl", "node4"); }, 30s))
        << "no attempt started on node4";
    EXPECT_TRUE(cluster("pause-host", 4));
    double paused = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    Result r = wait_sshard(running);
    EXPECT_TRUE(cluster("resume-host", 4));
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.err.find("sshard: host node4 is down"), std::string::npos) << r.err;
    std::size_t succeeded = 0;
    for (const auto& a : attempts()) {
        succeeded += a["verdict"] == "succeeded" ? 1 : 0;
    }
    EXPECT_EQ(succeeded, 8u);
    // sshard(1): lost 10 to 11 s after the last thing it sent, which was just before the pause (about 21 s
    // before keepalives with bounded waits).
    std::ifstream in(m_dir + "/run/journal.jsonl");
    for (std::string line; std::getline(in, line);) {
        auto event = nlohmann::json::parse(line);
        if (event["event"] == "host_down") {
            EXPECT_GT(event["time"].get<double>() - paused, 8.0) << "lost before it was silent for long";
            EXPECT_LT(event["time"].get<double>() - paused, 13.0) << "found later than sshard(1) says";
            // By sshard's own clock, from the last thing the host sent: 10 to 11 s, as sshard(1) says.
            std::string reason = event["reason"];
            EXPECT_TRUE(reason.find("no answer for 10 s") != std::string::npos ||
                        reason.find("no answer for 11 s") != std::string::npos)
                << reason;
            break;
        }
    }
}

TEST_F(SshRun, UnknownHostKeyAndFailedAuthenticationLeaveOtherHostsWorking) {
    std::string config = m_dir + "/ssh_config";
    std::ofstream(m_dir + "/empty_known_hosts").flush();
    std::string key = m_dir + "/stranger_key";
    ASSERT_EQ(std::system(("ssh-keygen -q -t ed25519 -N '' -f " + key).c_str()), 0);
    std::ofstream(config) << "Host stranger\n  HostName 127.0.0.12\n  Port " << cluster_port()
                          << "\n  User sshard-test\n"
                          << "  IdentityFile " << k_cluster << "/id_ed25519\n"
                          << "  UserKnownHostsFile " << m_dir << "/empty_known_hosts\n"
                          << "Host impostor\n  HostName 127.0.0.13\n  Port " << cluster_port()
                          << "\n  User sshard-test\n"
                          << "  IdentityFile " << key << "\n  IdentitiesOnly yes\n"
                          << "  UserKnownHostsFile " << k_cluster << "/known_hosts\n"
                          << read_file(k_cluster + "/ssh_config");
    std::string spec = write_spec("version: 1\nhosts: [node1, stranger, impostor]\n"
                                  "jobs: [{name: j, command: 'echo ok', shards: {count: 4}}]\n");
    Result r = run_sshard({"run", spec, "--ssh-config", config, "--run-dir", m_dir + "/run"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.err.find("sshard: host stranger is down: stranger: unknown host key SHA256:"), std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("--accept-new-host-keys"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("sshard: host impostor is down: impostor: authentication as "), std::string::npos) << r.err;
    for (const auto& a : attempts()) {
        EXPECT_EQ(a["host"], "node1");
    }
}

TEST_F(SshRun, AcceptNewHostKeysRecordsUnknownKeysButNeverChangedOnes) {
    std::string known = m_dir + "/known_hosts";
    std::ofstream(known).flush();
    std::string config = m_dir + "/ssh_config";
    std::ofstream(config) << "Host fresh\n  HostName 127.0.0.12\n  Port " << cluster_port() << "\n  User sshard-test\n"
                          << "  IdentityFile " << k_cluster << "/id_ed25519\n  UserKnownHostsFile " << known << "\n";
    std::string spec = write_spec("version: 1\nhosts: [fresh]\njobs: [{name: j, command: 'true'}]\n");
    Result refused =
        run_sshard({"run", spec, "--ssh-config", config, "--run-dir", m_dir + "/run1", "--down-limit", "1s"});
    EXPECT_EQ(refused.exit_code, 3) << refused.err;
    Result accepted =
        run_sshard({"run", spec, "--ssh-config", config, "--run-dir", m_dir + "/run2", "--accept-new-host-keys"});
    EXPECT_EQ(accepted.exit_code, 0) << accepted.err;
    EXPECT_NE(read_file(known).find("ssh-ed25519"), std::string::npos);

    // Now the recorded key belongs to another host: a changed key, refused even with the flag.
    std::string other = read_file(k_cluster + "/host1/ssh_host_ed25519_key.pub");
    std::ofstream(known) << "[127.0.0.12]:" << cluster_port() << " " << other;
    Result changed = run_sshard({"run", spec, "--ssh-config", config, "--run-dir", m_dir + "/run3",
                                 "--accept-new-host-keys", "--down-limit", "1s"});
    EXPECT_EQ(changed.exit_code, 3);
    EXPECT_NE(changed.err.find("the host key has CHANGED"), std::string::npos) << changed.err;
}

TEST_F(SshRun, TimedOutShardLeavesNoProcessOnItsHost) {
    std::string spec = write_spec(R"~(version: 1
hosts: [node2]
jobs:
  - name: slow
    command: 'sleep 60 & echo $! > )~" +
                                  m_dir + R"~(/child.pid; trap "" TERM; sleep 60; wait'
    timeout: 500ms
)~");
    Result r = run({"run", spec});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.out.find("timed out after 500ms"), std::string::npos) << r.out;
    int child = std::stoi(read_file(m_dir + "/child.pid"));
    // The shard's group is killed on its host, which sshard does not wait to see done.
    EXPECT_TRUE(eventually([&] { return !process_alive(child); }, 5s))
        << "the shard's background sleep survived on its host";
}

TEST_F(SshRun, InterruptLeavesNoProcessOnAnyHost) {
    std::string spec = write_spec(R"~(version: 1
hosts: ["2/node[1-4]"]
jobs: [{name: j, command: 'echo $$ >> )~" +
                                  m_dir + R"~(/pids; sleep 60', shards: {count: 8}}]
)~");
    Spawned running =
        spawn_sshard({"run", spec, "--ssh-config", k_cluster + "/ssh_config", "--run-dir", m_dir + "/run"});
    bool all_started = eventually([&] { return line_count(m_dir + "/pids") == 8; }, 10s);
    kill(running.pid, SIGINT);
    Result r = wait_sshard(running);
    ASSERT_TRUE(all_started) << "not every shard started";
    EXPECT_EQ(r.exit_code, 130) << r.err;
    std::ifstream in(m_dir + "/pids");
    std::vector<int> pids;
    for (int pid; in >> pid;) {
        pids.push_back(pid);
    }
    ASSERT_EQ(pids.size(), 8u);
    for (int pid : pids) {
        EXPECT_TRUE(eventually([&] { return !process_alive(pid); }, 5s)) << pid;
    }
}

TEST_F(SshRun, ManySlotsOnOneHostUseSeveralConnections) {
    // 20 slots need 3 connections under OpenSSH's default MaxSessions of 10: every shard must be running
    // before the first one ends.
    std::string spec = write_spec("version: 1\nhosts: [20/node1]\n"
                                  "jobs: [{name: j, command: 'sleep 3', shards: {count: 20}}]\n");
    Result r = run({"run", spec});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    std::vector<std::pair<double, int>> events; // time, +1 start / -1 end
    std::ifstream in(m_dir + "/run/journal.jsonl");
    for (std::string line; std::getline(in, line);) {
        auto e = nlohmann::json::parse(line);
        if (e["event"] == "attempt_end") {
            events.emplace_back(e["start"].get<double>(), 1);
            events.emplace_back(e["end"].get<double>(), -1);
        }
    }
    std::sort(events.begin(), events.end());
    int running = 0;
    int peak = 0;
    for (const auto& [time, delta] : events) {
        running += delta;
        peak = std::max(peak, running);
    }
    EXPECT_EQ(peak, 20);

    // The run lasted over the sampling interval: node1's own CPU and memory were sampled over SSH.
    Result report = run_sshard({"report", m_dir + "/run", "--format", "json"});
    auto doc = nlohmann::json::parse(report.out);
    ASSERT_EQ(doc["hosts"].size(), 1u);
    EXPECT_GE(doc["hosts"][0]["samples"].get<int>(), 1);
    EXPECT_GT(doc["hosts"][0]["mem_used_peak_bytes"].get<double>(), 0.0);
}

TEST_F(SshRun, HostsCheckReportsEachHost) {
    std::string spec = write_spec("version: 1\nhosts: [\"node[1-2]\", \"127.0.0.99:1\"]\n"
                                  "jobs: [{name: j, command: 'true'}]\n");
    Result r = run_sshard({"hosts", spec, "--check", "--ssh-config", k_cluster + "/ssh_config"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.out.find("node1      ok    cpus "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("SSH-2.0-OpenSSH"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("127.0.0.99 FAIL  127.0.0.99: cannot connect to "), std::string::npos) << r.out;
}

} // namespace
} // namespace sshard::test
