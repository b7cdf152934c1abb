// What the Slurm transport reads from Slurm's accounting: each task's peak memory (MaxRSS), which only accounting
// knows. Exit codes, signals and CPU times never come from here: the task's own status does (slurm_batch.hpp).
//
// `sacct -n -P --noconvert -o JobID,State,MaxRSS -j <array jobs>` prints one line per job and step, fields split
// by '|': "41_7||COMPLETED" for the task, "41_7.batch|COMPLETED|78163968" for its batch step, whose MaxRSS is
// the largest sum of its processes' resident memory over jobacct_gather's samples. Accounting lags: the step's
// row may come a moment after the task's status, and while the array has not been split into its tasks the
// rows read "41.batch" or "41_[8-99]", which name no task.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace sshard::transport {

// One task's batch step as sacct shows it: whether it has ended, and its MaxRSS in bytes where it has one.
struct StepMemory {
    std::uint64_t job = 0;
    std::uint64_t task = 0;
    bool ended = false;
    std::optional<std::uint64_t> max_rss;
};

// The batch steps of array tasks in sacct's output. Lines that are not "<job>_<task>.batch|<state>|<MaxRSS>"
// are skipped. MaxRSS is bytes, or a number with a K, M, G, T or P suffix (powers of 1024) where --noconvert was
// not honoured; an empty, zero, unreadable or overflowing MaxRSS is none.
std::vector<StepMemory> parse_step_memory(std::string_view text);

// A MaxRSS field as bytes: "78163968", "76332K", "1.5G"; none for "", "0", "-1", "12Q" or one past 2^64.
std::optional<std::uint64_t> parse_rss(std::string_view text);

// Whether sacct's complaint says there is no accounting to ask ("Slurm accounting storage is disabled").
bool is_accounting_disabled(std::string_view sacct_error);

} // namespace sshard::transport
