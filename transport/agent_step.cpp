#include "transport/agent_step.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace sshard::transport {

namespace {

constexpr std::size_t k_step_read_size = 64 * 1024;

// A pipe whose runner end is non-blocking (one thread serves every agent) and both ends close-on-exec: a
// shard or another srun holding the write end of an agent's stdin would keep that agent alive after the runner.
bool step_pipe(core::UniqueFd& read_end, core::UniqueFd& write_end, bool runner_reads) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        return false;
    }
    read_end.reset(fds[0]);
    write_end.reset(fds[1]);
    ::fcntl(runner_reads ? fds[0] : fds[1], F_SETFL, O_NONBLOCK);
    return true;
}

std::string one_line(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
        text.pop_back();
    }
    for (char& c : text) {
        c = c == '\n' ? ' ' : c;
    }
    return text;
}

} // namespace

std::string AgentStep::start(const std::vector<std::string>& argv) {
    core::UniqueFd in_read, out_write, err_write;
    if (!step_pipe(in_read, m_in, false) || !step_pipe(m_out, out_write, true) || !step_pipe(m_err, err_write, true)) {
        return std::string("cannot create a pipe: ") + std::strerror(errno);
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in_read.get(), 0);
    posix_spawn_file_actions_adddup2(&actions, out_write.get(), 1);
    posix_spawn_file_actions_adddup2(&actions, err_write.get(), 2);
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    // The runner ignores SIGPIPE; srun must not inherit that, nor the runner's blocked signals.
    sigset_t defaults;
    sigset_t none;
    ::sigemptyset(&defaults);
    ::sigaddset(&defaults, SIGPIPE);
    ::sigemptyset(&none);
    posix_spawnattr_setsigdefault(&attributes, &defaults);
    posix_spawnattr_setsigmask(&attributes, &none);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    posix_spawnattr_setpgroup(&attributes, 0);
    std::vector<char*> args;
    for (const auto& arg : argv) {
        args.push_back(const_cast<char*>(arg.c_str()));
    }
    args.push_back(nullptr);
    int spawned = ::posix_spawnp(&m_pid, args[0], &actions, &attributes, args.data(), environ);
    posix_spawnattr_destroy(&attributes);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) {
        m_pid = -1;
        return "cannot run " + argv[0] + ": " + std::strerror(spawned);
    }
    return {};
}

void AgentStep::queue(const core::agent::Message& message) {
    if (m_in.is_open()) {
        m_unsent += core::agent::encode(message);
    }
}

std::string AgentStep::flush() {
    while (m_in.is_open() && m_sent < m_unsent.size()) {
        ssize_t written = ::write(m_in.get(), m_unsent.data() + m_sent, m_unsent.size() - m_sent);
        if (written < 0 && errno == EINTR) {
            continue;
        }
        if (written < 0 && errno == EAGAIN) {
            break;
        }
        if (written <= 0) {
            close_input();
            return std::string("cannot write to the agent: ") + std::strerror(errno);
        }
        m_sent += static_cast<std::size_t>(written);
    }
    if (m_sent == m_unsent.size()) {
        m_unsent.clear();
        m_sent = 0;
    }
    return {};
}

void AgentStep::close_input() {
    m_in.reset();
    m_unsent.clear();
    m_sent = 0;
}

std::string AgentStep::read_output(std::vector<core::agent::Message>& messages, bool& ended) {
    char buffer[k_step_read_size];
    ssize_t got = ::read(m_out.get(), buffer, sizeof buffer);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) {
        return {};
    }
    if (got <= 0) {
        ended = true;
        m_out.reset();
        return m_decoder.pending() == 0 ? "" : "the agent's output ended inside a frame";
    }
    m_decoder.feed(std::string_view(buffer, static_cast<std::size_t>(got)));
    try {
        while (auto message = m_decoder.next()) {
            messages.push_back(std::move(*message));
        }
    } catch (const core::agent::ProtocolError& e) {
        return std::string("bad frame from the agent: ") + e.what();
    }
    return {};
}

bool AgentStep::read_errors() {
    char buffer[4096];
    ssize_t got = ::read(m_err.get(), buffer, sizeof buffer);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) {
        return true;
    }
    if (got <= 0) {
        m_err.reset();
        return false;
    }
    m_errors.append(buffer, static_cast<std::size_t>(got));
    if (m_errors.size() > k_stderr_kept) {
        m_errors.erase(0, m_errors.size() - k_stderr_kept);
    }
    return true;
}

void AgentStep::signal(int signal) const {
    if (m_pid > 0) {
        ::kill(m_pid, signal);
    }
}

std::string AgentStep::reap() {
    if (m_pid <= 0) {
        return one_line(m_errors);
    }
    int status = 0;
    while (::waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
    }
    m_pid = -1;
    std::string how = WIFSIGNALED(status) ? "srun was killed by signal " + std::to_string(WTERMSIG(status))
                                          : "srun exited with status " + std::to_string(WEXITSTATUS(status));
    return m_errors.empty() ? how : how + ": " + one_line(m_errors);
}

} // namespace sshard::transport
