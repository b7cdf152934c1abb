// The Slurm transport: a `transport: slurm` host is a partition, and each of its shards one task of a job
// array. Shards started close together go to Slurm as one array (`sbatch --parsable --array=0-N`), whose tasks
// run their commands through the wrapper of an SSH channel of its own (remote_command.hpp) from files in the
// run directory (slurm_batch.hpp), which must therefore be on a filesystem the compute nodes share. Each task
// writes its own exit status and CPU times there. One thread owns all tasks: it submits, cancels with one
// `scancel` for every task concerned, and polls with one `squeue` for the whole run each k_poll_interval. A task
// is started (its timeout counts) once squeue shows it RUNNING. A task whose status has come waits for its peak
// memory from Slurm's accounting (slurm_accounting.hpp: one `sacct` a poll for every such task) for at most
// k_rss_polls polls; where accounting is off, it is not asked again and the memory is unknown.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/mailbox.hpp"
#include "core/spec.hpp"
#include "core/transport.hpp"
#include "transport/slurm_batch.hpp"

namespace sshard::transport {

class SlurmTransport final : public core::Transport {
public:
    static constexpr std::chrono::milliseconds k_poll_interval{500};
    // A start is held this long for more to join its array, unless the array is full.
    static constexpr std::chrono::milliseconds k_gather{100};
    // Polls a task whose status has come waits for accounting to show its batch step ended, with its MaxRSS:
    // rows come within tens of milliseconds on a quiet cluster, seconds behind on a busy slurmdbd.
    static constexpr int k_rss_polls = 20;
    // sacct failing this many times in a row is not asked again in the run.
    static constexpr int k_sacct_failures = 4;

    // Starts the thread. `hosts` must outlive the transport; `dir` is where batches are written (made when a
    // host connects); `recorded` are the handles of the tasks earlier sessions of the run submitted and
    // journaled (Launch::resume's). Throws core::Error when the thread cannot start.
    SlurmTransport(core::TransportEvents& events, const std::vector<core::HostSpec>& hosts, std::string dir,
                   const std::vector<std::string>& recorded = {});
    // Shuts down first if shutdown() was not called.
    ~SlurmTransport() override;
    SlurmTransport(const SlurmTransport&) = delete;
    SlurmTransport& operator=(const SlurmTransport&) = delete;

    // Checks with sinfo that the host's partition exists and makes the batch directory; up or down with why.
    // When the directory was there (a resume), first cancels every task of the run's arrays still in Slurm that
    // no earlier session journaled: a runner killed between sbatch's answer and its journal's next commit left
    // them, and this session runs their shards again.
    void connect(std::size_t host) override;
    // Queues the shard for the host's next array. sbatch's refusals: "temporarily unable" is retried with a
    // back-off; any other fails the batch's shards as transport failures and reports the host down.
    void start(core::Launch launch) override;
    // scancel of the attempt's task (Slurm sends TERM, KILL after its KillWait: `grace` is Slurm's to keep).
    // An attempt not yet submitted ends at once as killed by TERM; one whose status has come ends at once with
    // it, without waiting for its memory. Unknown or finished attempts are ignored.
    void cancel(std::uint64_t attempt, std::chrono::milliseconds grace) override;
    // Cancels every task still queued or running and returns once Slurm shows them ended (at most
    // k_shutdown_wait) and every outcome is delivered.
    void shutdown() override;
    // True: a task reports its start at the poll that shows it no longer pending, so that time in the queue
    // counts against no timeout (sbatch's --time, also from the job's timeout, counts from the start too).
    bool reports_starts(std::size_t /*host*/) const override { return true; }

private:
    static constexpr std::chrono::seconds k_shutdown_wait{30};
    using Clock = std::chrono::steady_clock;

    struct Request {
        enum class Kind { connect, start, cancel, stop };
        Kind kind = Kind::stop;
        std::size_t host = 0;
        core::Launch launch{};
        std::uint64_t attempt = 0;
    };
    struct Task {
        core::Launch launch;
        std::string marker; // the wrapper's, in its stderr
        std::string dir;    // the batch's
        std::size_t index = 0;
        std::uint64_t job = 0; // the array's job id once submitted
        bool running = false;
        bool cancelled = false;
        bool adopted = false;               // submitted by an earlier session (core::Launch::resume)
        int final_polls = 0;                // polls that found it ended without its I.rc
        std::optional<core::Outcome> ended; // from its I.rc, held until accounting tells its MaxRSS
        int rss_polls = 0;                  // polls it has waited for that
        std::string node;
        core::WallTime start{};
    };

    void post(Request request);
    void run();
    bool handle(Request& request);
    void accept(core::Launch launch);
    bool adopt(std::uint64_t attempt, Task& task);
    void check_host(std::size_t host);
    void cancel_unrecorded();
    void cancel_task(std::uint64_t attempt);
    void submit_due(Clock::time_point now);
    void submit(std::size_t host, std::vector<std::uint64_t> attempts);
    bool write_batch(const std::string& dir, const std::vector<std::uint64_t>& attempts);
    std::vector<std::string> sbatch_args(std::size_t host, const std::string& dir,
                                         const std::vector<std::uint64_t>& attempts) const;
    void refuse(std::size_t host, const std::vector<std::uint64_t>& attempts, const std::string& why);
    void send_cancels();
    void poll();
    void poll_queue();
    void collect_max_rss(bool last_chance);
    void end_accounting();
    void follow(std::uint64_t attempt, Task& task, const QueueRow* row);
    // Ends the task from its files when its I.rc is there. A wrapper killed by a signal only once Slurm
    // `slurm_has_spoken`: its state is final and no machine failed under it, or squeue no longer shows it.
    bool finish_from_files(std::uint64_t attempt, Task& task, bool slurm_has_spoken);
    void finish(std::uint64_t attempt, core::Outcome outcome);
    std::optional<int> node_cpus(const std::string& node);
    void stop_all();
    std::string new_batch_dir();

    core::TransportEvents& m_events;
    const std::vector<core::HostSpec>& m_hosts;
    std::string m_dir;

    core::Mailbox<Request> m_inbox;

    // Only the thread touches these.
    std::map<std::uint64_t, Task> m_tasks;
    std::map<std::size_t, std::vector<std::uint64_t>> m_queued; // by host, not yet submitted
    std::optional<Clock::time_point> m_first_queued;
    Clock::time_point m_last_queued{};
    Clock::time_point m_retry_at{}; // after "temporarily unable to accept job"
    std::chrono::milliseconds m_retry_wait{1000};
    std::vector<std::string> m_to_cancel; // "<job>_<task>", for the next scancel
    std::uint64_t m_batches = 0;
    std::map<std::string, std::optional<int>> m_node_cpus;        // from sinfo, once per node seen
    std::set<std::pair<std::uint64_t, std::uint64_t>> m_recorded; // (job, index) of the tasks earlier sessions
                                                                  // journaled; emptied once swept
    bool m_swept = false;                                         // the run's unrecorded tasks were looked for
    bool m_seen_status = false; // some task of this session wrote its status: the run directory is shared
    std::string m_unshared;     // why the run directory is not shared, once the first task said so
    bool m_accounting = true;   // false once sacct has said it has none, or failed k_sacct_failures times in a row
    int m_sacct_failures = 0;   // in a row

    bool m_stop_posted = false; // touched by the calling thread only
    std::thread m_thread;       // last: it starts once everything above exists
};

} // namespace sshard::transport
