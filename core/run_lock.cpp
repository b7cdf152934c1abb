#include "core/run_lock.hpp"

#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <optional>
#include <sys/file.h>
#include <thread>
#include <unistd.h>

#include "core/error.hpp"
#include "core/write_all.hpp"

namespace sshard::core {

namespace {

// The live process whose pid the lock file holds, if any.
std::optional<pid_t> recorded_pid(int fd) {
    char text[32];
    ssize_t n = ::pread(fd, text, sizeof text, 0);
    pid_t pid = 0;
    if (n <= 0 || std::from_chars(text, text + n, pid).ec != std::errc() || pid <= 0) {
        return std::nullopt;
    }
    if (::kill(pid, 0) != 0 && errno != EPERM) {
        return std::nullopt;
    }
    return pid;
}

// A holder that has only just taken the lock may not have written its pid yet (the file is then empty, or
// holds the pid of a runner that died), so the file is read again for a short while.
std::optional<pid_t> holder_pid(int fd) {
    for (int tries = 0; tries < 100; ++tries) {
        if (auto pid = recorded_pid(fd)) {
            return pid;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return std::nullopt;
}

} // namespace

RunLock::RunLock(const RunDir& dir) {
    std::string path = dir.path() + "/lock";
    m_fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (m_fd < 0) {
        throw Error(fmt::format("cannot open lock file '{}': {}", path, std::strerror(errno)));
    }
    int error = ::flock(m_fd, LOCK_EX | LOCK_NB) != 0 ? errno : 0;
    if (error == EWOULDBLOCK) {
        std::optional<pid_t> holder = holder_pid(m_fd);
        ::close(m_fd);
        throw UsageError(holder ? fmt::format("run {} is in use by pid {}", dir.id(), *holder)
                                : fmt::format("run {} is in use by another process", dir.id()));
    }
    std::string pid = fmt::format("{}\n", ::getpid());
    if (error == 0 && ::ftruncate(m_fd, 0) != 0) {
        error = errno;
    }
    if (error == 0) {
        error = write_all(m_fd, pid);
    }
    if (error != 0) {
        ::close(m_fd);
        throw Error(fmt::format("cannot lock '{}': {}", path, std::strerror(error)));
    }
}

RunLock::~RunLock() {
    // Left empty, so that a runner that finds the lock taken by a newer holder never reads our pid. Failing
    // that, the pid of a process that is gone is recognised as stale.
    [[maybe_unused]] int ignored = ::ftruncate(m_fd, 0);
    ::close(m_fd);
}

} // namespace sshard::core
