#include "cli/elastic_hosts.hpp"

#include <chrono>
#include <fmt/format.h>
#include <future>
#include <iostream>
#include <unistd.h>

#include "cli/terminal.hpp"
#include "core/diagnostic.hpp"
#include "core/error.hpp"

namespace sshard::cli {

namespace {

constexpr std::chrono::seconds k_poll_interval{1};
constexpr std::chrono::seconds k_answer_wait{5}; // for the scheduler, which handles its events within a step

} // namespace

ElasticHosts::ElasticHosts(core::Scheduler& scheduler, RunDisplay& display, const std::string& run_dir,
                           const std::string& host_file, const std::vector<std::string>& names)
    : m_scheduler(scheduler), m_display(display) {
    if (!host_file.empty()) {
        m_watcher.emplace(host_file, names);
        m_ticker.emplace(k_poll_interval, [this] { watch(); });
    }
    try {
        m_control = std::make_unique<core::ControlServer>(
            run_dir, [this](const core::ControlRequest& request) { return handle(request); });
    } catch (const core::Error& e) {
        m_display.print_above("sshard: warning: " + terminal_safe(e.what()) +
                              ": 'sshard hosts drain' cannot reach this run");
    }
}

// A host file that is rewritten with something that is not a host list keeps the run's hosts as they are.
void ElasticHosts::watch() {
    try {
        if (auto change = m_watcher->poll()) {
            take(*change);
        }
    } catch (const core::SpecError& e) {
        m_display.print_above([&e] {
            for (const auto& diagnostic : e.diagnostics()) {
                std::cerr << core::format_diagnostic(e.file(), diagnostic, colour_enabled(STDERR_FILENO));
            }
            std::cerr << fmt::format("sshard: host file '{}' not taken: the run keeps its hosts\n",
                                     terminal_safe(e.file()));
        });
    } catch (const core::Error& e) {
        m_display.print_above("sshard: error: " + terminal_safe(e.what()) + "; the run keeps its hosts");
    }
}

void ElasticHosts::take(const core::HostFileWatcher::Change& change) {
    for (const auto& host : change.added) {
        m_scheduler.add_host(host);
    }
    if (!change.removed.empty()) {
        m_scheduler.drain_hosts(change.removed, true, fmt::format("removed from '{}'", m_watcher->path()), {});
    }
}

// On the control socket's thread: waits for the scheduler's answer, which comes at its next step.
std::string ElasticHosts::handle(const core::ControlRequest& request) {
    auto answer = std::make_shared<std::promise<std::string>>();
    std::future<std::string> done = answer->get_future();
    m_scheduler.drain_hosts(request.hosts, request.drain,
                            "sshard hosts " + std::string(request.drain ? "drain" : "undrain"),
                            [answer](const std::string& error) { answer->set_value(error); });
    try {
        if (done.wait_for(k_answer_wait) == std::future_status::ready) {
            return done.get();
        }
    } catch (const std::future_error&) {
        // The run ended with the request unanswered.
    }
    return "the run did not answer in time (it may be ending)";
}

} // namespace sshard::cli
