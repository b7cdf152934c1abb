#include "transport/local_transport.hpp"

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/collector.hpp"
#include "core/cpu_count.hpp"
#include "core/error.hpp"
#include "core/unique_fd.hpp"
#include "transport/child_process.hpp"
#include "transport/group_supervisor.hpp"
#include "transport/local_files.hpp"

namespace sshard::transport {

namespace {

constexpr std::size_t k_read_size = 64 * 1024;
// Where a child has no pidfd (kernels before 5.3, or out of descriptors), its exit is polled for this often.
constexpr std::chrono::milliseconds k_reap_poll{50};
// Reads of one pipe when it is closed after the drain: enough to empty the largest pipe buffer, bounded so that
// a process that keeps writing cannot hold the I/O thread.
constexpr int k_final_reads = 16;
// The I/O thread wakes at least this often; it costs nothing and bounds any clock surprise.
constexpr std::chrono::milliseconds k_max_sleep{60'000};

// "what: the system's message for error".
std::string error_text(std::string_view what, int error) {
    return std::string(what) + ": " + std::system_category().message(error);
}

double seconds(const timeval& time) {
    return static_cast<double>(time.tv_sec) + static_cast<double>(time.tv_usec) / 1e6;
}

core::HostState this_machine() {
    core::HostState state;
    state.up = true;
    state.cpus = core::local_cpu_count();
    state.memory = core::local_memory_size();
    return state;
}

} // namespace

struct LocalTransport::Running {
    std::uint64_t attempt = 0;
    std::shared_ptr<core::OutputSink> output;
    pid_t pid = -1;       // also the process group id
    core::UniqueFd pidfd; // not open where pidfd_open failed: then the exit is polled for
    core::UniqueFd out;
    core::UniqueFd err;
    core::WallTime start{};
    core::WallTime end{};
    bool reaped = false;
    int status = 0;
    rusage usage{};
    std::string lost;                         // why the shell could not be waited for; empty normally
    bool kill_group_on_exit = false;          // after a cancel or shutdown, no process of the shard outlives it
    std::optional<Clock::time_point> kill_at; // when a cancel's grace runs out
    Clock::time_point reaped_at{};
    Clock::time_point drain_until{};
    std::string workdir;
    std::vector<core::CollectFile> collect;
    bool collect_on_failure = false;
    core::TransferStats transfer; // what staging sent

    core::Outcome outcome() const;
};

core::Outcome LocalTransport::Running::outcome() const {
    core::Outcome outcome;
    outcome.start = start;
    outcome.end = end;
    if (!lost.empty()) {
        return core::Outcome::transport_failure(lost, start, end);
    }
    if (WIFSIGNALED(status)) {
        outcome.kind = core::Outcome::Kind::signaled;
        outcome.signal = WTERMSIG(status);
    } else {
        outcome.kind = core::Outcome::Kind::exited;
        outcome.exit_code = WEXITSTATUS(status);
    }
    outcome.cpu_user_s = seconds(usage.ru_utime);
    outcome.cpu_sys_s = seconds(usage.ru_stime);
    return outcome;
}

LocalTransport::LocalTransport(core::TransportEvents& events, std::size_t host_count)
    : m_events(events), m_host_count(host_count), m_buffer(k_read_size) {
    try {
        m_thread = std::thread([this] { run(); });
    } catch (const std::system_error& error) {
        throw core::Error(std::string("cannot start the local transport's thread: ") + error.what());
    }
}

LocalTransport::~LocalTransport() {
    shutdown();
}

void LocalTransport::connect(std::size_t host) {
    assert(host < m_host_count);
    post({.kind = Request::Kind::connect, .host = host});
}

void LocalTransport::start(core::Launch launch) {
    assert(launch.host < m_host_count);
    post({.kind = Request::Kind::start, .launch = std::move(launch)});
}

void LocalTransport::cancel(std::uint64_t attempt, std::chrono::milliseconds grace) {
    post({.kind = Request::Kind::cancel, .attempt = attempt, .grace = grace});
}

void LocalTransport::shutdown() {
    if (!m_thread.joinable()) {
        return;
    }
    post({.kind = Request::Kind::stop});
    m_thread.join();
}

void LocalTransport::post(Request request) {
    assert(!m_stop_posted && "the local transport was used after shutdown()");
    m_stop_posted = request.kind == Request::Kind::stop;
    m_inbox.post(std::move(request));
}

void LocalTransport::run() {
    while (true) {
        take_requests();
        for (auto& [attempt, running] : m_running) {
            advance(*running);
        }
        finish_done();
        if (m_stopping && m_running.empty()) {
            return;
        }
        wait_for_events(poll_timeout_ms());
    }
}

void LocalTransport::take_requests() {
    for (Request& request : m_inbox.take()) {
        handle(request);
    }
}

void LocalTransport::handle(Request& request) {
    switch (request.kind) {
    case Request::Kind::connect:
        m_events.on_host_state(request.host, this_machine());
        break;
    case Request::Kind::start:
        spawn(request.launch);
        break;
    case Request::Kind::cancel:
        cancel_running(request.attempt, request.grace);
        break;
    case Request::Kind::stop:
        m_stopping = true;
        kill_all();
        break;
    }
}

void LocalTransport::spawn(core::Launch& launch) {
    assert(!m_running.contains(launch.attempt));
    core::TransferStats transfer;
    if (!stage(launch, transfer)) {
        return;
    }
    const ChildPlan plan = make_child_plan(launch, m_supervisor.fd());
    int out_pipe[2];
    int err_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
        fail_to_start(launch, "cannot create a pipe", errno);
        return;
    }
    core::UniqueFd out_read(out_pipe[0]);
    core::UniqueFd out_write(out_pipe[1]);
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
        fail_to_start(launch, "cannot create a pipe", errno);
        return;
    }
    core::UniqueFd err_read(err_pipe[0]);
    core::UniqueFd err_write(err_pipe[1]);
    auto running = std::make_unique<Running>();
    running->start = std::chrono::system_clock::now();
    pid_t pid = ::fork();
    if (pid < 0) {
        fail_to_start(launch, "cannot create a process", errno);
        return;
    }
    if (pid == 0) {
        exec_child(plan, out_write.get(), err_write.get());
    }
    // The child does the same; doing it here too means a cancel can never find the group missing.
    ::setpgid(pid, pid);
    // One thread serves every attempt, so its reads must never block.
    ::fcntl(out_read.get(), F_SETFL, O_NONBLOCK);
    ::fcntl(err_read.get(), F_SETFL, O_NONBLOCK);
    running->attempt = launch.attempt;
    running->output = std::move(launch.output);
    running->workdir = launch.workdir;
    running->collect = std::move(launch.collect);
    running->collect_on_failure = launch.collect_on_failure;
    running->transfer = transfer;
    running->pid = pid;
    running->pidfd.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    running->out = std::move(out_read);
    running->err = std::move(err_read);
    m_running.emplace(launch.attempt, std::move(running));
}

// Stages the launch's job on its host, once per content; false when that failed, and the attempt was reported.
bool LocalTransport::stage(core::Launch& launch, core::TransferStats& stats) {
    LocalStageTarget target(launch.workdir);
    auto error = core::stage_launch(
        launch, m_staged[launch.host], [&]() -> core::StageTarget& { return target; }, stats);
    if (!error.empty()) {
        m_events.on_finished(launch.attempt, core::stage_failure(error, stats));
    }
    return error.empty();
}

void LocalTransport::fail_to_start(const core::Launch& launch, const char* what, int error) {
    auto now = std::chrono::system_clock::now();
    m_events.on_finished(launch.attempt, core::Outcome::transport_failure(error_text(what, error), now, now));
}

void LocalTransport::cancel_running(std::uint64_t attempt, std::chrono::milliseconds grace) {
    auto it = m_running.find(attempt);
    // Once the shell is reaped its group id may be free for reuse, so a draining attempt is left alone.
    if (it == m_running.end() || it->second->reaped) {
        return;
    }
    Running& running = *it->second;
    ::kill(-running.pid, SIGTERM);
    running.kill_group_on_exit = true;
    const auto kill_at = Clock::now() + grace;
    if (!running.kill_at || kill_at < *running.kill_at) {
        running.kill_at = kill_at;
    }
}

void LocalTransport::kill_all() {
    for (auto& [attempt, running] : m_running) {
        if (!running->reaped) {
            ::kill(-running->pid, SIGKILL);
            running->kill_group_on_exit = true;
            running->kill_at.reset();
        }
    }
}

int LocalTransport::poll_timeout_ms() const {
    const auto now = Clock::now();
    std::optional<Clock::time_point> next;
    auto consider = [&next](Clock::time_point at) {
        if (!next || at < *next) {
            next = at;
        }
    };
    for (const auto& [attempt, running] : m_running) {
        if (running->reaped) {
            consider(running->drain_until);
            continue;
        }
        if (!running->pidfd.is_open()) {
            consider(now + k_reap_poll);
        }
        if (running->kill_at) {
            consider(*running->kill_at);
        }
    }
    if (!next) {
        return -1;
    }
    // Rounded up: a deadline less than a millisecond away must not become a busy loop of zero timeouts.
    auto wait = std::chrono::ceil<std::chrono::milliseconds>(std::max(*next - now, Clock::duration::zero()));
    return static_cast<int>(std::min(wait, k_max_sleep).count());
}

void LocalTransport::wait_for_events(int timeout_ms) {
    enum class What { wake, out, err, exit };
    std::vector<pollfd> fds{{m_inbox.wake_fd(), POLLIN, 0}};
    std::vector<std::pair<Running*, What>> watches{{nullptr, What::wake}};
    auto watch = [&](const core::UniqueFd& fd, Running& running, What what) {
        if (fd.is_open()) {
            fds.push_back({fd.get(), POLLIN, 0});
            watches.emplace_back(&running, what);
        }
    };
    for (auto& [attempt, running] : m_running) {
        watch(running->out, *running, What::out);
        watch(running->err, *running, What::err);
        if (!running->reaped) {
            watch(running->pidfd, *running, What::exit);
        }
    }
    if (::poll(fds.data(), fds.size(), timeout_ms) <= 0) {
        return;
    }
    for (std::size_t i = 0; i < fds.size(); ++i) {
        auto [running, what] = watches[i];
        // A wake-up needs nothing here: the loop takes the requests next.
        if (fds[i].revents == 0 || what == What::wake) {
            continue;
        }
        if (what == What::exit) {
            try_reap(*running);
        } else {
            read_pipe(*running, what == What::out ? core::Stream::out : core::Stream::err);
        }
    }
}

bool LocalTransport::read_pipe(Running& running, core::Stream stream) {
    core::UniqueFd& fd = stream == core::Stream::out ? running.out : running.err;
    ssize_t got = ::read(fd.get(), m_buffer.data(), m_buffer.size());
    if (got < 0 && (errno == EAGAIN || errno == EINTR)) {
        return false;
    }
    if (got <= 0) {
        // End of file, or an error after which nothing more can come.
        fd.reset();
        return false;
    }
    if (running.output) {
        running.output->write(stream, std::string_view(m_buffer.data(), static_cast<std::size_t>(got)));
    }
    if (running.reaped) {
        running.drain_until = std::min(Clock::now() + k_drain_idle, running.reaped_at + k_drain_max);
    }
    return true;
}

void LocalTransport::try_reap(Running& running) {
    // WNOWAIT leaves the shell a zombie for now: while it exists its group id cannot be reused, so killing the
    // group's leftovers cannot hit an unrelated process.
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(running.pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
        if (errno == EINTR) {
            return;
        }
        m_supervisor.release(running.pid);
        // ECHILD: someone else reaped it, e.g. because the runner set SIGCHLD to SIG_IGN.
        running.lost = error_text("cannot wait for the shell", errno);
    } else if (info.si_pid == 0) {
        return;
    } else {
        m_supervisor.release(running.pid);
        if (running.kill_group_on_exit) {
            ::kill(-running.pid, SIGKILL);
        }
        while (::wait4(running.pid, &running.status, 0, &running.usage) < 0 && errno == EINTR) {
        }
    }
    running.reaped = true;
    running.end = std::chrono::system_clock::now();
    running.reaped_at = Clock::now();
    running.drain_until = running.reaped_at + k_drain_idle;
    running.pidfd.reset();
    running.kill_at.reset();
}

// Moves an attempt along where only time decides: polling for the exit where there is no pidfd, the end of a
// cancel's grace, and the end of the drain.
void LocalTransport::advance(Running& running) {
    if (!running.reaped && !running.pidfd.is_open()) {
        try_reap(running);
    }
    const auto now = Clock::now();
    if (!running.reaped && running.kill_at && *running.kill_at <= now) {
        ::kill(-running.pid, SIGKILL);
        running.kill_at.reset();
    }
    if (!running.reaped || now < running.drain_until) {
        return;
    }
    // Whatever the pipes already hold is kept even if this thread was too slow to read it within the drain:
    // the shell's own last output is always in there.
    for (core::Stream stream : {core::Stream::out, core::Stream::err}) {
        core::UniqueFd& fd = stream == core::Stream::out ? running.out : running.err;
        for (int i = 0; i < k_final_reads && read_pipe(running, stream); ++i) {
        }
        fd.reset();
    }
}

void LocalTransport::finish_done() {
    for (auto it = m_running.begin(); it != m_running.end();) {
        const Running& running = *it->second;
        if (!running.reaped || running.out.is_open() || running.err.is_open()) {
            ++it;
            continue;
        }
        core::Outcome outcome = running.outcome();
        outcome.transfer = running.transfer;
        LocalCollectSource source(running.workdir);
        core::collect_after(
            running.collect, running.collect_on_failure, [&]() -> core::CollectSource& { return source; }, outcome);
        m_events.on_finished(running.attempt, std::move(outcome));
        it = m_running.erase(it);
    }
}

} // namespace sshard::transport
