#include "core/joblog.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/write_all.hpp"

namespace sshard::core {

namespace {

std::string open_failure(const std::string& path, int error) {
    return fmt::format("cannot write joblog '{}': {}", path,
                       error == ELOOP ? "it is a symbolic link" : std::strerror(error));
}

} // namespace

JoblogWriter::JoblogWriter(const std::string& path, const Spec& spec, bool append) : m_path(path), m_spec(spec) {
    // The joblog holds every command line: private like the run directory, and never written through a link
    // that someone else may have put at its path.
    int flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | (append ? O_APPEND : O_TRUNC);
    m_fd = ::open(path.c_str(), flags, 0600);
    if (m_fd < 0) {
        throw UsageError(open_failure(path, errno));
    }
    struct stat info {};
    int error = ::fstat(m_fd, &info) != 0 ? errno : 0;
    if (error == 0 && info.st_size == 0) {
        error = write_all(m_fd, "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n");
    }
    if (error != 0) {
        ::close(m_fd);
        throw UsageError(open_failure(path, error));
    }
}

JoblogWriter::~JoblogWriter() {
    ::close(m_fd);
}

std::string JoblogWriter::write(const Attempt& attempt, const Outcome& outcome) {
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
    std::string line =
        fmt::format("{}\t{}\t{:.3f}\t{:10.3f}\t{}\t{}\t{}\t{}\t{}\n", attempt.id, m_spec.hosts[attempt.host].name,
                    unix_seconds(outcome.start), runtime, outcome.transfer.sent_bytes, outcome.transfer.received_bytes,
                    exit_value, signal, command);
    off_t end = ::lseek(m_fd, 0, SEEK_END);
    int error = end < 0 ? errno : write_all(m_fd, line);
    if (error == 0) {
        return {};
    }
    // A full disk can take part of the line: cut it off, so that the next line starts where a line should.
    if (end >= 0 && ::ftruncate(m_fd, end) == 0) {
        ::lseek(m_fd, end, SEEK_SET);
    }
    return fmt::format("cannot write joblog '{}': {}", m_path, std::strerror(error));
}

} // namespace sshard::core
