// Runs the real sshard binary for end-to-end tests and captures what it printed; the fixture they share.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace sshard::test {

struct Result {
    int exit_code = -1; // 128 + signal when killed by a signal
    std::string out;
    std::string err;
    long max_rss_kib = 0; // the peak resident memory of sshard
};

// The sshard binary the tests run: $SSHARD_TEST_BINARY where it is set (scripts/test runs the Release tree's
// tests against each sanitizer tree's binary), else the one built beside the tests.
const std::string& sshard_binary();

// Runs sshard with `args` in `workdir` (the current directory when empty), with NO_COLOR set and stdin from
// /dev/null; waits for it to exit.
Result run_sshard(const std::vector<std::string>& args, const std::string& workdir = "");

// A running sshard, started in the background; its output goes to files.
struct Spawned {
    int pid = -1;
    std::string out_path;
    std::string err_path;
};

// Starts sshard with `args` in `workdir` without waiting.
Spawned spawn_sshard(const std::vector<std::string>& args, const std::string& workdir = "");

// Waits for a spawned sshard and collects its result; removes its output files.
Result wait_sshard(const Spawned& spawned);

// A fresh temporary directory, removed by the caller.
std::string make_temp_dir();

// A path under tests/data.
std::string data_path(const std::string& name);

// Reads a whole file; "" when it cannot.
std::string read_file(const std::string& path);

// Polls `condition` every 10 ms until it holds (true) or `limit` passes (false).
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds limit = std::chrono::seconds(20));

// The events of the journal of the run in `run_dir`, without a torn last line.
std::vector<nlohmann::json> journal_events(const std::string& run_dir);

// How many of `events` are of `kind`, and with `verdict` when one is given.
std::size_t count_events(const std::vector<nlohmann::json>& events, const std::string& kind,
                         const std::string& verdict = "");

// The base of the end-to-end fixtures: a fresh temporary directory, m_dir, removed with all in it after each
// test.
class E2eTest : public testing::Test {
protected:
    void SetUp() override { m_dir = make_temp_dir(); }
    void TearDown() override { std::filesystem::remove_all(m_dir); }

    // Writes `text` to `name` in m_dir and returns its path.
    std::string write_file(const std::string& name, const std::string& text) const;

    std::string m_dir;
};

} // namespace sshard::test
