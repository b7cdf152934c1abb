// GNU parallel's --joblog, written as attempts end, so that scripts that read joblogs keep working:
// Seq Host Starttime JobRuntime Send Receive Exitval Signal Command, TAB-separated.
#pragma once

#include <string>

#include "core/run_listener.hpp"
#include "core/spec.hpp"

namespace sshard::core {

class JoblogWriter {
public:
    // Opens `path` for writing (appending when `append`, for a resume) and writes the header to a new or
    // empty file. A new file is made 0600; a symbolic link is refused. `spec` must outlive the writer.
    // Throws UsageError.
    JoblogWriter(const std::string& path, const Spec& spec, bool append);
    ~JoblogWriter();
    JoblogWriter(const JoblogWriter&) = delete;
    JoblogWriter& operator=(const JoblogWriter&) = delete;

    // Writes the line of an ended attempt: Seq is the attempt's id in the run; Exitval the exit code (255 when
    // the host failed), Signal the signal that killed it, else 0; Send and Receive are 0 (no files are
    // transferred). Returns "", or the failure ("cannot write joblog 'PATH': REASON"); a line that could not
    // be written whole is taken back, so the file never holds half a line.
    std::string write(const Attempt& attempt, const Outcome& outcome);

private:
    std::string m_path;
    int m_fd = -1;
    const Spec& m_spec;
};

} // namespace sshard::core
