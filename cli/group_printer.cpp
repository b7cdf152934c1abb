#include "cli/group_printer.hpp"

#include <csignal>
#include <fmt/format.h>
#include <iostream>
#include <unistd.h>

#include "cli/output_blocks.hpp"
#include "cli/terminal.hpp"
#include "core/error.hpp"

namespace sshard::cli {

GroupPrinter::GroupPrinter(const core::Spec& spec, int outputs, Title title, bool progress_line)
    : m_spec(spec), m_outputs(outputs), m_title(title), m_progress_line(progress_line) {}

// Runs on the scheduler's thread, which also draws the progress line, so the two never write at once.
void GroupPrinter::attempt_finished(const core::Attempt& attempt, const core::AttemptEnd& end) {
    if (m_closed || end.verdict == core::Verdict::retry || end.verdict == core::Verdict::requeued) {
        return;
    }
    const std::string& host = m_spec.hosts[attempt.host].name;
    StoredAttempt stored{attempt.job->name, fmt::format("{}.{}", attempt.index, attempt.number),
                         m_title == Title::host ? host
                                                : fmt::format("{}[{}]@{}", attempt.job->name, attempt.index, host)};
    if (m_progress_line) {
        std::cerr << "\r\033[K";
    }
    try {
        if (print_attempt(std::cout, std::cerr, m_outputs, stored)) {
            return;
        }
    } catch (const core::Error& e) {
        std::cerr << "sshard: error: " << terminal_safe(e.what()) << '\n';
        return;
    }
    m_closed = true;
    std::cerr << "sshard: standard output or error was closed: stopping\n";
    ::kill(::getpid(), SIGTERM);
}

} // namespace sshard::cli
