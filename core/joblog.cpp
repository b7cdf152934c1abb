#include "core/joblog.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fmt/format.h>

#include "core/clock.hpp"
#include "core/error.hpp"

namespace sshard::core {

JoblogWriter::JoblogWriter(const std::string& path, const Spec& spec, bool append) : m_spec(spec) {
    m_file = std::fopen(path.c_str(), append ? "a" : "w");
    if (m_file == nullptr) {
        throw Error(fmt::format("cannot write joblog '{}': {}", path, std::strerror(errno)));
    }
    if (std::ftell(m_file) == 0) {
        std::fputs("Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n", m_file);
        std::fflush(m_file);
    }
}

JoblogWriter::~JoblogWriter() {
    std::fclose(m_file);
}

void JoblogWriter::attempt_finished(const Attempt& attempt, const AttemptEnd& end) {
    const Outcome& outcome = end.outcome;
    int exit_value = outcome.kind == Outcome::Kind::exited             ? outcome.exit_code
                     : outcome.kind == Outcome::Kind::transport_failed ? 255
                                                                       : 0;
    int signal = outcome.kind == Outcome::Kind::signaled ? outcome.signal : 0;
    double runtime = std::max(0.0, unix_seconds(outcome.end) - unix_seconds(outcome.start));
    // A command's line breaks would break the one-line-per-job format; GNU parallel writes them as they are,
    // which no reader survives, so they become spaces here.
    std::string command = attempt.command;
    for (char& c : command) {
        c = c == '\n' || c == '\r' || c == '\t' ? ' ' : c;
    }
    fmt::print(m_file, "{}\t{}\t{:.3f}\t{:10.3f}\t0\t0\t{}\t{}\t{}\n", attempt.id, m_spec.hosts[attempt.host].name,
               unix_seconds(outcome.start), runtime, exit_value, signal, command);
    std::fflush(m_file);
}

} // namespace sshard::core
