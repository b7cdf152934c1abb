#include "tests/cli/binary.hpp"

#include <algorithm>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace sshard::test {

const std::string& sshard_binary() {
    static const std::string binary = [] {
        const char* chosen = std::getenv("SSHARD_TEST_BINARY");
        return std::string(chosen != nullptr && *chosen != '\0' ? chosen : SSHARD_BINARY);
    }();
    return binary;
}

Spawned spawn_sshard(const std::vector<std::string>& args, const std::string& workdir) {
    // Output goes to temporary files so that neither pipe can fill up and stall the child.
    Spawned spawned;
    char out_name[] = "/tmp/sshard_out_XXXXXX";
    char err_name[] = "/tmp/sshard_err_XXXXXX";
    int out_fd = mkstemp(out_name);
    int err_fd = mkstemp(err_name);
    spawned.out_path = out_name;
    spawned.err_path = err_name;
    std::vector<std::string> argv_strings = {sshard_binary()};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& arg : argv_strings) {
        argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    spawned.pid = fork();
    if (spawned.pid == 0) {
        int null_fd = open("/dev/null", O_RDONLY);
        dup2(null_fd, 0);
        dup2(out_fd, 1);
        dup2(err_fd, 2);
        if (!workdir.empty() && chdir(workdir.c_str()) != 0) {
            _exit(126);
        }
        setenv("NO_COLOR", "1", 1);
        execv(argv[0], argv.data());
        _exit(127);
    }
    close(out_fd);
    close(err_fd);
    return spawned;
}

Result wait_sshard(const Spawned& spawned) {
    int status = 0;
    rusage usage{};
    wait4(spawned.pid, &status, 0, &usage);
    Result result;
    result.max_rss_kib = usage.ru_maxrss;
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    result.out = read_file(spawned.out_path);
    result.err = read_file(spawned.err_path);
    unlink(spawned.out_path.c_str());
    unlink(spawned.err_path.c_str());
    return result;
}

Result run_sshard(const std::vector<std::string>& args, const std::string& workdir) {
    return wait_sshard(spawn_sshard(args, workdir));
}

std::string make_temp_dir() {
    char name[] = "/tmp/sshard_test_XXXXXX";
    return mkdtemp(name);
}

std::string data_path(const std::string& name) {
    return std::string(SSHARD_TEST_DATA) + "/" + name;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!condition()) {
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
}

std::vector<nlohmann::json> journal_events(const std::string& run_dir) {
    std::vector<nlohmann::json> events;
    std::string text = read_file(run_dir + "/journal.jsonl");
    std::size_t start = 0;
    for (std::size_t end = text.find('\n'); end != std::string::npos; end = text.find('\n', start)) {
        events.push_back(nlohmann::json::parse(text.substr(start, end - start)));
        start = end + 1;
    }
    return events;
}

std::size_t count_events(const std::vector<nlohmann::json>& events, const std::string& kind,
                         const std::string& verdict) {
    return static_cast<std::size_t>(std::count_if(events.begin(), events.end(), [&](const nlohmann::json& e) {
        return e["event"] == kind && (verdict.empty() || e.value("verdict", "") == verdict);
    }));
}

std::string E2eTest::write_file(const std::string& name, const std::string& text) const {
    std::string path = m_dir + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
}

} // namespace sshard::test
