#include "transport/group_supervisor.hpp"

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <string>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/error.hpp"

namespace sshard::transport {

namespace {

constexpr long k_check_interval_ms = 50;

// The largest pid this machine hands out, plus one; the supervisor keeps one bit per pid.
std::size_t pid_limit() {
    std::ifstream in("/proc/sys/kernel/pid_max");
    long limit = 0;
    in >> limit;
    return limit > 0 ? static_cast<std::size_t>(limit) + 1 : std::size_t{1} << 22;
}

void sleep_ms(long ms) {
    timespec time{ms / 1000, (ms % 1000) * 1'000'000};
    while (::nanosleep(&time, &time) != 0 && errno == EINTR) {
    }
}

// The groups the supervisor holds, one bit per pid. Its memory comes from mmap: the supervisor is forked from
// a process with threads, so it may only make async-signal-safe calls, which rules out malloc.
class GroupBits {
public:
    explicit GroupBits(std::size_t limit) : m_limit(limit) {
        void* memory = ::mmap(nullptr, words() * sizeof(std::uint64_t), PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        m_words = memory == MAP_FAILED ? nullptr : static_cast<std::uint64_t*>(memory);
    }
    void set(pid_t pid, bool held) {
        auto at = static_cast<std::size_t>(pid);
        if (m_words == nullptr || pid <= 0 || at >= m_limit) {
            return;
        }
        std::uint64_t bit = std::uint64_t{1} << (at % 64);
        m_words[at / 64] = held ? m_words[at / 64] | bit : m_words[at / 64] & ~bit;
    }
    // Signals every group held; returns how many still existed.
    int signal_all(int signal) const {
        int alive = 0;
        for (std::size_t word = 0; m_words != nullptr && word < words(); ++word) {
            for (std::uint64_t bits = m_words[word]; bits != 0; bits &= bits - 1) {
                auto group = static_cast<pid_t>(word * 64 + static_cast<std::size_t>(__builtin_ctzll(bits)));
                alive += ::kill(-group, signal) == 0 ? 1 : 0;
            }
        }
        return alive;
    }

private:
    std::size_t words() const { return (m_limit + 63) / 64; }

    std::size_t m_limit;
    std::uint64_t* m_words = nullptr;
};

// The supervisor process: async-signal-safe calls only. It sits in a process group of its own and ignores the
// signals a terminal or a `kill` of the runner's group sends, so that it outlives the runner.
[[noreturn]] void supervise(int fd, std::size_t limit, long grace_ms) {
    ::setpgid(0, 0);
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    for (int signal : {SIGINT, SIGHUP, SIGTERM, SIGPIPE, SIGQUIT}) {
        ::sigaction(signal, &ignore, nullptr);
    }
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    // Holding the runner's stdout open would keep its reader waiting after the runner is gone.
    int null_fd = ::open("/dev/null", O_RDWR);
    ::dup2(null_fd, 0);
    ::dup2(null_fd, 1);
    ::dup2(null_fd, 2);
    ::dup2(fd, 3);
    ::close_range(4, ~0U, 0);
    GroupBits groups(limit);
    while (true) {
        pid_t message = 0;
        ssize_t got = ::recv(3, &message, sizeof message, 0);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got != static_cast<ssize_t>(sizeof message)) {
            break; // end of file: the runner is gone
        }
        groups.set(message > 0 ? message : -message, message > 0);
    }
    int alive = groups.signal_all(SIGTERM);
    for (long waited = 0; alive > 0 && waited < grace_ms; waited += k_check_interval_ms) {
        sleep_ms(k_check_interval_ms);
        alive = groups.signal_all(0);
    }
    groups.signal_all(SIGKILL);
    ::_exit(0);
}

} // namespace

GroupSupervisor::GroupSupervisor(std::chrono::milliseconds grace) {
    const std::size_t limit = pid_limit();
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
        throw core::Error(std::string("cannot create the local supervisor's socket: ") + std::strerror(errno));
    }
    pid_t pid = ::fork();
    if (pid < 0) {
        int error = errno;
        ::close(fds[0]);
        ::close(fds[1]);
        throw core::Error(std::string("cannot start the local supervisor: ") + std::strerror(error));
    }
    if (pid == 0) {
        supervise(fds[1], limit, static_cast<long>(grace.count()));
    }
    ::close(fds[1]);
    m_fd = fds[0];
    m_pid = pid;
}

GroupSupervisor::~GroupSupervisor() {
    ::close(m_fd);
    while (::waitpid(m_pid, nullptr, 0) < 0 && errno == EINTR) {
    }
}

void GroupSupervisor::register_self(int fd) {
    pid_t self = ::getpid();
    ::send(fd, &self, sizeof self, MSG_NOSIGNAL);
}

void GroupSupervisor::release(pid_t group) {
    pid_t message = -group;
    // Only a supervisor that died could refuse it, and then there is nothing left to tell.
    ::send(m_fd, &message, sizeof message, MSG_NOSIGNAL);
}

} // namespace sshard::transport
