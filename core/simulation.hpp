// A run played out without running anything, for `sshard plan --predict`: the real scheduler drives a
// simulated transport on a simulated clock that jumps from one event (a host up, an attempt's end, a timer) to
// the next, and each attempt lasts what a past run measured (core/past_durations.hpp). Nothing waits, nothing
// is written, and the scheduler keeps to its rules: priorities, needs, host choice, timeouts and retries.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/past_durations.hpp"
#include "core/plan.hpp"

namespace sshard::core {

struct PredictedJob {
    std::string name;
    std::uint64_t shards = 0;
    std::uint64_t measured = 0; // shards with a run time of their own from the past run; the rest take the median
    double start_s = 0;         // seconds from the run's first start: its first attempt's start
    double end_s = 0;           // its last attempt's end
    double t_total_s = 0;
};

struct PredictedHost {
    std::string name;
    int slots = 0;
    double speed = 1; // the factor on run time it was given (core/past_durations.hpp)
    double busy_s = 0;
    double utilization = 0; // busy / (slots * makespan)
};

// The report's figures (man/sshard.1, REPORT) for the run as predicted.
struct Prediction {
    double makespan_s = 0; // the first attempt's start to the last attempt's end
    double t_total_s = 0;  // the sum of the attempts' run times
    std::uint64_t slots = 0;
    double utilization = 0; // T_total / (slots * makespan)
    std::uint64_t attempts = 0;
    std::vector<PredictedJob> jobs;   // spec order
    std::vector<PredictedHost> hosts; // spec order
    // Indices into `jobs`, first to last: the job that ends last, preceded by the job it needs that ended
    // last, and so on back to a job that needs none.
    std::vector<std::size_t> critical_path;
};

// Plays `plan` out with the run times of `past`. Throws UsageError when a job of the plan has no successful
// attempt in `past` (nothing to take its run time from). Time and memory grow with the shards run at once and
// the hosts, not with the plan's shard count.
Prediction predict(const Plan& plan, const PastDurations& past);

} // namespace sshard::core
