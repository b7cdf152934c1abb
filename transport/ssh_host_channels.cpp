// Shards on channels of their own (jobs with `detach: true`, and hosts whose shell cannot run a slot worker):
// the command runs in remote_command.hpp's wrapper, and a per-host supervisor channel kills the process groups
// of those still running when the connection goes. Also how a cancel reaches a shard's process group.
#include <csignal>
#include <cstring>
#include <fmt/format.h>

#include "transport/ssh_host.hpp"

namespace sshard::transport {

namespace {

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

// Opens a channel for `launch` and runs it there. Returns false as start_one does.
bool SshHost::start_on_channel(core::Launch& launch) {
    Session* session = session_with_room();
    if (session == nullptr) {
        return false;
    }
    SshChannel channel(ssh_channel_new(session->connection->get()));
    if (!channel || ssh_channel_open_session(channel.get()) != SSH_OK) {
        refused(*session, launch);
        return false;
    }
    std::uint64_t id = launch.attempt;
    Running& run = m_running[id];
    run.launch = std::move(launch);
    run.session = session;
    run.channel = std::move(channel);
    std::string marker = make_marker();
    run.filter = std::make_unique<StderrFilter>(marker);
    ssh_callbacks_init(&run.callbacks);
    run.callbacks.userdata = &run;
    run.callbacks.channel_exit_status_function = on_exit_status;
    run.callbacks.channel_exit_signal_function = on_exit_signal;
    ssh_set_channel_callbacks(run.channel.get(), &run.callbacks);
    ++session->channels;
    run.start = std::chrono::system_clock::now();
    if (ssh_channel_request_exec(run.channel.get(), wrap_command(run.launch, marker).c_str()) != SSH_OK) {
        std::string reason = ssh_get_error(session->connection->get());
        lose_host(reason);
        return false;
    }
    return true; // the wrapper waits for its env (see pump_channel)
}

// Lets the shard's command run: the wrapper, having said its process group, reads the env from stdin (the
// command's stdin is /dev/null). Sent only once the supervisor knows the group, so that a runner killed at
// any point leaves no command running that the supervisor does not end. Returns false when the host was lost.
bool SshHost::release_command(Running& run) {
    std::string env = env_line(run.launch);
    if ((!env.empty() &&
         ssh_channel_write(run.channel.get(), env.data(), static_cast<std::uint32_t>(env.size())) == SSH_ERROR) ||
        ssh_channel_send_eof(run.channel.get()) == SSH_ERROR) {
        lose_host(ssh_get_error(run.session->connection->get()));
        return false;
    }
    return true;
}

void SshHost::on_exit_status(ssh_session, ssh_channel, int status, void* userdata) {
    static_cast<Running*>(userdata)->exit_status = status;
}

void SshHost::on_exit_signal(ssh_session, ssh_channel, const char* signal, int, const char*, const char*,
                             void* userdata) {
    static_cast<Running*>(userdata)->exit_signal = signal;
}

// Reads what a shard on a channel of its own sent, and ends the attempt once the channel has ended. Returns
// false when the host was lost.
bool SshHost::pump_channel(std::uint64_t attempt, Running& run) {
    if (!read_channel(run)) {
        lose_host(ssh_get_error(run.session->connection->get()));
        return false;
    }
    if (run.filter->pgid() && !run.started) {
        run.started = true;
        supervise('+', *run.filter->pgid());
        if (!release_command(run)) {
            return false;
        }
        m_events.on_started(attempt);
    }
    bool eof = ssh_channel_is_eof(run.channel.get()) != 0;
    if (eof && !run.exit_status && !run.exit_signal) {
        // libssh stops reading a channel's packets once it has seen EOF, and the exit status comes after
        // it: wait for that (it follows at once, or the channel closes).
        ssh_channel_get_exit_status(run.channel.get());
    }
    bool ended = run.exit_status || run.exit_signal || ssh_channel_is_closed(run.channel.get());
    if (eof && ended) {
        finish(attempt, run);
    }
    return true;
}

// Reads what a shard's channel has; returns false when the session failed.
bool SshHost::read_channel(Running& run) {
    char buffer[65536];
    for (int is_stderr : {0, 1}) {
        while (true) {
            int n = ssh_channel_read_nonblocking(run.channel.get(), buffer, sizeof buffer, is_stderr);
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

void SshHost::finish(std::uint64_t attempt, Running& run) {
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
    complete(attempt, run.launch, outcome);
    m_running.erase(attempt); // drops the output sink: its last line goes out before the outcome
    m_events.on_finished(attempt, std::move(outcome));
}

void SshHost::release(Running& run) {
    run.channel.close();
    --run.session->channels;
}

// Tells the host's supervisor that a shard on a channel of its own started ('+') or ended ('-') in process
// group `pgid`, opening the supervisor first if need be. Without one (the server refused it), shards still
// run, as they did before supervisors.
void SshHost::supervise(char sign, long pgid) {
    if (!m_supervisor) {
        Session* session = session_with_room();
        SshChannel channel(session != nullptr ? ssh_channel_new(session->connection->get()) : nullptr);
        if (!channel || ssh_channel_open_session(channel.get()) != SSH_OK ||
            ssh_channel_request_exec(channel.get(), supervisor_command(m_options.kill_grace).c_str()) != SSH_OK) {
            return;
        }
        m_supervisor = std::move(channel);
        m_supervisor_session = session;
        ++session->channels;
    }
    std::string line = fmt::format("{}{}\n", sign, pgid);
    if (ssh_channel_write(m_supervisor.get(), line.data(), static_cast<std::uint32_t>(line.size())) == SSH_ERROR) {
        m_supervisor.reset();
        --m_supervisor_session->channels;
    }
}

// Signals the shard's whole process group: through its slot worker, or else with `kill` over a channel of
// its own (servers that ignore signal requests still run commands). Without a known group yet, only the
// channel's signal request goes out.
void SshHost::signal_group(Running& run, const char* signal) {
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
        ssh_channel_request_send_signal(run.channel.get(), signal);
        return;
    }
    SshChannel channel = session->connection->exec(kill_command(*pgid, signal), k_answer_wait);
    if (!channel) {
        ssh_channel_request_send_signal(run.channel.get(), signal);
        return;
    }
    ssh_channel_send_eof(channel.get());
    ++session->channels;
    m_controls.push_back({session, std::move(channel)});
}

void SshHost::reap_controls() {
    char buffer[256];
    for (auto it = m_controls.begin(); it != m_controls.end();) {
        while (ssh_channel_read_nonblocking(it->channel.get(), buffer, sizeof buffer, 0) > 0) {
        }
        if (ssh_channel_is_eof(it->channel.get()) || ssh_channel_is_closed(it->channel.get())) {
            it->channel.close();
            --it->session->channels;
            it = m_controls.erase(it);
        } else {
            ++it;
        }
    }
}

} // namespace sshard::transport
