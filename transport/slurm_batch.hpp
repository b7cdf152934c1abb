// What the Slurm transport writes for sbatch and reads back from squeue and from its tasks, kept apart from the
// transport's thread so that it is tested without a cluster.
//
// A batch of shards is one job array. Its directory, on a filesystem the compute nodes share, holds the array's
// script and, for task I, I.sh (the shard's command in the wrapper of a channel of its own, remote_command.hpp),
// I.env (its env line, read by the wrapper on stdin, so that no value is on a command line), I.out and I.err
// (sbatch's --output and --error), I.st, made empty as the wrapper starts, and, once it has ended, I.rc
// (TaskStatus). The wrapper's report on stderr gives the CPU times; a wrapper killed by a signal leaves none.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/transport.hpp"

namespace sshard::transport {

// Array indices of one batch run from 0 to this minus 1: under Slurm's default MaxArraySize (1001).
constexpr std::size_t k_max_array_tasks = 1000;

// The array's script: makes task $SLURM_ARRAY_TASK_ID's I.st, runs its I.sh from `dir` and writes its I.rc.
std::string array_script(const std::string& dir);

// A time limit for sbatch's --time: whole minutes, rounded up (Slurm counts in minutes), at least 1.
std::string slurm_minutes(std::chrono::milliseconds time);

// One line of `squeue -h -r -o '%F %K %T %N'`: an array task, its state and node (empty while pending).
struct QueueRow {
    std::uint64_t job = 0;
    std::uint64_t task = 0;
    std::string state;
    std::string node;
};

// `text`, all of it, as a job or task id of Slurm's output: false for an empty text, a sign, any other byte or
// a number past 64 bits.
bool parse_number(std::string_view text, std::uint64_t& value);

// The rows of squeue's output; lines that are not "<job> <task> <state> [node]" are skipped.
std::vector<QueueRow> parse_queue(std::string_view text);

// One line of `squeue -h -r -o '%F|%K|%o'`: an array task and the script its array runs (array.sh in its batch
// directory).
struct QueuedScript {
    std::uint64_t job = 0;
    std::uint64_t task = 0;
    std::string script;
};

// The rows of that output; lines that are not "<job>|<task>|<script>" are skipped (a job that is no array
// shows "N/A" as its task). The script is the rest of the line, '|' and all.
std::vector<QueuedScript> parse_queued_scripts(std::string_view text);

// The rows of `sinfo -h -N -o '%N %c'`: each node's CPUs, by name; lines that are not "<node> <cpus>" are skipped.
std::map<std::string, int> parse_node_cpus(std::string_view text);

// Whether a state is one a job ends in (COMPLETED, FAILED, CANCELLED, TIMEOUT...): the task will not run again.
bool is_final_state(std::string_view state);

// Whether a final state says the machine failed, not the shard: NODE_FAIL, PREEMPTED, BOOT_FAIL.
bool is_machine_failure(std::string_view state);

// Whether sbatch's complaint is Slurm's "temporarily unable to accept job" (MaxJobCount reached, slurmctld
// busy): a reason to submit again later, not a failure.
bool is_temporary_refusal(std::string_view sbatch_error);

// What a task's I.rc says: the wrapper's exit status and the node it ran on ("<status> <node>\n"). The array
// script writes it with one write(2), so a text without its newline is not whole yet: nullopt, as for garbage.
// When the wrapper started and ended are the times I.st and I.rc were written.
struct TaskStatus {
    int status = 0;
    std::string node;
};
std::optional<TaskStatus> parse_task_status(std::string_view text);

// What names a submitted task for a resumed run (core::Launch::resume): its array's job id and index, the
// wrapper's marker in its stderr, and its batch directory. As text: "<job>_<index> <marker> <dir>".
struct TaskHandle {
    std::uint64_t job = 0;
    std::uint64_t index = 0;
    std::string marker;
    std::string dir;
};
std::string format_task_handle(const TaskHandle& handle);
// nullopt when `text` is not a handle format_task_handle() made.
std::optional<TaskHandle> parse_task_handle(std::string_view text);

// The outcome of a task whose wrapper ended with `status`: with the wrapper's CPU times (it ran its EXIT trap)
// the command exited with `status`; without them, a status of 129 to 192 is the wrapper killed by a signal.
core::Outcome task_outcome(int status, std::optional<double> cpu_user_s, std::optional<double> cpu_sys_s);

} // namespace sshard::transport
