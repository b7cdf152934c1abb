// Runs the real sshard binary for end-to-end tests and captures what it printed.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace sshard::test {

struct Result {
    int exit_code = -1; // 128 + signal when killed by a signal
    std::string out;
    std::string err;
    long max_rss_kib = 0; // the peak resident memory of sshard
};

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

} // namespace sshard::test
