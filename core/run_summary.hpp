// The counts a run ends with, per job: what the end-of-run summary prints and the exit code is made from.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sshard::core {

struct JobSummary {
    std::string name;
    std::uint64_t total = 0;
    std::uint64_t succeeded = 0;  // in this run or, on resume, recorded as succeeded before
    std::uint64_t failed = 0;     // failed for good
    std::uint64_t skipped = 0;    // never run: a needed job failed, --fail-fast, or no host was up
    std::uint64_t unfinished = 0; // not done when the run was interrupted
    std::uint64_t retried = 0;    // attempts that were tried again (after a failure or a lost host)
    std::uint64_t recalled = 0;   // of succeeded + failed: taken from the journal on resume, not run again
    double makespan_s = 0;        // from the job's first start to its last end, this run
};

struct RunSummary {
    std::vector<JobSummary> jobs; // dispatch order
    double makespan_s = 0;
    bool interrupted = false;
    bool no_hosts = false; // the run gave up because no eligible host was up
};

} // namespace sshard::core
