#include "transport/slurm_batch.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <fmt/format.h>

#include "core/shell_quote.hpp"

namespace sshard::transport {

namespace {

std::vector<std::string_view> words(std::string_view line) {
    std::vector<std::string_view> result;
    std::size_t start = 0;
    while (start < line.size()) {
        std::size_t end = std::min(line.find(' ', start), line.size());
        if (end > start) {
            result.push_back(line.substr(start, end - start));
        }
        start = end + 1;
    }
    return result;
}

} // namespace

// Nothing here forks but the wrapper's shell: the times are I.st's and I.rc's, printf a builtin, and Slurm
// sets SLURMD_NODENAME.
std::string array_script(const std::string& dir) {
    return fmt::format("#!/bin/sh\n"
                       "d={}\n"
                       "i=$SLURM_ARRAY_TASK_ID\n"
                       ": >\"$d/$i.st\"\n"
                       "/bin/sh \"$d/$i.sh\" <\"$d/$i.env\"\n"
                       "s=$?\n"
                       "printf '%s %s\\n' \"$s\" \"${{SLURMD_NODENAME:-$(hostname)}}\" >\"$d/$i.rc\"\n",
                       core::shell_quote(dir));
}

std::string slurm_minutes(std::chrono::milliseconds time) {
    auto minutes = (time.count() + 59'999) / 60'000;
    return std::to_string(std::max<long long>(1, minutes));
}

bool parse_number(std::string_view text, std::uint64_t& value) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    return !text.empty() && ec == std::errc() && end == text.data() + text.size();
}

std::vector<QueueRow> parse_queue(std::string_view text) {
    std::vector<QueueRow> rows;
    while (!text.empty()) {
        std::size_t newline = std::min(text.find('\n'), text.size());
        auto fields = words(text.substr(0, newline));
        text.remove_prefix(std::min(newline + 1, text.size()));
        QueueRow row;
        if (fields.size() < 3 || fields.size() > 4 || !parse_number(fields[0], row.job) ||
            !parse_number(fields[1], row.task)) {
            continue;
        }
        row.state = fields[2];
        if (fields.size() == 4) {
            row.node = fields[3];
        }
        rows.push_back(std::move(row));
    }
    return rows;
}

std::vector<QueuedScript> parse_queued_scripts(std::string_view text) {
    std::vector<QueuedScript> rows;
    while (!text.empty()) {
        std::size_t newline = std::min(text.find('\n'), text.size());
        std::string_view line = text.substr(0, newline);
        text.remove_prefix(std::min(newline + 1, text.size()));
        std::size_t first = line.find('|');
        std::size_t second = first == std::string_view::npos ? first : line.find('|', first + 1);
        QueuedScript row;
        if (second == std::string_view::npos || !parse_number(line.substr(0, first), row.job) ||
            !parse_number(line.substr(first + 1, second - first - 1), row.task) || second + 1 == line.size()) {
            continue;
        }
        row.script = line.substr(second + 1);
        rows.push_back(std::move(row));
    }
    return rows;
}

std::map<std::string, int> parse_node_cpus(std::string_view text) {
    std::map<std::string, int> nodes;
    while (!text.empty()) {
        std::size_t newline = std::min(text.find('\n'), text.size());
        auto fields = words(text.substr(0, newline));
        text.remove_prefix(std::min(newline + 1, text.size()));
        std::uint64_t cpus = 0;
        if (fields.size() == 2 && parse_number(fields[1], cpus) && cpus > 0 && cpus < 1'000'000) {
            nodes[std::string(fields[0])] = static_cast<int>(cpus);
        }
    }
    return nodes;
}

bool is_final_state(std::string_view state) {
    constexpr std::array<std::string_view, 10> k_final = {"COMPLETED",     "FAILED",    "CANCELLED", "TIMEOUT",
                                                          "NODE_FAIL",     "PREEMPTED", "BOOT_FAIL", "DEADLINE",
                                                          "OUT_OF_MEMORY", "REVOKED"};
    return std::find(k_final.begin(), k_final.end(), state) != k_final.end();
}

bool is_machine_failure(std::string_view state) {
    return state == "NODE_FAIL" || state == "PREEMPTED" || state == "BOOT_FAIL";
}

bool is_temporary_refusal(std::string_view sbatch_error) {
    return sbatch_error.find("temporarily unable to accept job") != std::string_view::npos ||
           sbatch_error.find("Resource temporarily unavailable") != std::string_view::npos;
}

std::optional<TaskStatus> parse_task_status(std::string_view text) {
    if (!text.ends_with('\n')) {
        return std::nullopt; // not yet whole
    }
    auto fields = words(text.substr(0, text.find('\n')));
    std::uint64_t status = 0;
    if (fields.size() != 2 || !parse_number(fields[0], status) || status > 255) {
        return std::nullopt;
    }
    return TaskStatus{static_cast<int>(status), std::string(fields[1])};
}

std::string format_task_handle(const TaskHandle& handle) {
    return fmt::format("{}_{} {} {}", handle.job, handle.index, handle.marker, handle.dir);
}

std::optional<TaskHandle> parse_task_handle(std::string_view text) {
    std::size_t first = text.find(' ');
    std::size_t second = first == std::string_view::npos ? first : text.find(' ', first + 1);
    if (second == std::string_view::npos) {
        return std::nullopt;
    }
    std::string_view id = text.substr(0, first);
    std::size_t underscore = id.find('_');
    TaskHandle handle;
    handle.marker = text.substr(first + 1, second - first - 1);
    handle.dir = text.substr(second + 1);
    if (underscore == std::string_view::npos || !parse_number(id.substr(0, underscore), handle.job) ||
        !parse_number(id.substr(underscore + 1), handle.index) || handle.job == 0 || handle.marker.empty() ||
        !handle.dir.starts_with('/')) {
        return std::nullopt;
    }
    return handle;
}

core::Outcome task_outcome(int status, std::optional<double> cpu_user_s, std::optional<double> cpu_sys_s) {
    core::Outcome outcome;
    outcome.cpu_user_s = cpu_user_s;
    outcome.cpu_sys_s = cpu_sys_s;
    if (!cpu_user_s && status > 128 && status <= 128 + 64) {
        outcome.kind = core::Outcome::Kind::signaled;
        outcome.signal = status - 128;
        return outcome;
    }
    outcome.exit_code = status;
    return outcome;
}

} // namespace sshard::transport
