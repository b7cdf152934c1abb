#include "core/report_timeline.hpp"

#include <algorithm>
#include <map>

#include "core/journal.hpp"

namespace sshard::core {

// Adds each attempt's time to the slices of its host's timeline it overlaps, on the run's active time.
void fill_timelines(const std::string& journal, Report& report) {
    std::map<std::string, HostReport*> hosts;
    for (auto& h : report.hosts) {
        h.timeline.assign(k_timeline_slices, 0.0);
        hosts[h.name] = &h;
    }
    double span = report.run.makespan_s;
    if (span <= 0) {
        return;
    }
    double slice = span / k_timeline_slices;
    const std::vector<Span>& sessions = report.run.sessions;
    read_journal(journal, [&](const JournalEvent& event, int) {
        const auto* e = std::get_if<AttemptEndEvent>(&event);
        if (e == nullptr) {
            return;
        }
        HostReport* h = hosts.at(report_host(*e));
        double start = active_seconds(sessions, e->start);
        double end = active_seconds(sessions, e->end);
        auto first = static_cast<std::size_t>(std::clamp(start / slice, 0.0, k_timeline_slices - 1.0));
        for (std::size_t i = first; i < k_timeline_slices && i * slice < end; ++i) {
            double overlap = std::min(end, (i + 1) * slice) - std::max(start, i * slice);
            h->timeline[i] += std::max(0.0, overlap);
        }
    });
    for (auto& h : report.hosts) {
        for (double& busy : h.timeline) {
            busy = h.slots > 0 ? std::min(1.0, busy / (slice * h.slots)) : 0;
        }
    }
}

} // namespace sshard::core
