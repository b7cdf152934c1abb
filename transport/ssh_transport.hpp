// The SSH transport: shards run on remote hosts through libssh, over persistent sessions, on one slot worker
// per slot (transport/slot_worker.hpp: a channel running a small sh loop that runs shard after shard), or
// each on an `exec` channel of its own (jobs with `detach: true`, and hosts whose shell cannot run a worker).
//
// Threads. One thread per SSH host (transport/ssh_host.hpp) owns that host's sessions and channels, so no libssh
// object is ever touched by two threads (libssh's rule), and a slow or hung host delays only itself. The cost
// per host is one thread (8 MiB of virtual stack, a few pages resident) plus its libssh sessions (one per 9
// slots); for hundreds of hosts that is cheap, and it keeps each host's thread a plain loop: poll the sessions'
// sockets, read every channel, start what waits, check liveness. Calls from the scheduler only post a request
// to the host's mailbox (core/mailbox.hpp), which wakes its thread.
//
// Limits of the server. OpenSSH allows 10 channels per connection (MaxSessions): a host gets one session
// per 9 slots, the tenth channel being kept for cancels; a refused channel open is retried, never a shard
// failure. OpenSSH drops unauthenticated connections beyond 10 (MaxStartups): handshakes are bounded per host
// (one at a time) and across hosts.
//
// What runs remotely. On a slot worker, see slot_worker.hpp; a cancel goes through the worker. On a channel of
// its own, the command runs under `/bin/sh -c` inside a small wrapper that reads the job's env from stdin,
// enters its workdir, and reports on stderr (in lines carrying a random marker, which this thread strips) its
// process group at the start and the CPU time of the command at the end, from the shell's `times`. The
// wrapper is the session's leader, so its process group holds everything the shard starts: a cancel sends
// TERM to the channel and `kill -TERM` to the group over a second channel (for servers that ignore signal
// requests), then KILL after the grace.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/spec.hpp"
#include "core/transport.hpp"
#include "transport/ssh_options.hpp"

namespace sshard::transport {

class HandshakeGate;
class SshHost;

class SshTransport final : public core::Transport {
public:
    // Starts one SshHost per host whose transport is ssh; other hosts of the table are not this transport's.
    // `hosts` must outlive the transport. Throws core::Error when a host's thread cannot be started.
    SshTransport(core::TransportEvents& events, const std::vector<core::HostSpec>& hosts, SshOptions options);
    ~SshTransport() override;
    SshTransport(const SshTransport&) = delete;
    SshTransport& operator=(const SshTransport&) = delete;

    void connect(std::size_t host) override;
    void start(core::Launch launch) override;
    void cancel(std::uint64_t attempt, std::chrono::milliseconds grace) override;
    void shutdown() override;
    void add_host(std::size_t host) override;
    // Ends the host's thread, which closes its sessions; connect() starts a new one.
    void disconnect(std::size_t host) override;
    // True: every shard's host says when its command starts (the slot worker's start record, or the wrapper's
    // first line on a channel of its own).
    bool reports_starts(std::size_t) const override { return true; }

private:
    class Reports; // what the hosts report, on its way to the scheduler

    // Called once an attempt's outcome is out: cancels for it are no longer routed.
    void forget(std::uint64_t attempt);

    const std::vector<core::HostSpec>& m_table;
    SshOptions m_options;
    std::unique_ptr<Reports> m_reports;
    std::vector<std::unique_ptr<SshHost>> m_hosts; // by host index; null for hosts of other transports
    std::vector<bool> m_let_go;                    // by host index: its thread was ended by disconnect()
    std::mutex m_mutex;
    std::unordered_map<std::uint64_t, std::size_t> m_attempt_hosts; // where each started attempt runs
    std::unique_ptr<HandshakeGate> m_gate; // bounds the handshakes in flight; stopped at shutdown
    bool m_shut_down = false;
};

} // namespace sshard::transport
