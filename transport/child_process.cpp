#include "transport/child_process.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <string_view>
#include <unistd.h>
#include <utility>

#include "transport/group_supervisor.hpp"

namespace sshard::transport {

namespace {

std::vector<std::string> make_environment(const std::vector<std::pair<std::string, std::string>>& overrides) {
    std::map<std::string_view, std::string_view> wanted;
    for (const auto& [name, value] : overrides) {
        wanted[name] = value;
    }
    std::vector<std::string> environment;
    for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
        std::string_view text(*entry);
        if (!wanted.contains(text.substr(0, text.find('=')))) {
            environment.emplace_back(text);
        }
    }
    for (const auto& [name, value] : wanted) {
        environment.push_back(std::string(name) + "=" + std::string(value));
    }
    return environment;
}

// Where `shell` is: itself when it is a path, else the first executable of its name in the runner's PATH, as
// execvp(3) would find it; itself when none is (exec then fails and says so). Found before fork: the child may
// not allocate.
std::string find_shell(const std::string& shell) {
    if (shell.empty()) {
        return "/bin/sh";
    }
    const char* path = std::getenv("PATH");
    std::string_view dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
    while (shell.find('/') == std::string::npos && !dirs.empty()) {
        std::string_view dir = dirs.substr(0, dirs.find(':'));
        dirs.remove_prefix(std::min(dirs.size(), dir.size() + 1));
        std::string candidate = std::string(dir.empty() ? "." : dir) + "/" + shell;
        if (::access(candidate.c_str(), X_OK) == 0) {
            return candidate;
        }
    }
    return shell;
}

// write(2) until done; the child cannot use stdio.
void write_all(int fd, std::string_view text) {
    while (!text.empty()) {
        ssize_t written = ::write(fd, text.data(), text.size());
        if (written < 0 && errno == EINTR) {
            continue;
        }
        if (written <= 0) {
            return;
        }
        text.remove_prefix(static_cast<std::size_t>(written));
    }
}

// strerrordesc_np only indexes a table, unlike strerror, which may allocate.
[[noreturn]] void child_fail(std::string_view what, const char* subject, int error) {
    const char* description = ::strerrordesc_np(error);
    write_all(2, "sshard: ");
    write_all(2, what);
    write_all(2, " '");
    write_all(2, subject);
    write_all(2, "': ");
    write_all(2, description != nullptr ? description : "unknown error");
    write_all(2, "\n");
    ::_exit(127);
}

} // namespace

ChildPlan make_child_plan(core::Launch& launch, int supervisor_fd) {
    ChildPlan plan;
    plan.supervisor_fd = supervisor_fd;
    plan.environment = make_environment(launch.env);
    plan.shell = find_shell(launch.shell);
    plan.argv = {launch.shell.empty() ? const_cast<char*>("sh") : launch.shell.data(), const_cast<char*>("-c"),
                 launch.command.data(), nullptr};
    for (std::string& entry : plan.environment) {
        plan.envp.push_back(entry.data());
    }
    plan.envp.push_back(nullptr);
    if (!launch.workdir.empty()) {
        plan.workdir = launch.workdir.c_str();
    }
    return plan;
}

void exec_child(const ChildPlan& plan, int out_fd, int err_fd) {
    ::setpgid(0, 0);
    GroupSupervisor::register_self(plan.supervisor_fd);
    // Blocked and ignored signals survive exec: a shard must not inherit the runner's, or a cancel's TERM
    // could miss it and a closed pipe would not stop it.
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    struct sigaction default_action {};
    default_action.sa_handler = SIG_DFL;
    ::sigaction(SIGPIPE, &default_action, nullptr);
    ::sigaction(SIGTERM, &default_action, nullptr);
    int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd < 0 || ::dup2(null_fd, 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(err_fd, 2) < 0) {
        ::_exit(127);
    }
    // Descriptors that other code opened without O_CLOEXEC must not leak into shards either.
    ::close_range(3, ~0U, 0);
    if (plan.workdir != nullptr && ::chdir(plan.workdir) != 0) {
        child_fail("cannot change to directory", plan.workdir, errno);
    }
    ::execve(plan.shell.c_str(), plan.argv.data(), plan.envp.data());
    child_fail("cannot run the shell", plan.argv[0], errno);
}

} // namespace sshard::transport
