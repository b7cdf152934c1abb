// Shards on slot workers (transport/slot_worker.hpp): one worker per slot, opened when a shard needs one and
// kept for the next, dropped when it dies or breaks the protocol.
#include <fmt/format.h>

#include "transport/ssh_host.hpp"

namespace sshard::transport {

// Starts the host's first slot worker, which tells whether its shell can run one; when it cannot, the host
// runs a channel per shard, and the run's output says so once.
void SshHost::start_worker_on(Session& session, core::HostState& state) {
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

// Runs `launch` on an idle slot worker, or on a new one. Returns false as start_one does.
bool SshHost::start_on_worker(core::Launch& launch) {
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

// Reads what a slot worker sent for its attempt and ends the attempt when the worker says it ended. A
// worker that breaks the protocol or dies fails its attempt as a transport failure; the slot then gets a new
// worker. Returns false when the host was lost.
bool SshHost::pump_slot(std::uint64_t attempt, Running& run) {
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
        m_events.on_finished(attempt, std::move(outcome));
    }
    return true;
}

// Idle workers that died, or sent what they should not, are closed; the slot opens a new one when needed.
void SshHost::reap_idle_slots() {
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

void SshHost::drop_slot(Slot* slot) {
    --slot->session->channels;
    m_slots.remove_if([slot](const Slot& s) { return &s == slot; });
}

void SshHost::finish_on_worker(std::uint64_t attempt, Running& run) {
    WorkerReader& reader = run.slot->channel->reader();
    core::Outcome outcome = reader.outcome();
    outcome.start = run.start;
    outcome.end = std::chrono::system_clock::now();
    reader.next_shard();
    run.slot->attempt.reset();
    complete(attempt, run.launch, outcome);
    m_running.erase(attempt); // drops the output sink: its last line goes out before the outcome
    m_events.on_finished(attempt, std::move(outcome));
}

} // namespace sshard::transport
