// What the end-to-end tests over the loopback cluster (tests/ssh/cluster.sh) share: the cluster's place, a
// temporary directory the test user can write, and running the real binary against the cluster.
#pragma once

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/cli/binary.hpp"

namespace sshard::test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

inline const std::string k_cluster = SSHARD_CLUSTER_DIR;

// Whether `pid` runs (a zombie does not).
inline bool process_alive(int pid) {
    std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    auto paren = stat.rfind(')');
    return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
}

class SshFixture : public testing::Test {
protected:
    void SetUp() override {
        m_dir = make_temp_dir();
        fs::permissions(m_dir, fs::perms::all); // the test user's shards write here
    }
    void TearDown() override { fs::remove_all(m_dir); }

    std::string write_spec(const std::string& text) {
        std::string path = m_dir + "/jobs.yaml";
        std::ofstream(path) << text;
        return path;
    }
    std::vector<std::string> cluster_args(std::vector<std::string> args) const {
        args.insert(args.end(), {"--ssh-config", k_cluster + "/ssh_config", "--run-dir", m_dir + "/run"});
        return args;
    }
    Result run(std::vector<std::string> args) { return run_sshard(cluster_args(std::move(args))); }
    std::vector<nlohmann::json> attempts() const {
        std::vector<nlohmann::json> events;
        std::ifstream in(m_dir + "/run/journal.jsonl");
        for (std::string line; std::getline(in, line);) {
            auto event = nlohmann::json::parse(line);
            if (event["event"] == "attempt_end") {
                events.push_back(event);
            }
        }
        return events;
    }

    std::string m_dir;
};

} // namespace sshard::test
