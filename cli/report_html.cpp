#include "cli/report_html.hpp"

#include <algorithm>
#include <cstdint>
#include <fmt/format.h>
#include <fmt/ostream.h>
#include <vector>

#include "cli/gantt_chart.hpp"
#include "cli/html_escape.hpp"
#include "cli/report_tables.hpp"
#include "cli/units.hpp"
#include "core/hostlist.hpp"

namespace sshard::cli {

namespace {

// Cells are plain text: each is escaped here.
void print_row(std::ostream& out, const std::vector<std::string>& cells, const char* tag = "td") {
    out << "<tr>";
    for (const auto& cell : cells) {
        fmt::print(out, "<{0}>{1}</{0}>", tag, html_escape(cell));
    }
    out << "</tr>\n";
}

void print_html_run(std::ostream& out, const core::RunReport& run) {
    const std::vector<std::pair<std::string, std::string>> rows = {
        {"run", fmt::format("{} ({}){}", run.name, run.run_id, run.interrupted ? ", interrupted" : "")},
        {"started", local_time_text(run.start)},
        {"makespan", seconds_text(run.makespan_s)},
        {"shards", fmt::format("{}: {} succeeded, {} failed, {} skipped, {} not run", run.shards.total,
                               run.shards.succeeded, run.shards.failed, run.shards.skipped, not_run_count(run.shards))},
        {"attempts", fmt::format("{} ({} retries)", run.attempts, run.retries)},
        {"host losses", fmt::format("{}", run.host_losses)},
        {"T_total", seconds_text(run.t_total_s)},
        {"speedup", run.speedup ? fmt::format("{:.2f}", *run.speedup) : "n/a"},
        {"slots", fmt::format("{}", run.slots)},
        {"utilization", percent_text(run.utilization)},
        {"CPU", fmt::format("{} (efficiency {})", seconds_text(run.cpu_s), percent_text(run.cpu_efficiency))}};
    out << "<h2>Run</h2>\n<table class=\"summary\">\n";
    for (const auto& [key, value] : rows) {
        fmt::print(out, "<tr><th>{}</th><td>{}</td></tr>\n", html_escape(key), html_escape(value));
    }
    out << "</table>\n";
}

void print_html_table(std::ostream& out, const std::string& heading, const Table& table) {
    fmt::print(out, "<h2>{}</h2>\n<table>\n", heading);
    std::vector<std::string> names;
    for (const auto& column : table.columns) {
        names.push_back(column.name);
    }
    print_row(out, names, "th");
    for (const auto& row : table.rows) {
        print_row(out, row);
    }
    out << "</table>\n";
}

void print_html_failures(std::ostream& out, const core::Report& report) {
    if (report.failures.empty()) {
        return;
    }
    out << "<h2>Failures</h2>\n<table class=\"failures\">\n";
    print_row(out, {"shard", "hosts", "attempts", "reason"}, "th");
    for (const auto& f : report.failures) {
        print_row(out, {fmt::format("{}[{}]", f.job, f.index), core::fold_hostlist(f.hosts), std::to_string(f.attempts),
                        f.reason});
        if (!f.stderr_tail.empty()) {
            fmt::print(out, "<tr><td colspan=\"4\"><pre>{}</pre></td></tr>\n", html_escape(f.stderr_tail));
        }
    }
    out << "</table>\n";
    if (report.more_failures > 0) {
        fmt::print(out, "<p class=\"note\">... and {} more failed shards (--format csv lists every attempt).</p>\n",
                   report.more_failures);
    }
}

void print_not_run(std::ostream& out, const std::vector<core::NotRun>& not_run) {
    if (not_run.empty()) {
        return;
    }
    out << "<h2>Not run</h2>\n<table>\n";
    print_row(out, {"job", "shards", "as", "reason"}, "th");
    for (const auto& n : not_run) {
        print_row(out, {n.job, std::to_string(n.count), n.failed ? "failed" : "skipped", n.reason});
    }
    out << "</table>\n";
}

constexpr const char* k_style = R"(body { font-family: sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin-bottom: 1em; }
th, td { border: 1px solid #ccc; padding: 2px 8px; text-align: right; }
th:first-child, td:first-child, table.summary td { text-align: left; }
pre { margin: 0; text-align: left; font-size: 90%; }
.note { color: #a33; }
.legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 1em; }
.swatch { display: inline-block; width: 1em; height: 1em; margin-right: 0.3em; vertical-align: middle; }
.swatch.failed { border: 2px solid #d62728; }
.swatch.requeued { border: 2px dashed #555; }
.gantt { font-size: 11px; }
.lane { fill: #f4f4f4; }
.axis, .tick { stroke: #bbb; stroke-width: 1; }
.tick-label { text-anchor: middle; fill: #555; }
.host-label { text-anchor: end; fill: #222; }
.attempt { stroke: #fff; stroke-width: 0.5; }
.attempt.failed { stroke: #d62728; stroke-width: 2; }
.attempt.requeued { stroke: #555; stroke-width: 1.5; stroke-dasharray: 3 2; }
.staging, .collecting { stroke: #fff; stroke-width: 0.5; }
.staging, .swatch.staging { fill: #555; background: #555; }
.collecting, .swatch.collecting { fill: #aaa; background: #aaa; }
.resume { stroke: #333; stroke-width: 1.5; stroke-dasharray: 4 3; }
)";

} // namespace

void print_report_html(std::ostream& out, const core::Report& report, const std::string& run_dir) {
    std::string title = html_escape(fmt::format("sshard report: {} ({})", report.run.name, report.run.run_id));
    fmt::print(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n",
               title);
    fmt::print(out, "<style>\n{}</style>\n</head>\n<body>\n<h1>{}</h1>\n", k_style, title);
    print_gantt(out, report, run_dir);
    print_html_run(out, report.run);
    print_html_table(out, "Jobs", jobs_table(report.jobs));
    print_html_table(out, "Hosts", hosts_table(report.hosts));
    if (Table transfers = transfer_table(report); !transfers.rows.empty()) {
        print_html_table(out, "Transfer", transfers);
    }
    print_html_failures(out, report);
    print_not_run(out, report.not_run);
    out << "</body>\n</html>\n";
}

} // namespace sshard::cli
