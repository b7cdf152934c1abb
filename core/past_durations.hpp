// What a past run measured, as `sshard plan --predict` uses it to replay a spec (core/simulation.hpp): how long
// each shard took and how fast each host was.
//
// Only attempts that succeeded count: a failed try, a timeout, a lost host or an interrupt says how long
// something went wrong, not how long the work takes, so the prediction is of a run where every shard succeeds
// at its first try. A host's speed is the median, over its successful attempts, of each attempt's run time
// divided by its job's median run time, scaled so that the median host has speed 1: a host twice as slow as the
// others has 2 (a factor on run time). A shard's own duration is its measured run time divided by its host's
// speed; a shard the past run did not finish, or whose command has changed since, takes its job's median.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sshard::core {

// One job's durations at speed 1, by shard.
class JobDurations {
public:
    // Shard `index`'s run time at speed 1 when it succeeded with the same command `key` (ShardSet::command
    // without attempt and host); nullopt for a shard the past run did not finish or ran with another command.
    std::optional<double> own(std::uint64_t index, std::string_view key) const;
    // The median run time at speed 1 of the job's shards that succeeded.
    double median() const { return m_median; }

private:
    friend class PastDurations;
    struct Shard {
        std::uint64_t index = 0;
        std::uint64_t key_hash = 0;
        double duration = 0;
    };
    void keep_last();

    std::vector<Shard> m_shards; // by index
    double m_median = 0;
};

// What a host showed in the past run.
struct PastHost {
    double speed = 1;        // a factor on run time: 2 is twice as slow as the median host
    double setup_s = 0;      // its connection set-up time
    std::optional<int> cpus; // as found on connect, for `slots: auto`
};

class PastDurations {
public:
    // Reads the journal at `path`. Throws UsageError when it has no attempt that succeeded (an empty journal,
    // or a run where every shard failed or none ran), Error when it cannot be read or is damaged.
    static PastDurations read(const std::string& path);

    // The job's durations; null when the past run had no successful attempt of a job by that name.
    const JobDurations* job(const std::string& name) const;
    // The host's record; for a host the past run did not have, the median speed (1), set-up time and CPU count.
    PastHost host(const std::string& name) const;

private:
    std::map<std::string, JobDurations> m_jobs;
    std::map<std::string, PastHost> m_hosts;
    PastHost m_median_host;
};

} // namespace sshard::core
