// One slot worker (transport/slot_worker.hpp) on an SSH channel: starting it, sending it requests and
// signals, and reading its streams. Used by one thread, the one that owns the channel's session.
#pragma once

#include <chrono>
#include <libssh/libssh.h>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/transport.hpp"
#include "transport/slot_worker.hpp"
#include "transport/ssh_channel.hpp"

namespace sshard::transport {

class WorkerChannel {
public:
    // Opens a channel on `session`, runs the worker in it and sends it a fresh marker; does not wait for it
    // to be ready. Returns null when the channel or the command is refused (ssh_get_error says why).
    static std::unique_ptr<WorkerChannel> open(ssh_session session, std::chrono::milliseconds grace);
    ~WorkerChannel();
    WorkerChannel(const WorkerChannel&) = delete;
    WorkerChannel& operator=(const WorkerChannel&) = delete;

    // Sends a request or signal line; false when the channel failed.
    bool send(std::string_view line);
    // Reads what has arrived on both streams and passes the shard's bytes to `sink` (null: dropped). False
    // when the session failed.
    bool pump(core::OutputSink* sink);
    // Waits up to `timeout` for the worker's stdout (for callers without a poll loop of their own).
    void wait(std::chrono::milliseconds timeout);
    // The worker's channel has ended (EOF or closed): the worker is gone.
    bool gone() const;

    WorkerReader& reader() { return m_reader; }

private:
    WorkerChannel(SshChannel channel, std::string marker);

    SshChannel m_channel;
    WorkerReader m_reader;
};

// Starts a worker on `session` and waits up to `timeout` until it says it is ready. Returns it, or null with
// `why` saying what went wrong (the host's shell cannot run it, or it did not answer).
std::unique_ptr<WorkerChannel> start_worker(ssh_session session, std::chrono::milliseconds grace,
                                            std::chrono::milliseconds timeout, std::string& why);

} // namespace sshard::transport
