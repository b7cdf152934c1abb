#include "cli/run_display.hpp"

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <iostream>

#include "cli/terminal.hpp"
#include "cli/units.hpp"

namespace sshard::cli {

RunDisplay::RunDisplay(const core::Plan& plan, bool progress)
    : m_plan(plan), m_progress(progress), m_started(std::chrono::steady_clock::now()) {}

void RunDisplay::host_changed(std::size_t host, const core::HostState& state) {
    if (state.up && state.note.empty()) {
        return;
    }
    std::lock_guard lock(m_stderr_mutex);
    clear_line();
    if (state.up) {
        fmt::print(std::cerr, "sshard: host {} {}\n", terminal_safe(m_plan.spec->hosts[host].name),
                   terminal_safe(state.note));
    } else {
        fmt::print(std::cerr, "sshard: host {} is down: {}\n", terminal_safe(m_plan.spec->hosts[host].name),
                   terminal_safe(state.reason));
    }
}

void RunDisplay::attempt_started(const core::Attempt&) {
    ++m_running;
    draw(false);
}

void RunDisplay::attempt_finished(const core::Attempt&, const core::AttemptEnd& end) {
    --m_running;
    switch (end.verdict) {
    case core::Verdict::succeeded:
        ++m_done;
        break;
    case core::Verdict::failed:
        ++m_done;
        ++m_failed;
        break;
    case core::Verdict::retry:
    case core::Verdict::requeued:
        ++m_retried;
        break;
    case core::Verdict::unfinished:
        break;
    }
    draw(false);
}

void RunDisplay::run_finished(const core::RunSummary&) {
    std::lock_guard lock(m_stderr_mutex);
    clear_line();
}

void RunDisplay::clear_line() {
    if (m_progress) {
        std::cerr << "\r\033[K" << std::flush;
    }
}

// Redraws at most ten times a second: a terminal cannot show more, and writes cost.
void RunDisplay::draw(bool force) {
    auto now = std::chrono::steady_clock::now();
    if (!m_progress || (!force && now - m_last_draw < std::chrono::milliseconds(100))) {
        return;
    }
    m_last_draw = now;
    double elapsed = std::chrono::duration<double>(now - m_started).count();
    double rate = elapsed > 0 ? static_cast<double>(m_done) / elapsed : 0;
    std::uint64_t total = m_plan.total_shards;
    std::string eta = rate > 0 && total > m_done ? seconds_text(static_cast<double>(total - m_done) / rate) : "-";
    std::lock_guard lock(m_stderr_mutex);
    fmt::print(std::cerr, "\r[{}/{}] {} running, {} failed, {} retried, {:.1f}/s, ETA {}\033[K", m_done, total,
               m_running, m_failed, m_retried, rate, eta);
    std::cerr.flush();
}

} // namespace sshard::cli
