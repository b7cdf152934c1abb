// A run's directory: the spec it ran, its journal, and every attempt's output, private to the user (0700 and
// 0600: outputs can hold secrets; see core/private_dir.hpp). Layout:
//   <root>/<run-id>/spec.yaml               the spec's text as the run started with it
//   <root>/<run-id>/journal.jsonl           see core/journal.hpp
//   <root>/<run-id>/lock                    held by the run's runner, see core/run_lock.hpp
//   <root>/<run-id>/out/<job>/<index>.<attempt>.out|.err   an attempt's stdout and stderr, when not empty
//   <root>/latest -> <run-id>               the newest run
#pragma once

#include <string>

#include "core/private_dir.hpp"

namespace sshard::core {

class RunDir {
public:
    // Creates a new run directory under `root` (made with parents when missing) with id
    // `<name>-<YYYYMMDD>-<HHMMSS>` (local time), suffixed `-2`, `-3`... if taken; writes spec.yaml and points
    // `latest` at it. Missing folders of `root` are made 0700. Throws UsageError when `root` belongs to another
    // user or others may write in it (core/private_dir.hpp), Error when anything cannot be made or written.
    static RunDir create(const std::string& root, const std::string& name, const std::string& spec_text);

    // Makes an empty run directory under `root`, named and made as create() does, and returns its path: for a
    // run that starts elsewhere later (`sshard submit`) with create_at(). Throws as create() does.
    static std::string reserve(const std::string& root, const std::string& name);
    // Points the `latest` link beside the run directory `path` at it. Throws Error.
    static void make_latest(const std::string& path);

    // Creates the run directory `path` itself (the --run-dir flag): it must not exist, or be an empty
    // directory of this user. The id is its last path component; no `latest` link is made. Throws Error.
    static RunDir create_at(const std::string& path, const std::string& spec_text);

    // Opens an existing run directory: `path` is a run directory or a root holding `latest` (which is then
    // followed). Throws UsageError when it has no journal.jsonl, or when the run directory, the root or its
    // `latest` link belongs to another user or the run directory or the root can be written by others.
    static RunDir open(const std::string& path);

    // Replaces spec.yaml (atomically) with the spec a resume runs with. Throws Error.
    void replace_spec(const std::string& spec_text) const;

    const std::string& path() const { return m_path; }
    const std::string& id() const { return m_id; }
    std::string journal_path() const { return m_path + "/journal.jsonl"; }
    std::string spec_path() const { return m_path + "/spec.yaml"; }
    // Opens the folder of the attempts' output (made 0700 when missing); a job's folder in it is made on first
    // use by the output sink. Throws UsageError when it is a symbolic link, Error when it cannot be opened.
    OpenDir open_outputs() const;

private:
    RunDir(std::string path, std::string id) : m_path(std::move(path)), m_id(std::move(id)) {}

    std::string m_path;
    std::string m_id;
};

} // namespace sshard::core
