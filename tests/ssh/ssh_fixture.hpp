// What the end-to-end tests over the loopback cluster (tests/ssh/cluster.sh) share: the cluster's place and
// port, breaking and healing its hosts, a temporary directory the test user can write, and running the real
// binary against the cluster.
#pragma once

#include <cstdlib>
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

// The port every host of the cluster listens on: SSHARD_CLUSTER_PORT as cluster.sh recorded it in DIR/env
// when it started the cluster, else as this process has it, else cluster.sh's default.
inline std::string cluster_port() {
    std::string env = read_file(k_cluster + "/env");
    const std::string key = "SSHARD_CLUSTER_PORT=";
    auto at = env.find(key);
    if (at != std::string::npos) {
        return env.substr(at + key.size(), env.find('\n', at) - at - key.size());
    }
    const char* port = std::getenv("SSHARD_CLUSTER_PORT");
    return port != nullptr && *port != '\0' ? port : "22022";
}

// Runs `cluster.sh VERB DIR HOST` (kill-host, start-host, pause-host, resume-host on node HOST); true when it
// succeeded. cluster.sh reads the cluster's port from DIR/env.
inline bool cluster(const std::string& verb, int host) {
    std::string command = std::string(SSHARD_CLUSTER_SCRIPT) + " " + verb + " " + k_cluster + " " +
                          std::to_string(host) + " >/dev/null 2>&1";
    return std::system(command.c_str()) == 0;
}

// Whether `pid` runs (a zombie does not).
inline bool process_alive(int pid) {
    std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    auto paren = stat.rfind(')');
    return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
}

class SshFixture : public E2eTest {
protected:
    void SetUp() override {
        E2eTest::SetUp();
        fs::permissions(m_dir, fs::perms::all); // the test user's shards write here
    }

    std::string write_spec(const std::string& text) const { return write_file("jobs.yaml", text); }
    std::vector<std::string> cluster_args(std::vector<std::string> args) const {
        args.insert(args.end(), {"--ssh-config", k_cluster + "/ssh_config", "--run-dir", m_dir + "/run"});
        return args;
    }
    Result run(std::vector<std::string> args) { return run_sshard(cluster_args(std::move(args))); }
    std::vector<nlohmann::json> attempts() const {
        std::vector<nlohmann::json> events;
        for (const auto& event : journal_events(m_dir + "/run")) {
            if (event["event"] == "attempt_end") {
                events.push_back(event);
            }
        }
        return events;
    }
};

} // namespace sshard::test
