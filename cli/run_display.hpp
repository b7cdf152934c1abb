// What a terminal shows during and after a run: a live progress line, hosts going down and coming back, the
// output of shards with --stream, and the closing summary.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <ostream>
#include <string>
#include <vector>

#include "core/plan.hpp"
#include "core/run_dir.hpp"
#include "core/run_listener.hpp"

namespace sshard::cli {

// A shard that failed for good, for the summary.
struct Failure {
    std::string job;
    std::uint64_t index = 0;
    std::string host;
    int attempts = 0;
    std::string reason;
    std::string stderr_path;
};

class RunDisplay final : public core::RunListener {
public:
    // `progress`: draw the live line on stderr. `plan` and `run_dir` must outlive the display.
    RunDisplay(const core::Plan& plan, const core::RunDir& run_dir, bool progress);

    void host_changed(std::size_t host, const core::HostState& state) override;
    void attempt_started(const core::Attempt& attempt) override;
    void attempt_finished(const core::Attempt& attempt, const core::AttemptEnd& end) override;
    void run_finished(const core::RunSummary& summary) override;

    // Prints the summary: per job counts, the makespan, the failures (the first few), where the records are.
    void print_summary(std::ostream& out, const core::RunSummary& summary) const;

private:
    void draw(bool force);
    void clear_line();

    static constexpr std::size_t k_failures_shown = 10;

    const core::Plan& m_plan;
    const core::RunDir& m_run_dir;
    bool m_progress;
    std::chrono::steady_clock::time_point m_started;
    std::chrono::steady_clock::time_point m_last_draw{};
    std::uint64_t m_done = 0; // shards settled for good (succeeded or failed)
    std::uint64_t m_failed = 0;
    std::uint64_t m_retried = 0;
    std::uint64_t m_running = 0;
    std::uint64_t m_failure_count = 0;
    std::vector<Failure> m_failures;
    std::mutex m_stderr_mutex; // the progress line and --stream share stderr
};

} // namespace sshard::cli
