#include "cli/gantt_chart.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fmt/format.h>
#include <fmt/ostream.h>
#include <map>
#include <queue>
#include <tuple>
#include <vector>

#include "cli/html_escape.hpp"
#include "core/journal.hpp"

namespace sshard::cli {

namespace {

// Red is kept out of the palette: it marks attempts that did not succeed.
constexpr const char* k_palette[] = {"#4e79a7", "#f28e2b", "#59a14f", "#76b7b2", "#edc948",
                                     "#b07aa1", "#9c755f", "#bab0ac", "#86bcb6", "#d4a6c8"};
constexpr double k_label_width = 160;
constexpr double k_plot_width = 960;
constexpr double k_lane_height = 16;
constexpr double k_lane_gap = 2;
constexpr double k_host_gap = 10;
constexpr double k_axis_height = 24;
constexpr double k_top = 8;

// An attempt as drawn: its journal event, where it stands in the journal and the lane it takes.
// Its lane holds the attempt from its staging, which ends at its start, to its collecting, which begins at its
// end.
struct DrawnAttempt : core::AttemptEndEvent {
    std::uint64_t seq = 0; // journal order, to break ties in start
    std::size_t lane = 0;
    double from() const { return start - transfer.send_s; }
    double to() const { return end + transfer.receive_s; }
};

struct Attempts {
    std::vector<DrawnAttempt> drawn; // sorted by start
    std::uint64_t left_out = 0;
};

// A host's band of rows in the chart.
struct HostBand {
    std::string name;
    std::size_t lanes = 0;
    double y = 0;
};

// Maps run time to chart x: the sessions side by side, the pauses between them left out.
struct Scale {
    const std::vector<core::Span>* sessions = nullptr;
    double span = 1; // active seconds
    double x_active(double seconds) const { return k_label_width + seconds / span * k_plot_width; }
    double x(double wall) const { return x_active(core::active_seconds(*sessions, wall)); }
};

bool earlier(const DrawnAttempt& a, const DrawnAttempt& b) {
    return std::make_tuple(a.from(), a.seq) < std::make_tuple(b.from(), b.seq);
}

// The event without what the chart does not show, which can be long.
DrawnAttempt attempt_from(const core::AttemptEndEvent& e, std::uint64_t seq) {
    DrawnAttempt a;
    static_cast<core::AttemptEndEvent&>(a) = e;
    a.host = core::report_host(e); // its row: a Slurm task's compute node, as in the report
    a.command.clear();
    a.key.clear();
    a.inputs.clear();
    a.seq = seq;
    return a;
}

// Keeps the k_max_drawn earliest attempts in a max-heap, so memory stays bounded however long the journal is.
Attempts read_attempts(const std::string& run_dir) {
    std::priority_queue<DrawnAttempt, std::vector<DrawnAttempt>, decltype(&earlier)> earliest(&earlier);
    std::uint64_t seen = 0;
    core::read_journal(run_dir + "/journal.jsonl", [&](const core::JournalEvent& event, int) {
        const auto* e = std::get_if<core::AttemptEndEvent>(&event);
        if (e == nullptr) {
            return;
        }
        DrawnAttempt a = attempt_from(*e, seen++);
        if (earliest.size() < k_max_drawn) {
            earliest.push(std::move(a));
        } else if (earlier(a, earliest.top())) {
            earliest.pop();
            earliest.push(std::move(a));
        }
    });
    Attempts attempts;
    attempts.left_out = seen - earliest.size();
    while (!earliest.empty()) {
        attempts.drawn.push_back(earliest.top());
        earliest.pop();
    }
    std::reverse(attempts.drawn.begin(), attempts.drawn.end());
    return attempts;
}

// Interval partitioning: in start order, each attempt takes its host's lowest lane free at its start, which uses
// as few lanes as the host's busiest moment needs. Returns the lane count per host.
std::map<std::string, std::size_t> assign_lanes(std::vector<DrawnAttempt>& attempts) {
    std::map<std::string, std::vector<double>> lane_ends;
    for (auto& a : attempts) {
        auto& ends = lane_ends[a.host];
        auto free = std::find_if(ends.begin(), ends.end(), [&](double end) { return end <= a.from(); });
        if (free == ends.end()) {
            free = ends.insert(ends.end(), a.to());
        }
        *free = a.to();
        a.lane = static_cast<std::size_t>(free - ends.begin());
    }
    std::map<std::string, std::size_t> lanes;
    for (const auto& [host, ends] : lane_ends) {
        lanes[host] = ends.size();
    }
    return lanes;
}

// The report's hosts in its order, then any host seen only in attempts; an idle host keeps one empty row.
std::vector<HostBand> layout_hosts(const core::Report& report, const std::map<std::string, std::size_t>& lanes) {
    std::vector<HostBand> bands;
    for (const auto& h : report.hosts) {
        auto found = lanes.find(h.name);
        bands.push_back({h.name, found == lanes.end() ? 0 : found->second, 0});
    }
    for (const auto& lane : lanes) {
        auto known = [&lane](const HostBand& b) { return b.name == lane.first; };
        if (std::none_of(bands.begin(), bands.end(), known)) {
            bands.push_back({lane.first, lane.second, 0});
        }
    }
    double y = k_top + k_axis_height;
    for (auto& band : bands) {
        band.y = y;
        y += static_cast<double>(std::max<std::size_t>(band.lanes, 1)) * (k_lane_height + k_lane_gap) + k_host_gap;
    }
    return bands;
}

// Colours follow the report's job order, so a job keeps its colour between the legend and the chart.
std::map<std::string, std::string> job_colours(const core::Report& report, const std::vector<DrawnAttempt>& attempts) {
    std::map<std::string, std::string> colours;
    auto add = [&](const std::string& job) {
        if (colours.count(job) == 0) {
            colours[job] = k_palette[colours.size() % std::size(k_palette)];
        }
    };
    for (const auto& j : report.jobs) {
        add(j.name);
    }
    for (const auto& a : attempts) {
        add(a.job);
    }
    return colours;
}

// A step of 1, 2 or 5 times a power of ten that gives five to ten ticks.
double tick_step(double span) {
    double raw = span / 8;
    double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    for (double m : {1.0, 2.0, 5.0}) {
        if (m * magnitude >= raw) {
            return m * magnitude;
        }
    }
    return 10 * magnitude;
}

void print_axis(std::ostream& out, const Scale& scale, double height) {
    double step = tick_step(scale.span);
    double axis_y = k_top + k_axis_height - 4;
    fmt::print(out, "<line class=\"axis\" x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\"/>\n", k_label_width,
               axis_y, k_label_width + k_plot_width, axis_y);
    for (int i = 0; i * step <= scale.span * (1 + 1e-9); ++i) {
        double x = scale.x_active(i * step);
        fmt::print(out, "<line class=\"tick\" x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\"/>\n", x, axis_y,
                   x, height);
        fmt::print(out, "<text class=\"tick-label\" x=\"{:.1f}\" y=\"{:.1f}\">{:g} s</text>\n", x, axis_y - 4,
                   i * step);
    }
}

// A dashed line where a resume started: the pause before it is left out of the chart.
void print_resumes(std::ostream& out, const Scale& scale, double height) {
    double offset = 0;
    for (std::size_t i = 0; i + 1 < scale.sessions->size(); ++i) {
        offset += (*scale.sessions)[i].end - (*scale.sessions)[i].start;
        double x = scale.x_active(offset);
        fmt::print(out,
                   "<line class=\"resume\" x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\">"
                   "<title>resumed after a pause of {3:.0f} s</title></line>\n",
                   x, k_top + k_axis_height - 4, height, (*scale.sessions)[i + 1].start - (*scale.sessions)[i].end);
    }
}

void print_bands(std::ostream& out, const std::vector<HostBand>& bands) {
    for (const auto& band : bands) {
        fmt::print(out, "<text class=\"host-label\" x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n", k_label_width - 8,
                   band.y + k_lane_height - 4, html_escape(band.name));
        for (std::size_t lane = 0; lane < band.lanes; ++lane) {
            fmt::print(out,
                       "<rect class=\"lane\" data-host=\"{}\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" "
                       "height=\"{:.1f}\"/>\n",
                       html_escape(band.name), k_label_width,
                       band.y + static_cast<double>(lane) * (k_lane_height + k_lane_gap), k_plot_width, k_lane_height);
        }
    }
}

std::string attempt_class(core::Verdict verdict) {
    if (verdict == core::Verdict::failed || verdict == core::Verdict::retry || verdict == core::Verdict::unfinished) {
        return "attempt failed";
    }
    return verdict == core::Verdict::requeued ? "attempt requeued" : "attempt";
}

std::string tooltip(const DrawnAttempt& a) {
    std::string text = fmt::format("{}[{}] attempt {} on {}: {:.3f} s, {}", a.job, a.index, a.attempt, a.host,
                                   a.end - a.start, core::verdict_name(a.verdict));
    std::string reason = a.reason;
    if (a.output_error) {
        reason += (reason.empty() ? "" : "; ") + *a.output_error;
    }
    return reason.empty() ? text : text + " (" + reason + ")";
}

// A staging or collecting bar: a file transfer, not shard work.
void print_transfer(std::ostream& out, const char* kind, double x, double x_end, double y, std::uint64_t files,
                    std::uint64_t bytes, double seconds) {
    fmt::print(out,
               "<rect class=\"{0}\" x=\"{1:.1f}\" y=\"{2:.1f}\" width=\"{3:.1f}\" height=\"{4:.1f}\">"
               "<title>{0}: {5} file{6}, {7} bytes in {8:.3f} s</title></rect>\n",
               kind, x, y, std::max(1.0, x_end - x), k_lane_height, files, files == 1 ? "" : "s", bytes, seconds);
}

void print_attempts(std::ostream& out, const std::vector<DrawnAttempt>& attempts, const std::vector<HostBand>& bands,
                    const Scale& scale, const std::map<std::string, std::string>& colours) {
    std::map<std::string, double> band_y;
    for (const auto& band : bands) {
        band_y[band.name] = band.y;
    }
    for (const auto& a : attempts) {
        double x = scale.x(a.start);
        // A zero-length attempt still gets a visible sliver.
        double width = std::max(1.0, scale.x(a.end) - x);
        double y = band_y.at(a.host) + static_cast<double>(a.lane) * (k_lane_height + k_lane_gap);
        fmt::print(out,
                   "<rect class=\"{}\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\">"
                   "<title>{}</title></rect>\n",
                   attempt_class(a.verdict), x, y, width, k_lane_height, colours.at(a.job), html_escape(tooltip(a)));
        if (a.transfer.send_s > 0) {
            print_transfer(out, "staging", scale.x(a.from()), x, y, a.transfer.sent_files, a.transfer.sent_bytes,
                           a.transfer.send_s);
        }
        if (a.transfer.receive_s > 0) {
            print_transfer(out, "collecting", scale.x(a.end), scale.x(a.to()), y, a.transfer.received_files,
                           a.transfer.received_bytes, a.transfer.receive_s);
        }
    }
}

void print_legend(std::ostream& out, const std::map<std::string, std::string>& colours, const core::Report& report) {
    out << "<ul class=\"legend\">\n";
    for (const auto& j : report.jobs) {
        fmt::print(out, "<li><span class=\"swatch\" style=\"background:{}\"></span>{}</li>\n", colours.at(j.name),
                   html_escape(j.name));
    }
    out << "<li><span class=\"swatch failed\"></span>failed, retried or unfinished</li>\n"
        << "<li><span class=\"swatch requeued\"></span>requeued</li>\n"
        << "<li><span class=\"swatch staging\"></span>staging</li>\n"
        << "<li><span class=\"swatch collecting\"></span>collecting</li>\n</ul>\n";
}

} // namespace

void print_gantt(std::ostream& out, const core::Report& report, const std::string& run_dir) {
    Attempts attempts = read_attempts(run_dir);
    auto lanes = assign_lanes(attempts.drawn);
    auto bands = layout_hosts(report, lanes);
    auto colours = job_colours(report, attempts.drawn);
    Scale scale{&report.run.sessions, report.run.makespan_s > 0 ? report.run.makespan_s : 1.0};
    double height = bands.empty() ? k_top + k_axis_height : bands.back().y;
    height += static_cast<double>(bands.empty() ? 0 : std::max<std::size_t>(bands.back().lanes, 1)) *
              (k_lane_height + k_lane_gap);
    out << "<h2>Timeline</h2>\n";
    print_legend(out, colours, report);
    if (attempts.left_out > 0) {
        fmt::print(out,
                   "<p class=\"note\">The chart shows the first {} attempts by start time; {} more are left out.</p>\n",
                   attempts.drawn.size(), attempts.left_out);
    }
    // Inline SVG in HTML needs no xmlns: the parser puts it in the SVG namespace, and the page fetches nothing.
    fmt::print(out, "<svg class=\"gantt\" width=\"{0:.0f}\" height=\"{1:.0f}\" viewBox=\"0 0 {0:.0f} {1:.0f}\">\n",
               k_label_width + k_plot_width + 20, height + 4);
    print_axis(out, scale, height);
    print_bands(out, bands);
    print_attempts(out, attempts.drawn, bands, scale, colours);
    print_resumes(out, scale, height);
    out << "</svg>\n";
}

} // namespace sshard::cli
