// Ownership of a libssh channel: freed when its owner goes, never twice. libssh frees a session's channels with
// the session, so an owner must go before the session its channel belongs to.
#pragma once

#include <libssh/libssh.h>
#include <utility>

namespace sshard::transport {

class SshChannel {
public:
    SshChannel() = default;
    // Takes `channel` (null: none).
    explicit SshChannel(ssh_channel channel) : m_channel(channel) {}
    SshChannel(SshChannel&& other) noexcept : m_channel(std::exchange(other.m_channel, nullptr)) {}
    SshChannel& operator=(SshChannel&& other) noexcept {
        if (this != &other) {
            reset();
            m_channel = std::exchange(other.m_channel, nullptr);
        }
        return *this;
    }
    ~SshChannel() { reset(); }

    ssh_channel get() const { return m_channel; }
    explicit operator bool() const { return m_channel != nullptr; }

    // The orderly end: sends EOF and CLOSE to the server, then frees the channel.
    void close() {
        if (m_channel != nullptr) {
            ssh_channel_close(m_channel);
        }
        reset();
    }
    // Frees the channel without waiting for the server (libssh tells a connected server that it is closed).
    void reset() {
        if (m_channel != nullptr) {
            ssh_channel_free(std::exchange(m_channel, nullptr));
        }
    }

private:
    ssh_channel m_channel = nullptr;
};

} // namespace sshard::transport
