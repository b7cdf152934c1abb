// End-to-end: local shards never outlive the runner, children included, and a shard that backgrounds a process
// ends with its own command.
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <random>

#include "tests/cli/binary.hpp"

namespace sshard::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr auto k_grace = 5s; // the cancel grace the supervisor waits between TERM and KILL

// The live (not zombie) processes whose environment holds TEST_SHARD_MARK=`mark`: a shard's whole tree.
std::vector<int> marked_processes(const std::string& mark) {
    std::vector<int> found;
    const std::string wanted = std::string("TEST_SHARD_MARK=") + mark + '\0';
    for (const auto& entry : fs::directory_iterator("/proc")) {
        const std::string name = entry.path().filename();
        if (name.find_first_not_of("0123456789") != std::string::npos) {
            continue;
        }
        std::string stat = read_file(entry.path() / "stat");
        auto paren = stat.rfind(')');
        bool zombie = paren == std::string::npos || paren + 2 >= stat.size() || stat[paren + 2] == 'Z';
        if (!zombie && (read_file(entry.path() / "environ") + '\0').find(wanted) != std::string::npos) {
            found.push_back(std::stoi(name));
        }
    }
    return found;
}

class LocalShards : public E2eTest {
protected:
    void SetUp() override {
        E2eTest::SetUp();
        m_mark = std::to_string(std::random_device{}());
    }
    void TearDown() override {
        for (int pid : marked_processes(m_mark)) {
            ::kill(pid, SIGKILL);
        }
        E2eTest::TearDown();
    }
    std::string write_spec(const std::string& job) const {
        return write_file("jobs.yaml", "version: 1\nhosts: [{name: here, transport: local, slots: 4}]\njobs:\n" + job +
                                           "    env: {TEST_SHARD_MARK: '" + m_mark + "'}\n");
    }

    std::string m_mark;
};

TEST_F(LocalShards, KilledRunnerLeavesNoShardProcess) {
    // Half the shards ignore TERM, and so do their children: only the KILL after the grace ends them.
    std::string spec = write_spec("  - name: j\n    shards: {count: 4}\n"
                                  "    command: '[ {index} -lt 2 ] && trap \"\" TERM; sleep 60 & sleep 60; wait'\n");
    Spawned running = spawn_sshard({"run", spec, "--run-dir", m_dir + "/run"});
    bool started = eventually([&] { return marked_processes(m_mark).size() == 12; }, 30s);
    ::kill(running.pid, SIGKILL);
    Result r = wait_sshard(running);
    ASSERT_TRUE(started) << "not every shard started: " << marked_processes(m_mark).size() << " processes; " << r.err;
    EXPECT_EQ(r.exit_code, 128 + SIGKILL);
    EXPECT_TRUE(eventually([&] { return marked_processes(m_mark).empty(); }, k_grace + 2s))
        << marked_processes(m_mark).size() << " shard processes outlived the runner by the grace + 2 s";
}

TEST_F(LocalShards, ShardThatBackgroundsAProcessEndsWithItsCommand) {
    std::string spec = write_spec("  - name: j\n    command: 'sleep 6 & echo started'\n");
    Result r = run_sshard({"run", spec, "--run-dir", m_dir + "/run"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(read_file(m_dir + "/run/out/j/0.1.out"), "started\n");
    std::ifstream in(m_dir + "/run/journal.jsonl");
    for (std::string line; std::getline(in, line);) {
        auto event = nlohmann::json::parse(line);
        if (event["event"] == "attempt_end") {
            EXPECT_LT(event["end"].get<double>() - event["start"].get<double>(), 3.0)
                << "the shard waited for the sleep it left behind";
        }
    }
}

} // namespace
} // namespace sshard::test
