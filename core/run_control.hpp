// The control socket of a running run, RUN_DIR/control.sock, through which `sshard hosts drain` and `undrain`
// ask the runner to change its hosts. Only the run's owner may: the socket is made owner-only (mode 0600) and the
// runner checks each caller's user id (SO_PEERCRED) as well. A request is one JSON line,
// {"verb": "drain" or "undrain", "hosts": [names]}; the answer one JSON line, {"error": "..."} or {"ok": true}.
#pragma once

#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "core/unique_fd.hpp"

namespace sshard::core {

struct ControlRequest {
    bool drain = true; // else undrain
    std::vector<std::string> hosts;
};

class ControlServer {
public:
    // Serves the control socket of the run in `run_dir` on a thread of its own until destroyed; a socket left
    // by a runner that was killed is replaced (the caller holds the run's lock). `handle` is called on that
    // thread for each request and returns "" or the error to answer. Throws Error when the socket cannot be
    // made.
    ControlServer(const std::string& run_dir, std::function<std::string(const ControlRequest&)> handle);
    // Stops serving and removes the socket.
    ~ControlServer();
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

private:
    void serve();
    void answer(int client);

    std::string m_path;
    std::function<std::string(const ControlRequest&)> m_handle;
    UniqueFd m_listen;
    UniqueFd m_wake; // an eventfd: wakes the thread to stop
    std::thread m_thread;
};

// Asks the run in `run_dir` to drain or undrain hosts. Returns "" when it did, or the run's reason when it
// refused (a host it does not have). Throws UsageError when no run is running there.
std::string send_control(const std::string& run_dir, const ControlRequest& request);

} // namespace sshard::core
