#include "cli/run_display.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <fmt/ostream.h>
#include <iostream>
#include <unistd.h>

#include "cli/terminal.hpp"
#include "cli/units.hpp"

namespace sshard::cli {

namespace {

// A terminal cannot show more than ten redraws a second, and writes cost; one a second at least keeps the
// elapsed time and the ETA moving while nothing else changes.
constexpr auto k_min_gap = std::chrono::milliseconds(100);
constexpr auto k_max_gap = std::chrono::seconds(1);

} // namespace

RunDisplay::RunDisplay(const core::Plan& plan, bool progress)
    : m_plan(plan), m_progress(progress), m_started(Clock::now()), m_down(plan.spec->hosts.size(), false) {
    if (m_progress) {
        m_drawer = std::thread([this] { draw_loop(); });
    }
}

RunDisplay::~RunDisplay() {
    stop();
}

void RunDisplay::host_added(std::size_t host) {
    print_above(fmt::format("sshard: host {} added", terminal_safe(m_plan.spec->hosts[host].name)));
}

// Drains only: holds by load or memory come and go every few seconds, and the report sums them.
void RunDisplay::host_held(std::size_t host, const core::HostHold& hold) {
    if (hold.kind != "drain") {
        return;
    }
    const std::string& name = m_plan.spec->hosts[host].name;
    print_above(hold.held ? fmt::format("sshard: host {} drained ({}): no new shards; disconnected once idle",
                                        terminal_safe(name), terminal_safe(hold.reason))
                          : fmt::format("sshard: host {} undrained", terminal_safe(name)));
}

void RunDisplay::host_changed(std::size_t host, const core::HostState& state) {
    std::string message;
    {
        std::lock_guard lock(m_mutex);
        if (host >= m_down.size()) {
            m_down.resize(host + 1, false); // a host added during the run
        }
        bool was_down = m_down[host];
        m_down[host] = !state.up;
        if (!state.up && !was_down) {
            message = "is down: " + state.reason;
        } else if (state.up && (was_down || !state.note.empty())) {
            message = was_down ? (state.note.empty() ? "is up again" : "is up again; " + state.note) : state.note;
        }
    }
    if (!message.empty()) {
        print_above(
            fmt::format("sshard: host {} {}", terminal_safe(m_plan.spec->hosts[host].name), terminal_safe(message)));
    }
}

void RunDisplay::print_above(const std::string& line) {
    print_above([&] { std::cerr << line << '\n'; });
}

void RunDisplay::print_above(const std::function<void()>& print) {
    std::lock_guard output(m_output);
    clear_line();
    print();
    std::string line;
    {
        std::lock_guard lock(m_mutex);
        line = m_progress && !m_stopping ? next_line(Clock::now()) : std::string();
    }
    if (!line.empty()) {
        write_line(line); // the line the message cleared, below it
    }
    std::cout.flush();
    std::cerr.flush();
}

void RunDisplay::attempt_started(const core::Attempt&) {
    {
        std::lock_guard lock(m_mutex);
        ++m_running;
    }
    changed();
}

void RunDisplay::attempt_finished(const core::Attempt&, const core::AttemptEnd& end) {
    {
        std::lock_guard lock(m_mutex);
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
        // The ETA is estimated when a shard settles and counts down from there, rather than growing while the
        // running shards have not ended yet.
        auto now = Clock::now();
        double elapsed = std::chrono::duration<double>(now - m_started).count();
        std::uint64_t total = m_plan.total_shards;
        if (m_done > 0 && elapsed > 0 && total > m_done) {
            double left = static_cast<double>(total - m_done) * elapsed / static_cast<double>(m_done);
            m_eta = now + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(left));
        }
    }
    changed();
}

void RunDisplay::run_finished(const core::RunSummary&) {
    stop();
    std::lock_guard output(m_output);
    clear_line();
}

void RunDisplay::changed() {
    if (!m_progress) {
        return;
    }
    {
        std::lock_guard lock(m_mutex);
        m_dirty = true;
    }
    m_wake.notify_one();
}

// Draws after every change, but not sooner than k_min_gap after the last draw (changes meanwhile are drawn
// together then), and at least every k_max_gap. The counts are let go while the line is written.
void RunDisplay::draw_loop() {
    std::unique_lock lock(m_mutex);
    while (!m_stopping) {
        m_wake.wait_until(lock, m_last_draw + k_max_gap, [this] { return m_dirty || m_stopping; });
        if (m_stopping) {
            break;
        }
        if (m_dirty) {
            m_wake.wait_until(lock, m_last_draw + k_min_gap, [this] { return m_stopping; });
        }
        if (!m_stopping) {
            std::string line = next_line(Clock::now());
            lock.unlock();
            {
                std::lock_guard output(m_output);
                write_line(line);
            }
            lock.lock();
        }
    }
}

// The progress line as of `now`, cut to the terminal's width; counts as a draw. Called with m_mutex held.
std::string RunDisplay::next_line(Clock::time_point now) {
    m_last_draw = now;
    m_dirty = false;
    std::string line = progress_line(now);
    // One column short of the width: a line that fills the last column wraps on some terminals, and "\r"
    // then returns to the start of the wrapped part only, leaving a line behind at every redraw.
    auto width = static_cast<std::size_t>(std::max(terminal_width(STDERR_FILENO) - 1, 1));
    if (line.size() > width) {
        line.resize(width);
    }
    return line;
}

// Called with m_output held.
void RunDisplay::write_line(const std::string& line) {
    std::cerr << '\r' << line << "\033[K" << std::flush;
}

std::string RunDisplay::progress_line(Clock::time_point now) const {
    double elapsed = std::chrono::duration<double>(now - m_started).count();
    double rate = elapsed > 0 ? static_cast<double>(m_done) / elapsed : 0;
    std::string eta = "-";
    if (m_eta && m_plan.total_shards > m_done) {
        eta = seconds_text(std::ceil(std::max(0.0, std::chrono::duration<double>(*m_eta - now).count())));
    }
    return fmt::format("[{}/{}] {} running, {} failed, {} retried, {:.1f}/s, ETA {}", m_done, m_plan.total_shards,
                       m_running, m_failed, m_retried, rate, eta);
}

// Called with m_output held.
void RunDisplay::clear_line() {
    if (m_progress) {
        std::cerr << "\r\033[K" << std::flush;
    }
}

void RunDisplay::stop() {
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_wake.notify_one();
    if (m_drawer.joinable()) {
        m_drawer.join();
    }
}

} // namespace sshard::cli
