// Ownership of a file descriptor: closed when its owner goes, never twice.
#pragma once

#include <unistd.h>
#include <utility>

namespace sshard::core {

class UniqueFd {
public:
    UniqueFd() = default;
    // Takes `fd` (negative: none).
    explicit UniqueFd(int fd) : m_fd(fd) {}
    UniqueFd(UniqueFd&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept {
        reset(std::exchange(other.m_fd, -1));
        return *this;
    }
    ~UniqueFd() { reset(); }

    int get() const { return m_fd; }
    bool is_open() const { return m_fd >= 0; }
    // Closes the descriptor held, if any (an error of close is of no use here), and takes `fd`.
    void reset(int fd = -1) {
        if (m_fd >= 0) {
            ::close(m_fd);
        }
        m_fd = fd;
    }

private:
    int m_fd = -1;
};

} // namespace sshard::core
