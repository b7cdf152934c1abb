#include "core/stager_hash_cache.hpp"

#include <chrono>
#include <cstdio>
#include <fcntl.h>
#include <fmt/format.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include "core/unique_fd.hpp"
#include "core/write_all.hpp"

namespace sshard::core {

namespace {

// A file changed within this long before it was stamped may change again within the same clock tick without
// its times moving (git's "racily clean" files): its hash is not kept.
constexpr std::int64_t k_settle_ns = 2'000'000'000;

std::int64_t wall_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

} // namespace

std::string stage_hash_cache_path(const std::string& run_dir) {
    std::string dir = run_dir;
    while (dir.size() > 1 && dir.back() == '/') {
        dir.pop_back();
    }
    auto slash = dir.rfind('/');
    std::string parent = slash == std::string::npos ? "." : slash == 0 ? "/" : dir.substr(0, slash);
    return (parent == "/" ? "" : parent) + "/.sshard-stage-hashes";
}

StageHashCache::StageHashCache(std::string path) : m_path(std::move(path)) {
    std::ifstream in(m_path);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        Entry entry;
        std::string file;
        fields >> entry.stamp.device >> entry.stamp.inode >> entry.stamp.size >> entry.stamp.mtime_ns >>
            entry.stamp.ctime_ns >> entry.hash;
        if (fields && fields.get() == ' ' && std::getline(fields, file) && !file.empty()) {
            m_entries[file] = std::move(entry);
        }
    }
}

std::optional<StageHashCache::Stamp> StageHashCache::stamp(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        return std::nullopt;
    }
    return Stamp{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino),
                 static_cast<std::uint64_t>(st.st_size),
                 static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
                 static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec};
}

std::optional<std::string> StageHashCache::find(const std::string& path, const Stamp& stamp) {
    std::lock_guard lock(m_mutex);
    auto it = m_entries.find(path);
    if (it == m_entries.end() || it->second.stamp != stamp) {
        return std::nullopt;
    }
    it->second.used = true;
    return it->second.hash;
}

void StageHashCache::insert(const std::string& path, const Stamp& stamp, std::string hash) {
    if (std::max(stamp.mtime_ns, stamp.ctime_ns) > wall_ns() - k_settle_ns) {
        return;
    }
    std::lock_guard lock(m_mutex);
    m_entries[path] = Entry{stamp, std::move(hash), true};
}

void StageHashCache::save() noexcept {
    std::lock_guard lock(m_mutex);
    std::string text;
    for (const auto& [path, entry] : m_entries) {
        if (entry.used && path.find('\n') == std::string::npos) {
            const Stamp& s = entry.stamp;
            text += fmt::format("{} {} {} {} {} {} {}\n", s.device, s.inode, s.size, s.mtime_ns, s.ctime_ns, entry.hash,
                                path);
        }
    }
    std::string part = fmt::format("{}.{}.tmp", m_path, ::getpid());
    UniqueFd fd(::open(part.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd.is_open() || write_all(fd.get(), text) != 0 || ::rename(part.c_str(), m_path.c_str()) != 0) {
        ::unlink(part.c_str());
    }
}

} // namespace sshard::core
