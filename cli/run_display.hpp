// What a terminal shows during a run: a live progress line and hosts going down. (The closing report is
// computed from the journal: core/report.hpp.)
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <ostream>
#include <string>
#include <vector>

#include "core/plan.hpp"
#include "core/run_listener.hpp"

namespace sshard::cli {

class RunDisplay final : public core::RunListener {
public:
    // `progress`: draw the live line on stderr. `plan` must outlive the display.
    RunDisplay(const core::Plan& plan, bool progress);

    void host_changed(std::size_t host, const core::HostState& state) override;
    void attempt_started(const core::Attempt& attempt) override;
    void attempt_finished(const core::Attempt& attempt, const core::AttemptEnd& end) override;
    void run_finished(const core::RunSummary& summary) override;

private:
    void draw(bool force);
    void clear_line();

    const core::Plan& m_plan;
    bool m_progress;
    std::chrono::steady_clock::time_point m_started;
    std::chrono::steady_clock::time_point m_last_draw{};
    std::uint64_t m_done = 0; // shards settled for good (succeeded or failed)
    std::uint64_t m_failed = 0;
    std::uint64_t m_retried = 0;
    std::uint64_t m_running = 0;
    std::mutex m_stderr_mutex; // the progress line and --stream share stderr
};

} // namespace sshard::cli
