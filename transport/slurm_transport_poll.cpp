// The Slurm transport's view of its tasks: one squeue for all of them, then each task's own files, then one sacct
// for the peak memory of those whose status has come.
#include <csignal>
#include <fcntl.h>
#include <fmt/format.h>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

#include "core/unique_fd.hpp"
#include "transport/remote_command.hpp"
#include "transport/slurm_accounting.hpp"
#include "transport/slurm_command.hpp"
#include "transport/slurm_transport.hpp"

namespace sshard::transport {

namespace {

// A task that squeue shows ended (or no longer shows) but whose I.rc has not appeared: polls to wait, for a
// filesystem whose caches lag, before it counts as lost.
constexpr int k_final_polls = 4;

// sacct reads the accounting database through slurmdbd: longer than this, and it is not asked again in the run.
constexpr std::chrono::seconds k_sacct_timeout{10};

// A task is not held for its memory within this of its timeout: the scheduler would count it timed out.
constexpr std::chrono::seconds k_rss_timeout_margin{2};

// "12,13,20": the job ids for squeue's and sacct's -j.
std::string job_list(const std::set<std::uint64_t>& jobs) {
    std::string list;
    for (auto job : jobs) {
        list += (list.empty() ? "" : ",") + std::to_string(job);
    }
    return list;
}

// The file's bytes, or nullopt when it cannot be read (a missing file among them).
std::optional<std::string> read_file(const std::string& path) {
    core::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.is_open()) {
        return std::nullopt;
    }
    std::string text;
    char buffer[65536];
    ssize_t got = 0;
    while ((got = ::read(fd.get(), buffer, sizeof buffer)) > 0) {
        text.append(buffer, static_cast<std::size_t>(got));
    }
    return got < 0 ? std::nullopt : std::optional(std::move(text));
}

// When the file was last written, by the clock of whoever wrote it (the node, or its file server), or nullopt.
std::optional<core::WallTime> modified(const std::string& path) {
    struct stat info {};
    if (::lstat(path.c_str(), &info) != 0) {
        return std::nullopt;
    }
    auto since_epoch = std::chrono::seconds(info.st_mtim.tv_sec) + std::chrono::nanoseconds(info.st_mtim.tv_nsec);
    return core::WallTime(std::chrono::duration_cast<core::WallTime::duration>(since_epoch));
}

core::Outcome killed(int signal) {
    core::Outcome outcome;
    outcome.kind = core::Outcome::Kind::signaled;
    outcome.signal = signal;
    return outcome;
}

} // namespace

void SlurmTransport::poll() {
    poll_queue();
    collect_max_rss(false);
}

void SlurmTransport::poll_queue() {
    std::set<std::uint64_t> jobs;
    for (const auto& [attempt, task] : m_tasks) {
        if (task.job != 0 && !task.ended) {
            jobs.insert(task.job);
        }
    }
    if (jobs.empty()) {
        return;
    }
    CommandResult squeue =
        run_program({"squeue", "-h", "-r", "--states=all", "-j", job_list(jobs), "-o", "%F %K %T %N"});
    // With one job id, squeue fails for a job slurmctld no longer holds (MinJobAge after its end): no rows.
    bool forgotten = !squeue.ok() && squeue.err.find("Invalid job id") != std::string::npos;
    if (!squeue.ok() && !forgotten) {
        // slurmctld busy or restarting: the tasks' own files still say which have ended.
        for (auto it = m_tasks.begin(); it != m_tasks.end();) {
            auto& [attempt, task] = *it++;
            if (task.job != 0 && !task.ended) {
                finish_from_files(attempt, task, false);
            }
        }
        return;
    }
    std::map<std::pair<std::uint64_t, std::uint64_t>, QueueRow> rows;
    for (auto& row : parse_queue(squeue.out)) {
        rows.emplace(std::pair(row.job, row.task), std::move(row));
    }
    for (auto it = m_tasks.begin(); it != m_tasks.end();) {
        auto& [attempt, task] = *it++;
        if (task.job != 0 && !task.ended) {
            auto row = rows.find({task.job, task.index});
            follow(attempt, task, row == rows.end() ? nullptr : &row->second);
        }
    }
}

// `row` is the task's line in squeue, null when squeue no longer shows it. The task's own I.rc decides its
// outcome whenever it exists; without one, the state Slurm ended it in.
void SlurmTransport::follow(std::uint64_t attempt, Task& task, const QueueRow* row) {
    if (row && !row->node.empty()) {
        task.node = row->node;
    }
    if (row && !task.running && row->state != "PENDING") {
        task.running = true;
        task.start = std::chrono::system_clock::now();
        m_events.on_started(attempt);
    }
    bool spoken = !row || (is_final_state(row->state) && !is_machine_failure(row->state));
    if (finish_from_files(attempt, task, spoken) || (row && !is_final_state(row->state))) {
        return;
    }
    std::string state = row ? row->state : "gone from squeue";
    if (row && is_machine_failure(row->state)) {
        finish(attempt, core::Outcome::transport_failure(fmt::format("Slurm: {} on {}", state, task.node), task.start,
                                                         std::chrono::system_clock::now()));
        return;
    }
    if (task.cancelled || state == "CANCELLED" || state == "TIMEOUT" || state == "DEADLINE" ||
        state == "OUT_OF_MEMORY") {
        core::Outcome outcome = killed(state == "OUT_OF_MEMORY" ? SIGKILL : SIGTERM);
        outcome.start = task.start;
        outcome.end = std::chrono::system_clock::now();
        finish(attempt, std::move(outcome));
        return;
    }
    if (++task.final_polls < k_final_polls) {
        return;
    }
    if (task.adopted) {
        // An earlier session's task that left no status (cancelled, or lost with its node): it runs again.
        finish(attempt, core::Outcome::transport_failure(
                            fmt::format("Slurm task {}_{} of an earlier session ended ({}) without its status",
                                        task.job, task.index, state),
                            task.start, std::chrono::system_clock::now()));
        return;
    }
    // It ended without its status: the run directory is not the one the node sees, or the task could not
    // start (slurmd's log on the node says why).
    std::string why = fmt::format("Slurm task {}_{} ended ({}) on {} without writing its status to '{}': is the "
                                  "run directory on a filesystem the compute nodes share?",
                                  task.job, task.index, state, task.node.empty() ? "no node" : task.node, task.dir);
    if (!m_seen_status) {
        m_unshared = why; // no task has written its status: the host stays down for this run
    }
    core::HostState down;
    down.reason = why;
    m_events.on_host_state(task.launch.host, std::move(down));
    finish(attempt, core::Outcome::transport_failure(why, task.start, std::chrono::system_clock::now()));
}

bool SlurmTransport::finish_from_files(std::uint64_t attempt, Task& task, bool slurm_has_spoken) {
    std::string base = fmt::format("{}/{}", task.dir, task.index);
    auto rc = read_file(base + ".rc");
    auto status = rc ? parse_task_status(*rc) : std::nullopt;
    if (!status) {
        return false;
    }
    StderrFilter filter(task.marker);
    auto err = read_file(base + ".err").value_or("");
    std::string user_err = filter.feed(err);
    user_err += filter.finish();
    core::Outcome outcome = task_outcome(status->status, filter.cpu_user_s(), filter.cpu_sys_s());
    if (outcome.kind == core::Outcome::Kind::signaled && !slurm_has_spoken) {
        return false; // Slurm may have killed it for a failed node (NODE_FAIL): its final state tells
    }
    if (task.launch.output) {
        if (auto out = read_file(base + ".out"); out && !out->empty()) {
            task.launch.output->write(core::Stream::out, *out);
        }
        if (!user_err.empty()) {
            task.launch.output->write(core::Stream::err, user_err);
        }
    }
    auto started = modified(base + ".st");
    auto ended = modified(base + ".rc");
    bool timed = started && ended && *started <= *ended;
    outcome.start = timed ? *started : task.start;
    outcome.end = timed ? *ended : std::chrono::system_clock::now();
    outcome.node = status->node;
    m_seen_status = true;
    for (const char* suffix : {".sh", ".env", ".out", ".err", ".st", ".rc"}) {
        ::unlink((base + suffix).c_str());
    }
    auto deadline = task.launch.timeout ? std::optional(task.start + *task.launch.timeout) : std::nullopt;
    if (m_accounting && (!deadline || std::chrono::system_clock::now() + k_rss_timeout_margin < *deadline)) {
        task.ended = std::move(outcome); // until accounting tells its MaxRSS (collect_max_rss)
        return true;
    }
    finish(attempt, std::move(outcome));
    return true;
}

// One sacct for the arrays of every task whose status has come. Each takes its batch step's MaxRSS once
// accounting shows the step ended; none after k_rss_polls polls (accounting lags, or keeps no memory), on its
// `last_chance`, or where accounting is off.
void SlurmTransport::collect_max_rss(bool last_chance) {
    std::set<std::uint64_t> jobs;
    for (const auto& [attempt, task] : m_tasks) {
        if (task.ended) {
            jobs.insert(task.job);
        }
    }
    if (jobs.empty()) {
        return;
    }
    std::map<std::pair<std::uint64_t, std::uint64_t>, StepMemory> steps;
    if (m_accounting) {
        CommandResult sacct = run_program(
            {"sacct", "-n", "-P", "--noconvert", "-o", "JobID,State,MaxRSS", "-j", job_list(jobs)}, k_sacct_timeout);
        m_sacct_failures = sacct.ok() ? 0 : m_sacct_failures + 1;
        // Accounting that is off, missing, too slow or failing again and again is not asked again in this run.
        m_accounting = !is_accounting_disabled(sacct.err) && sacct.ran && m_sacct_failures < k_sacct_failures;
        for (const auto& step : parse_step_memory(sacct.out)) {
            steps[{step.job, step.task}] = step;
        }
    }
    for (auto it = m_tasks.begin(); it != m_tasks.end();) {
        auto& [attempt, task] = *it++;
        if (!task.ended) {
            continue;
        }
        auto step = steps.find({task.job, task.index});
        bool known = step != steps.end() && step->second.ended;
        if (known || !m_accounting || last_chance || ++task.rss_polls >= k_rss_polls) {
            core::Outcome outcome = std::move(*task.ended);
            outcome.max_rss = known ? step->second.max_rss : std::nullopt;
            finish(attempt, std::move(outcome));
        }
    }
}

// The run is over: nothing of it may stay queued or running in Slurm.
void SlurmTransport::stop_all() {
    for (auto& [host, attempts] : m_queued) {
        for (auto attempt : attempts) {
            m_tasks.at(attempt).cancelled = true;
            core::Outcome outcome = killed(SIGKILL);
            outcome.start = m_tasks.at(attempt).start;
            outcome.end = std::chrono::system_clock::now();
            finish(attempt, std::move(outcome));
        }
    }
    m_queued.clear();
    for (auto& [attempt, task] : m_tasks) {
        if (!task.cancelled && !task.ended) {
            task.cancelled = true;
            m_to_cancel.push_back(fmt::format("{}_{}", task.job, task.index));
        }
    }
    send_cancels();
    auto deadline = Clock::now() + k_shutdown_wait;
    while (!m_tasks.empty() && Clock::now() < deadline) {
        poll_queue();
        collect_max_rss(true);
        if (!m_tasks.empty()) {
            std::this_thread::sleep_for(k_poll_interval);
        }
    }
    auto now = std::chrono::system_clock::now();
    while (!m_tasks.empty()) {
        auto start = m_tasks.begin()->second.start;
        finish(m_tasks.begin()->first,
               core::Outcome::transport_failure("Slurm did not end the task in time", start, now));
    }
}

} // namespace sshard::transport
