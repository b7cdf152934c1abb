#include "cli/report_printer.hpp"

#include <algorithm>
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

// Names wider than this are shortened in the middle, where "…" shows the cut: their ends tell hosts and jobs apart
// ("render-node-east-001"), and a table of 100-character names would not fit a terminal.
constexpr std::size_t k_max_name_width = 40;

// The byte offset where the character at column `column` of `text` starts.
std::size_t column_offset(std::string_view text, std::size_t column) {
    std::size_t offset = 0;
    for (std::size_t seen = 0; offset < text.size(); ++offset) {
        if ((static_cast<unsigned char>(text[offset]) & 0xC0) != 0x80 && seen++ == column) {
            break;
        }
    }
    return offset;
}

// A name safe for the terminal, at most `width` columns: a longer one keeps its start and end around a "…".
std::string name_cell(const std::string& name, std::size_t width = k_max_name_width) {
    std::string safe = terminal_safe(name);
    std::size_t columns = display_width(safe);
    if (columns <= width) {
        return safe;
    }
    std::size_t head = (width - 1) / 2;
    std::size_t tail = width - 1 - head;
    return safe.substr(0, column_offset(safe, head)) + "\u2026" + safe.substr(column_offset(safe, columns - tail));
}

// The width of a column of names: the widest, up to k_max_name_width, and at least `least`.
std::size_t name_width(const std::vector<std::string>& names, std::size_t least) {
    std::size_t width = least;
    for (const auto& name : names) {
        width = std::max(width, display_width(name_cell(name)));
    }
    return width;
}

void print_run(std::ostream& out, const core::RunReport& run) {
    fmt::print(out, "run {} ({}){}\n", terminal_safe(run.name), terminal_safe(run.run_id),
               run.interrupted ? ", interrupted" : "");
    fmt::print(out, "  shards {}: {} succeeded, {} failed, {} skipped, {} not run\n", run.shards.total,
               run.shards.succeeded, run.shards.failed, run.shards.skipped, not_run_count(run.shards));
    fmt::print(out, "  started {}, makespan {}, {} attempts, {} retries, {} host losses\n", local_time_text(run.start),
               seconds_text(run.makespan_s), run.attempts, run.retries, run.host_losses);
    fmt::print(out, "  T_total {}, speedup {}, {} slots, utilization {}, CPU {} (efficiency {})\n",
               seconds_text(run.t_total_s), run.speedup ? fmt::format("{:.2f}", *run.speedup) : "n/a", run.slots,
               percent_text(run.utilization), seconds_text(run.cpu_s), percent_text(run.cpu_efficiency));
}

// A table in columns as wide as their widest cell: the first (names, shortened in the middle past
// k_max_name_width) left-aligned, the others right-aligned.
void print_table(std::ostream& out, const Table& table) {
    std::vector<std::vector<std::string>> lines;
    lines.emplace_back();
    for (const auto& column : table.columns) {
        lines.back().push_back(column.name);
    }
    for (const auto& row : table.rows) {
        lines.push_back({name_cell(row.front())});
        for (std::size_t i = 1; i < row.size(); ++i) {
            lines.back().push_back(terminal_safe(row[i]));
        }
    }
    std::vector<std::size_t> widths;
    for (const auto& column : table.columns) {
        widths.push_back(static_cast<std::size_t>(column.width));
    }
    for (const auto& line : lines) {
        for (std::size_t i = 0; i < line.size(); ++i) {
            widths[i] = std::max(widths[i], display_width(line[i]));
        }
    }
    out << '\n';
    for (const auto& line : lines) {
        std::string text = pad_right(line.front(), widths.front());
        for (std::size_t i = 1; i < line.size(); ++i) {
            text += " " + std::string(widths[i] - std::min(widths[i], display_width(line[i])), ' ') + line[i];
        }
        fmt::print(out, "{}\n", text);
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
            fmt::print(out, "    | {}\n",
                       terminal_safe(std::string_view(f.stderr_tail).substr(start, end - start).substr(0, 90)));
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
    std::vector<std::string> names;
    for (const auto& h : report.hosts) {
        names.push_back(h.name);
    }
    std::size_t width = name_width(names, 16);
    for (const auto& h : report.hosts) {
        std::string line;
        for (std::size_t i = 0; i < h.timeline.size(); ++i) {
            for (std::size_t column : resumes) {
                line += column == i ? "\u250a" : "";
            }
            line += blocks[static_cast<int>(std::lround(h.timeline[i] * 8))];
        }
        fmt::print(out, "  {} |{}|\n", pad_right(name_cell(h.name), width), line);
    }
}

} // namespace

void print_report_text(std::ostream& out, const core::Report& report) {
    print_run(out, report.run);
    print_table(out, jobs_table(report.jobs));
    print_table(out, hosts_table(report.hosts));
    print_table(out, host_use_table(report.hosts));
    if (Table transfers = transfer_table(report); !transfers.rows.empty()) {
        print_table(out, transfers);
    }
    print_failures(out, report);
    print_output_errors(out, report);
    print_timeline(out, report);
}

namespace {

// A measurement, or null where there is none.
template <class T> ordered_json or_null(const std::optional<T>& value) {
    return value ? ordered_json(*value) : ordered_json(nullptr);
}

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
            {"speedup", or_null(run.speedup)},
            {"slots", run.slots},
            {"utilization", or_null(run.utilization)},
            {"cpu_s", or_null(run.cpu_s)},
            {"cpu_efficiency", or_null(run.cpu_efficiency)},
            {"interrupted", run.interrupted}};
}

ordered_json transfer_json(const core::TransferStats& t) {
    return {{"sent_bytes", t.sent_bytes},         {"sent_files", t.sent_files},         {"send_s", t.send_s},
            {"received_bytes", t.received_bytes}, {"received_files", t.received_files}, {"receive_s", t.receive_s}};
}

ordered_json job_json(const core::JobReport& j) {
    const auto& d = j.duration_s;
    return {{"name", j.name},
            {"shards", shards_json(j.shards)},
            {"attempts", j.attempts},
            {"retries", j.retries},
            {"t_total_s", d ? ordered_json(j.t_total_s) : ordered_json(nullptr)},
            {"duration_s", d ? ordered_json{{"min", d->min}, {"p50", d->p50}, {"p95", d->p95}, {"max", d->max}}
                             : ordered_json(nullptr)},
            {"cpu_efficiency", or_null(j.cpu_efficiency)},
            {"makespan_s", or_null(j.makespan_s)},
            {"max_rss_bytes", or_null(j.max_rss)},
            {"transfer", transfer_json(j.transfer)}};
}

ordered_json host_json(const core::HostReport& h) {
    return {{"name", h.name},
            {"slots", h.slots},
            {"shards", h.shards},
            {"failures", h.failures},
            {"losses", h.losses},
            {"busy_s", h.busy_s},
            {"idle_s", or_null(h.idle_s)},
            {"utilization", or_null(h.utilization)},
            {"cpu_user_s", or_null(h.cpu_user_s)},
            {"cpu_sys_s", or_null(h.cpu_sys_s)},
            {"setup_s", or_null(h.setup_s)},
            {"samples", h.samples},
            {"cpu_busy_mean", or_null(h.cpu_busy_mean)},
            {"cpu_busy_peak", or_null(h.cpu_busy_peak)},
            {"mem_used_peak_bytes", or_null(h.mem_used_peak)},
            {"mem_total_bytes", or_null(h.mem_total)},
            {"max_rss_bytes", or_null(h.max_rss)},
            {"held_s", h.held_s},
            {"held_for", h.held_for},
            {"timeline", h.timeline},
            {"transfer", transfer_json(h.transfer)}};
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
           "duration_s,output_error,max_rss_bytes\n";
    core::read_journal(run_dir + "/journal.jsonl", [&](const core::JournalEvent& event, int) {
        const auto* e = std::get_if<core::AttemptEndEvent>(&event);
        if (e == nullptr) {
            return;
        }
        out << fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.3f},{},{}\n", csv_field(e->job), e->index,
                           e->attempt, csv_field(e->host), csv_number(e->start), csv_number(e->end),
                           core::outcome_name(e->outcome), csv_optional(e->exit_code), csv_optional(e->signal),
                           core::verdict_name(e->verdict), e->cpu_user_s ? csv_number(*e->cpu_user_s) : "",
                           e->cpu_sys_s ? csv_number(*e->cpu_sys_s) : "", csv_field(e->reason), csv_field(e->command),
                           e->end - e->start, csv_field(e->output_error.value_or("")), csv_optional(e->max_rss));
    });
}

} // namespace sshard::cli
