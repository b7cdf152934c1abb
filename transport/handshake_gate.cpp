#include "transport/handshake_gate.hpp"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/error.hpp"

namespace sshard::transport {

HandshakeGate::HandshakeGate(int slots) {
    if (pipe2(m_tokens, O_CLOEXEC | O_NONBLOCK) != 0) {
        throw core::Error(fmt::format("cannot create a pipe: {}", std::strerror(errno)));
    }
    m_stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (m_stop_fd < 0) {
        close(m_tokens[0]);
        close(m_tokens[1]);
        throw core::Error(fmt::format("cannot create an eventfd: {}", std::strerror(errno)));
    }
    for (int i = 0; i < slots; ++i) {
        release();
    }
}

HandshakeGate::~HandshakeGate() {
    close(m_tokens[0]);
    close(m_tokens[1]);
    close(m_stop_fd);
}

void HandshakeGate::stop() {
    m_stopped = true;
    std::uint64_t one = 1;
    [[maybe_unused]] auto written = write(m_stop_fd, &one, sizeof one);
}

bool HandshakeGate::acquire() {
    while (!stopped()) {
        char token = 0;
        if (read(m_tokens[0], &token, 1) == 1) {
            return true;
        }
        pollfd fds[] = {{m_tokens[0], POLLIN, 0}, {m_stop_fd, POLLIN, 0}};
        poll(fds, 2, -1);
    }
    return false;
}

void HandshakeGate::release() {
    char token = 0;
    // The pipe holds far more than 64 bytes, so a token always fits.
    [[maybe_unused]] auto written = write(m_tokens[1], &token, 1);
}

} // namespace sshard::transport
