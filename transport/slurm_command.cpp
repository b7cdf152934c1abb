#include "transport/slurm_command.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/unique_fd.hpp"

extern char** environ;

namespace sshard::transport {

namespace {

using Clock = std::chrono::steady_clock;

bool make_pipe(core::UniqueFd& read_end, core::UniqueFd& write_end) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        return false;
    }
    read_end.reset(fds[0]);
    write_end.reset(fds[1]);
    return true;
}

// Reads both pipes to their end, or until `deadline`; false when the deadline came first.
bool read_both(int out_fd, int err_fd, std::string& out, std::string& err, Clock::time_point deadline) {
    pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
    std::string* texts[2] = {&out, &err};
    char buffer[4096];
    while (fds[0].fd >= 0 || fds[1].fd >= 0) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) {
            return false;
        }
        if (::poll(fds, 2, static_cast<int>(left)) < 0 && errno != EINTR) {
            return false;
        }
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0) {
                continue;
            }
            ssize_t got = ::read(fds[i].fd, buffer, sizeof buffer);
            if (got > 0) {
                texts[i]->append(buffer, static_cast<std::size_t>(got));
            } else if (got == 0 || errno != EINTR) {
                fds[i].fd = -1;
            }
        }
    }
    return true;
}

} // namespace

std::string CommandResult::why() const {
    std::string text = !err.empty() ? err : !error.empty() ? error : "exit status " + std::to_string(status);
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
        text.pop_back();
    }
    for (char& c : text) {
        c = c == '\n' ? ' ' : c;
    }
    return text;
}

CommandResult run_program(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
    CommandResult result;
    core::UniqueFd out_read, out_write, err_read, err_write;
    if (!make_pipe(out_read, out_write) || !make_pipe(err_read, err_write)) {
        result.error = std::string("cannot create a pipe: ") + std::strerror(errno);
        return result;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out_write.get(), 1);
    posix_spawn_file_actions_adddup2(&actions, err_write.get(), 2);
    std::vector<char*> args;
    for (const auto& arg : argv) {
        args.push_back(const_cast<char*>(arg.c_str()));
    }
    args.push_back(nullptr);
    // A process group of its own: Ctrl-C at the terminal must not kill an sbatch halfway, leaving an array
    // submitted that sshard never learned the id of.
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attributes, 0);
    pid_t pid = 0;
    int spawned = ::posix_spawnp(&pid, args[0], &actions, &attributes, args.data(), environ);
    posix_spawnattr_destroy(&attributes);
    posix_spawn_file_actions_destroy(&actions);
    out_write.reset();
    err_write.reset();
    if (spawned != 0) {
        result.error = "cannot run " + argv[0] + ": " + std::strerror(spawned);
        return result;
    }
    bool in_time = read_both(out_read.get(), err_read.get(), result.out, result.err, Clock::now() + timeout);
    if (!in_time) {
        ::kill(pid, SIGKILL);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!in_time) {
        result.error = argv[0] + " did not answer within " + std::to_string(timeout.count() / 1000) + "s";
        return result;
    }
    result.ran = true;
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
}

std::string partition_problem(const core::SlurmSettings& slurm) {
    std::vector<std::string> args = {"sinfo", "-h", "-o", "%P"};
    if (!slurm.partition.empty()) {
        args.insert(args.end(), {"-p", slurm.partition});
    }
    CommandResult sinfo = run_program(args);
    if (!sinfo.ok()) {
        return "sinfo failed: " + sinfo.why();
    }
    if (sinfo.out.empty()) {
        return slurm.partition.empty() ? "Slurm has no partition" : "Slurm has no partition '" + slurm.partition + "'";
    }
    return {};
}

} // namespace sshard::transport
