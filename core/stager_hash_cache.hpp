// The content hashes of local files that were staged, kept between runs so that staging an unchanged tree again
// does not read it again. A hash is reused only while the file's device, inode, size, modification time and
// change time are those it was computed for; any write to a file changes its change time.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace sshard::core {

// Where the cache of the runs made in the same folder as run directory `run_dir` is kept: a file beside it.
std::string stage_hash_cache_path(const std::string& run_dir);

class StageHashCache {
public:
    // What identifies a file's content without reading it (from lstat).
    struct Stamp {
        std::uint64_t device = 0;
        std::uint64_t inode = 0;
        std::uint64_t size = 0;
        std::int64_t mtime_ns = 0;
        std::int64_t ctime_ns = 0;
        auto operator<=>(const Stamp&) const = default;
    };

    // The cache kept in file `path`; a missing or unreadable file, or a line that does not parse, holds nothing.
    explicit StageHashCache(std::string path);

    // The stamp of local file `path`, or nullopt when it cannot be read (hashing it then says why).
    static std::optional<Stamp> stamp(const std::string& path);
    // The hash recorded for `path` with `stamp`, or nullopt.
    std::optional<std::string> find(const std::string& path, const Stamp& stamp);
    // Records `hash` for `path` as it was at `stamp` (taken before the file was read).
    void insert(const std::string& path, const Stamp& stamp, std::string hash);
    // Writes the hashes found or recorded since this cache was loaded (so the file holds what recent runs used)
    // to the file, through a temporary name. A cache that cannot be written is no error: it is left as it was.
    void save() noexcept;

private:
    struct Entry {
        Stamp stamp;
        std::string hash;
        bool used = false;
    };
    std::string m_path;
    std::mutex m_mutex;
    std::map<std::string, Entry> m_entries;
};

} // namespace sshard::core
