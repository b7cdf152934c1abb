#include "core/resume.hpp"

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/journal.hpp"

namespace sshard::core {

RecordedRun read_recorded_run(const std::string& path) {
    RecordedRun run;
    bool started = false;
    read_journal(path, [&](const nlohmann::json& event, int line) {
        std::string kind = event.value("event", "");
        if (!started && kind != "run_start") {
            throw Error(fmt::format("journal '{}' line {}: expected a run_start event first", path, line));
        }
        try {
            if (kind == "run_start" && !started) {
                started = true;
                run.run_id = event.at("run").get<std::string>();
                run.spec_path = event.at("spec").get<std::string>();
            } else if (kind == "attempt_end") {
                std::string verdict = event.at("verdict").get<std::string>();
                if (verdict == "succeeded" || verdict == "failed") {
                    run.completed.add(event.at("job").get<std::string>(), event.at("key").get<std::string>(),
                                      verdict == "succeeded");
                }
                ++run.attempts;
            }
        } catch (const nlohmann::json::exception& e) {
            throw Error(fmt::format("journal '{}' line {}: bad {} event: {}", path, line, kind, e.what()));
        }
    });
    if (!started) {
        throw Error(fmt::format("journal '{}' is empty: the run recorded nothing", path));
    }
    run.completed.seal();
    return run;
}

} // namespace sshard::core
