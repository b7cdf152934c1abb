#include "transport/slurm_transport.hpp"

#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.hpp"
#include "core/unique_fd.hpp"
#include "core/write_all.hpp"
#include "transport/remote_command.hpp"
#include "transport/slot_worker.hpp"
#include "transport/slurm_batch.hpp"
#include "transport/slurm_command.hpp"

namespace sshard::transport {

namespace {

// sbatch retries "temporarily unable to accept job" itself for a while before it gives up.
constexpr std::chrono::seconds k_sbatch_timeout{180};
constexpr std::chrono::milliseconds k_max_retry_wait{60'000};

int write_file(const std::string& path, std::string_view text, mode_t mode) {
    core::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode));
    if (!fd.is_open()) {
        return errno;
    }
    return core::write_all(fd.get(), text);
}

} // namespace

SlurmTransport::SlurmTransport(core::TransportEvents& events, const std::vector<core::HostSpec>& hosts, std::string dir,
                               const std::vector<std::string>& recorded)
    : m_events(events), m_hosts(hosts), m_dir(std::move(dir)) {
    for (const auto& text : recorded) {
        if (auto handle = parse_task_handle(text)) {
            m_recorded.emplace(handle->job, handle->index);
        }
    }
    try {
        m_thread = std::thread([this] { run(); });
    } catch (const std::system_error& e) {
        throw core::Error(std::string("cannot start the Slurm transport's thread: ") + e.what());
    }
}

SlurmTransport::~SlurmTransport() {
    shutdown();
}

void SlurmTransport::post(Request request) {
    m_inbox.post(std::move(request));
}

void SlurmTransport::connect(std::size_t host) {
    Request request;
    request.kind = Request::Kind::connect;
    request.host = host;
    post(std::move(request));
}

void SlurmTransport::start(core::Launch launch) {
    Request request;
    request.kind = Request::Kind::start;
    request.launch = std::move(launch);
    post(std::move(request));
}

void SlurmTransport::cancel(std::uint64_t attempt, std::chrono::milliseconds /*grace*/) {
    Request request;
    request.kind = Request::Kind::cancel;
    request.attempt = attempt;
    post(std::move(request));
}

void SlurmTransport::shutdown() {
    if (!m_stop_posted) {
        m_stop_posted = true;
        post(Request{});
    }
    if (m_thread.joinable()) {
        m_thread.join();
    }
}

void SlurmTransport::run() {
    auto next_poll = Clock::now();
    for (;;) {
        for (auto& request : m_inbox.take()) {
            if (!handle(request)) {
                stop_all();
                return;
            }
        }
        auto now = Clock::now();
        submit_due(now);
        send_cancels();
        if (now >= next_poll) {
            if (!m_tasks.empty()) {
                poll();
            }
            next_poll = now + k_poll_interval;
        }
        auto wake = next_poll;
        if (m_first_queued) {
            wake = std::min(wake,
                            std::max(m_retry_at, std::min(*m_first_queued + 3 * k_gather, m_last_queued + k_gather)));
        }
        m_inbox.wait(wake);
    }
}

bool SlurmTransport::handle(Request& request) {
    switch (request.kind) {
    case Request::Kind::connect:
        check_host(request.host);
        return true;
    case Request::Kind::start:
        accept(std::move(request.launch));
        return true;
    case Request::Kind::cancel:
        cancel_task(request.attempt);
        return true;
    case Request::Kind::stop:
        return false;
    }
    return false;
}

void SlurmTransport::accept(core::Launch launch) {
    std::uint64_t attempt = launch.attempt;
    std::size_t host = launch.host;
    Task task;
    task.launch = std::move(launch);
    task.start = std::chrono::system_clock::now();
    auto& added = m_tasks.emplace(attempt, std::move(task)).first->second;
    if (adopt(attempt, added)) {
        return;
    }
    m_queued[host].push_back(attempt);
    m_last_queued = Clock::now();
    m_first_queued = m_first_queued.value_or(m_last_queued);
}

// A task an earlier session submitted is followed from here as if this one had: the next polls see whether it
// still waits or runs, and one that ended meanwhile has left its status.
bool SlurmTransport::adopt(std::uint64_t attempt, Task& task) {
    auto handle = task.launch.resume.empty() ? std::nullopt : parse_task_handle(task.launch.resume);
    if (!handle) {
        return false;
    }
    task.job = handle->job;
    task.index = handle->index;
    task.marker = handle->marker;
    task.dir = handle->dir;
    task.adopted = true;
    m_events.on_submitted(attempt, task.launch.resume);
    finish_from_files(attempt, task, false);
    return true;
}

void SlurmTransport::check_host(std::size_t host) {
    const auto& spec = m_hosts.at(host);
    core::HostState state;
    auto start = Clock::now();
    bool made = ::mkdir(m_dir.c_str(), 0700) == 0;
    if (!made && errno != EEXIST) {
        state.reason = fmt::format("cannot make the batch directory '{}': {}", m_dir, std::strerror(errno));
    } else {
        if (!made && !m_swept) {
            cancel_unrecorded();
        }
        state.reason = !m_unshared.empty() ? m_unshared : partition_problem(spec.slurm);
        state.up = state.reason.empty();
    }
    state.setup_s = std::chrono::duration<double>(Clock::now() - start).count();
    m_events.on_host_state(host, std::move(state));
}

// One squeue for every task of the user's: those whose script is in a batch directory of this run and that no
// earlier session journaled are cancelled. They cannot be followed (nothing says which shard each runs), and
// left alone they would run beside the same shards submitted again. Paths are compared resolved: an earlier
// session may have named the run directory otherwise. A squeue that fails sweeps nothing.
void SlurmTransport::cancel_unrecorded() {
    m_swept = true;
    CommandResult squeue = run_program({"squeue", "-h", "-r", "-u", std::to_string(::getuid()), "-o", "%F|%K|%o"});
    std::error_code error;
    auto batches = std::filesystem::weakly_canonical(m_dir, error);
    std::map<std::string, bool> ours; // by script: an array's tasks share it
    auto is_ours = [&](const std::string& script) {
        auto [it, added] = ours.try_emplace(script, false);
        if (added && script.ends_with("/array.sh")) {
            std::error_code ec;
            it->second = std::filesystem::weakly_canonical(script, ec).parent_path().parent_path() == batches && !ec;
        }
        return it->second;
    };
    for (const auto& row : parse_queued_scripts(squeue.ok() && !error ? squeue.out : "")) {
        if (!m_recorded.contains({row.job, row.task}) && is_ours(row.script)) {
            m_to_cancel.push_back(fmt::format("{}_{}", row.job, row.task));
        }
    }
    m_recorded.clear();
    send_cancels();
}

void SlurmTransport::cancel_task(std::uint64_t attempt) {
    auto it = m_tasks.find(attempt);
    if (it == m_tasks.end() || it->second.cancelled) {
        return;
    }
    Task& task = it->second;
    task.cancelled = true;
    if (task.ended) {
        // It has ended already: the scheduler wants its outcome now, not its memory.
        finish(attempt, std::move(*task.ended));
        return;
    }
    if (task.job != 0) {
        m_to_cancel.push_back(fmt::format("{}_{}", task.job, task.index));
        return;
    }
    auto& queued = m_queued[task.launch.host];
    std::erase(queued, attempt);
    core::Outcome outcome;
    outcome.kind = core::Outcome::Kind::signaled;
    outcome.signal = SIGTERM;
    outcome.start = task.start;
    outcome.end = std::chrono::system_clock::now();
    finish(attempt, std::move(outcome));
}

// Every host's queued shards go once none has come for k_gather, or the first has waited three times that.
void SlurmTransport::submit_due(Clock::time_point now) {
    if (!m_first_queued || now < m_retry_at ||
        (now < m_last_queued + k_gather && now < *m_first_queued + 3 * k_gather)) {
        return;
    }
    m_first_queued.reset();
    auto queued = std::move(m_queued);
    m_queued.clear();
    for (auto& [host, attempts] : queued) {
        for (std::size_t from = 0; from < attempts.size(); from += k_max_array_tasks) {
            auto first = attempts.begin() + static_cast<std::ptrdiff_t>(from);
            if (Clock::now() < m_retry_at) {
                // Slurm refused the last array for now: the rest waits with it, in order.
                m_queued[host].insert(m_queued[host].end(), first, attempts.end());
                break;
            }
            auto last =
                attempts.begin() + static_cast<std::ptrdiff_t>(std::min(attempts.size(), from + k_max_array_tasks));
            submit(host, std::vector<std::uint64_t>(first, last));
        }
    }
}

void SlurmTransport::submit(std::size_t host, std::vector<std::uint64_t> attempts) {
    if (attempts.empty()) {
        return;
    }
    std::string dir = new_batch_dir();
    if (dir.empty() || !write_batch(dir, attempts)) {
        refuse(host, attempts, fmt::format("cannot write the batch files under '{}': {}", m_dir, std::strerror(errno)));
        return;
    }
    CommandResult sbatch = run_program(sbatch_args(host, dir, attempts), k_sbatch_timeout);
    std::uint64_t job = 0;
    auto id = sbatch.out.substr(0, sbatch.out.find_first_of(";\n"));
    if (sbatch.ok() && std::from_chars(id.data(), id.data() + id.size(), job).ec == std::errc() && job != 0) {
        m_retry_wait = std::chrono::milliseconds(1000);
        for (auto attempt : attempts) {
            Task& task = m_tasks.at(attempt);
            task.job = job;
            m_events.on_submitted(attempt, format_task_handle({job, task.index, task.marker, task.dir}));
        }
        return;
    }
    if (is_temporary_refusal(sbatch.err)) {
        // Back in the queue, in the same order, for a new batch after the back-off.
        auto& queued = m_queued[host];
        queued.insert(queued.begin(), attempts.begin(), attempts.end());
        m_retry_at = Clock::now() + m_retry_wait;
        m_retry_wait = std::min(m_retry_wait * 2, k_max_retry_wait);
        m_first_queued = m_first_queued.value_or(Clock::now());
        return;
    }
    refuse(host, attempts, "sbatch failed: " + sbatch.why());
}

std::string SlurmTransport::new_batch_dir() {
    for (int tries = 0; tries < 1000; ++tries) {
        std::string dir = fmt::format("{}/{}", m_dir, ++m_batches);
        if (::mkdir(dir.c_str(), 0700) == 0) {
            return dir;
        }
        if (errno != EEXIST) {
            return {};
        }
    }
    return {};
}

bool SlurmTransport::write_batch(const std::string& dir, const std::vector<std::uint64_t>& attempts) {
    for (std::size_t i = 0; i < attempts.size(); ++i) {
        Task& task = m_tasks.at(attempts[i]);
        task.dir = dir;
        task.index = i;
        task.marker = make_marker();
        std::string base = fmt::format("{}/{}", dir, i);
        int error = write_file(base + ".sh", wrapper_script(task.launch, task.marker) + "\n", 0600);
        error = error != 0 ? error : write_file(base + ".env", env_line(task.launch), 0600);
        if (error != 0) {
            errno = error;
            return false;
        }
    }
    int error = write_file(dir + "/array.sh", array_script(dir), 0700);
    errno = error;
    return error == 0;
}

std::vector<std::string> SlurmTransport::sbatch_args(std::size_t host, const std::string& dir,
                                                     const std::vector<std::uint64_t>& attempts) const {
    const auto& slurm = m_hosts.at(host).slurm;
    // --no-requeue: NODE_FAIL and the like end the task, and sshard requeues it at once, where Slurm's requeue
    // would hold it for minutes.
    std::vector<std::string> args = {"sbatch",
                                     "--parsable",
                                     fmt::format("--array=0-{}", attempts.size() - 1),
                                     "--job-name=sshard",
                                     "--output=" + dir + "/%a.out",
                                     "--error=" + dir + "/%a.err",
                                     "--ntasks=1",
                                     "--kill-on-invalid-dep=yes",
                                     "--no-requeue"};
    if (!slurm.partition.empty()) {
        args.push_back("--partition=" + slurm.partition);
    }
    if (!slurm.account.empty()) {
        args.push_back("--account=" + slurm.account);
    }
    // One array has one time limit: the first shard's job's, when the host sets none.
    auto time = slurm.time ? slurm.time : m_tasks.at(attempts.front()).launch.timeout;
    if (time) {
        args.push_back("--time=" + slurm_minutes(*time));
    }
    args.insert(args.end(), slurm.options.begin(), slurm.options.end());
    args.push_back(dir + "/array.sh");
    return args;
}

void SlurmTransport::refuse(std::size_t host, const std::vector<std::uint64_t>& attempts, const std::string& why) {
    core::HostState state;
    state.reason = why;
    m_events.on_host_state(host, std::move(state));
    auto now = std::chrono::system_clock::now();
    for (auto attempt : attempts) {
        finish(attempt, core::Outcome::transport_failure(why, m_tasks.at(attempt).start, now));
    }
}

void SlurmTransport::send_cancels() {
    if (m_to_cancel.empty()) {
        return;
    }
    std::vector<std::string> args = {"scancel", "--quiet"};
    args.insert(args.end(), m_to_cancel.begin(), m_to_cancel.end());
    m_to_cancel.clear();
    // A task that ended meanwhile is no error; one that could not be cancelled shows in the next polls.
    run_program(args);
}

void SlurmTransport::finish(std::uint64_t attempt, core::Outcome outcome) {
    auto it = m_tasks.find(attempt);
    if (it == m_tasks.end()) {
        return;
    }
    if (outcome.node.empty()) {
        outcome.node = it->second.node;
    }
    if (!outcome.node.empty()) {
        outcome.node_cpus = node_cpus(outcome.node);
    }
    m_tasks.erase(it);
    m_events.on_finished(attempt, std::move(outcome));
}

// One sinfo for every node when a node is first seen: the report counts a node's use against its CPUs.
std::optional<int> SlurmTransport::node_cpus(const std::string& node) {
    auto known = m_node_cpus.find(node);
    if (known != m_node_cpus.end()) {
        return known->second;
    }
    CommandResult sinfo = run_program({"sinfo", "-h", "-N", "-o", "%N %c"});
    for (const auto& [name, cpus] : parse_node_cpus(sinfo.ok() ? sinfo.out : "")) {
        m_node_cpus[name] = cpus;
    }
    return m_node_cpus[node]; // nullopt, and not asked again, where sinfo did not say
}

} // namespace sshard::transport
