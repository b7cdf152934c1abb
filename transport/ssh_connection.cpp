#include "transport/ssh_connection.hpp"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fmt/format.h>
#include <libssh/callbacks.h>
#include <libssh/server.h> // ssh_send_keepalive
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace sshard::transport {

namespace {

// How long a server may take to send its banner before its connection gives back its handshake slot.
constexpr std::chrono::seconds k_first_word{2};

// Detects a dead peer on the socket level too: keepalive probes after 5 s idle, and unacknowledged data
// failing the connection after 10 s. (A stopped sshd still has its kernel answer, which only the SSH-level
// keepalives of the worker catch.)
void tune_socket(int fd) {
    int on = 1;
    int idle = 5;
    int interval = 2;
    int count = 3;
    unsigned int user_timeout_ms = 10000;
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
    setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms, sizeof user_timeout_ms);
}

// libssh's log settings are per thread (its LIBSSH_THREAD globals), and every connection is made and used by one
// thread: a worker serves one host, a check one host at a time. So the thread remembers where its lines go.
struct LogTarget {
    std::string host;
    const std::function<void(std::string_view)>* sink = nullptr;
};
thread_local LogTarget t_log_target;

void forward_log(int, const char*, const char* line, void*) {
    if (t_log_target.sink != nullptr && *t_log_target.sink) {
        (*t_log_target.sink)(fmt::format("{}: libssh: {}", t_log_target.host, line));
    }
}

std::string fingerprint(ssh_session session) {
    ssh_key key = nullptr;
    if (ssh_get_server_publickey(session, &key) != SSH_OK) {
        return "unknown";
    }
    unsigned char* hash = nullptr;
    std::size_t length = 0;
    std::string text = "unknown";
    if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &length) == 0) {
        char* printable = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, length);
        text = printable;
        ssh_string_free_char(printable);
        ssh_clean_pubkey_hash(&hash);
    }
    ssh_key_free(key);
    return text;
}

// A gate's slot, held until the end of a handshake.
class Slot {
public:
    explicit Slot(HandshakeGate* gate) : m_gate(gate) {}
    ~Slot() {
        if (m_held) {
            m_gate->release();
        }
    }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;

    bool needed() const { return m_gate != nullptr && !m_held; }
    bool held() const { return m_held; }
    bool acquire() { return m_held = m_gate->acquire(); }
    void release() {
        m_gate->release();
        m_held = false;
    }

private:
    HandshakeGate* m_gate;
    bool m_held = false;
};

// Whether a socket has its peer yet: until then, libssh waits for it to become writable (connected).
bool has_peer(int fd) {
    sockaddr_storage peer{};
    socklen_t length = sizeof peer;
    return getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &length) == 0;
}

} // namespace

SshConnection::SshConnection(const core::HostSpec& host, const SshOptions& options, HandshakeGate* gate)
    : m_label(host.name), m_timeout(options.connect_timeout) {
    m_session = ssh_new();
    if (m_session == nullptr) {
        throw SshError(fmt::format("{}: cannot create an SSH session", host.name));
    }
    try {
        configure(host, options);
        handshake(options, gate);
    } catch (...) {
        ssh_disconnect(m_session);
        ssh_free(m_session);
        throw;
    }
}

void SshConnection::handshake(const SshOptions& options, HandshakeGate* gate) {
    ssh_set_blocking(m_session, 0);
    Slot slot(gate);
    if (slot.needed() && !slot.acquire()) {
        throw SshError(fmt::format("{}: not connected: sshard is stopping", m_label));
    }
    bool banner = false;
    auto started = Clock::now();
    auto deadline = started + m_timeout;
    int result = SSH_AGAIN;
    while ((result = ssh_connect(m_session)) == SSH_AGAIN) {
        if (!banner && ssh_get_serverbanner(m_session) != nullptr) {
            banner = true;
            deadline = Clock::now() + m_timeout;
        }
        // A server still silent after k_first_word gives its slot back until it speaks: a host that accepts
        // connections and never says a word holds up no other for longer than that.
        bool silent = !banner && slot.held();
        short ready = await(silent ? std::min(deadline, started + k_first_word) : deadline, deadline,
                            banner ? "the key exchange" : "the server's SSH banner", gate);
        if (silent && Clock::now() >= started + k_first_word) {
            slot.release();
        }
        // The server has spoken, or closed: its bytes wait in the socket until a slot is ours again.
        if (slot.needed() && (ready & (POLLIN | POLLHUP | POLLERR)) != 0 && !slot.acquire()) {
            throw SshError(fmt::format("{}: not connected: sshard is stopping", m_label));
        }
    }
    if (result != SSH_OK) {
        throw SshError(fmt::format("{}: cannot connect to {}: {}", m_label, m_target, error()));
    }
    tune_socket(fd());
    check_host_key(options);
    // The agent first, then the default keys and the config's IdentityFile, as OpenSSH does.
    deadline = Clock::now() + m_timeout;
    while ((result = ssh_userauth_publickey_auto(m_session, nullptr, nullptr)) == SSH_AUTH_AGAIN) {
        await(deadline, deadline, "the authentication", gate);
    }
    if (result != SSH_AUTH_SUCCESS) {
        throw SshError(fmt::format("{}: authentication as {} failed: no key from the agent or the identity files "
                                   "was accepted{}",
                                   m_label, m_target, result == SSH_AUTH_ERROR ? ": " + error() : std::string()));
    }
    ssh_set_blocking(m_session, 1);
}

// Waits until the socket is ready for what libssh waits for, or until `until`; throws SshError when `deadline`
// has passed or the gate is stopped. Returns the socket's poll events, none when `until` came first.
short SshConnection::await(Clock::time_point until, Clock::time_point deadline, const char* phase,
                           HandshakeGate* gate) {
    short events = POLLIN;
    if (!has_peer(fd()) || (ssh_get_poll_flags(m_session) & SSH_WRITE_PENDING) != 0) {
        events |= POLLOUT;
    }
    pollfd fds[] = {{fd(), events, 0}, {gate != nullptr ? gate->stop_fd() : -1, POLLIN, 0}};
    if (Clock::now() >= deadline) {
        throw SshError(
            fmt::format("{}: timed out after {} s waiting for {} of {}", m_label, m_timeout.count(), phase, m_target));
    }
    auto left = std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now());
    if (poll(fds, 2, static_cast<int>(std::max<std::chrono::milliseconds::rep>(left.count(), 0))) < 0 &&
        errno != EINTR) {
        throw SshError(fmt::format("{}: cannot wait for the connection: {}", m_label, std::strerror(errno)));
    }
    if (fds[1].revents != 0) {
        throw SshError(fmt::format("{}: not connected: sshard is stopping", m_label));
    }
    return fds[0].revents;
}

SshConnection::~SshConnection() {
    ssh_disconnect(m_session);
    ssh_free(m_session);
}

void SshConnection::configure(const core::HostSpec& host, const SshOptions& options) {
    // Without a sink, libssh would print its lines (an ssh_config's LogLevel turns them on) straight to stderr.
    t_log_target = {host.name, &options.log};
    ssh_set_log_callback(forward_log);
    ssh_options_set(m_session, SSH_OPTIONS_HOST, host.name.c_str());
    // The user's ssh_config first, as OpenSSH reads it; what the spec says explicitly wins.
    const char* config = options.config_file.empty() ? nullptr : options.config_file.c_str();
    if (ssh_options_parse_config(m_session, config) != 0) {
        std::string message = fmt::format("{}: cannot read ssh config: {}", host.name, error());
        ssh_free(m_session);
        throw SshError(message);
    }
    if (options.log && ssh_get_log_level() < SSH_LOG_WARNING) {
        int warnings = SSH_LOG_WARNING;
        ssh_options_set(m_session, SSH_OPTIONS_LOG_VERBOSITY, &warnings);
    }
    if (!host.user.empty()) {
        ssh_options_set(m_session, SSH_OPTIONS_USER, host.user.c_str());
    }
    if (host.port != 0) {
        unsigned int port = static_cast<unsigned int>(host.port);
        ssh_options_set(m_session, SSH_OPTIONS_PORT, &port);
    }
    set_timeout(m_timeout);
    int nodelay = 1; // short commands are ~20x faster without Nagle's delay
    ssh_options_set(m_session, SSH_OPTIONS_NODELAY, &nodelay);
    m_target = resolved_target();
}

// What the spec and ssh_config made of the host (HostName, User, Port), as a connection error should name it.
std::string SshConnection::resolved_target() {
    char* user = nullptr;
    if (ssh_options_get(m_session, SSH_OPTIONS_USER, &user) != SSH_OK) {
        ssh_options_set(m_session, SSH_OPTIONS_USER, nullptr); // the local user, as libssh would take at connect
        ssh_options_get(m_session, SSH_OPTIONS_USER, &user);
    }
    char* address = nullptr;
    ssh_options_get(m_session, SSH_OPTIONS_HOST, &address);
    unsigned int port = 22;
    ssh_options_get_port(m_session, &port);
    std::string host = address != nullptr ? address : "?";
    std::string target = fmt::format("{}@{}:{}", user != nullptr ? user : "?",
                                     host.find(':') != std::string::npos ? "[" + host + "]" : host, port);
    ssh_string_free_char(user);
    ssh_string_free_char(address);
    return target;
}

void SshConnection::check_host_key(const SshOptions& options) {
    switch (ssh_session_is_known_server(m_session)) {
    case SSH_KNOWN_HOSTS_OK:
        return;
    case SSH_KNOWN_HOSTS_CHANGED:
    case SSH_KNOWN_HOSTS_OTHER:
        throw SshError(fmt::format("{}: the host key has CHANGED (now {}); refusing to connect: someone may be "
                                   "intercepting the connection, or the host was reinstalled (then remove its "
                                   "old key from known_hosts)",
                                   m_label, fingerprint(m_session)));
    case SSH_KNOWN_HOSTS_NOT_FOUND:
    case SSH_KNOWN_HOSTS_UNKNOWN:
        if (options.accept_new_host_keys) {
            if (ssh_session_update_known_hosts(m_session) != SSH_OK) {
                throw SshError(fmt::format("{}: cannot record the host key: {}", m_label, error()));
            }
            return;
        }
        throw SshError(fmt::format("{}: unknown host key {}; check it, then add it to known_hosts (for example "
                                   "by connecting once with ssh) or run with --accept-new-host-keys",
                                   m_label, fingerprint(m_session)));
    case SSH_KNOWN_HOSTS_ERROR:
        break;
    }
    throw SshError(fmt::format("{}: cannot check the host key: {}", m_label, error()));
}

// Bounds what each blocking libssh call on the session waits for an answer.
void SshConnection::set_timeout(std::chrono::seconds timeout) {
    long seconds = timeout.count();
    ssh_options_set(m_session, SSH_OPTIONS_TIMEOUT, &seconds);
}

bool SshConnection::keepalive(std::chrono::seconds wait) {
    auto start = Clock::now();
    set_timeout(wait);
    // It waits for the server's answer, a refusal (OpenSSH does not know the request), within the timeout.
    ssh_send_keepalive(m_session);
    set_timeout(m_timeout);
    if (Clock::now() - start >= wait) {
        m_last_unanswered = Clock::now();
        return false;
    }
    return connected();
}

std::string SshConnection::server_banner() const {
    const char* banner = ssh_get_serverbanner(m_session);
    return banner != nullptr ? banner : "";
}

std::optional<int> SshConnection::cpu_count() {
    std::string answer = run("getconf _NPROCESSORS_ONLN 2>/dev/null || nproc", m_timeout);
    int count = 0;
    auto parsed = std::from_chars(answer.data(), answer.data() + answer.size(), count);
    return parsed.ec == std::errc() && count > 0 ? std::optional(count) : std::nullopt;
}

SshChannel SshConnection::exec(const std::string& command, std::chrono::seconds wait) {
    auto start = Clock::now();
    set_timeout(wait);
    SshChannel channel(ssh_channel_new(m_session));
    if (channel && (ssh_channel_open_session(channel.get()) != SSH_OK ||
                    ssh_channel_request_exec(channel.get(), command.c_str()) != SSH_OK)) {
        channel.reset();
        if (Clock::now() - start >= wait) {
            m_last_unanswered = Clock::now();
        }
    }
    set_timeout(m_timeout);
    return channel;
}

std::string SshConnection::run(const std::string& command, std::chrono::seconds limit) {
    auto deadline = Clock::now() + limit;
    SshChannel channel = exec(command, limit);
    if (!channel) {
        throw SshError(fmt::format("{}: cannot run '{}': {}", m_label, command, error()));
    }
    std::string out;
    char buffer[4096];
    int n = 0;
    auto left = [&] {
        return static_cast<int>(std::max<std::chrono::milliseconds::rep>(
            1, std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count()));
    };
    while (Clock::now() < deadline &&
           (n = ssh_channel_read_timeout(channel.get(), buffer, sizeof buffer, 0, left())) > 0) {
        out.append(buffer, static_cast<std::size_t>(n));
    }
    bool finished = ssh_channel_is_eof(channel.get()) != 0;
    ssh_channel_send_eof(channel.get());
    channel.close();
    if (n == SSH_ERROR || !finished) {
        throw SshError(fmt::format("{}: '{}' failed: {}", m_label, command,
                                   n == SSH_ERROR ? error() : fmt::format("no end within {} s", limit.count())));
    }
    return out;
}

} // namespace sshard::transport
