// The local transport: every host in its table is this machine. Each attempt runs as `/bin/sh -c command` in
// a process group of its own, so that a cancel reaches everything the shard started, and a GroupSupervisor
// ends those groups when the runner dies. One I/O thread owns all
// children: it streams their stdout and stderr to the attempts' sinks, reaps them, enforces cancel grace
// periods and reports outcomes. The scheduler's calls only queue a request for that thread and wake it, so
// they never block on a child, and every event is delivered from that one thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "core/mailbox.hpp"
#include "core/transport.hpp"
#include "transport/group_supervisor.hpp"

namespace sshard::transport {

class LocalTransport final : public core::Transport {
public:
    // After a shard's shell has exited, its pipes may still be held open by a process it left behind. They
    // are read until both reach end of file, or until no data came for k_drain_idle, but for no longer than
    // k_drain_max after the exit; then they are closed and the outcome is reported.
    static constexpr std::chrono::milliseconds k_drain_idle{100};
    static constexpr std::chrono::milliseconds k_drain_max{1000};

    // Starts the I/O thread for a table of `host_count` hosts. Throws core::Error when the thread or its
    // wake-up descriptor cannot be created.
    LocalTransport(core::TransportEvents& events, std::size_t host_count);
    // Shuts down first if shutdown() was not called.
    ~LocalTransport() override;
    LocalTransport(const LocalTransport&) = delete;
    LocalTransport& operator=(const LocalTransport&) = delete;

    // Reports the host up, with this machine's CPU count, from the I/O thread.
    void connect(std::size_t host) override;
    // Runs launch.command with the runner's environment plus launch.env (which wins), in launch.workdir if it
    // is not empty, stdin from /dev/null. A workdir that cannot be entered makes the shard exit with 127 and
    // a message on its stderr; a failure to create pipes or a process is a transport_failed outcome.
    void start(core::Launch launch) override;
    // TERM to the attempt's process group now, KILL after `grace` if the shell still runs; when the shell
    // has exited, whatever remains of the group is killed too. Unknown or finished attempts are ignored.
    void cancel(std::uint64_t attempt, std::chrono::milliseconds grace) override;
    // KILLs every running process group, returns once all outcomes are delivered and the thread is gone.
    // Further calls do nothing; start, cancel and connect must not be called afterwards.
    void shutdown() override;

private:
    // A call from the scheduler's thread, waiting for the I/O thread.
    struct Request {
        enum class Kind { connect, start, cancel, stop };
        Kind kind = Kind::stop;
        std::size_t host = 0;
        core::Launch launch{};
        std::uint64_t attempt = 0;
        std::chrono::milliseconds grace{};
    };
    struct Running; // a started attempt, owned by the I/O thread
    using Clock = std::chrono::steady_clock;

    void post(Request request);
    void run();
    void take_requests();
    void handle(Request& request);
    void spawn(core::Launch& launch);
    bool stage(core::Launch& launch, core::TransferStats& stats);
    void fail_to_start(const core::Launch& launch, const char* what, int error);
    void cancel_running(std::uint64_t attempt, std::chrono::milliseconds grace);
    void kill_all();
    int poll_timeout_ms() const;
    void wait_for_events(int timeout_ms);
    bool read_pipe(Running& running, core::Stream stream);
    void try_reap(Running& running);
    void advance(Running& running);
    void finish_done();

    core::TransportEvents& m_events;
    std::size_t m_host_count;

    core::Mailbox<Request> m_inbox{core::Mailbox<Request>::Wake::descriptor};
    bool m_stop_posted = false; // touched by the calling thread only

    // Only the I/O thread touches these.
    std::map<std::uint64_t, std::unique_ptr<Running>> m_running;
    std::vector<char> m_buffer;
    bool m_stopping = false;
    std::map<std::size_t, std::set<std::string>> m_staged; // by host: the stage keys staged in this run

    GroupSupervisor m_supervisor{core::k_cancel_grace}; // kills the running shards' groups if the runner dies
    std::thread m_thread;                               // last: it starts once everything above exists
};

} // namespace sshard::transport
