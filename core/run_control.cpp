#include "core/run_control.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <string_view>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

#include "core/error.hpp"

namespace sshard::core {

namespace {

constexpr std::size_t k_max_request = 64 * 1024;
constexpr int k_client_wait_ms = 2000; // a caller that connects and sends nothing holds the runner this long

std::string socket_path(const std::string& run_dir) {
    return run_dir + "/control.sock";
}

// The address of `path`: a long path, which sockaddr_un cannot hold, through the run directory opened as `dir`.
sockaddr_un address(const std::string& path, const std::string& run_dir, UniqueFd& dir) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::string name = path;
    if (name.size() >= sizeof addr.sun_path) {
        dir.reset(::open(run_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        name = fmt::format("/proc/self/fd/{}/control.sock", dir.get());
    }
    std::memcpy(addr.sun_path, name.c_str(), std::min(name.size() + 1, sizeof addr.sun_path));
    return addr;
}

// One line from `fd`, up to k_max_request bytes; "" when the peer sent none in time.
std::string read_line(int fd) {
    std::string text;
    char buffer[4096];
    while (text.size() < k_max_request && text.find('\n') == std::string::npos) {
        ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        text.append(buffer, static_cast<std::size_t>(n));
    }
    return text.substr(0, text.find('\n'));
}

// Sends all of `data`; a peer gone away is no signal (SIGPIPE) but a failed send, which is of no use here.
void send_all(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
}

std::string encode_answer(const std::string& error) {
    nlohmann::json j = error.empty() ? nlohmann::json{{"ok", true}} : nlohmann::json{{"error", error}};
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

// The request in `line`, or why it is not one.
std::string decode_request(const std::string& line, ControlRequest& request) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object() || !j.contains("verb") || !j["verb"].is_string() || !j.contains("hosts") ||
        !j["hosts"].is_array()) {
        return "a request is {\"verb\": \"drain\" or \"undrain\", \"hosts\": [names]}";
    }
    std::string verb = j["verb"].get<std::string>();
    if (verb != "drain" && verb != "undrain") {
        return fmt::format("unknown verb '{}' (drain or undrain)", verb);
    }
    request.drain = verb == "drain";
    for (const auto& host : j["hosts"]) {
        if (!host.is_string()) {
            return "a host is a name";
        }
        request.hosts.push_back(host.get<std::string>());
    }
    return {};
}

} // namespace

ControlServer::ControlServer(const std::string& run_dir, std::function<std::string(const ControlRequest&)> handle)
    : m_path(socket_path(run_dir)), m_handle(std::move(handle)) {
    UniqueFd dir;
    sockaddr_un addr = address(m_path, run_dir, dir);
    m_listen.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    m_wake.reset(::eventfd(0, EFD_CLOEXEC));
    ::unlink(addr.sun_path);
    // Owner-only by chmod, not umask, which would change the mode of what other threads create meanwhile; until
    // then the run directory (0700) and the caller's uid check keep others out.
    bool bound = m_listen.is_open() && ::bind(m_listen.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                 ::chmod(addr.sun_path, 0600) == 0;
    int error = errno;
    if (!bound || !m_wake.is_open() || ::listen(m_listen.get(), 8) != 0) {
        throw Error(fmt::format("cannot make the control socket '{}': {}", m_path, std::strerror(error)));
    }
    m_thread = std::thread([this] { serve(); });
}

ControlServer::~ControlServer() {
    std::uint64_t one = 1;
    (void)!::write(m_wake.get(), &one, sizeof one);
    m_thread.join();
    ::unlink(m_path.c_str());
}

void ControlServer::serve() {
    while (true) {
        pollfd fds[2] = {{m_listen.get(), POLLIN, 0}, {m_wake.get(), POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0 && errno != EINTR) {
            return;
        }
        if ((fds[1].revents & POLLIN) != 0) {
            return;
        }
        if ((fds[0].revents & POLLIN) != 0) {
            UniqueFd client(::accept4(m_listen.get(), nullptr, nullptr, SOCK_CLOEXEC));
            if (client.is_open()) {
                answer(client.get());
            }
        }
    }
}

void ControlServer::answer(int client) {
    timeval wait{k_client_wait_ms / 1000, 0};
    ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
    ::setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &wait, sizeof wait);
    ucred peer{};
    socklen_t size = sizeof peer;
    if (::getsockopt(client, SOL_SOCKET, SO_PEERCRED, &peer, &size) != 0 || peer.uid != ::geteuid()) {
        send_all(client, encode_answer("only the run's owner may change its hosts"));
        return;
    }
    ControlRequest request;
    std::string error = decode_request(read_line(client), request);
    if (error.empty()) {
        error = m_handle(request);
    }
    send_all(client, encode_answer(error));
}

std::string send_control(const std::string& run_dir, const ControlRequest& request) {
    std::string path = socket_path(run_dir);
    UniqueFd dir;
    sockaddr_un addr = address(path, run_dir, dir);
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.is_open() || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        throw UsageError(fmt::format("no run is running in '{}' ({}: {})", run_dir, path, std::strerror(errno)));
    }
    nlohmann::json j = {{"verb", request.drain ? "drain" : "undrain"}, {"hosts", request.hosts}};
    send_all(fd.get(), j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    std::string line = read_line(fd.get());
    auto answer = nlohmann::json::parse(line, nullptr, false);
    if (!answer.is_object()) {
        throw UsageError(fmt::format("the run in '{}' did not answer (it may be ending)", run_dir));
    }
    return answer.contains("error") && answer["error"].is_string() ? answer["error"].get<std::string>() : "";
}

} // namespace sshard::core
