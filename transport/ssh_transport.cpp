#include "transport/ssh_transport.hpp"

#include <cassert>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <deque>
#include <fmt/format.h>
#include <libssh/callbacks.h>
#include <libssh/server.h>
#include <list>
#include <map>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <thread>
#include <unistd.h>

#include "core/error.hpp"
#include "transport/remote_command.hpp"
#include "transport/slot_worker.hpp"
#include "transport/ssh_connection.hpp"
#include "transport/worker_channel.hpp"

namespace sshard::transport {

namespace {

constexpr int k_channels_per_session = 9; // OpenSSH's MaxSessions is 10; one is kept for cancels
constexpr std::chrono::milliseconds k_poll_interval{50};
constexpr std::chrono::milliseconds k_reopen_delay{100};
// The longest the worker waits for one answer of a host outside the handshake and the shards' channels: a
// keepalive's, a sample's. The worker stays responsive to shutdown and cancels meanwhile.
constexpr std::chrono::seconds k_answer_wait{1};

using Clock = std::chrono::steady_clock;

// The number of a signal named as SSH names them ("TERM").
int signal_number(const std::string& name) {
    for (int signal = 1; signal < 32; ++signal) {
        const char* abbrev = sigabbrev_np(signal);
        if (abbrev != nullptr && name == abbrev) {
            return signal;
        }
    }
    return SIGKILL;
}

} // namespace

// One host's thread. Everything below m_mutex's members is touched by that thread alone.
class SshTransport::Worker {
public:
    Worker(SshTransport& owner, core::TransportEvents& events, const core::HostSpec& spec, std::size_t index,
           const SshOptions& options);
    ~Worker();

    void post_connect();
    void post_start(core::Launch launch);
    void post_cancel(std::uint64_t attempt, std::chrono::milliseconds grace);
    void post_shutdown();
    void join();

private:
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
        Slot* slot = nullptr;          // on a slot worker; else on a channel of its own:
        ssh_channel channel = nullptr; // (channel, callbacks, filter, exit_*, out_eof)
        ssh_channel_callbacks_struct callbacks{};
        std::unique_ptr<StderrFilter> filter;
        core::WallTime start{};
        std::optional<int> exit_status;
        std::optional<std::string> exit_signal;
        bool out_eof = false;
        bool cancelled = false;
        std::optional<Clock::time_point> kill_at; // when to send KILL
        std::chrono::milliseconds grace{0};
        bool term_sent = false;
        bool started = false; // on_started was sent
    };
    struct Control {
        Session* session = nullptr;
        ssh_channel channel = nullptr;
    };

    void post(Request request);
    void loop();
    bool take_requests();
    void handle(Request& request);
    void connect();
    Session* open_session();
    void start_worker_on(Session& session, core::HostState& state);
    void start_pending();
    Session* session_with_room();
    void refused(Session& session, core::Launch& launch);
    bool start_one(core::Launch& launch);
    bool start_on_worker(core::Launch& launch);
    void pump();
    bool pump_one(Running& run);
    bool pump_slot(std::uint64_t attempt, Running& run);
    void reap_idle_slots();
    void drop_slot(Slot* slot);
    void finish(std::uint64_t attempt, Running& run);
    void finish_on_worker(std::uint64_t attempt, Running& run);
    void supervise(char sign, long pgid);
    void cancel(std::uint64_t attempt, std::chrono::milliseconds grace);
    void signal_group(Running& run, const char* signal);
    void reap_controls();
    void check_liveness();
    bool cancel_overdue(Clock::time_point now);
    void sample();
    void lose_host(const std::string& reason);
    void fail_launch(const core::Launch& launch, const std::string& reason);
    void wait_for_io();
    void release(Running& run);

    static void on_exit_status(ssh_session, ssh_channel, int status, void* userdata);
    static void on_exit_signal(ssh_session, ssh_channel, const char* signal, int, const char*, const char*,
                               void* userdata);

    SshTransport& m_owner;
    core::TransportEvents& m_events;
    const core::HostSpec& m_spec;
    std::size_t m_index;
    const SshOptions& m_options;
    int m_wake_fd = -1;
    std::mutex m_mutex;
    std::deque<Request> m_inbox;
    std::thread m_thread;

    bool m_stop = false;
    bool m_up = false;
    std::list<Session> m_sessions;
    std::list<Slot> m_slots;
    bool m_fallback = false;            // the host runs a channel per shard: its shell cannot run the worker
    bool m_fallback_said = false;       // the run's output has said so
    ssh_channel m_supervisor = nullptr; // kills the groups of shards on channels of their own when it closes
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
};

SshTransport::Worker::Worker(SshTransport& owner, core::TransportEvents& events, const core::HostSpec& spec,
                             std::size_t index, const SshOptions& options)
    : m_owner(owner), m_events(events), m_spec(spec), m_index(index), m_options(options) {
    m_wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (m_wake_fd < 0) {
        throw core::Error(
            fmt::format("cannot create a wake-up descriptor for host '{}': {}", spec.name, std::strerror(errno)));
    }
    m_thread = std::thread([this] { loop(); });
}

SshTransport::Worker::~Worker() {
    post_shutdown();
    join();
    close(m_wake_fd);
}

void SshTransport::Worker::post(Request request) {
    {
        std::lock_guard lock(m_mutex);
        m_inbox.push_back(std::move(request));
    }
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = write(m_wake_fd, &one, sizeof one);
}

void SshTransport::Worker::post_connect() {
    post({Request::Kind::connect, {}, 0, {}});
}

void SshTransport::Worker::post_start(core::Launch launch) {
    post({Request::Kind::start, std::move(launch), 0, {}});
}

void SshTransport::Worker::post_cancel(std::uint64_t attempt, std::chrono::milliseconds grace) {
    post({Request::Kind::cancel, {}, attempt, grace});
}

void SshTransport::Worker::post_shutdown() {
    post({Request::Kind::shutdown, {}, 0, {}});
}

void SshTransport::Worker::join() {
    if (m_thread.joinable()) {
        m_thread.join();
    }
}

void SshTransport::Worker::loop() {
    // Each step may lose the host, which drops its sessions: the steps after it must not run then.
    constexpr void (Worker::*steps[])() = {&Worker::start_pending, &Worker::pump, &Worker::reap_controls,
                                           &Worker::check_liveness, &Worker::sample};
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
bool SshTransport::Worker::take_requests() {
    std::deque<Request> requests;
    {
        std::lock_guard lock(m_mutex);
        requests.swap(m_inbox);
    }
    m_requests_taken = Clock::now();
    for (auto& request : requests) {
        handle(request);
    }
    return !m_stop;
}

void SshTransport::Worker::handle(Request& request) {
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

void SshTransport::Worker::connect() {
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
SshTransport::Worker::Session* SshTransport::Worker::open_session() {
    m_sessions.push_back(
        {std::make_unique<SshConnection>(m_spec, m_options, m_owner.m_gate.get()), 0, k_channels_per_session});
    return &m_sessions.back();
}

// Starts the host's first slot worker, which tells whether its shell can run one; when it cannot, the host
// runs a channel per shard, and the run's output says so once.
void SshTransport::Worker::start_worker_on(Session& session, core::HostState& state) {
    std::string why = "SSHARD_TEST_NO_WORKER is set";
    std::unique_ptr<WorkerChannel> worker;
    if (!workers_disabled()) {
        worker = start_worker(session.connection->get(), m_options.kill_grace,
                              std::chrono::duration_cast<std::chrono::milliseconds>(m_options.connect_timeout), why);
    }
    m_fallback = worker == nullptr;
    if (worker) {
        ++session.channels;
        m_slots.push_back({&session, std::move(worker), std::nullopt});
    } else if (!m_fallback_said) {
        m_fallback_said = true;
        state.note = "runs a channel per shard: " + why;
    }
}

void SshTransport::Worker::start_pending() {
    if (Clock::now() < m_retry_start_at) {
        return;
    }
    while (m_up && !m_pending.empty()) {
        core::Launch launch = std::move(m_pending.front());
        m_pending.pop_front();
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
SshTransport::Worker::Session* SshTransport::Worker::session_with_room() {
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
void SshTransport::Worker::refused(Session& session, core::Launch& launch) {
    if (!session.connection->connected()) {
        fail_launch(launch, ssh_get_error(session.connection->get()));
        lose_host(ssh_get_error(session.connection->get()));
        return;
    }
    session.capacity = std::max(1, session.channels);
}

// Runs `launch` on an idle slot worker, or on a new one. Returns false as start_one does.
bool SshTransport::Worker::start_on_worker(core::Launch& launch) {
    Slot* slot = nullptr;
    for (auto& s : m_slots) {
        if (!s.attempt) {
            slot = &s;
            break;
        }
    }
    if (slot == nullptr) {
        Session* session = session_with_room();
        if (session == nullptr) {
            return false;
        }
        auto channel = WorkerChannel::open(session->connection->get(), m_options.kill_grace);
        if (!channel) {
            refused(*session, launch);
            return false;
        }
        ++session->channels;
        slot = &m_slots.emplace_back(Slot{session, std::move(channel), std::nullopt});
    }
    std::uint64_t id = launch.attempt;
    if (!slot->channel->send(worker_request(launch))) {
        Session* session = slot->session;
        drop_slot(slot);
        refused(*session, launch);
        return false;
    }
    slot->attempt = id;
    Running& run = m_running[id];
    run.launch = std::move(launch);
    run.session = slot->session;
    run.slot = slot;
    run.start = std::chrono::system_clock::now();
    return true;
}

// Opens a channel for `launch` and runs it. Returns false when it could not start now: a refused channel
// (retry later) or a lost host (then every attempt of the host has been failed, this one included).
bool SshTransport::Worker::start_one(core::Launch& launch) {
    if (!m_fallback && !launch.detach) {
        return start_on_worker(launch);
    }
    Session* session = session_with_room();
    if (session == nullptr) {
        return false;
    }
    ssh_channel channel = ssh_channel_new(session->connection->get());
    if (channel == nullptr || ssh_channel_open_session(channel) != SSH_OK) {
        if (channel != nullptr) {
            ssh_channel_free(channel);
        }
        refused(*session, launch);
        return false;
    }
    std::uint64_t id = launch.attempt;
    Running& run = m_running[id];
    run.launch = std::move(launch);
    run.session = session;
    run.channel = channel;
    std::string marker = make_marker();
    run.filter = std::make_unique<StderrFilter>(marker);
    ssh_callbacks_init(&run.callbacks);
    run.callbacks.userdata = &run;
    run.callbacks.channel_exit_status_function = on_exit_status;
    run.callbacks.channel_exit_signal_function = on_exit_signal;
    ssh_set_channel_callbacks(channel, &run.callbacks);
    ++session->channels;
    run.start = std::chrono::system_clock::now();
    if (ssh_channel_request_exec(channel, wrap_command(run.launch, marker).c_str()) != SSH_OK) {
        std::string reason = ssh_get_error(session->connection->get());
        lose_host(reason);
        return false;
    }
    // The wrapper reads the env from stdin; the command's stdin is /dev/null.
    std::string env = env_line(run.launch);
    if (!env.empty() && ssh_channel_write(channel, env.data(), static_cast<std::uint32_t>(env.size())) == SSH_ERROR) {
        lose_host(ssh_get_error(session->connection->get()));
        return false;
    }
    ssh_channel_send_eof(channel);
    return true;
}

void SshTransport::Worker::on_exit_status(ssh_session, ssh_channel, int status, void* userdata) {
    static_cast<Running*>(userdata)->exit_status = status;
}

void SshTransport::Worker::on_exit_signal(ssh_session, ssh_channel, const char* signal, int, const char*, const char*,
                                          void* userdata) {
    static_cast<Running*>(userdata)->exit_signal = signal;
}

void SshTransport::Worker::pump() {
    for (auto it = m_running.begin(); it != m_running.end();) {
        auto current = it++;
        Running& run = current->second;
        if (run.kill_at && Clock::now() >= *run.kill_at) {
            run.kill_at.reset();
            signal_group(run, "KILL");
        }
        if (run.slot != nullptr) {
            if (!pump_slot(current->first, run)) {
                return;
            }
            continue;
        }
        if (!pump_one(run)) {
            lose_host(ssh_get_error(run.session->connection->get()));
            return;
        }
        if (run.filter->pgid() && !run.started) {
            run.started = true;
            supervise('+', *run.filter->pgid());
            m_events.on_started(current->first);
        }
        bool eof = ssh_channel_is_eof(run.channel) != 0;
        if (eof && !run.exit_status && !run.exit_signal) {
            // libssh stops reading a channel's packets once it has seen EOF, and the exit status comes after
            // it: wait for that (it follows at once, or the channel closes).
            ssh_channel_get_exit_status(run.channel);
        }
        bool ended = run.exit_status || run.exit_signal || ssh_channel_is_closed(run.channel);
        if (eof && ended) {
            finish(current->first, run);
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

// Reads what a slot worker sent for its attempt and ends the attempt when the worker says it ended. A
// worker that breaks the protocol or dies fails its attempt as a transport failure; the slot then gets a new
// worker. Returns false when the host was lost.
bool SshTransport::Worker::pump_slot(std::uint64_t attempt, Running& run) {
    Slot* slot = run.slot;
    if (!slot->channel->pump(run.launch.output.get())) {
        lose_host(ssh_get_error(slot->session->connection->get()));
        return false;
    }
    WorkerReader& reader = slot->channel->reader();
    if (reader.pgid() && !run.started) {
        run.started = true;
        m_events.on_started(attempt);
    }
    if (reader.ended()) {
        finish_on_worker(attempt, run);
    } else if (reader.broken() || slot->channel->gone()) {
        auto outcome = core::Outcome::transport_failure(
            fmt::format("{}: the slot worker {}", m_spec.name,
                        reader.broken() ? "sent a malformed record" : "ended unexpectedly"),
            run.start, std::chrono::system_clock::now());
        drop_slot(slot);
        m_running.erase(attempt);
        m_owner.forget(attempt);
        m_events.on_finished(attempt, std::move(outcome));
    }
    return true;
}

// Idle workers that died, or sent what they should not, are closed; the slot opens a new one when needed.
void SshTransport::Worker::reap_idle_slots() {
    for (auto it = m_slots.begin(); it != m_slots.end();) {
        Slot& slot = *it++;
        if (slot.attempt) {
            continue;
        }
        if (!slot.channel->pump(nullptr) || slot.channel->reader().broken() || slot.channel->gone()) {
            drop_slot(&slot);
        }
    }
}

void SshTransport::Worker::drop_slot(Slot* slot) {
    --slot->session->channels;
    m_slots.remove_if([slot](const Slot& s) { return &s == slot; });
}

// Reads what a channel has; returns false when the session failed.
bool SshTransport::Worker::pump_one(Running& run) {
    char buffer[65536];
    for (int is_stderr : {0, 1}) {
        while (true) {
            int n = ssh_channel_read_nonblocking(run.channel, buffer, sizeof buffer, is_stderr);
            if (n == SSH_ERROR) {
                return false;
            }
            if (n <= 0) {
                break;
            }
            m_last_heard = Clock::now();
            std::string_view data(buffer, static_cast<std::size_t>(n));
            if (!is_stderr && run.launch.output) {
                run.launch.output->write(core::Stream::out, data);
            } else if (is_stderr) {
                std::string user = run.filter->feed(data);
                if (!user.empty() && run.launch.output) {
                    run.launch.output->write(core::Stream::err, user);
                }
            }
        }
    }
    return true;
}

void SshTransport::Worker::finish(std::uint64_t attempt, Running& run) {
    core::Outcome outcome;
    outcome.start = run.start;
    outcome.end = std::chrono::system_clock::now();
    std::string rest = run.filter->finish();
    if (!rest.empty() && run.launch.output) {
        run.launch.output->write(core::Stream::err, rest);
    }
    if (run.exit_status) {
        outcome.exit_code = *run.exit_status;
        outcome.cpu_user_s = run.filter->cpu_user_s();
        outcome.cpu_sys_s = run.filter->cpu_sys_s();
    } else if (run.exit_signal) {
        outcome.kind = core::Outcome::Kind::signaled;
        outcome.signal = signal_number(*run.exit_signal);
    } else {
        outcome.kind = core::Outcome::Kind::transport_failed;
        outcome.reason = fmt::format("{}: the channel closed without an exit status", m_spec.name);
    }
    if (run.cancelled) {
        signal_group(run, "KILL"); // whatever the shard left behind
    }
    if (run.started) {
        supervise('-', *run.filter->pgid());
    }
    release(run);
    m_running.erase(attempt); // drops the output sink: its last line goes out before the outcome
    m_owner.forget(attempt);
    m_events.on_finished(attempt, std::move(outcome));
}

void SshTransport::Worker::finish_on_worker(std::uint64_t attempt, Running& run) {
    WorkerReader& reader = run.slot->channel->reader();
    core::Outcome outcome = reader.outcome();
    outcome.start = run.start;
    outcome.end = std::chrono::system_clock::now();
    reader.next_shard();
    run.slot->attempt.reset();
    m_running.erase(attempt); // drops the output sink: its last line goes out before the outcome
    m_owner.forget(attempt);
    m_events.on_finished(attempt, std::move(outcome));
}

// Tells the host's supervisor that a shard on a channel of its own started ('+') or ended ('-') in process
// group `pgid`, opening the supervisor first if need be. Without one (the server refused it), shards still
// run, as they did before supervisors.
void SshTransport::Worker::supervise(char sign, long pgid) {
    if (m_supervisor == nullptr) {
        Session* session = session_with_room();
        ssh_channel channel = session != nullptr ? ssh_channel_new(session->connection->get()) : nullptr;
        if (channel == nullptr || ssh_channel_open_session(channel) != SSH_OK ||
            ssh_channel_request_exec(channel, supervisor_command(m_options.kill_grace).c_str()) != SSH_OK) {
            if (channel != nullptr) {
                ssh_channel_free(channel);
            }
            return;
        }
        m_supervisor = channel;
        m_supervisor_session = session;
        ++session->channels;
    }
    std::string line = fmt::format("{}{}\n", sign, pgid);
    if (ssh_channel_write(m_supervisor, line.data(), static_cast<std::uint32_t>(line.size())) == SSH_ERROR) {
        ssh_channel_free(m_supervisor);
        m_supervisor = nullptr;
        --m_supervisor_session->channels;
    }
}

void SshTransport::Worker::release(Running& run) {
    ssh_channel_close(run.channel);
    ssh_channel_free(run.channel);
    --run.session->channels;
}

void SshTransport::Worker::cancel(std::uint64_t attempt, std::chrono::milliseconds grace) {
    for (auto it = m_pending.begin(); it != m_pending.end(); ++it) {
        if (it->attempt == attempt) {
            core::Outcome outcome;
            outcome.kind = core::Outcome::Kind::signaled;
            outcome.signal = SIGTERM;
            outcome.start = outcome.end = std::chrono::system_clock::now();
            m_pending.erase(it);
            m_owner.forget(attempt);
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
            ssh_channel_request_send_signal(run.channel, "TERM");
        }
        signal_group(run, "TERM");
    }
    if (grace.count() == 0) {
        run.kill_at.reset();
        signal_group(run, "KILL");
    }
}

// Signals the shard's whole process group: through its slot worker, or else with `kill` over a channel of
// its own (servers that ignore signal requests still run commands). Without a known group yet, only the
// channel's signal request goes out.
void SshTransport::Worker::signal_group(Running& run, const char* signal) {
    if (run.slot != nullptr) {
        run.slot->channel->send(std::string_view(signal) == "KILL" ? "K\n" : "U\n");
        return;
    }
    auto pgid = run.filter->pgid();
    Session* session = run.session;
    // A host that let a call go unanswered since it was last heard is not waited for again: a cancel must not
    // hang on a host that froze.
    if (!pgid || session->channels >= k_channels_per_session + 1 || !session->connection->connected() ||
        session->connection->last_unanswered() > m_last_heard) {
        ssh_channel_request_send_signal(run.channel, signal);
        return;
    }
    ssh_channel channel = session->connection->exec(kill_command(*pgid, signal), k_answer_wait);
    if (channel == nullptr) {
        ssh_channel_request_send_signal(run.channel, signal);
        return;
    }
    ssh_channel_send_eof(channel);
    ++session->channels;
    m_controls.push_back({session, channel});
}

void SshTransport::Worker::reap_controls() {
    char buffer[256];
    for (auto it = m_controls.begin(); it != m_controls.end();) {
        while (ssh_channel_read_nonblocking(it->channel, buffer, sizeof buffer, 0) > 0) {
        }
        if (ssh_channel_is_eof(it->channel) || ssh_channel_is_closed(it->channel)) {
            ssh_channel_close(it->channel);
            ssh_channel_free(it->channel);
            --it->session->channels;
            it = m_controls.erase(it);
        } else {
            ++it;
        }
    }
}

// A host silent for keepalive_interval gets a keepalive, which a live server answers and a stopped or vanished
// one does not; each wait for the answer is at most k_answer_wait. A host silent for dead_after is lost, and so
// is one that does not answer within k_answer_wait when a cancelled shard on it is past its grace (or that left
// a wait unanswered since it was last heard): a frozen host must not hold up an interrupted run.
void SshTransport::Worker::check_liveness() {
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
bool SshTransport::Worker::cancel_overdue(Clock::time_point now) {
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

// Reads the host's /proc over the existing connection: its CPU busy share since the last reading and its
// memory in use. Hosts without /proc (not Linux) give nothing, and the report shows n/a.
void SshTransport::Worker::sample() {
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
void SshTransport::Worker::lose_host(const std::string& reason) {
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
        if (run.slot == nullptr) {
            ssh_channel_free(run.channel);
        }
    }
    m_slots.clear();
    for (auto& control : m_controls) {
        ssh_channel_free(control.channel);
    }
    m_controls.clear();
    if (m_supervisor != nullptr) {
        ssh_channel_free(m_supervisor);
        m_supervisor = nullptr;
    }
    m_running.clear();
    for (auto& launch : m_pending) {
        fail_launch(launch, message);
    }
    m_pending.clear();
    m_sessions.clear();
    m_last_reading.reset();
    bool was_up = m_up;
    m_up = false;
    for (auto& [attempt, outcome] : lost) {
        m_owner.forget(attempt);
        m_events.on_finished(attempt, std::move(outcome));
    }
    if (was_up) {
        core::HostState state;
        state.reason = message;
        m_events.on_host_state(m_index, state);
    }
}

void SshTransport::Worker::fail_launch(const core::Launch& launch, const std::string& reason) {
    auto now = std::chrono::system_clock::now();
    m_owner.forget(launch.attempt);
    m_events.on_finished(launch.attempt, core::Outcome::transport_failure(reason, now, now));
}

// Sleeps until a request comes, a session's socket has data, or the next check is due.
void SshTransport::Worker::wait_for_io() {
    std::vector<pollfd> fds = {{m_wake_fd, POLLIN, 0}};
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
    std::uint64_t count = 0;
    [[maybe_unused]] auto n = read(m_wake_fd, &count, sizeof count);
}

SshTransport::SshTransport(core::TransportEvents& events, const std::vector<core::HostSpec>& hosts, SshOptions options)
    : m_options(std::move(options)),
      m_gate(std::make_unique<HandshakeGate>(std::clamp(m_options.max_handshakes, 1, 64))) {
    ssh_init();
    m_workers.resize(hosts.size());
    for (std::size_t i = 0; i < hosts.size(); ++i) {
        if (hosts[i].transport == core::TransportKind::ssh) {
            m_workers[i] = std::make_unique<Worker>(*this, events, hosts[i], i, m_options);
        }
    }
}

SshTransport::~SshTransport() {
    shutdown();
}

void SshTransport::connect(std::size_t host) {
    assert(m_workers.at(host));
    m_workers[host]->post_connect();
}

void SshTransport::start(core::Launch launch) {
    assert(m_workers.at(launch.host));
    {
        std::lock_guard lock(m_mutex);
        m_attempt_hosts[launch.attempt] = launch.host;
    }
    Worker& worker = *m_workers[launch.host];
    worker.post_start(std::move(launch));
}

void SshTransport::cancel(std::uint64_t attempt, std::chrono::milliseconds grace) {
    std::size_t host = 0;
    {
        std::lock_guard lock(m_mutex);
        auto it = m_attempt_hosts.find(attempt);
        if (it == m_attempt_hosts.end()) {
            return;
        }
        host = it->second;
    }
    m_workers[host]->post_cancel(attempt, grace);
}

void SshTransport::shutdown() {
    if (m_shut_down) {
        return;
    }
    m_shut_down = true;
    m_gate->stop(); // no worker waits for a handshake now
    for (auto& worker : m_workers) {
        if (worker) {
            worker->post_shutdown();
        }
    }
    for (auto& worker : m_workers) {
        if (worker) {
            worker->join();
        }
    }
}

void SshTransport::forget(std::uint64_t attempt) {
    std::lock_guard lock(m_mutex);
    m_attempt_hosts.erase(attempt);
}

} // namespace sshard::transport
