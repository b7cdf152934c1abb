// What a terminal shows during a run: a live progress line and hosts going down. (The closing report is
// computed from the journal: core/report.hpp.)
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "core/plan.hpp"
#include "core/run_listener.hpp"

namespace sshard::cli {

class RunDisplay final : public core::RunListener {
public:
    // `progress`: draw the live line on stderr, cut to the terminal's width, within 100 ms of every change
    // and at least once a second (a thread of its own draws it). `plan` must outlive the display.
    RunDisplay(const core::Plan& plan, bool progress);
    ~RunDisplay() override;
    RunDisplay(const RunDisplay&) = delete;
    RunDisplay& operator=(const RunDisplay&) = delete;

    // A host's message goes on a line of its own above the progress line: once when it goes down (not again at
    // each reconnect that fails), once when it is back up, and how it runs shards when that is unusual.
    void host_changed(std::size_t host, const core::HostState& state) override;
    void host_added(std::size_t host) override;
    void host_held(std::size_t host, const core::HostHold& hold) override;
    void attempt_started(const core::Attempt& attempt) override;
    void attempt_finished(const core::Attempt& attempt, const core::AttemptEnd& end) override;
    void run_finished(const core::RunSummary& summary) override;

    // Prints `line` (made safe by the caller) on a line of its own above the progress line, from any thread: the
    // interrupt's message, -v's log lines.
    void print_above(const std::string& line);
    // Runs `print`, which writes whole lines to stdout or stderr, with the progress line cleared, and draws the
    // line again below what it printed; from any thread. The run's counts are not held meanwhile: a long
    // `print` delays no listener call but host messages.
    void print_above(const std::function<void()>& print);

private:
    using Clock = std::chrono::steady_clock;
    void changed();
    void draw_loop();
    std::string next_line(Clock::time_point now);
    void write_line(const std::string& line);
    std::string progress_line(Clock::time_point now) const;
    void clear_line();
    void stop();

    const core::Plan& m_plan;
    bool m_progress;
    Clock::time_point m_started;
    std::mutex m_output; // the terminal: taken before m_mutex when both are, never after it
    std::mutex m_mutex;  // everything below
    std::condition_variable m_wake;
    bool m_dirty = false;
    bool m_stopping = false;
    Clock::time_point m_last_draw{};
    std::optional<Clock::time_point> m_eta; // when the last shard should end, at the rate so far
    std::uint64_t m_done = 0;               // shards settled for good (succeeded or failed)
    std::uint64_t m_failed = 0;
    std::uint64_t m_retried = 0;
    std::uint64_t m_running = 0;
    std::vector<bool> m_down; // by host: whether its going down was shown, and not yet its coming back
    std::thread m_drawer;
};

} // namespace sshard::cli
