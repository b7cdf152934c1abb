// `run --group` and `exec`: each shard's output printed whole when the shard ends, under a header naming it,
// so that shards' lines never mix (GNU parallel's --group).
#pragma once

#include <cstddef>

#include "core/run_listener.hpp"
#include "core/spec.hpp"

namespace sshard::cli {

class GroupPrinter final : public core::RunListener {
public:
    enum class Title { shard, host }; // "job[index]@host", or the host alone (exec)

    // Reads outputs from `outputs`, a descriptor of the run's `out` that must stay open as long as the printer.
    // With `progress_line`, the progress line on standard error is cleared before each block, to be drawn
    // again below it. `spec` must outlive the printer.
    GroupPrinter(const core::Spec& spec, int outputs, Title title, bool progress_line);

    // Prints the attempt's output unless it is to be tried again (only a shard's last attempt is shown).
    // When standard output or error is closed, stops the run as SIGTERM does.
    void attempt_finished(const core::Attempt& attempt, const core::AttemptEnd& end) override;

private:
    const core::Spec& m_spec;
    int m_outputs;
    Title m_title;
    bool m_progress_line;
    bool m_closed = false;
};

} // namespace sshard::cli
