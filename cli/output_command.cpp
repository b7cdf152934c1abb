#include "cli/output_command.hpp"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <iostream>
#include <map>
#include <memory>
#include <optional>

#include "cli/exit_codes.hpp"
#include "cli/output_blocks.hpp"
#include "core/error.hpp"
#include "core/hostlist.hpp"
#include "core/journal.hpp"
#include "core/private_dir.hpp"
#include "core/run_dir.hpp"

namespace sshard::cli {

namespace {

// `job`, `job[3]`, `job[0-9]`, `job[0-3,7]`: a job's shards, all or by index.
struct Selector {
    std::string job;
    std::vector<core::IndexRange> ranges; // empty: every shard
};

core::UsageError bad_selector(std::string_view text) {
    return core::UsageError(
        fmt::format("bad selector '{}' (a job's name, or its shards as in job[3], job[0-9] or job[0-3,7])", text));
}

std::optional<std::uint64_t> to_index(std::string_view digits) {
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
        return std::nullopt;
    }
    return value;
}

Selector parse_selector(std::string_view text) {
    std::size_t open = text.find('[');
    Selector selector{std::string(text.substr(0, open)), {}};
    if (selector.job.empty() || (open != std::string_view::npos && text.back() != ']')) {
        throw bad_selector(text);
    }
    if (open == std::string_view::npos) {
        return selector;
    }
    std::string_view body = text.substr(open + 1, text.size() - open - 2);
    for (std::size_t start = 0; start <= body.size();) {
        std::size_t comma = std::min(body.find(',', start), body.size());
        std::string_view item = body.substr(start, comma - start);
        std::size_t dash = item.find('-');
        auto from = to_index(item.substr(0, dash));
        auto to = dash == std::string_view::npos ? from : to_index(item.substr(dash + 1));
        if (!from || !to || *from > *to || *to == UINT64_MAX) {
            throw bad_selector(text);
        }
        selector.ranges.push_back({*from, *to + 1});
        start = comma + 1;
    }
    return selector;
}

// A shard's last ended attempt, as the journal records it.
struct LastAttempt {
    int attempt = 0;
    std::string host;
    core::Verdict verdict = core::Verdict::failed;
};

// What the journal says: the jobs in the order the run lists them, and each shard's last ended attempt.
struct RecordedShards {
    std::vector<std::string> jobs;
    std::map<std::pair<std::size_t, std::uint64_t>, LastAttempt> last; // by (job's position, index)
};

RecordedShards read_shards(const std::string& journal) {
    RecordedShards shards;
    std::map<std::string, std::size_t, std::less<>> position;
    auto job_position = [&](const std::string& job) {
        auto [it, inserted] = position.try_emplace(job, shards.jobs.size());
        if (inserted) {
            shards.jobs.push_back(job);
        }
        return it->second;
    };
    core::read_journal(journal, [&](const core::JournalEvent& event, int) {
        if (const auto* start = std::get_if<core::RunStartEvent>(&event)) {
            for (const auto& job : start->jobs) {
                job_position(job.name);
            }
        } else if (const auto* end = std::get_if<core::AttemptEndEvent>(&event)) {
            shards.last[{job_position(end->job), end->index}] = LastAttempt{end->attempt, end->host, end->verdict};
        }
    });
    return shards;
}

// Which shards of one job the selectors pick.
struct JobSelection {
    bool all = false; // every shard of it
    std::vector<core::IndexRange> ranges;
};

bool selected(const std::vector<JobSelection>& by_job, std::size_t job, std::uint64_t index) {
    if (by_job.empty()) {
        return true;
    }
    const auto& selection = by_job[job];
    return selection.all || std::any_of(selection.ranges.begin(), selection.ranges.end(),
                                        [&](const auto& r) { return index >= r.from && index < r.to; });
}

// The selections by job position; empty when no selector was given. Throws UsageError for a job the run does
// not have.
std::vector<JobSelection> select_jobs(const std::vector<std::string>& words, const RecordedShards& shards,
                                      const std::string& run) {
    std::vector<JobSelection> by_job;
    if (words.empty()) {
        return by_job;
    }
    by_job.resize(shards.jobs.size());
    for (const auto& word : words) {
        Selector selector = parse_selector(word);
        auto it = std::find(shards.jobs.begin(), shards.jobs.end(), selector.job);
        if (it == shards.jobs.end()) {
            throw core::UsageError(
                fmt::format("no job '{}' in run '{}' (its jobs: {})", selector.job, run, fmt::join(shards.jobs, ", ")));
        }
        auto& selection = by_job[static_cast<std::size_t>(it - shards.jobs.begin())];
        selection.all = selection.all || selector.ranges.empty();
        selection.ranges.insert(selection.ranges.end(), selector.ranges.begin(), selector.ranges.end());
    }
    return by_job;
}

// "a[0-3,7],b[2]": the shards of each job, in the order of the job's first shard.
std::string fold_shards(const std::vector<std::pair<std::string, std::uint64_t>>& shards) {
    std::vector<std::pair<std::string, std::vector<std::uint64_t>>> jobs;
    for (const auto& shard : shards) {
        auto it = std::find_if(jobs.begin(), jobs.end(), [&](const auto& j) { return j.first == shard.first; });
        if (it == jobs.end()) {
            it = jobs.insert(jobs.end(), {shard.first, {}});
        }
        it->second.push_back(shard.second);
    }
    std::vector<std::string> pieces;
    for (auto& [job, indices] : jobs) {
        std::sort(indices.begin(), indices.end());
        std::vector<std::string> ranges;
        for (std::size_t i = 0; i < indices.size();) {
            std::size_t j = i;
            while (j + 1 < indices.size() && indices[j + 1] == indices[j] + 1) {
                ++j;
            }
            ranges.push_back(j == i ? fmt::format("{}", indices[i]) : fmt::format("{}-{}", indices[i], indices[j]));
            i = j + 1;
        }
        pieces.push_back(fmt::format("{}[{}]", job, fmt::join(ranges, ",")));
    }
    return fmt::format("{}", fmt::join(pieces, ","));
}

} // namespace

namespace {

// The last ended attempt of each selected shard, in job order then index order.
struct Selected {
    std::vector<StoredAttempt> attempts;
    std::vector<std::pair<std::string, std::uint64_t>> shards; // (job, index) of each
    std::vector<std::string> hosts;                            // where each ran
};

Selected select(const RecordedShards& recorded, const std::vector<JobSelection>& by_job, bool failed_only) {
    Selected selected_shards;
    for (const auto& [key, last] : recorded.last) {
        const auto& [job, index] = key;
        if (!selected(by_job, job, index) || (failed_only && last.verdict != core::Verdict::failed)) {
            continue;
        }
        const std::string& name = recorded.jobs[job];
        selected_shards.attempts.push_back(
            {name, fmt::format("{}.{}", index, last.attempt), fmt::format("{}[{}]@{}", name, index, last.host)});
        selected_shards.shards.emplace_back(name, index);
        selected_shards.hosts.push_back(last.host);
    }
    return selected_shards;
}

// The run's `out`, or nullopt when no shard printed anything yet (it is made on the first byte).
std::optional<core::OpenDir> open_outputs(const core::RunDir& dir) {
    std::string path = dir.path() + "/out";
    std::error_code ec;
    if (!std::filesystem::exists(std::filesystem::symlink_status(path, ec))) {
        return std::nullopt;
    }
    return std::optional<core::OpenDir>(std::in_place, path);
}

} // namespace

Command add_output_command(CLI::App& app) {
    auto options = std::make_shared<OutputOptions>();
    CLI::App* command = app.add_subcommand("output", "Print the stored output of a run's shards");
    command->add_option(
        "SELECTOR", options->words,
        "[RUN_DIR] then shards: job, job[3], job[0-9] (default: .sshard/runs, its latest; every shard)");
    command->add_flag("--failed", options->failed, "Only shards that failed for good");
    command->add_flag("--fold", options->fold, "Print identical output once, under the folded list of shards");
    return {command, [options] { return output_command(*options); }};
}

int output_command(const OutputOptions& options) {
    std::vector<std::string> words = options.words;
    std::string path = ".sshard/runs";
    std::error_code ec;
    if (!words.empty() && std::filesystem::is_directory(words.front(), ec)) {
        path = words.front();
        words.erase(words.begin());
    }
    core::RunDir dir = core::RunDir::open(path);
    RecordedShards recorded = read_shards(dir.journal_path());
    Selected chosen = select(recorded, select_jobs(words, recorded, dir.id()), options.failed);
    auto outputs = open_outputs(dir);
    if (!outputs) {
        return k_exit_ok;
    }
    bool written = true;
    if (options.fold) {
        written = print_folded(std::cout, outputs->fd(), chosen.attempts, [&](const std::vector<std::size_t>& members) {
            std::vector<std::pair<std::string, std::uint64_t>> folded;
            for (std::size_t i : members) {
                folded.push_back(chosen.shards[i]);
            }
            return fold_shards(folded);
        });
    } else {
        for (const auto& attempt : chosen.attempts) {
            written = written && print_attempt(std::cout, std::cout, outputs->fd(), attempt);
        }
    }
    return written ? k_exit_ok : k_exit_cannot_proceed;
}

bool print_output_folded_by_host(const std::string& run_dir) {
    core::RunDir dir = core::RunDir::open(run_dir);
    Selected chosen = select(read_shards(dir.journal_path()), {}, false);
    auto outputs = open_outputs(dir);
    if (!outputs) {
        return true;
    }
    return print_folded(std::cout, outputs->fd(), chosen.attempts, [&](const std::vector<std::size_t>& members) {
        std::vector<std::string> hosts;
        for (std::size_t i : members) {
            hosts.push_back(chosen.hosts[i]);
        }
        return core::fold_hostlist(hosts);
    });
}

} // namespace sshard::cli
