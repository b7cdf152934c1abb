// Hosts that change while a run goes, over the loopback cluster: a host added to the watched host file is
// connected and used, a host drained by `sshard hosts drain` finishes its shards and takes no new one, and a
// host file rewritten with garbage keeps the hosts. Whatever changes, no shard is lost and none runs twice: the
// journal says so.
#include <gtest/gtest.h>
#include <map>
#include <set>

#include "tests/ssh/ssh_fixture.hpp"

namespace sshard::test {
namespace {

class ElasticHosts : public SshFixture {
protected:
    std::string journal() const { return m_dir + "/run/journal.jsonl"; }
    // Whether an attempt started on `host`.
    bool started_on(const std::string& host) const {
        for (const auto& event : journal_events(m_dir + "/run")) {
            if (event["event"] == "attempt_start" && event["host"] == host) {
                return true;
            }
        }
        return false;
    }
    bool held(const std::string& host, const std::string& kind) const {
        for (const auto& event : journal_events(m_dir + "/run")) {
            if (event["event"] == "host_held" && event["host"] == host && event["kind"] == kind) {
                return true;
            }
        }
        return false;
    }
    void rewrite(const std::string& name, const std::string& text) const {
        std::string path = m_dir + "/" + name;
        std::ofstream(path + ".new") << text;
        fs::rename(path + ".new", path); // as an editor saves: never seen half-written
    }
};

TEST_F(ElasticHosts, AHostAddedAndAHostDrainedMidRunLoseNoShardAndRunNoneTwice) {
    std::string hosts = write_file("hosts", "2/node1\n");
    std::string spec = write_spec(R"~(version: 1
jobs: [{name: j, command: 'sleep 0.4; echo {index}', shards: {count: 30}}]
)~");
    Spawned running = spawn_sshard(cluster_args({"run", spec, "--hostfile", hosts}));
    ASSERT_TRUE(eventually([&] { return started_on("node1"); }, 30s)) << "no attempt started on node1";

    rewrite("hosts", "2/node1\n2/node2\n");
    ASSERT_TRUE(eventually([&] { return started_on("node2"); }, 30s)) << "node2 was not used";

    Result unknown = run_sshard({"hosts", "drain", m_dir + "/run", "node9"});
    EXPECT_EQ(unknown.exit_code, 2);
    EXPECT_EQ(unknown.err.rfind("sshard: error: the run has no host 'node9' (did you mean 'node", 0), 0u)
        << unknown.err;
    Result drained = run_sshard({"hosts", "drain", m_dir + "/run", "node1"});
    EXPECT_EQ(drained.exit_code, 0) << drained.err;
    Result r = wait_sshard(running);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.err.find("sshard: host node2 added"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("sshard: host node1 drained (sshard hosts drain)"), std::string::npos) << r.err;

    // In journal order: nothing starts on node1 after its drain; every shard starts once and succeeds once.
    bool node1_drained = false;
    std::map<int, int> starts;
    std::set<int> succeeded;
    for (const auto& event : journal_events(m_dir + "/run")) {
        if (event["event"] == "host_held" && event["host"] == "node1" && event["kind"] == "drain") {
            node1_drained = true;
        }
        if (event["event"] == "attempt_start") {
            EXPECT_FALSE(node1_drained && event["host"] == "node1") << event.dump();
            ++starts[event["index"].get<int>()];
        }
        if (event["event"] == "attempt_end" && event["verdict"] == "succeeded") {
            EXPECT_TRUE(succeeded.insert(event["index"].get<int>()).second) << event.dump();
        }
    }
    EXPECT_TRUE(node1_drained);
    EXPECT_EQ(succeeded.size(), 30u);
    EXPECT_EQ(starts.size(), 30u);
    for (const auto& [index, count] : starts) {
        EXPECT_EQ(count, 1) << "shard " << index;
    }
    Result report = run_sshard({"report", m_dir + "/run"});
    EXPECT_NE(report.out.find("(drain)"), std::string::npos) << report.out;
}

TEST_F(ElasticHosts, AHostFileRewrittenWithGarbageKeepsTheHostsAndSaysWhere) {
    std::string hosts = write_file("hosts", "2/node3\n");
    std::string spec = write_spec(R"~(version: 1
jobs: [{name: j, command: 'sleep 0.3', shards: {count: 24}}]
)~");
    Spawned running = spawn_sshard(cluster_args({"run", spec, "--hostfile", hosts}));
    ASSERT_TRUE(eventually([&] { return started_on("node3"); }, 30s));
    rewrite("hosts", "# emptied by mistake\n");
    Result r = wait_sshard(running);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find(hosts + ": error: the host file lists no host"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("not taken: the run keeps its hosts"), std::string::npos) << r.err;
    EXPECT_FALSE(held("node3", "drain"));
}

TEST_F(ElasticHosts, DrainWithNoRunRunningIsAnError) {
    std::string spec = write_spec("version: 1\nhosts: [node1]\njobs: [{name: j, command: 'true'}]\n");
    ASSERT_EQ(run(std::vector<std::string>{"run", spec}).exit_code, 0);
    Result r = run_sshard({"hosts", "drain", m_dir + "/run", "node1"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("sshard: error: no run is running in '"), std::string::npos) << r.err;
    r = run_sshard({"hosts", "undrain", m_dir + "/nowhere", "node1"});
    EXPECT_EQ(r.exit_code, 2) << r.err;
}

} // namespace
} // namespace sshard::test
