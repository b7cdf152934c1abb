// The hosts of a run as they change while it runs: its host file (`--hostfile`, the spec's `hosts_file`) read
// again each second, and its control socket served for `sshard hosts drain` and `undrain`. Each tells the
// scheduler, which adds, drains and undrains hosts on its own thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/run_display.hpp"
#include "core/host_file_watcher.hpp"
#include "core/run_control.hpp"
#include "core/scheduler.hpp"
#include "core/ticker.hpp"

namespace sshard::cli {

class ElasticHosts {
public:
    // Serves the control socket of the run in `run_dir`, and with a `host_file`, watches it: it listed `names`
    // when the run loaded it. `scheduler` and `display` must outlive this; what it has to say goes above the
    // display's progress line. A socket that cannot be made is warned of, and the run goes on without.
    ElasticHosts(core::Scheduler& scheduler, RunDisplay& display, const std::string& run_dir,
                 const std::string& host_file, const std::vector<std::string>& names);
    ElasticHosts(const ElasticHosts&) = delete;
    ElasticHosts& operator=(const ElasticHosts&) = delete;

private:
    void watch();
    void take(const core::HostFileWatcher::Change& change);
    std::string handle(const core::ControlRequest& request);

    core::Scheduler& m_scheduler;
    RunDisplay& m_display;
    std::optional<core::HostFileWatcher> m_watcher;
    std::optional<core::Ticker> m_ticker;           // after the watcher: its thread calls watch()
    std::unique_ptr<core::ControlServer> m_control; // last: its thread calls handle()
};

} // namespace sshard::cli
