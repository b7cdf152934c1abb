// `run --group` and `exec`: each shard's output printed whole when the shard ends, under a header naming it,
// so that shards' lines never mix (GNU parallel's --group).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <thread>

#include "cli/output_blocks.hpp"
#include "cli/run_display.hpp"
#include "core/run_listener.hpp"
#include "core/spec.hpp"

namespace sshard::cli {

class GroupPrinter final : public core::RunListener {
public:
    enum class Title { shard, host }; // "job[index]@host", or the host alone (exec)

    // Reads outputs from `outputs`, a descriptor of the run's `out` that must stay open as long as the printer,
    // and prints them above `display`'s progress line. A thread of its own reads and prints, so a shard's output,
    // however long, never holds up the scheduler. `spec` and `display` must outlive the printer.
    GroupPrinter(const core::Spec& spec, int outputs, Title title, RunDisplay& display);
    ~GroupPrinter() override;
    GroupPrinter(const GroupPrinter&) = delete;
    GroupPrinter& operator=(const GroupPrinter&) = delete;

    // Has the attempt's output printed unless it is to be tried again (only a shard's last attempt is shown).
    // When standard output or error is closed, the run stops as SIGTERM stops it.
    void attempt_finished(const core::Attempt& attempt, const core::AttemptEnd& end) override;
    // Returns once every output it was given is printed.
    void run_finished(const core::RunSummary& summary) override;

private:
    void print_loop();
    void print(const StoredAttempt& stored);
    void stop();

    const core::Spec& m_spec;
    int m_outputs;
    Title m_title;
    RunDisplay& m_display;
    bool m_closed = false; // the printer thread's
    std::mutex m_mutex;    // the two below
    std::deque<StoredAttempt> m_queue;
    bool m_stopping = false;
    std::condition_variable m_wake;
    std::thread m_printer;
};

} // namespace sshard::cli
