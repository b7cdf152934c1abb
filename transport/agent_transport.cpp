#include "transport/agent_transport.hpp"

#include <algorithm>
#include <cassert>
#include <csignal>
#include <filesystem>
#include <optional>
#include <poll.h>
#include <system_error>
#include <unistd.h>

#include "core/error.hpp"
#include "core/overloaded.hpp"

namespace sshard::transport {

namespace {

namespace agent = core::agent;

// This program's own path: the agent is the same binary, found at the same path on the nodes.
std::string own_binary() {
    std::error_code error;
    auto path = std::filesystem::read_symlink("/proc/self/exe", error);
    if (error) {
        throw core::Error("cannot find sshard's own path for the agents: " + error.message());
    }
    return path.string();
}

core::HostState host_down(std::string reason) {
    core::HostState state;
    state.reason = std::move(reason);
    return state;
}

// A node whose agent is ready, of the size it said (decoded within bounds); its memory no more than the
// allocation's on it, where the allocation asked for some.
core::HostState host_up(const agent::AgentReady& ready, std::optional<std::uint64_t> allocated) {
    core::HostState state;
    state.up = true;
    state.cpus = ready.cpus > 0 ? std::optional<int>(static_cast<int>(ready.cpus)) : std::nullopt;
    state.memory = ready.memory > 0 ? std::optional(ready.memory) : std::nullopt;
    if (allocated) {
        state.memory = std::min(state.memory.value_or(*allocated), *allocated);
    }
    return state;
}

core::Outcome outcome_of(const agent::ShardEnd& end, core::WallTime start) {
    core::Outcome outcome;
    outcome.kind = end.kind;
    outcome.exit_code = end.exit_code;
    outcome.signal = end.signal;
    outcome.reason = end.reason;
    outcome.cpu_user_s = end.cpu_user_s;
    outcome.cpu_sys_s = end.cpu_sys_s;
    outcome.start = start;
    outcome.end = std::chrono::system_clock::now();
    return outcome;
}

} // namespace

AgentTransport::AgentTransport(core::TransportEvents& events, const std::vector<core::HostSpec>& hosts)
    : m_events(events), m_hosts(hosts), m_agent(own_binary()), m_memory(core::allocation_memory_from_environment()) {
    try {
        m_thread = std::thread([this] { run(); });
    } catch (const std::system_error& error) {
        throw core::Error(std::string("cannot start the agent transport's thread: ") + error.what());
    }
}

AgentTransport::~AgentTransport() {
    shutdown();
}

void AgentTransport::connect(std::size_t host) {
    post({.kind = Request::Kind::connect, .host = host});
}

void AgentTransport::start(core::Launch launch) {
    post({.kind = Request::Kind::start, .launch = std::move(launch)});
}

void AgentTransport::cancel(std::uint64_t attempt, std::chrono::milliseconds grace) {
    post({.kind = Request::Kind::cancel, .attempt = attempt, .grace = grace});
}

void AgentTransport::disconnect(std::size_t host) {
    post({.kind = Request::Kind::disconnect, .host = host});
}

void AgentTransport::shutdown() {
    if (!m_thread.joinable()) {
        return;
    }
    post({.kind = Request::Kind::stop});
    m_thread.join();
}

void AgentTransport::post(Request request) {
    assert(!m_stop_posted && "the agent transport was used after shutdown()");
    m_stop_posted = request.kind == Request::Kind::stop;
    m_inbox.post(std::move(request));
}

void AgentTransport::run() {
    while (true) {
        for (Request& request : m_inbox.take()) {
            handle(request);
        }
        check_deadlines();
        finish_ended();
        if (m_stopping && m_nodes.empty()) {
            return;
        }
        wait_for_events();
    }
}

void AgentTransport::handle(Request& request) {
    auto node = m_nodes.find(request.host);
    switch (request.kind) {
    case Request::Kind::connect:
        if (node == m_nodes.end()) {
            launch_step(request.host);
        } else if (node->second->ending) {
            node->second->reconnect = true; // once the step that is ending has ended
        }
        break;
    case Request::Kind::start:
        send_start(request.launch);
        break;
    case Request::Kind::cancel:
        if (auto it = m_running.find(request.attempt); it != m_running.end()) {
            m_nodes.at(it->second.host)
                ->step.queue(agent::CancelShard{.id = request.attempt,
                                                .grace_ms = static_cast<std::uint64_t>(request.grace.count())});
        }
        break;
    case Request::Kind::disconnect:
        if (node != m_nodes.end()) {
            node->second->quiet = true;
            end_node(*node->second, "disconnected");
        }
        break;
    case Request::Kind::stop:
        m_stopping = true;
        for (auto& [host, each] : m_nodes) {
            end_node(*each, "the run stopped");
        }
        break;
    }
}

void AgentTransport::launch_step(std::size_t host) {
    const core::HostSpec& spec = m_hosts.at(host);
    auto node = std::make_unique<Node>();
    // --exact, or steps on a busy allocation wait for each other; --unbuffered, or slurmstepd holds the agent's
    // frames until a newline; --mem=0, all of the job's memory on the node, which the agent's shards share,
    // whatever the allocation asked (--mem, --mem-per-cpu or the cluster's default) and without taking it from
    // other steps.
    std::string problem = node->step.start(
        {"srun", "--nodes=1", "--ntasks=1", "--exact", "--unbuffered", "--quiet", "--job-name=sshard-agent",
         "--nodelist=" + spec.name, "--cpus-per-task=" + std::to_string(spec.slots), "--mem=0", m_agent, "agent"});
    if (!problem.empty()) {
        m_events.on_host_state(host, host_down(problem));
        return;
    }
    node->deadline = Clock::now() + k_ready_timeout;
    m_nodes.emplace(host, std::move(node));
}

void AgentTransport::send_start(core::Launch& launch) {
    auto node = m_nodes.find(launch.host);
    if (node == m_nodes.end() || !node->second->ready || node->second->ending) {
        auto now = std::chrono::system_clock::now();
        m_events.on_finished(launch.attempt,
                             core::Outcome::transport_failure(
                                 "the agent on " + m_hosts.at(launch.host).name + " is not running", now, now));
        return;
    }
    agent::StartShard start{.id = launch.attempt,
                            .command = std::move(launch.command),
                            .env = std::move(launch.env),
                            .workdir = std::move(launch.workdir),
                            .shell = std::move(launch.shell),
                            .timeout_ms = launch.timeout ? static_cast<std::uint64_t>(launch.timeout->count()) : 0};
    node->second->step.queue(start);
    m_running.emplace(
        launch.attempt,
        Running{.host = launch.host, .output = std::move(launch.output), .start = std::chrono::system_clock::now()});
}

void AgentTransport::wait_for_events() {
    std::vector<pollfd> fds{{m_inbox.wake_fd(), POLLIN, 0}};
    std::optional<Clock::time_point> next;
    for (auto& [host, node] : m_nodes) {
        fds.push_back({node->step.out_fd(), POLLIN, 0});
        fds.push_back({node->step.err_fd(), POLLIN, 0});
        fds.push_back({node->step.wants_to_write() ? node->step.in_fd() : -1, POLLOUT, 0});
        if ((!node->ready || node->ending) && (!next || node->deadline < *next)) {
            next = node->deadline;
        }
    }
    int timeout = -1;
    if (next) {
        auto wait = std::chrono::ceil<std::chrono::milliseconds>(*next - Clock::now());
        timeout = static_cast<int>(std::clamp<std::chrono::milliseconds::rep>(wait.count(), 0, 60'000));
    }
    if (::poll(fds.data(), fds.size(), timeout) <= 0) {
        return;
    }
    std::size_t i = 1;
    for (auto& [host, node] : m_nodes) {
        if (fds[i + 2].revents != 0) {
            if (std::string problem = node->step.flush(); !problem.empty()) {
                end_node(*node, problem);
            }
        }
        if (fds[i].revents != 0) {
            serve_output(host, *node);
        }
        if (fds[i + 1].revents != 0 && !node->step.read_errors()) {
            node->err_ended = true;
        }
        i += 3;
    }
}

void AgentTransport::serve_output(std::size_t host, Node& node) {
    std::vector<agent::Message> messages;
    bool ended = false;
    std::string problem = node.step.read_output(messages, ended);
    for (auto& message : messages) {
        deliver(host, node, message);
    }
    node.out_ended = node.out_ended || ended;
    if (!problem.empty()) {
        // An agent that breaks the protocol cannot be trusted with its shards: srun passes the TERM to it.
        node.step.signal(SIGTERM);
        end_node(node, problem);
    } else if (ended) {
        end_node(node, "the agent ended");
    }
}

void AgentTransport::deliver(std::size_t host, Node& node, agent::Message& message) {
    auto ours = [&](std::uint64_t id) {
        auto it = m_running.find(id);
        return it != m_running.end() && it->second.host == host ? it : m_running.end();
    };
    if (node.refused) {
        return; // what came with a refused frame is not believed either
    }
    auto refuse = [&](const std::string& what) {
        node.refused = true;
        node.step.signal(SIGTERM);
        end_node(node, "the agent sent " + what);
    };
    std::visit(core::Overloaded{
                   [&](const agent::AgentReady& ready) {
                       if (node.ready) {
                           return refuse("a second ready frame");
                       }
                       node.ready = true;
                       m_events.on_host_state(host, host_up(ready, m_memory.on_node(m_hosts.at(host).slots)));
                   },
                   [&](agent::ShardOutput& output) {
                       auto it = ours(output.id);
                       if (it == m_running.end()) {
                           return refuse("output of a shard it does not run");
                       }
                       if (it->second.output) {
                           it->second.output->write(output.stream, output.data);
                       }
                   },
                   [&](const agent::ShardEnd& end) {
                       auto it = ours(end.id);
                       if (it == m_running.end()) {
                           return refuse("the end of a shard it does not run");
                       }
                       core::Outcome outcome = outcome_of(end, it->second.start);
                       m_running.erase(it);
                       m_events.on_finished(end.id, std::move(outcome));
                   },
                   [&](const agent::NodeSample& sample) {
                       if (!node.ready) {
                           return refuse("a sample before its ready frame");
                       }
                       m_events.on_host_sample(host, {sample.cpu_busy, sample.mem_used, sample.mem_total});
                   },
                   [&](const auto&) { refuse("a frame only a runner sends"); },
               },
               message);
}

// Closes the node's input: its agent kills its shards, reports them and exits, or srun is killed at the
// deadline. `problem` is kept as the first reason the node ended.
void AgentTransport::end_node(Node& node, std::string problem) {
    if (node.problem.empty()) {
        node.problem = std::move(problem);
    }
    if (node.ending) {
        return;
    }
    node.ending = true;
    node.step.close_input();
    // A step still waiting for its resources reads no input yet; srun gives up on TERM.
    if (!node.ready) {
        node.step.signal(SIGTERM);
    }
    node.deadline = Clock::now() + k_shutdown_wait;
}

void AgentTransport::check_deadlines() {
    const auto now = Clock::now();
    for (auto& [host, node] : m_nodes) {
        if (!node->ready && !node->ending && node->deadline <= now) {
            end_node(*node, "the agent was not ready within " + std::to_string(k_ready_timeout.count()) + "s");
        } else if (node->ending && !node->killed && node->deadline <= now) {
            node->killed = true;
            node->step.signal(SIGKILL);
        }
    }
}

void AgentTransport::finish_ended() {
    for (auto it = m_nodes.begin(); it != m_nodes.end();) {
        Node& node = *it->second;
        if (!node.out_ended || !node.err_ended) {
            ++it;
            continue;
        }
        const std::size_t host = it->first;
        std::string how = node.step.reap();
        std::string reason = "the agent on " + m_hosts.at(host).name + " ended (" + node.problem + "; " + how + ")";
        fail_host_attempts(host, reason);
        bool report = !node.quiet && !m_stopping;
        bool reconnect = node.reconnect && !m_stopping;
        it = m_nodes.erase(it);
        if (reconnect) {
            launch_step(host);
        } else if (report) {
            m_events.on_host_state(host, host_down(reason));
        }
    }
}

void AgentTransport::fail_host_attempts(std::size_t host, const std::string& reason) {
    auto now = std::chrono::system_clock::now();
    for (auto it = m_running.begin(); it != m_running.end();) {
        if (it->second.host != host) {
            ++it;
            continue;
        }
        core::Outcome outcome = core::Outcome::transport_failure(reason, it->second.start, now);
        std::uint64_t attempt = it->first;
        it = m_running.erase(it);
        m_events.on_finished(attempt, std::move(outcome));
    }
}

} // namespace sshard::transport
