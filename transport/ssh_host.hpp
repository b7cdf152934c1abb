// One SSH host of the SSH transport (transport/ssh_transport.hpp): a thread that owns the host's libssh sessions
// and channels, so that no libssh object is ever touched by two threads (libssh's rule) and a slow or hung host
// delays only itself. The thread is a plain loop: take the scheduler's requests, start what waits, read every
// channel, check liveness, sample the host, then poll the sessions' sockets and the request mailbox.
//
// A shard runs on a slot worker (ssh_host_slots.cpp) or on a channel of its own (ssh_host_channels.cpp).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <libssh/callbacks.h>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/host_sample.hpp"
#include "core/mailbox.hpp"
#include "core/spec.hpp"
#include "core/transport.hpp"
#include "transport/handshake_gate.hpp"
#include "transport/remote_command.hpp"
#include "transport/ssh_channel.hpp"
#include "transport/ssh_connection.hpp"
#include "transport/ssh_options.hpp"
#include "transport/worker_channel.hpp"

namespace sshard::transport {

class SshHost {
public:
    // Starts the host's thread; it reports to `events`. Every argument must outlive the host. Throws core::Error
    // when the thread's wake-up descriptor cannot be created.
    SshHost(core::TransportEvents& events, const core::HostSpec& spec, std::size_t index, const SshOptions& options,
            HandshakeGate& gate);
    // Shuts the host down (as post_shutdown) and joins its thread.
    ~SshHost();
    SshHost(const SshHost&) = delete;
    SshHost& operator=(const SshHost&) = delete;

    // Each queues a request for the host's thread and returns at once; the thread reports through `events`.
    void post_connect();
    void post_start(core::Launch launch);
    void post_cancel(std::uint64_t attempt, std::chrono::milliseconds grace);
    // Kills the host's shards, fails what waits, closes the sessions and ends the thread.
    void post_shutdown();
    // Waits for the thread to end (after post_shutdown).
    void join();

private:
    using Clock = std::chrono::steady_clock;
    static constexpr int k_channels_per_session = 9; // OpenSSH's MaxSessions is 10; one is kept for cancels
    // The longest the thread waits for one answer of a host outside the handshake and the shards' channels: a
    // keepalive's, a sample's, a kill's. The thread stays responsive to shutdown and cancels meanwhile.
    static constexpr std::chrono::seconds k_answer_wait{1};

    struct Request {
        enum class Kind { connect, start, cancel, shutdown } kind;
        core::Launch launch;
        std::uint64_t attempt = 0;
        std::chrono::milliseconds grace{0};
    };
    struct Session {
        std::unique_ptr<SshConnection> connection;
        int channels = 0;
        int capacity = k_channels_per_session; // lowered when the server refuses a channel
    };
    // A slot worker's channel and the attempt it runs, if any.
    struct Slot {
        Session* session = nullptr;
        std::unique_ptr<WorkerChannel> channel;
        std::optional<std::uint64_t> attempt;
    };
    struct Running {
        core::Launch launch;
        Session* session = nullptr;
        Slot* slot = nullptr; // on a slot worker; else on a channel of its own:
        SshChannel channel;   // (channel, callbacks, filter, exit_*)
        ssh_channel_callbacks_struct callbacks{};
        std::unique_ptr<StderrFilter> filter;
        core::WallTime start{};
        std::optional<int> exit_status;
        std::optional<std::string> exit_signal;
        bool cancelled = false;
        std::optional<Clock::time_point> kill_at; // when to send KILL
        bool term_sent = false;
        bool started = false; // on_started was sent
    };
    // A channel running `kill` for a shard's process group, kept until the server has answered.
    struct Control {
        Session* session = nullptr;
        SshChannel channel;
    };

    // ssh_host.cpp: the loop, requests, sessions, liveness, samples, loss.
    void post(Request request);
    void loop();
    bool take_requests();
    void handle(Request& request);
    void connect();
    Session* open_session();
    void start_pending();
    Session* session_with_room();
    void refused(Session& session, core::Launch& launch);
    bool start_one(core::Launch& launch);
    void pump();
    void cancel(std::uint64_t attempt, std::chrono::milliseconds grace);
    void check_liveness();
    bool cancel_overdue(Clock::time_point now);
    void sample();
    std::optional<std::uint64_t> first_reading(Session& session);
    void lose_host(const std::string& reason);
    void fail_launch(const core::Launch& launch, const std::string& reason);
    void wait_for_io();

    // ssh_host_transfers.cpp: a shard's stage and collect over SFTP.
    class SftpUse;
    bool stage(core::Launch& launch);
    void complete(std::uint64_t attempt, const core::Launch& launch, core::Outcome& outcome);

    // ssh_host_slots.cpp: shards on slot workers.
    void start_worker_on(Session& session, core::HostState& state);
    bool start_on_worker(core::Launch& launch);
    bool pump_slot(std::uint64_t attempt, Running& run);
    void reap_idle_slots();
    void drop_slot(Slot* slot);
    void finish_on_worker(std::uint64_t attempt, Running& run);

    // ssh_host_channels.cpp: shards on channels of their own, and signals to shards' process groups.
    bool start_on_channel(core::Launch& launch);
    bool pump_channel(std::uint64_t attempt, Running& run);
    bool release_command(Running& run);
    bool read_channel(Running& run);
    void finish(std::uint64_t attempt, Running& run);
    void supervise(char sign, long pgid);
    void release(Running& run);
    void signal_group(Running& run, const char* signal);
    void reap_controls();
    static void on_exit_status(ssh_session, ssh_channel, int status, void* userdata);
    static void on_exit_signal(ssh_session, ssh_channel, const char* signal, int, const char*, const char*,
                               void* userdata);

    core::TransportEvents& m_events;
    const core::HostSpec& m_spec;
    std::size_t m_index;
    const SshOptions& m_options;
    HandshakeGate& m_gate;
    core::Mailbox<Request> m_inbox{core::Mailbox<Request>::Wake::descriptor};

    // Touched by the host's thread alone. The sessions come first: the channels below must go before them.
    bool m_stop = false;
    bool m_up = false;
    std::list<Session> m_sessions;
    std::list<Slot> m_slots;
    bool m_fallback = false;      // the host runs a channel per shard: its shell cannot run the worker
    bool m_fallback_said = false; // the run's output has said so
    SshChannel m_supervisor;      // kills the groups of shards on channels of their own when it closes
    Session* m_supervisor_session = nullptr;
    std::deque<core::Launch> m_pending;
    std::map<std::uint64_t, Running> m_running;
    std::vector<Control> m_controls;
    Clock::time_point m_last_heard{};
    Clock::time_point m_last_keepalive{};
    Clock::time_point m_retry_start_at{};
    Clock::time_point m_last_sample{};
    Clock::time_point m_requests_taken{}; // when the requests being handled were taken from the inbox
    std::map<std::uint64_t, Clock::time_point> m_cancel_due; // when a cancelled attempt must have ended
    std::optional<core::ProcReading> m_last_reading;
    std::set<std::string> m_staged;                      // the stage keys staged in this run (core/collector.hpp)
    std::map<std::uint64_t, core::TransferStats> m_sent; // what staging sent for an attempt not yet ended

    std::thread m_thread; // last: it starts once everything above exists
};

} // namespace sshard::transport
