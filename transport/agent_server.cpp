#include "transport/agent_server.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <vector>

#include "core/error.hpp"

namespace sshard::transport {

namespace {

constexpr std::size_t k_agent_read_size = 64 * 1024;

namespace agent = core::agent;

// A shard's output, sent to the runner as it comes.
class FrameSink final : public core::OutputSink {
public:
    FrameSink(AgentServer& server, std::uint64_t id) : m_server(server), m_id(id) {}
    void write(core::Stream stream, std::string_view data) override {
        m_server.send(agent::ShardOutput{.id = m_id, .stream = stream, .data = std::string(data)});
    }

private:
    AgentServer& m_server;
    std::uint64_t m_id;
};

core::UniqueFd make_wake_fd() {
    core::UniqueFd fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!fd.is_open()) {
        throw core::Error(std::string("cannot create a wake-up descriptor: ") + std::strerror(errno));
    }
    return fd;
}

} // namespace

AgentServer::AgentServer(int in_fd, int out_fd)
    : m_in_fd(in_fd), m_out_fd(out_fd), m_wake(make_wake_fd()), m_sampler(*this), m_local(*this, 1) {}

std::string AgentServer::serve() {
    m_local.connect(0);
    agent::Decoder decoder;
    std::string problem;
    bool ended = false;
    while (problem.empty() && !ended) {
        std::vector<pollfd> fds{{m_in_fd, POLLIN, 0}, {m_wake.get(), POLLIN, 0}};
        if (::poll(fds.data(), fds.size(), poll_timeout_ms()) < 0 && errno != EINTR) {
            problem = std::string("cannot wait for input: ") + std::strerror(errno);
            break;
        }
        cancel_overdue();
        if (fds[1].revents != 0) {
            problem = "the runner stopped reading the agent's output";
        } else if (fds[0].revents != 0) {
            problem = read_input(decoder, ended);
        }
    }
    m_sampler.stop();
    m_local.shutdown();
    return problem;
}

// Reads what stdin has and acts on each whole frame; returns why it cannot go on, or "".
std::string AgentServer::read_input(agent::Decoder& decoder, bool& ended) {
    std::vector<char> buffer(k_agent_read_size);
    ssize_t got = ::read(m_in_fd, buffer.data(), buffer.size());
    if (got < 0) {
        return errno == EINTR || errno == EAGAIN ? "" : std::string("cannot read input: ") + std::strerror(errno);
    }
    if (got == 0) {
        ended = true;
        return decoder.pending() == 0 ? "" : "the input ended inside a frame";
    }
    decoder.feed(std::string_view(buffer.data(), static_cast<std::size_t>(got)));
    try {
        while (auto message = decoder.next()) {
            handle(*message);
        }
    } catch (const agent::ProtocolError& e) {
        return std::string("bad frame on input: ") + e.what();
    }
    return {};
}

void AgentServer::handle(agent::Message& message) {
    if (auto* start_frame = std::get_if<agent::StartShard>(&message)) {
        start(*start_frame);
    } else if (auto* cancel = std::get_if<agent::CancelShard>(&message)) {
        m_local.cancel(cancel->id, std::chrono::milliseconds(std::min<std::uint64_t>(cancel->grace_ms, 3'600'000)));
    } else {
        throw agent::ProtocolError("a frame only an agent sends came from the runner");
    }
}

void AgentServer::start(agent::StartShard& start) {
    {
        std::lock_guard lock(m_mutex);
        if (!m_running.insert(start.id).second) {
            throw agent::ProtocolError("a start frame for shard " + std::to_string(start.id) + ", which runs already");
        }
    }
    if (start.timeout_ms > 0) {
        // Bounded so that a hostile value cannot overflow the clock.
        auto timeout = std::chrono::milliseconds(std::min<std::uint64_t>(start.timeout_ms, 100ULL * 86'400'000));
        m_deadlines.emplace(Clock::now() + timeout + k_timeout_slack, start.id);
    }
    core::Launch launch;
    launch.attempt = start.id;
    launch.command = std::move(start.command);
    launch.env = std::move(start.env);
    launch.workdir = std::move(start.workdir);
    launch.shell = std::move(start.shell);
    launch.output = std::make_shared<FrameSink>(*this, start.id);
    m_local.start(std::move(launch));
}

void AgentServer::cancel_overdue() {
    const auto now = Clock::now();
    while (!m_deadlines.empty() && m_deadlines.begin()->first <= now) {
        // A shard that has ended already is unknown to the local transport, which ignores the cancel.
        m_local.cancel(m_deadlines.begin()->second, core::k_cancel_grace);
        m_deadlines.erase(m_deadlines.begin());
    }
}

int AgentServer::poll_timeout_ms() const {
    if (m_deadlines.empty()) {
        return -1;
    }
    auto wait = std::chrono::ceil<std::chrono::milliseconds>(m_deadlines.begin()->first - Clock::now());
    return static_cast<int>(std::clamp<std::chrono::milliseconds::rep>(wait.count(), 0, 60'000));
}

void AgentServer::on_finished(std::uint64_t attempt, core::Outcome outcome) {
    {
        std::lock_guard lock(m_mutex);
        m_running.erase(attempt);
    }
    send(agent::ShardEnd{.id = attempt,
                         .kind = outcome.kind,
                         .exit_code = outcome.exit_code,
                         .signal = outcome.signal,
                         .cpu_user_s = outcome.cpu_user_s,
                         .cpu_sys_s = outcome.cpu_sys_s,
                         .reason = outcome.reason});
}

void AgentServer::on_host_state(std::size_t host, core::HostState state) {
    send(agent::AgentReady{.cpus = static_cast<std::uint32_t>(state.cpus.value_or(0)),
                           .memory = state.memory.value_or(0)});
    m_sampler.add(host); // after the ready frame, which the runner wants first
}

void AgentServer::on_host_sample(std::size_t /*host*/, core::HostSample sample) {
    send(agent::NodeSample{.cpu_busy = sample.cpu_busy, .mem_used = sample.mem_used, .mem_total = sample.mem_total});
}

void AgentServer::send(const agent::Message& message) {
    std::string frame = agent::encode(message);
    std::lock_guard lock(m_mutex);
    std::string_view rest = frame;
    while (!m_out_broken && !rest.empty()) {
        ssize_t written = ::write(m_out_fd, rest.data(), rest.size());
        if (written < 0 && errno == EINTR) {
            continue;
        }
        if (written <= 0) {
            m_out_broken = true;
            std::uint64_t one = 1;
            [[maybe_unused]] auto woken = ::write(m_wake.get(), &one, sizeof one);
            return;
        }
        rest.remove_prefix(static_cast<std::size_t>(written));
    }
}

} // namespace sshard::transport
