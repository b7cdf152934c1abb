// A host file watched during a run (`--hostfile`, the spec's `hosts_file`): read again when it changes, and
// what it lists then compared with what it listed at its last good reading, so that the run can connect the
// hosts added and drain the hosts removed.
//
// A careless edit must not cost a run its hosts. A reading that fails (the file cannot be read, or does not
// parse, or lists no host) changes nothing: the hosts stay as they are, and the error is told once for that
// content. A change is taken only once the file has stayed the same for one poll, so a file written in several
// steps (an editor, `echo >>` in a loop) is not read half-written.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/spec.hpp"

namespace sshard::core {

class HostFileWatcher {
public:
    struct Change {
        std::vector<HostSpec> added;      // hosts listed now and not at the last good reading, in file order
        std::vector<std::string> removed; // names listed then and not now
    };

    // Watches the host file at `path`, which listed the hosts `names` when the run loaded it.
    HostFileWatcher(std::string path, const std::vector<std::string>& names);

    const std::string& path() const { return m_path; }

    // Looks at the file once. Returns the change to make when its content has settled on a new good list.
    // Throws UsageError (cannot be read) or SpecError (every problem, with its line) when it has settled on
    // content that is not a good list, once per such content.
    std::optional<Change> poll();

private:
    std::string m_path;
    std::set<std::string> m_names;      // as of the last good reading
    std::optional<std::string> m_seen;  // the content at the previous poll
    std::optional<std::string> m_taken; // the content last acted on, good or bad
};

} // namespace sshard::core
