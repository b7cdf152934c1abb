#include "cli/report_printer.hpp"

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <nlohmann/json.hpp>

#include "cli/report_tables.hpp"
#include "cli/terminal.hpp"
#include "cli/units.hpp"
#include "core/hostlist.hpp"
#include "core/journal.hpp"

namespace sshard::cli {

namespace {

using nlohmann::ordered_json;

// A name for a table column: its first `width` bytes, safe for the terminal.
std::string cell(const std::string& name, std::size_t width = 16) {
    return terminal_safe(std::string_view(name).substr(0, width));
}

void print_run(std::ostream& out, const core::RunReport& run) {
    fmt::print(out, "run {} ({}){}\n", terminal_safe(run.name), terminal_safe(run.run_id),
               run.interrupted ? ", interrupted" : "");
    fmt::print(out, "  shards {}: {} succeeded, {} failed, {} skipped, {} not run\n", run.shards.total,
               run.shards.succeeded, run.shards.failed, run.shards.skipped, not_run_count(run.shards));
    fmt::print(out, "  started {}, makespan {}, {} attempts, {} retries, {} host losses\n", local_time_text(run.start),
               seconds_text(run.makespan_s), run.attempts, run.retries, run.host_losses);
    fmt::print(out, "  T_total {}, speedup {:.2f}, {} slots, utilization {}, CPU {} (efficiency {})\n",
               seconds_text(run.t_total_s), run.speedup, run.slots, percent_text(run.utilization),
               seconds_text(run.cpu_s), percent_text(run.cpu_efficiency));
}

// A table in fixed-width columns: the first left-aligned and cut to its width, the others right-aligned.
void print_table(std::ostream& out, const Table& table) {
    auto print_line = [&](const std::vector<std::string>& cells, bool cut) {
        const Column& first = table.columns.front();
        std::string line = fmt::format("{:<{}}", cut ? cell(cells.front(), first.width) : cells.front(), first.width);
        for (std::size_t i = 1; i < table.columns.size(); ++i) {
            line += fmt::format(" {:>{}}", terminal_safe(cells[i]), table.columns[i].width);
        }
        fmt::print(out, "{}\n", line);
    };
    std::vector<std::string> names;
    for (const auto& column : table.columns) {
        names.push_back(column.name);
    }
    out << '\n';
    print_line(names, false);
    for (const auto& row : table.rows) {
        print_line(row, true);
    }
}

void print_failures(std::ostream& out, const core::Report& report) {
    if (report.failures.empty() && report.not_run.empty()) {
        return;
    }
    fmt::print(out, "\nfailures\n");
    for (const auto& f : report.failures) {
        fmt::print(out, "  {}[{}] on {} after {} attempt{}: {}\n", terminal_safe(f.job), f.index,
                   terminal_safe(core::fold_hostlist(f.hosts)), f.attempts, f.attempts == 1 ? "" : "s",
                   terminal_safe(f.reason));
        std::size_t start = 0;
        while (start < f.stderr_tail.size()) {
            std::size_t end = f.stderr_tail.find('\n', start);
            end = end == std::string::npos ? f.stderr_tail.size() : end;
            fmt::print(out, "    | {}\n", cell(f.stderr_tail.substr(start, end - start), 90));
            start = end + 1;
        }
    }
    if (report.more_failures > 0) {
        fmt::print(out, "  ... and {} more failed shards (--format csv lists every attempt)\n", report.more_failures);
    }
    for (const auto& n : report.not_run) {
        fmt::print(out, "  {}: {} shard{} {}: {}\n", terminal_safe(n.job), n.count, n.count == 1 ? "" : "s",
                   n.failed ? "failed" : "skipped", terminal_safe(n.reason));
    }
}

void print_output_errors(std::ostream& out, const core::Report& report) {
    if (report.output_errors.empty()) {
        return;
    }
    fmt::print(out, "\noutput errors (records of these attempts are incomplete)\n");
    for (const auto& e : report.output_errors) {
        fmt::print(out, "  {}[{}] attempt {}: {}\n", terminal_safe(e.job), e.index, e.attempt,
                   terminal_safe(e.message));
    }
    if (report.more_output_errors > 0) {
        fmt::print(out, "  ... and {} more (--format csv lists every attempt)\n", report.more_output_errors);
    }
}

// The columns of the timeline before which a resume started: where a pause was left out.
std::vector<std::size_t> resume_columns(const core::RunReport& run) {
    std::vector<std::size_t> columns;
    double offset = 0;
    for (std::size_t i = 0; run.makespan_s > 0 && i + 1 < run.sessions.size(); ++i) {
        offset += run.sessions[i].end - run.sessions[i].start;
        columns.push_back(static_cast<std::size_t>(std::lround(offset / run.makespan_s * core::k_timeline_slices)));
    }
    return columns;
}

// One line of block characters per host: how busy its slots were in each sixtieth of the run's active time,
// with a dotted bar where a resume started after a pause.
void print_timeline(std::ostream& out, const core::Report& report) {
    static const char* const blocks[] = {" ",      "\u2581", "\u2582", "\u2583", "\u2584",
                                         "\u2585", "\u2586", "\u2587", "\u2588"};
    std::vector<std::size_t> resumes = resume_columns(report.run);
    fmt::print(out, "\ntimeline (busy slots per host; each column is 1/{} of the run{})\n", core::k_timeline_slices,
               resumes.empty() ? "" : "; \u250a: resumed after a pause");
    for (const auto& h : report.hosts) {
        std::string line;
        for (std::size_t i = 0; i < h.timeline.size(); ++i) {
            for (std::size_t column : resumes) {
                line += column == i ? "\u250a" : "";
            }
            line += blocks[static_cast<int>(std::lround(h.timeline[i] * 8))];
        }
        fmt::print(out, "  {:<16} |{}|\n", cell(h.name), line);
    }
}

} // namespace

void print_report_text(std::ostream& out, const core::Report& report) {
    print_run(out, report.run);
    print_table(out, jobs_table(report.jobs));
    print_table(out, hosts_table(report.hosts));
    print_table(out, host_use_table(report.hosts));
    print_failures(out, report);
    print_output_errors(out, report);
    print_timeline(out, report);
}

namespace {

ordered_json shards_json(const core::ShardCounts& s) {
    return {{"total", s.total}, {"succeeded", s.succeeded}, {"failed", s.failed}, {"skipped", s.skipped}};
}

ordered_json sessions_json(const std::vector<core::Span>& sessions) {
    ordered_json list = ordered_json::array();
    for (const auto& s : sessions) {
        list.push_back({{"start", s.start}, {"end", s.end}});
    }
    return list;
}

ordered_json run_json(const core::RunReport& run) {
    return {{"name", run.name},
            {"run_id", run.run_id},
            {"start", run.start},
            {"end", run.end},
            {"makespan_s", run.makespan_s},
            {"sessions", sessions_json(run.sessions)},
            {"shards", shards_json(run.shards)},
            {"attempts", run.attempts},
            {"retries", run.retries},
            {"host_losses", run.host_losses},
            {"t_total_s", run.t_total_s},
            {"speedup", run.speedup},
            {"slots", run.slots},
            {"utilization", run.utilization},
            {"cpu_s", run.cpu_s},
            {"cpu_efficiency", run.cpu_efficiency},
            {"interrupted", run.interrupted}};
}

ordered_json job_json(const core::JobReport& j) {
    return {
        {"name", j.name},
        {"shards", shards_json(j.shards)},
        {"attempts", j.attempts},
        {"retries", j.retries},
        {"t_total_s", j.t_total_s},
        {"duration_s",
         {{"min", j.duration_s.min}, {"p50", j.duration_s.p50}, {"p95", j.duration_s.p95}, {"max", j.duration_s.max}}},
        {"cpu_efficiency", j.cpu_efficiency},
        {"makespan_s", j.makespan_s}};
}

ordered_json host_json(const core::HostReport& h) {
    return {{"name", h.name},
            {"slots", h.slots},
            {"shards", h.shards},
            {"failures", h.failures},
            {"losses", h.losses},
            {"busy_s", h.busy_s},
            {"idle_s", h.idle_s},
            {"utilization", h.utilization},
            {"cpu_user_s", h.cpu_user_s},
            {"cpu_sys_s", h.cpu_sys_s},
            {"setup_s", h.setup_s ? ordered_json(*h.setup_s) : ordered_json(nullptr)},
            {"samples", h.samples},
            {"cpu_busy_mean", h.cpu_busy_mean ? ordered_json(*h.cpu_busy_mean) : ordered_json(nullptr)},
            {"cpu_busy_peak", h.cpu_busy_peak ? ordered_json(*h.cpu_busy_peak) : ordered_json(nullptr)},
            {"mem_used_peak_bytes", h.mem_used_peak ? ordered_json(*h.mem_used_peak) : ordered_json(nullptr)},
            {"mem_total_bytes", h.mem_total ? ordered_json(*h.mem_total) : ordered_json(nullptr)},
            {"held_s", h.held_s},
            {"held_for", h.held_for},
            {"timeline", h.timeline}};
}

} // namespace

void print_report_json(std::ostream& out, const core::Report& report) {
    ordered_json doc;
    doc["run"] = run_json(report.run);
    doc["jobs"] = ordered_json::array();
    for (const auto& j : report.jobs) {
        doc["jobs"].push_back(job_json(j));
    }
    doc["hosts"] = ordered_json::array();
    for (const auto& h : report.hosts) {
        doc["hosts"].push_back(host_json(h));
    }
    doc["failures"] = ordered_json::array();
    for (const auto& f : report.failures) {
        doc["failures"].push_back({{"job", f.job},
                                   {"index", f.index},
                                   {"hosts", f.hosts},
                                   {"attempts", f.attempts},
                                   {"reason", f.reason},
                                   {"stderr_tail", f.stderr_tail}});
    }
    doc["more_failures"] = report.more_failures;
    doc["not_run"] = ordered_json::array();
    for (const auto& n : report.not_run) {
        doc["not_run"].push_back(
            {{"job", n.job}, {"count", n.count}, {"as", n.failed ? "failed" : "skipped"}, {"reason", n.reason}});
    }
    doc["output_errors"] = ordered_json::array();
    for (const auto& e : report.output_errors) {
        doc["output_errors"].push_back(
            {{"job", e.job}, {"index", e.index}, {"attempt", e.attempt}, {"message", e.message}});
    }
    doc["more_output_errors"] = report.more_output_errors;
    out << doc.dump(2, ' ', false, ordered_json::error_handler_t::replace) << '\n';
}

namespace {

// RFC 4180: quoted when it holds a comma, a quote or a line break; quotes doubled.
std::string csv_field(const std::string& text) {
    if (text.find_first_of(",\"\r\n") == std::string::npos) {
        return text;
    }
    std::string quoted = "\"";
    for (char c : text) {
        quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    }
    return quoted + "\"";
}

template <class T> std::string csv_optional(const std::optional<T>& value) {
    return value ? fmt::format("{}", *value) : "";
}

std::string csv_number(double value) {
    return nlohmann::json(value).dump();
}

} // namespace

void print_report_csv(std::ostream& out, const std::string& run_dir) {
    out << "job,index,attempt,host,start,end,outcome,exit_code,signal,verdict,cpu_user_s,cpu_sys_s,reason,command,"
           "duration_s,output_error\n";
    core::read_journal(run_dir + "/journal.jsonl", [&](const core::JournalEvent& event, int) {
        const auto* e = std::get_if<core::AttemptEndEvent>(&event);
        if (e == nullptr) {
            return;
        }
        out << fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.3f},{}\n", csv_field(e->job), e->index,
                           e->attempt, csv_field(e->host), csv_number(e->start), csv_number(e->end),
                           core::outcome_name(e->outcome), csv_optional(e->exit_code), csv_optional(e->signal),
                           core::verdict_name(e->verdict), e->cpu_user_s ? csv_number(*e->cpu_user_s) : "",
                           e->cpu_sys_s ? csv_number(*e->cpu_sys_s) : "", csv_field(e->reason), csv_field(e->command),
                           e->end - e->start, csv_field(e->output_error.value_or("")));
    });
}

} // namespace sshard::cli
