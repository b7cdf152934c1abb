// Fuzzes the spec loader with any bytes as a spec: it loads, or throws SpecError with at least one diagnostic
// that points inside the text; never another exception, a crash or an unbounded allocation. A spec that loads
// must plan, and its first and last shards must render.
#include <algorithm>
#include <string>

#include "core/error.hpp"
#include "core/plan.hpp"
#include "core/spec_loader.hpp"
#include "tests/fuzz/fuzz_target.hpp"

using namespace sshard;

namespace {

int line_count(const std::string& text) {
    return 1 + static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    core::LoadOptions options;
    options.local_cpus = 4;
    core::Spec spec;
    try {
        // Relative `lines` files are looked for in a directory that does not exist.
        spec = core::load_spec_text("/nonexistent/sshard-fuzz/jobs.yaml", text, options);
    } catch (const core::SpecError& error) {
        fuzz::check(!error.diagnostics().empty(), "a SpecError without diagnostics");
        for (const auto& diagnostic : error.diagnostics()) {
            fuzz::check(!diagnostic.message.empty(), "a diagnostic without a message");
            fuzz::check(diagnostic.location.line >= 0 && diagnostic.location.line <= line_count(text) + 1,
                        "a diagnostic points past the spec");
        }
        return 0;
    } catch (const core::UsageError&) {
        return 0; // an unreadable `lines` file
    }
    fuzz::check(!spec.jobs.empty(), "a loaded spec has no jobs");
    fuzz::check(!spec.hosts.empty(), "a loaded spec has no hosts");
    core::Plan plan = core::make_plan(spec);
    fuzz::check(plan.jobs.size() == spec.jobs.size(), "the plan lost a job");
    for (const auto& job : plan.jobs) {
        if (job.shards.size() > 0) {
            job.shards.command(0, 1, "host");
            job.shards.command(job.shards.size() - 1);
        }
    }
    return 0;
}
