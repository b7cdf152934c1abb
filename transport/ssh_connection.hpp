// One authenticated libssh session to a host, set up the way OpenSSH users expect: their ssh_config, their
// known_hosts, their agent and keys. Used by one thread only.
#pragma once

#include <chrono>
#include <libssh/libssh.h>
#include <optional>
#include <string>

#include "core/spec.hpp"

namespace sshard::transport {

struct SshOptions;

class SshConnection {
public:
    // Connects, checks the host key, authenticates. Throws SshError with a message naming the host and what
    // failed: resolution, refusal, timeout, an unknown or changed host key (with its fingerprint and how to
    // accept it), or authentication.
    SshConnection(const core::HostSpec& host, const SshOptions& options);
    ~SshConnection();
    SshConnection(const SshConnection&) = delete;
    SshConnection& operator=(const SshConnection&) = delete;

    ssh_session get() const { return m_session; }
    int fd() const { return ssh_get_fd(m_session); }
    bool connected() const { return ssh_is_connected(m_session) != 0; }
    // The server's banner, e.g. "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3".
    std::string server_banner() const;
    // Runs a short command to its end and returns its stdout; throws SshError.
    std::string run(const std::string& command);
    // The host's CPU count, where it tells; throws SshError.
    std::optional<int> cpu_count();

private:
    void configure(const core::HostSpec& host, const SshOptions& options);
    void check_host_key(const SshOptions& options);
    void authenticate();
    std::string error() const { return ssh_get_error(m_session); }

    ssh_session m_session = nullptr;
    std::string m_label; // "user@host:port" as the user wrote it, for messages
};

class SshError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

} // namespace sshard::transport
