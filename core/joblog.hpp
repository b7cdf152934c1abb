// GNU parallel's --joblog, written as attempts end, so that scripts that read joblogs keep working:
// Seq Host Starttime JobRuntime Send Receive Exitval Signal Command, TAB-separated.
#pragma once

#include <cstdio>
#include <string>

#include "core/run_listener.hpp"
#include "core/spec.hpp"

namespace sshard::core {

class JoblogWriter final : public RunListener {
public:
    // Opens `path` for writing (appending when `append`, for a resume) and writes the header to a new or
    // empty file. `spec` must outlive the writer. Throws Error.
    JoblogWriter(const std::string& path, const Spec& spec, bool append);
    ~JoblogWriter() override;
    JoblogWriter(const JoblogWriter&) = delete;
    JoblogWriter& operator=(const JoblogWriter&) = delete;

    // One line per attempt: Seq is the attempt's id in the run; Exitval the exit code (255 when the host
    // failed), Signal the signal that killed it, else 0; Send and Receive are 0 (no files are transferred).
    void attempt_finished(const Attempt& attempt, const AttemptEnd& end) override;

private:
    std::FILE* m_file = nullptr;
    const Spec& m_spec;
};

} // namespace sshard::core
