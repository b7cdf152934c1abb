// Shards to hosts, and what the end of an attempt means: success, a retry after backoff, a requeue when its
// host was lost, or a failure for good.
#include <algorithm>
#include <cstring>
#include <fmt/format.h>

#include "core/backoff.hpp"
#include "core/scheduler_impl.hpp"
#include "core/transfer_paths.hpp"

namespace sshard::core {

namespace {

// Why an attempt did not succeed, for its record and the report.
std::string failure_reason(const AttemptEnd& end, const JobSpec& job) {
    const Outcome& outcome = end.outcome;
    if (end.timed_out) {
        return fmt::format("timed out after {}", format_duration(job.timeout.value_or(Duration(0))));
    }
    if (!outcome.transfer_error.empty()) {
        return outcome.transfer_error;
    }
    switch (outcome.kind) {
    case Outcome::Kind::exited:
        return outcome.exit_code == 0 ? end.output_error : fmt::format("exit {}", outcome.exit_code);
    case Outcome::Kind::signaled: {
        const char* name = sigabbrev_np(outcome.signal);
        return name != nullptr ? fmt::format("killed by SIG{}", name)
                               : fmt::format("killed by signal {}", outcome.signal);
    }
    case Outcome::Kind::transport_failed:
        return outcome.reason;
    }
    return {};
}

} // namespace

void Scheduler::Impl::dispatch() {
    if (interrupted || stopping) {
        return;
    }
    for (std::size_t index : by_priority) {
        if (capped()) {
            return;
        }
        if (jobs[index].state == JobRun::State::active) {
            dispatch_job(jobs[index]);
        }
    }
}

void Scheduler::Impl::dispatch_job(JobRun& job) {
    if (!check_fit(job)) {
        return;
    }
    std::size_t job_index = static_cast<std::size_t>(&job - jobs.data());
    SteadyTime now = clock.now();
    const std::vector<std::size_t>& pinned = job.planned->pinned;
    for (auto it = job.queued.begin(); it != job.queued.end() && !capped();) {
        std::optional<std::size_t> host;
        if (it->second.ready_at <= now) {
            host = pinned.empty() ? hosts.choose(job.eligible, it->second.failed_hosts, job.need)
                                  : hosts.choose({pinned[it->first]}, {}, job.need);
        }
        if (!host) {
            ++it;
            continue;
        }
        Shard shard = std::move(it->second);
        it = job.queued.erase(it);
        launch(job_index, std::move(shard), *host);
    }
    while (!capped()) {
        advance_cursor(job);
        if (job.cursor >= job.planned->shards.size()) {
            break;
        }
        auto host = pinned.empty() ? hosts.choose(job.eligible, {}, job.need)
                                   : hosts.choose({pinned[job.cursor]}, {}, job.need);
        if (!host && pinned.empty()) {
            break;
        }
        Shard shard;
        shard.index = job.cursor++;
        if (options.history != nullptr) {
            shard.next_attempt = options.history->attempts(job.summary.name, shard.index) + 1;
            recall_submitted(job, shard, host);
        }
        if (host) {
            launch(job_index, std::move(shard), *host);
        } else {
            // A pinned shard whose host is busy or away waits for it, and lets the shards of other hosts go.
            shard.ready_at = now;
            job.queued[shard.index] = std::move(shard);
        }
    }
}

// A shard whose last attempt an earlier session handed to its host's transport (Slurm) and never saw end
// continues that attempt, where it goes to the same host: the transport follows it instead of running it again.
void Scheduler::Impl::recall_submitted(const JobRun& job, Shard& shard, std::optional<std::size_t> host) const {
    const SubmittedAttempt* submitted = options.history->submitted(job.summary.name, shard.index);
    if (submitted != nullptr && host && plan.spec->hosts[*host].name == submitted->host) {
        shard.resume = submitted->handle;
        shard.next_attempt = submitted->attempt;
    }
}

// A job whose shards fit none of its hosts, now that each has said its size, fails the rest at once rather than
// wait for ever. Returns whether its shards may still go.
bool Scheduler::Impl::check_fit(JobRun& job) {
    if (job.need.cpus == 1 && job.need.memory == 0) {
        return true; // any host holds one slot
    }
    std::string problem = hosts.fits_none(job.eligible, job.need);
    if (problem.empty()) {
        return true;
    }
    abandon_rest(job, true, problem);
    check_done(job);
    return false;
}

void Scheduler::Impl::launch(std::size_t job_index, Shard shard, std::size_t host) {
    JobRun& job = jobs[job_index];
    const ShardSet& shards = job.planned->shards;
    Running run;
    run.job = job_index;
    run.attempt.id = next_id++;
    run.attempt.job = job.planned->job;
    run.attempt.index = shard.index;
    run.attempt.number = shard.next_attempt++;
    run.attempt.host = host;
    run.attempt.command = shards.command(shard.index, run.attempt.number, plan.spec->hosts[host].name);
    run.attempt.key = shards.command(shard.index);
    run.attempt.inputs = shards.inputs(shard.index);
    run.attempt.start = clock.wall();
    SteadyTime now = clock.now();
    // Where the transport reports the command's start, the timeout waits for that (handle_started): a set-up
    // longer than the timeout must not cancel a shard that has not started yet.
    if (job.planned->job->timeout && !transport->reports_starts(host)) {
        run.deadline = now + *job.planned->job->timeout;
    }
    run.shard = std::move(shard);
    job.first_start = job.first_start.value_or(now);
    ++job.running;
    hosts.occupy(host, job.need);

    Launch launch;
    launch.attempt = run.attempt.id;
    launch.host = host;
    launch.command = run.attempt.command;
    launch.env = environment(job, run.attempt);
    launch.workdir = job.planned->job->workdir;
    launch.shell = job.planned->job->shell;
    launch.detach = job.planned->job->detach;
    launch.timeout = job.planned->job->timeout;
    launch.stage = job.planned->stage;
    launch.collect = collect_files(job, run.attempt);
    launch.collect_on_failure = job.planned->job->collect_on_failure;
    launch.resume = std::exchange(run.shard.resume, {});
    if (options.make_output) {
        launch.output = options.make_output(run.attempt);
        run.output = launch.output;
    }
    listener.attempt_started(run.attempt);
    running.emplace(run.attempt.id, std::move(run));
    transport->start(std::move(launch));
}

std::vector<std::pair<std::string, std::string>> Scheduler::Impl::environment(const JobRun& job,
                                                                              const Attempt& attempt) const {
    auto env = job.planned->job->env;
    env.emplace_back("SSHARD_JOB", job.planned->job->name);
    env.emplace_back("SSHARD_INDEX", std::to_string(attempt.index));
    env.emplace_back("SSHARD_COUNT", std::to_string(job.planned->shards.size()));
    env.emplace_back("SSHARD_ATTEMPT", std::to_string(attempt.number));
    env.emplace_back("SSHARD_HOST", plan.spec->hosts[attempt.host].name);
    env.emplace_back("SSHARD_RUN", options.run_id);
    return env;
}

// The job's `collect` entries for an attempt, placeholders filled; an entry whose filled path would leave its
// directory is refused by its transport, with the reason given here.
std::vector<CollectFile> Scheduler::Impl::collect_files(const JobRun& job, const Attempt& attempt) const {
    std::vector<CollectFile> files;
    if (options.collect_dir.empty()) {
        return files;
    }
    auto value = [&](std::string_view name) {
        if (name == "attempt") {
            return std::to_string(attempt.number);
        }
        if (name == "host") {
            return plan.spec->hosts[attempt.host].name;
        }
        return job.planned->shards.value(attempt.index, name).value_or("");
    };
    for (const auto& entry : job.planned->job->collect) {
        CollectFile file;
        file.optional = entry.optional;
        std::string from = fill_path(entry.from, value);
        std::string to = fill_path(entry.to, value);
        auto from_ok = normal_relative_path(from);
        auto to_ok = collect_destination(to);
        file.from = from_ok.value_or(from);
        file.to = to_ok ? options.collect_dir + "/" + *to_ok : to;
        if (!from_ok || !to_ok) {
            file.refused = fmt::format("collect refused: '{}' to '{}' would leave its directory", from, to);
        }
        files.push_back(std::move(file));
    }
    return files;
}

// The timeout counts from when the command started on its host, not from the set-up before it.
void Scheduler::Impl::handle_started(std::uint64_t id) {
    auto it = running.find(id);
    if (it == running.end() || it->second.timed_out) {
        return;
    }
    if (const auto& timeout = jobs[it->second.job].planned->job->timeout) {
        it->second.deadline = clock.now() + *timeout;
    }
}

void Scheduler::Impl::handle_submitted(std::uint64_t id, const std::string& handle) {
    auto it = running.find(id);
    if (it != running.end()) {
        listener.attempt_submitted(it->second.attempt, handle);
    }
}

void Scheduler::Impl::handle_finished(std::uint64_t id, const Outcome& outcome) {
    auto it = running.find(id);
    if (it == running.end()) {
        return;
    }
    Running run = std::move(it->second);
    running.erase(it);
    JobRun& job = jobs[run.job];
    --job.running;
    hosts.release(run.attempt.host, job.need);
    job.last_end = clock.now();

    AttemptEnd end;
    end.outcome = outcome;
    end.timed_out = run.timed_out;
    end.output_error = close_records(run, outcome);
    if (outcome.kind == Outcome::Kind::exited && outcome.exit_code == 0 && !run.timed_out && end.output_error.empty() &&
        outcome.transfer_error.empty()) {
        end.verdict = Verdict::succeeded;
        ++job.summary.succeeded;
    } else if (interrupted) {
        end.verdict = Verdict::unfinished;
        end.reason = "interrupted";
        ++job.summary.unfinished;
    } else {
        settle_failure(job, run, end);
    }
    listener.attempt_finished(run.attempt, end);
    check_done(job);
}

// Completes the attempt's output files and joblog line; returns the first failure to write them, or "".
std::string Scheduler::Impl::close_records(Running& run, const Outcome& outcome) {
    std::string error = run.output ? run.output->close() : std::string();
    std::string record_error = options.record_end ? options.record_end(run.attempt, outcome) : std::string();
    return error.empty() ? record_error : error;
}

// Decides between a retry, a requeue and a final failure.
void Scheduler::Impl::settle_failure(JobRun& job, Running& run, AttemptEnd& end) {
    const JobSpec& spec = *job.planned->job;
    Shard& shard = run.shard;
    end.reason = failure_reason(end, spec);
    bool host_lost = end.outcome.kind == Outcome::Kind::transport_failed && !run.timed_out;
    if (host_lost) {
        mark_down(run.attempt.host, end.outcome.reason);
    }
    if (host_lost && shard.requeues < options.max_requeues) {
        ++shard.requeues;
        shard.ready_at = clock.now();
        end.verdict = Verdict::requeued;
    } else if (!host_lost && shard.failures < spec.retries) {
        ++shard.failures;
        shard.failed_hosts.push_back(run.attempt.host);
        shard.ready_at = clock.now() + backoff_delay(spec.backoff, shard.failures, rng);
        end.verdict = Verdict::retry;
    } else {
        if (host_lost) {
            end.reason = fmt::format("lost its host {} times; last: {}", shard.requeues + 1, end.reason);
        }
        end.verdict = Verdict::failed;
        ++job.summary.failed;
        stopping = stopping || options.fail_fast;
        return;
    }
    ++job.summary.retried;
    job.queued[shard.index] = std::move(shard);
}

void Scheduler::Impl::handle_host_state(std::size_t host, const HostState& state) {
    if (!state.up) {
        mark_down(host, state.reason);
        return;
    }
    hosts.set_up(host, state.cpus, state.memory);
    listener.host_changed(host, state);
}

void Scheduler::Impl::handle_host_sample(std::size_t host, const HostSample& sample) {
    listener.host_sampled(host, sample);
    if (auto hold = hosts.sampled(host, sample)) {
        listener.host_held(host, *hold);
    }
}

void Scheduler::Impl::mark_down(std::size_t host, const std::string& reason) {
    if (!hosts.set_down(host, reason)) {
        return;
    }
    HostState state;
    state.reason = reason;
    listener.host_changed(host, state);
}

void Scheduler::Impl::process_timers() {
    SteadyTime now = clock.now();
    for (auto it = running.begin(); timeouts && it != running.end(); ++it) {
        auto& [id, run] = *it;
        if (run.deadline && now >= *run.deadline && !run.timed_out) {
            run.timed_out = true;
            transport->cancel(id, options.grace);
        }
    }
    if (!interrupted) {
        for (std::size_t host : hosts.take_due_reconnects()) {
            transport->connect(host);
        }
    }
    for (std::size_t host : hosts.take_idle_drained()) {
        transport->disconnect(host);
    }
    check_down_limits();
}

void Scheduler::Impl::interrupt() {
    // A second interrupt means "now": no grace before KILL.
    auto grace = interrupted ? std::chrono::milliseconds(0) : options.grace;
    interrupted = true;
    for (const auto& [id, run] : running) {
        transport->cancel(id, grace);
    }
}

} // namespace sshard::core
