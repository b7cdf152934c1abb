// A run's directory: the spec it ran, its journal, and every attempt's output, private to the user (0700 and
// 0600: outputs can hold secrets). Layout:
//   <root>/<run-id>/spec.yaml               the spec's text as the run started with it
//   <root>/<run-id>/journal.jsonl           see core/journal.hpp
//   <root>/<run-id>/out/<job>/<index>.<attempt>.out|.err   an attempt's stdout and stderr, when not empty
//   <root>/latest -> <run-id>               the newest run
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/transport.hpp"

namespace sshard::core {

class RunDir {
public:
    // Creates a new run directory under `root` (made with parents when missing) with id
    // `<name>-<YYYYMMDD>-<HHMMSS>` (local time), suffixed `-2`, `-3`... if taken; writes spec.yaml and points
    // `latest` at it. Throws Error when anything cannot be made or written.
    static RunDir create(const std::string& root, const std::string& name, const std::string& spec_text);

    // Creates the run directory `path` itself (the --run-dir flag): it must not exist, or be an empty
    // directory. The id is its last path component; no `latest` link is made. Throws Error.
    static RunDir create_at(const std::string& path, const std::string& spec_text);

    // Opens an existing run directory: `path` is a run directory or a root holding `latest` (which is then
    // followed). Throws Error when it has no journal.jsonl.
    static RunDir open(const std::string& path);

    // Replaces spec.yaml (atomically) with the spec a resume runs with. Throws Error.
    void replace_spec(const std::string& spec_text) const;

    const std::string& path() const { return m_path; }
    const std::string& id() const { return m_id; }
    std::string journal_path() const { return m_path + "/journal.jsonl"; }
    std::string spec_path() const { return m_path + "/spec.yaml"; }
    // Where an attempt's output goes; the job's folder is made on first use by the output sink.
    std::string output_path(std::string_view job, std::uint64_t index, int attempt, Stream stream) const;

private:
    RunDir(std::string path, std::string id) : m_path(std::move(path)), m_id(std::move(id)) {}

    std::string m_path;
    std::string m_id;
};

} // namespace sshard::core
