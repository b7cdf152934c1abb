// A job's course through a run: it waits for the jobs it needs, skips what a resumed run already finished, gives
// up on its shards when its hosts stay down or a need failed, and is settled when the run is interrupted or
// stops after a failure.
#include <algorithm>
#include <fmt/format.h>

#include "core/scheduler_impl.hpp"

namespace sshard::core {

namespace {

// Adds `index` to ascending `ranges`, joining it to the last range when adjacent.
void add_index(std::vector<IndexRange>& ranges, std::uint64_t index) {
    if (!ranges.empty() && ranges.back().to == index) {
        ++ranges.back().to;
    } else {
        ranges.push_back({index, index + 1});
    }
}

double seconds(SteadyTime from, SteadyTime to) {
    return std::chrono::duration<double>(to - from).count();
}

} // namespace

// Whether an earlier run finished shard `index` of `job` as it stands now: true for succeeded, false for failed.
std::optional<bool> Scheduler::Impl::recorded(const JobRun& job, std::uint64_t index) const {
    if (options.history == nullptr) {
        return std::nullopt;
    }
    const ShardSet& shards = job.planned->shards;
    return options.history->find(job.summary.name, index, shards.inputs(index), shards.command(index));
}

// Moves the cursor past shards an earlier run completed, counting them.
void Scheduler::Impl::advance_cursor(JobRun& job) {
    if (options.history == nullptr || options.history->empty()) {
        return;
    }
    const ShardSet& shards = job.planned->shards;
    while (job.cursor < shards.size()) {
        auto done = recorded(job, job.cursor);
        if (!done || (!*done && options.retry_failed)) {
            return;
        }
        ++(*done ? job.summary.succeeded : job.summary.failed);
        ++job.summary.recalled;
        ++job.cursor;
    }
}

bool Scheduler::Impl::has_work(const JobRun& job) const {
    return job.cursor < job.planned->shards.size() || !job.queued.empty();
}

void Scheduler::Impl::check_done(JobRun& job) {
    if (job.state != JobRun::State::active) {
        return;
    }
    advance_cursor(job);
    if (has_work(job) || job.running > 0) {
        return;
    }
    job.state = JobRun::State::done;
    if (job.first_start) {
        job.summary.makespan_s = seconds(*job.first_start, job.last_end);
    }
    update_waiting_jobs();
}

void Scheduler::Impl::update_waiting_jobs() {
    auto result = [&](std::size_t spec_index) -> std::optional<bool> {
        const JobRun& job = jobs[by_spec_order[spec_index]];
        if (job.state != JobRun::State::done) {
            return std::nullopt;
        }
        return job.summary.succeeded == job.summary.total;
    };
    for (auto& job : jobs) {
        if (job.state != JobRun::State::waiting) {
            continue;
        }
        auto readiness = graph.readiness(job.spec_order, result);
        if (readiness.failed_need) {
            const std::string& need = plan.spec->jobs[*readiness.failed_need].name;
            abandon_rest(job, false, fmt::format("needs '{}', which did not fully succeed", need));
            job.state = JobRun::State::done;
            update_waiting_jobs();
            return;
        }
        if (readiness.ready) {
            job.state = JobRun::State::active;
            check_done(job); // a job with nothing to do is done at once
        }
    }
}

// Gives up on every shard of `job` not yet run or waiting to be retried.
void Scheduler::Impl::abandon_rest(JobRun& job, bool as_failed, const std::string& reason) {
    advance_cursor(job);
    std::vector<IndexRange> indices;
    for (const auto& [index, shard] : job.queued) {
        add_index(indices, index);
    }
    std::uint64_t count = job.queued.size();
    job.queued.clear();
    for (; job.cursor < job.planned->shards.size(); ++job.cursor) {
        // On resume, shards an earlier run finished keep their result.
        auto done = recorded(job, job.cursor);
        if (done && (*done || !options.retry_failed)) {
            ++(*done ? job.summary.succeeded : job.summary.failed);
            ++job.summary.recalled;
        } else {
            add_index(indices, job.cursor);
            ++count;
        }
    }
    if (count == 0) {
        return;
    }
    (as_failed ? job.summary.failed : job.summary.skipped) += count;
    listener.shards_not_run(*job.planned->job, indices, as_failed, reason);
}

void Scheduler::Impl::check_down_limits() {
    SteadyTime now = clock.now();
    for (auto& job : jobs) {
        if (job.state != JobRun::State::active || !has_work(job) || interrupted || stopping) {
            continue;
        }
        if (!job.planned->pinned.empty()) {
            fail_lost_pinned(job, now);
            continue;
        }
        auto expiry = hosts.down_limit_expiry(job.eligible);
        if (!expiry || now < *expiry) {
            continue;
        }
        no_hosts = no_hosts || !hosts.any_up();
        const std::string& last_error = hosts.last_error(job.eligible.back());
        abandon_rest(job, true,
                     fmt::format("no eligible host was up for {} (last error: {})", format_duration(options.down_limit),
                                 last_error.empty() ? "none" : last_error));
        check_done(job);
    }
}

// Fails each pinned shard of `job` that waits for a host away for the down limit: it may run nowhere else.
void Scheduler::Impl::fail_lost_pinned(JobRun& job, SteadyTime now) {
    for (auto it = job.queued.begin(); it != job.queued.end();) {
        std::size_t host = job.planned->pinned[it->first];
        auto expiry = hosts.down_limit_expiry({host});
        if (!expiry || now < *expiry) {
            ++it;
            continue;
        }
        no_hosts = no_hosts || !hosts.any_up();
        const std::string& last_error = hosts.last_error(host);
        ++job.summary.failed;
        listener.shards_not_run(*job.planned->job, {{it->first, it->first + 1}}, true,
                                fmt::format("its host {} was not up for {} (last error: {})",
                                            plan.spec->hosts[host].name, format_duration(options.down_limit),
                                            last_error.empty() ? "none" : last_error));
        it = job.queued.erase(it);
    }
    check_done(job);
}

// After an interrupt or --fail-fast, once nothing runs, settles every job. Returns whether the run is over.
bool Scheduler::Impl::close_out() {
    bool all_done =
        std::all_of(jobs.begin(), jobs.end(), [](const JobRun& j) { return j.state == JobRun::State::done; });
    if (all_done) {
        return true;
    }
    if (!(interrupted || stopping) || !running.empty()) {
        return false;
    }
    for (auto& job : jobs) {
        if (job.state == JobRun::State::done) {
            continue;
        }
        if (interrupted) {
            advance_cursor(job);
            job.summary.unfinished += job.queued.size() + (job.planned->shards.size() - job.cursor);
            job.queued.clear();
            job.cursor = job.planned->shards.size();
        } else {
            fail_waiting_retries(job);
            abandon_rest(job, false, "--fail-fast: the run stopped after a shard failed");
        }
        job.state = JobRun::State::done;
    }
    return true;
}

// Under --fail-fast, shards waiting for a retry fail: their last attempt failed, and no retry will come. Pinned
// shards that wait for their host and never ran are left to be skipped.
void Scheduler::Impl::fail_waiting_retries(JobRun& job) {
    std::vector<IndexRange> indices;
    for (auto it = job.queued.begin(); it != job.queued.end();) {
        if (it->second.failures == 0 && it->second.requeues == 0) {
            ++it;
            continue;
        }
        add_index(indices, it->first);
        ++job.summary.failed;
        it = job.queued.erase(it);
    }
    if (indices.empty()) {
        return;
    }
    listener.shards_not_run(*job.planned->job, indices, true, "--fail-fast: the run stopped before its next try");
}

std::optional<SteadyTime> Scheduler::Impl::next_deadline() const {
    std::optional<SteadyTime> next;
    auto consider = [&](SteadyTime t) { next = next ? std::min(*next, t) : t; };
    for (auto it = running.begin(); timeouts && it != running.end(); ++it) {
        const auto& [id, run] = *it;
        if (run.deadline && !run.timed_out) {
            consider(*run.deadline);
        }
    }
    if (auto reconnect = hosts.next_reconnect(); reconnect && !interrupted) {
        consider(*reconnect);
    }
    if (interrupted || stopping) {
        return next;
    }
    SteadyTime now = clock.now();
    for (const auto& job : jobs) {
        if (job.state != JobRun::State::active) {
            continue;
        }
        for (const auto& [index, shard] : job.queued) {
            // A shard whose time has come waits for a host, whose news comes as an event.
            if (shard.ready_at > now) {
                consider(shard.ready_at);
            }
            if (auto expiry = job.planned->pinned.empty() ? std::nullopt
                                                          : hosts.down_limit_expiry({job.planned->pinned[index]})) {
                consider(*expiry);
            }
        }
        if (auto expiry = hosts.down_limit_expiry(job.eligible);
            expiry && has_work(job) && job.planned->pinned.empty()) {
            consider(*expiry);
        }
    }
    return next;
}

RunSummary Scheduler::Impl::summary() const {
    RunSummary result;
    std::optional<SteadyTime> first;
    SteadyTime last{};
    for (const auto& job : jobs) {
        result.jobs.push_back(job.summary);
        if (job.first_start) {
            first = first ? std::min(*first, *job.first_start) : *job.first_start;
            last = std::max(last, job.last_end);
        }
    }
    result.makespan_s = first ? std::max(0.0, seconds(*first, last)) : 0.0;
    result.interrupted = interrupted;
    result.no_hosts = no_hosts;
    return result;
}

} // namespace sshard::core
