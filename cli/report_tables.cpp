#include "cli/report_tables.hpp"

#include <algorithm>
#include <fmt/format.h>

#include "cli/units.hpp"

namespace sshard::cli {

namespace {

std::string mib(std::optional<std::uint64_t> bytes) {
    return bytes ? fmt::format("{:.0f} MiB", static_cast<double>(*bytes) / 1048576.0) : "n/a";
}

std::string rate(std::uint64_t bytes, double seconds) {
    return seconds > 0 ? fmt::format("{:.1f}", static_cast<double>(bytes) / 1e6 / seconds) : "n/a";
}

std::vector<std::string> transfer_row(const std::string& name, const core::TransferStats& t) {
    return {name,
            std::to_string(t.sent_bytes),
            std::to_string(t.sent_files),
            seconds_text(t.send_s),
            rate(t.sent_bytes, t.send_s),
            std::to_string(t.received_bytes),
            std::to_string(t.received_files),
            seconds_text(t.receive_s),
            rate(t.received_bytes, t.receive_s)};
}

// How long a host was held back and by what: "12.5s (load, memory)", or "-" when never.
std::string held_text(const core::HostReport& h) {
    if (h.held_for.empty()) {
        return "-";
    }
    std::string kinds;
    for (const auto& kind : h.held_for) {
        kinds += (kinds.empty() ? "" : ", ") + kind;
    }
    return fmt::format("{} ({})", seconds_text(h.held_s), kinds);
}

} // namespace

Table transfer_table(const core::Report& report) {
    Table table{{{"transfer", 16},
                 {"sent_B", 12},
                 {"files", 6},
                 {"send", 7},
                 {"MB/s", 7},
                 {"recv_B", 12},
                 {"files", 6},
                 {"recv", 7},
                 {"MB/s", 7}},
                {}};
    for (const auto& h : report.hosts) {
        if (!h.transfer.empty()) {
            table.rows.push_back(transfer_row("host " + h.name, h.transfer));
        }
    }
    for (const auto& j : report.jobs) {
        if (!j.transfer.empty()) {
            table.rows.push_back(transfer_row("job " + j.name, j.transfer));
        }
    }
    return table;
}

Table jobs_table(const std::vector<core::JobReport>& jobs) {
    // Minimum widths that keep the table within 100 columns; a wider value widens its column.
    Table table{{{"job", 16},
                 {"shards", 6},
                 {"ok", 4},
                 {"fail", 4},
                 {"skip", 4},
                 {"tries", 5},
                 {"T_total", 7},
                 {"min", 7},
                 {"p50", 7},
                 {"p95", 7},
                 {"max", 7},
                 {"cpu", 6}},
                {}};
    // Peak memory only where some attempt measured it (Slurm's accounting; SSH and local shards are not).
    const bool rss = std::any_of(jobs.begin(), jobs.end(), [](const auto& j) { return j.max_rss.has_value(); });
    if (rss) {
        table.columns.push_back({"max rss", 7});
    }
    for (const auto& j : jobs) {
        // A job that ran no attempt has no times, not times of zero.
        auto time = [&](double seconds) { return j.duration_s ? seconds_text(seconds) : std::string("n/a"); };
        core::Durations d = j.duration_s.value_or(core::Durations{});
        table.rows.push_back({j.name, std::to_string(j.shards.total), std::to_string(j.shards.succeeded),
                              std::to_string(j.shards.failed), std::to_string(j.shards.skipped),
                              std::to_string(j.attempts), time(j.t_total_s), time(d.min), time(d.p50), time(d.p95),
                              time(d.max), percent_text(j.cpu_efficiency)});
        if (rss) {
            table.rows.back().push_back(mib(j.max_rss));
        }
    }
    return table;
}

Table hosts_table(const std::vector<core::HostReport>& hosts) {
    Table table{{{"host", 16},
                 {"slots", 5},
                 {"shards", 6},
                 {"fail", 5},
                 {"lost", 5},
                 {"busy", 8},
                 {"idle", 8},
                 {"util", 6},
                 {"cpu usr", 8},
                 {"cpu sys", 8},
                 {"setup", 7}},
                {}};
    for (const auto& h : hosts) {
        table.rows.push_back({h.name, std::to_string(h.slots), std::to_string(h.shards), std::to_string(h.failures),
                              std::to_string(h.losses), seconds_text(h.busy_s), seconds_text(h.idle_s),
                              h.connected ? percent_text(h.utilization) : "down", seconds_text(h.cpu_user_s),
                              seconds_text(h.cpu_sys_s), seconds_text(h.setup_s)});
    }
    return table;
}

Table host_use_table(const std::vector<core::HostReport>& hosts) {
    Table table{
        {{"host use", 16}, {"samples", 8}, {"cpu mean", 9}, {"cpu peak", 9}, {"mem peak", 10}, {"mem total", 10}}, {}};
    const bool rss = std::any_of(hosts.begin(), hosts.end(), [](const auto& h) { return h.max_rss.has_value(); });
    if (rss) {
        table.columns.push_back({"max rss", 8});
    }
    table.columns.push_back({"held back", 20});
    for (const auto& h : hosts) {
        table.rows.push_back({h.name, std::to_string(h.samples), percent_text(h.cpu_busy_mean),
                              percent_text(h.cpu_busy_peak), mib(h.mem_used_peak), mib(h.mem_total)});
        if (rss) {
            table.rows.back().push_back(mib(h.max_rss));
        }
        table.rows.back().push_back(held_text(h));
    }
    return table;
}

std::uint64_t not_run_count(const core::ShardCounts& shards) {
    return shards.total - std::min(shards.total, shards.succeeded + shards.failed + shards.skipped);
}

} // namespace sshard::cli
