#include "transport/slurm_accounting.hpp"

#include <charconv>
#include <cmath>
#include <string>

#include "transport/slurm_batch.hpp"

namespace sshard::transport {

namespace {

// "41_7.batch" as job 41, task 7; false for any other JobID ("41", "41.batch", "41_[8-99]", "41_7.0").
bool parse_batch_step(std::string_view id, std::uint64_t& job, std::uint64_t& task) {
    constexpr std::string_view k_batch = ".batch";
    if (!id.ends_with(k_batch)) {
        return false;
    }
    id.remove_suffix(k_batch.size());
    std::size_t underscore = id.find('_');
    return underscore != std::string_view::npos && parse_number(id.substr(0, underscore), job) &&
           parse_number(id.substr(underscore + 1), task) && job != 0;
}

// The line's fields, split by '|'.
std::vector<std::string_view> fields_of(std::string_view line) {
    std::vector<std::string_view> fields;
    std::size_t start = 0;
    for (;;) {
        std::size_t bar = line.find('|', start);
        fields.push_back(line.substr(start, bar == std::string_view::npos ? std::string_view::npos : bar - start));
        if (bar == std::string_view::npos) {
            return fields;
        }
        start = bar + 1;
    }
}

} // namespace

std::optional<std::uint64_t> parse_rss(std::string_view text) {
    constexpr std::string_view k_suffixes = "KMGTP";
    double scale = 1;
    if (!text.empty()) {
        std::size_t power = k_suffixes.find(text.back());
        if (power != std::string_view::npos) {
            scale = std::pow(1024.0, static_cast<double>(power + 1));
            text.remove_suffix(1);
        }
    }
    double value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, std::chars_format::fixed);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !(value > 0)) {
        return std::nullopt;
    }
    double bytes = std::round(value * scale);
    // 2^64 is exact as a double: anything from there up does not fit.
    if (!(bytes >= 1) || bytes >= 18446744073709551616.0) {
        return std::nullopt;
    }
    return static_cast<std::uint64_t>(bytes);
}

std::vector<StepMemory> parse_step_memory(std::string_view text) {
    std::vector<StepMemory> steps;
    while (!text.empty()) {
        std::size_t newline = std::min(text.find('\n'), text.size());
        auto fields = fields_of(text.substr(0, newline));
        text.remove_prefix(std::min(newline + 1, text.size()));
        StepMemory step;
        if (fields.size() != 3 || !parse_batch_step(fields[0], step.job, step.task)) {
            continue;
        }
        // A state may carry more words ("CANCELLED by 0"): the first says whether the step has ended.
        std::string_view state = fields[1].substr(0, fields[1].find(' '));
        step.ended = is_final_state(state);
        step.max_rss = step.ended ? parse_rss(fields[2]) : std::nullopt;
        steps.push_back(step);
    }
    return steps;
}

bool is_accounting_disabled(std::string_view sacct_error) {
    return sacct_error.find("accounting storage is disabled") != std::string_view::npos;
}

} // namespace sshard::transport
