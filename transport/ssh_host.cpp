#include "transport/ssh_host.hpp"

#include <csignal>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>

namespace sshard::transport {

namespace {

constexpr std::chrono::milliseconds k_poll_interval{50};
constexpr std::chrono::milliseconds k_reopen_delay{100};

} // namespace

SshHost::SshHost(core::TransportEvents& events, const core::HostSpec& spec, std::size_t index,
                 const SshOptions& options, HandshakeGate& gate)
    : m_events(events), m_spec(spec), m_index(index), m_options(options), m_gate(gate) {
    m_thread = std::thread([this] { loop(); });
}

SshHost::~SshHost() {
    post_shutdown();
    join();
}

void SshHost::post(Request request) {
    m_inbox.post(std::move(request));
}

void SshHost::post_connect() {
    post({Request::Kind::connect, {}, 0, {}});
}

void SshHost::post_start(core::Launch launch) {
    post({Request::Kind::start, std::move(launch), 0, {}});
}

void SshHost::post_cancel(std::uint64_t attempt, std::chrono::milliseconds grace) {
    post({Request::Kind::cancel, {}, attempt, grace});
}

void SshHost::post_shutdown() {
    post({Request::Kind::shutdown, {}, 0, {}});
}

void SshHost::join() {
    if (m_thread.joinable()) {
        m_thread.join();
    }
}

void SshHost::loop() {
    // Each step may lose the host, which drops its sessions: the steps after it must not run then.
    constexpr void (SshHost::*steps[])() = {&SshHost::start_pending, &SshHost::pump, &SshHost::reap_controls,
                                            &SshHost::check_liveness, &SshHost::sample};
    while (take_requests()) {
        for (auto step : steps) {
            if (!m_up) {
                break;
            }
            (this->*step)();
        }
        wait_for_io();
    }
}

// Handles what the scheduler asked; returns false once the worker is to stop.
bool SshHost::take_requests() {
    auto requests = m_inbox.take();
    m_requests_taken = Clock::now();
    for (auto& request : requests) {
        handle(request);
    }
    return !m_stop;
}

void SshHost::handle(Request& request) {
    switch (request.kind) {
    case Request::Kind::connect:
        connect();
        break;
    case Request::Kind::start:
        if (m_up) {
            m_pending.push_back(std::move(request.launch));
        } else {
            fail_launch(request.launch, fmt::format("host {} is not connected", m_spec.name));
        }
        break;
    case Request::Kind::cancel: {
        // From when the request came, not when its turn came: a cancel before it may have waited on the host.
        auto due = m_requests_taken + request.grace;
        auto [it, fresh] = m_cancel_due.try_emplace(request.attempt, due);
        it->second = std::min(it->second, due);
        cancel(request.attempt, request.grace);
        break;
    }
    case Request::Kind::shutdown:
        for (auto& [attempt, run] : m_running) {
            run.cancelled = true;
            signal_group(run, "KILL");
        }
        lose_host("sshard is shutting down");
        m_stop = true;
        break;
    }
}

void SshHost::connect() {
    if (m_up && !m_sessions.front().connection->connected()) {
        lose_host(ssh_get_error(m_sessions.front().connection->get()));
    }
    if (m_up) {
        core::HostState state;
        state.up = true;
        m_events.on_host_state(m_index, state);
        return;
    }
    auto started = Clock::now();
    core::HostState state;
    try {
        Session* session = open_session();
        state.cpus = session->connection->cpu_count();
        state.memory = first_reading(*session);
        start_worker_on(*session, state);
        state.up = true;
        state.setup_s = std::chrono::duration<double>(Clock::now() - started).count();
        m_up = true;
        m_last_heard = Clock::now();
    } catch (const SshError& e) {
        m_sessions.clear();
        state.reason = e.what();
    }
    m_events.on_host_state(m_index, state);
}

// A new authenticated session, within the bound on concurrent handshakes. Throws SshError.
SshHost::Session* SshHost::open_session() {
    m_sessions.push_back({std::make_unique<SshConnection>(m_spec, m_options, &m_gate), 0, k_channels_per_session});
    return &m_sessions.back();
}

void SshHost::start_pending() {
    if (Clock::now() < m_retry_start_at) {
        return;
    }
    while (m_up && !m_pending.empty()) {
        core::Launch launch = std::move(m_pending.front());
        m_pending.pop_front();
        if (!stage(launch)) {
            continue; // reported, or the host was lost
        }
        if (!start_one(launch)) {
            if (m_up) {
                // The server refused a channel: wait a little and try again, never fail the shard for it.
                m_pending.push_front(std::move(launch));
                m_retry_start_at = Clock::now() + k_reopen_delay;
            }
            return;
        }
    }
}

// A session with room for one more channel, opened if need be; null when none can be had now.
SshHost::Session* SshHost::session_with_room() {
    for (auto& s : m_sessions) {
        if (s.channels < s.capacity) {
            return &s;
        }
    }
    try {
        return open_session();
    } catch (const SshError&) {
        return nullptr; // the server may refuse more connections for now; the sessions we have stay in use
    }
}

// After a session refused a channel: a lost host fails every attempt (`launch` included), else the server's
// limit is lower than we thought.
void SshHost::refused(Session& session, core::Launch& launch) {
    if (!session.connection->connected()) {
        fail_launch(launch, ssh_get_error(session.connection->get()));
        lose_host(ssh_get_error(session.connection->get()));
        return;
    }
    session.capacity = std::max(1, session.channels);
}

// Runs `launch` on a slot worker, or on a channel of its own. Returns false when it could not start now: a
// refused channel (retry later) or a lost host (then every attempt of the host has been failed, this one
// included).
bool SshHost::start_one(core::Launch& launch) {
    return !m_fallback && !launch.detach ? start_on_worker(launch) : start_on_channel(launch);
}

void SshHost::pump() {
    for (auto it = m_running.begin(); it != m_running.end();) {
        auto current = it++;
        Running& run = current->second;
        if (run.kill_at && Clock::now() >= *run.kill_at) {
            run.kill_at.reset();
            signal_group(run, "KILL");
        }
        bool kept = run.slot != nullptr ? pump_slot(current->first, run) : pump_channel(current->first, run);
        if (!kept) {
            return; // the host was lost
        }
    }
    reap_idle_slots();
    for (const auto& session : m_sessions) {
        if (!session.connection->connected()) {
            lose_host(ssh_get_error(session.connection->get()));
            return;
        }
    }
}

void SshHost::cancel(std::uint64_t attempt, std::chrono::milliseconds grace) {
    for (auto it = m_pending.begin(); it != m_pending.end(); ++it) {
        if (it->attempt == attempt) {
            core::Outcome outcome;
            outcome.kind = core::Outcome::Kind::signaled;
            outcome.signal = SIGTERM;
            outcome.start = outcome.end = std::chrono::system_clock::now();
            m_pending.erase(it);
            m_events.on_finished(attempt, outcome);
            return;
        }
    }
    auto it = m_running.find(attempt);
    if (it == m_running.end()) {
        return;
    }
    Running& run = it->second;
    run.cancelled = true;
    auto kill_at = Clock::now() + grace;
    run.kill_at = run.kill_at ? std::min(*run.kill_at, kill_at) : kill_at;
    if (!run.term_sent) {
        run.term_sent = true;
        if (run.slot == nullptr) {
            ssh_channel_request_send_signal(run.channel.get(), "TERM");
        }
        signal_group(run, "TERM");
    }
    if (grace.count() == 0) {
        run.kill_at.reset();
        signal_group(run, "KILL");
    }
}

// A host silent for keepalive_interval gets a keepalive, which a live server answers and a stopped or vanished
// one does not; each wait for the answer is at most k_answer_wait. A host silent for dead_after is lost, and so
// is one that does not answer within k_answer_wait when a cancelled shard on it is past its grace (or that left
// a wait unanswered since it was last heard): a frozen host must not hold up an interrupted run.
void SshHost::check_liveness() {
    auto now = Clock::now();
    bool owed = cancel_overdue(now);
    bool silent = now - m_last_heard >= m_options.keepalive_interval;
    if (!silent && !(owed && now - m_last_keepalive >= k_answer_wait)) {
        return;
    }
    m_last_keepalive = now;
    SshConnection& connection = *m_sessions.front().connection;
    bool unanswered = connection.last_unanswered() > m_last_heard;
    if (!(owed && unanswered) && connection.keepalive(k_answer_wait)) {
        m_last_heard = Clock::now();
        return;
    }
    auto silence = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - m_last_heard);
    if (!connection.connected() || owed || silence >= m_options.dead_after) {
        lose_host(owed ? fmt::format("no answer after a cancel's grace ({} s silent)", silence.count())
                       : fmt::format("no answer for {} s", silence.count()));
    }
}

// Whether an attempt cancelled on this host still runs past its grace; forgets the cancels that are settled.
bool SshHost::cancel_overdue(Clock::time_point now) {
    bool overdue = false;
    for (auto it = m_cancel_due.begin(); it != m_cancel_due.end();) {
        if (!m_running.contains(it->first)) {
            it = m_cancel_due.erase(it);
            continue;
        }
        overdue = overdue || it->second <= now;
        ++it;
    }
    return overdue;
}

// The host's first reading of /proc, on connect: its memory for shards that need some, and the base of its
// first sample. nullopt for hosts without /proc (not Linux). Throws SshError, as the CPU count before it.
std::optional<std::uint64_t> SshHost::first_reading(Session& session) {
    m_last_reading = core::parse_proc(
        session.connection->run("cat /proc/stat /proc/meminfo 2>/dev/null", m_options.connect_timeout));
    m_last_sample = Clock::now();
    return m_last_reading ? std::optional(m_last_reading->mem_total) : std::nullopt;
}

// Reads the host's /proc over the existing connection: its CPU busy share since the last reading and its
// memory in use. Hosts without /proc (not Linux) give nothing, and the report shows n/a.
void SshHost::sample() {
    auto now = Clock::now();
    // A silent host is the liveness check's: sampling it would only wait.
    if (now - m_last_sample < core::k_sample_interval || now - m_last_heard >= m_options.keepalive_interval) {
        return;
    }
    m_last_sample = now;
    try {
        auto reading = core::parse_proc(
            m_sessions.front().connection->run("cat /proc/stat /proc/meminfo 2>/dev/null", k_answer_wait));
        m_last_heard = Clock::now();
        if (reading && m_last_reading) {
            if (auto sample = core::sample_between(*m_last_reading, *reading)) {
                m_events.on_host_sample(m_index, *sample);
            }
        }
        m_last_reading = reading;
    } catch (const SshError&) {
        // A failing host is found by the liveness checks; a missed sample is only a gap in the report.
    }
}

// The host is gone: every attempt on it or waiting for it fails as a transport failure, and the scheduler
// is told, so it can requeue them and reconnect later.
void SshHost::lose_host(const std::string& reason) {
    if (!m_up && m_running.empty() && m_pending.empty()) {
        return;
    }
    std::string message = reason.empty() ? "connection lost" : reason;
    if (message.rfind(m_spec.name, 0) != 0) {
        message = fmt::format("{}: {}", m_spec.name, message);
    }
    std::vector<std::pair<std::uint64_t, core::Outcome>> lost;
    for (auto& [attempt, run] : m_running) {
        lost.emplace_back(attempt,
                          core::Outcome::transport_failure(message, run.start, std::chrono::system_clock::now()));
    }
    m_slots.clear();
    m_controls.clear();
    m_supervisor.reset();
    m_running.clear(); // frees the channels of shards on channels of their own
    for (auto& launch : m_pending) {
        fail_launch(launch, message);
    }
    m_pending.clear();
    m_sent.clear();
    m_sessions.clear();
    m_last_reading.reset();
    bool was_up = m_up;
    m_up = false;
    for (auto& [attempt, outcome] : lost) {
        m_events.on_finished(attempt, std::move(outcome));
    }
    if (was_up) {
        core::HostState state;
        state.reason = message;
        m_events.on_host_state(m_index, state);
    }
}

void SshHost::fail_launch(const core::Launch& launch, const std::string& reason) {
    auto now = std::chrono::system_clock::now();
    m_events.on_finished(launch.attempt, core::Outcome::transport_failure(reason, now, now));
}

// Sleeps until a request comes, a session's socket has data, or the next check is due.
void SshHost::wait_for_io() {
    std::vector<pollfd> fds = {{m_inbox.wake_fd(), POLLIN, 0}};
    for (const auto& session : m_sessions) {
        if (session.channels > 0) {
            fds.push_back({session.connection->fd(), POLLIN, 0});
        }
    }
    if (poll(fds.data(), fds.size(), static_cast<int>(k_poll_interval.count())) > 0) {
        for (std::size_t i = 1; i < fds.size(); ++i) {
            if (fds[i].revents != 0) {
                m_last_heard = Clock::now();
                // sshd sends a shard's end as several small packets without TCP_NODELAY: acknowledging at
                // once, instead of after the delayed-ACK timer, lets Nagle's algorithm release the next.
                int on = 1;
                setsockopt(fds[i].fd, IPPROTO_TCP, TCP_QUICKACK, &on, sizeof on);
            }
        }
    }
}

} // namespace sshard::transport
