#include "core/resume.hpp"

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/journal.hpp"
#include "core/overloaded.hpp"

namespace sshard::core {

RecordedRun read_recorded_run(const std::string& path) {
    RecordedRun run;
    bool started = false;
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
                       [&](const AttemptEndEvent& e) {
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
    run.history.seal();
    return run;
}

} // namespace sshard::core
