// One authenticated libssh session to a host, set up the way OpenSSH users expect: their ssh_config, their
// known_hosts, their agent and keys. Used by one thread only.
//
// The handshake runs in libssh's non-blocking mode, so that it can be given up at any moment, and in three
// phases of its own time limit each: the connection up to the server's banner, the key exchange, and the
// authentication. A host that accepts TCP but never speaks SSH fails the first phase and never holds one of
// the HandshakeGate's slots for long: a connection takes a slot to start, as OpenSSH's MaxStartups counts every
// connection not yet authenticated, but gives it back when the server has not spoken within 2 seconds, and takes
// one again once it does.
#pragma once

#include <chrono>
#include <libssh/libssh.h>
#include <optional>
#include <string>

#include "core/spec.hpp"
#include "transport/handshake_gate.hpp"
#include "transport/ssh_channel.hpp"
#include "transport/ssh_options.hpp"

namespace sshard::transport {

class SshConnection {
public:
    // Connects, checks the host key, authenticates, each phase within options.connect_timeout, holding one of
    // `gate`'s slots (when given) while the server talks (see above). Throws SshError with a message naming
    // the host, where it connects (user@address:port, after ssh_config), and what failed: resolution, refusal, a phase
    // that timed out, an unknown or changed host key (with its fingerprint and how to accept it), authentication, or
    // the gate that was stopped.
    SshConnection(const core::HostSpec& host, const SshOptions& options, HandshakeGate* gate = nullptr);
    ~SshConnection();
    SshConnection(const SshConnection&) = delete;
    SshConnection& operator=(const SshConnection&) = delete;

    ssh_session get() const { return m_session; }
    int fd() const { return ssh_get_fd(m_session); }
    bool connected() const { return ssh_is_connected(m_session) != 0; }
    // The server's banner, e.g. "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3".
    std::string server_banner() const;
    // Opens a channel running `command`, waiting at most `wait` for each of the server's answers; returns null
    // when the server refused or did not answer in time.
    SshChannel exec(const std::string& command, std::chrono::seconds wait);
    // Runs a short command to its end, within `limit`, and returns its stdout; throws SshError.
    std::string run(const std::string& command, std::chrono::seconds limit);
    // The host's CPU count, where it tells; throws SshError.
    std::optional<int> cpu_count();
    // Sends a keepalive, which the server must answer, and waits for the answer (or the one to an earlier
    // keepalive) for at most `wait`. Returns whether it came.
    bool keepalive(std::chrono::seconds wait);
    // When a bounded call (exec, keepalive) last went without an answer in time; the epoch if never.
    std::chrono::steady_clock::time_point last_unanswered() const { return m_last_unanswered; }

private:
    using Clock = std::chrono::steady_clock;

    void configure(const core::HostSpec& host, const SshOptions& options);
    void handshake(const SshOptions& options, HandshakeGate* gate);
    short await(Clock::time_point until, Clock::time_point deadline, const char* phase, HandshakeGate* gate);
    void check_host_key(const SshOptions& options);
    void set_timeout(std::chrono::seconds timeout);
    std::string resolved_target();
    std::string error() const { return ssh_get_error(m_session); }

    ssh_session m_session = nullptr;
    std::string m_label;              // the host's name as the spec gives it, for messages
    std::string m_target;             // "user@address:port" once ssh_config is read: where it connects
    std::chrono::seconds m_timeout{}; // what one blocking libssh call may wait, and each handshake phase
    Clock::time_point m_last_unanswered{};
};

class SshError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

} // namespace sshard::transport
