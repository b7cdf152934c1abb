// Turns what the scheduler reports into journal events (core/journal_events.hpp); core/resume.hpp and
// core/report.hpp read them back.
#pragma once

#include <string>

#include "core/clock.hpp"
#include "core/journal.hpp"
#include "core/plan.hpp"
#include "core/run_listener.hpp"

namespace sshard::core {

class JournalRecorder final : public RunListener {
public:
    // `journal` and `plan` must outlive the recorder.
    JournalRecorder(JournalWriter& journal, const Plan& plan) : m_journal(journal), m_plan(plan) {}

    // What a session's run_start records besides the plan's hosts and jobs.
    struct Session {
        std::string run_id;
        std::string spec_path;
        bool resumed = false;
        std::size_t max_parallel = 0; // the session's cap on shards in flight, 0 for none
        HostFlagsRecord host_flags;
    };

    // Writes the run_start event: the run, its spec, hosts and jobs.
    void run_started(const Session& session, WallTime time);

    void host_changed(std::size_t host, const HostState& state) override;
    void host_sampled(std::size_t host, const HostSample& sample) override;
    void host_held(std::size_t host, const HostHold& hold) override;
    void host_added(std::size_t host) override;
    void attempt_started(const Attempt& attempt) override;
    void attempt_submitted(const Attempt& attempt, const std::string& handle) override;
    void attempt_finished(const Attempt& attempt, const AttemptEnd& end) override;
    void shards_not_run(const JobSpec& job, const std::vector<IndexRange>& indices, bool failed,
                        const std::string& reason) override;
    void run_finished(const RunSummary& summary) override;

private:
    JournalWriter& m_journal;
    const Plan& m_plan;
};

} // namespace sshard::core
