#include "core/resume.hpp"

#include <fmt/format.h>
#include <map>

#include "core/error.hpp"
#include "core/journal.hpp"
#include "core/overloaded.hpp"

namespace sshard::core {

RecordedRun read_recorded_run(const std::string& path) {
    RecordedRun run;
    bool started = false;
    // Submitted attempts not yet seen to end, by shard: the last one of each shard counts.
    std::map<std::pair<std::string, std::uint64_t>, SubmittedAttempt> submitted;
    read_journal(path, [&](const JournalEvent& event, int line) {
        if (!started && !std::holds_alternative<RunStartEvent>(event)) {
            throw Error(fmt::format("journal '{}' line {}: expected a run_start event first", path, line));
        }
        std::visit(Overloaded{
                       [&](const RunStartEvent& e) {
                           if (!started) {
                               started = true;
                               run.started = true;
                               run.run_id = e.run;
                               run.spec_path = e.spec;
                           }
                           run.host_flags = e.host_flags;
                       },
                       [&](const AttemptStartEvent& e) {
                           run.history.add_attempt(e.job, e.index, e.attempt);
                           run.last_attempt_id = std::max(run.last_attempt_id, e.id);
                       },
                       [&](const AttemptSubmittedEvent& e) {
                           submitted.insert_or_assign(std::pair(e.job, e.index),
                                                      SubmittedAttempt{e.attempt, e.host, e.handle});
                       },
                       [&](const AttemptEndEvent& e) {
                           submitted.erase(std::pair(e.job, e.index));
                           if (e.verdict == Verdict::succeeded || e.verdict == Verdict::failed) {
                               run.history.add_finished(e.job, e.index, e.inputs, e.key,
                                                        e.verdict == Verdict::succeeded);
                           }
                           run.history.add_attempt(e.job, e.index, e.attempt);
                           run.last_attempt_id = std::max(run.last_attempt_id, e.id);
                           ++run.attempts;
                       },
                       [](const auto&) {},
                   },
                   event);
    });
    for (auto& [shard, attempt] : submitted) {
        run.history.add_submitted(shard.first, shard.second, std::move(attempt));
    }
    run.history.seal();
    return run;
}

} // namespace sshard::core
