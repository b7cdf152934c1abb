#include "core/host_file_watcher.hpp"

#include "core/error.hpp"
#include "core/host_file.hpp"

namespace sshard::core {

HostFileWatcher::HostFileWatcher(std::string path, const std::vector<std::string>& names)
    : m_path(std::move(path)), m_names(names.begin(), names.end()) {}

std::optional<HostFileWatcher::Change> HostFileWatcher::poll() {
    std::string text;
    std::optional<std::string> read_error;
    try {
        text = read_host_file_text(m_path);
    } catch (const UsageError& e) {
        read_error = e.what();
        text = std::string(1, '\0') + e.what(); // no host file's text: it settles as content does
    }
    bool settled = m_seen == text;
    m_seen = text;
    if (!settled || m_taken == text) {
        return std::nullopt;
    }
    m_taken = text;
    if (read_error) {
        throw UsageError(*read_error);
    }
    std::vector<HostSpec> hosts = parse_host_file(m_path, text);
    Change change;
    std::set<std::string> names;
    for (auto& host : hosts) {
        names.insert(host.name);
        if (m_names.count(host.name) == 0) {
            change.added.push_back(std::move(host));
        }
    }
    for (const auto& name : m_names) {
        if (names.count(name) == 0) {
            change.removed.push_back(name);
        }
    }
    m_names = std::move(names);
    if (change.added.empty() && change.removed.empty()) {
        return std::nullopt;
    }
    return change;
}

} // namespace sshard::core
