// Staging: a job's `stage` entries (core/spec.hpp) copied to a host, incrementally. Beside each staged copy the
// host keeps a manifest of what it holds (each file's content hash, size, mode and time); a file whose entry is
// unchanged is not sent again. The algorithm is here; how a host's files are written is a StageTarget, which
// the transports implement (SFTP on an SSH session, plain files on this machine).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/spec.hpp"
#include "core/stager_hash_cache.hpp"
#include "core/transfer_paths.hpp"

namespace sshard::core {

// A file to put on a host: local file `local` (`size` bytes) written to `part`, a fresh temporary name, given
// permission bits `mode` and modification time `mtime_ns`, then renamed over `dest`.
struct StageWrite {
    std::string local;
    std::uint64_t size = 0;
    unsigned mode = 0;
    std::int64_t mtime_ns = 0;
    std::string part;
    std::string dest;
};

// A host's files, as a transport reaches them. Paths are relative to the job's workdir (or absolute where the
// workdir is). Each call throws Error with a message naming the path and the host's reason.
class StageTarget {
public:
    virtual ~StageTarget() = default;
    // The text of file `path`, or nullopt when it does not exist; at most `limit` bytes (more is an error).
    virtual std::optional<std::string> read_text(const std::string& path, std::size_t limit) = 0;
    // Creates directory `path`; one that exists already is fine, any other kind of file there is not.
    virtual void make_directory(const std::string& path) = 0;
    // Writes local file `local` (`size` bytes) to `path` with permission bits `mode`, in bounded memory; `path`
    // is a fresh temporary name, made new: anything already there (a link planted there) is an error, never
    // written through.
    virtual void write_file(const std::string& local, std::uint64_t size, const std::string& path, unsigned mode) = 0;
    // Writes `text` to `path`, a fresh temporary name made new as for write_file.
    virtual void write_text(const std::string& path, const std::string& text) = 0;
    // Sets `path`'s modification time.
    virtual void set_mtime(const std::string& path, std::int64_t mtime_ns) = 0;
    // Renames `from` over `to`, replacing what is there.
    virtual void rename(const std::string& from, const std::string& to) = 0;
    // Removes file `path` if it exists; never throws (a clean-up after a failure).
    virtual void remove(const std::string& path) noexcept = 0;
    // Puts each of `files` in place and calls `placed(i)` once file i is there, in any order. Throws Error at the
    // first failure, once the part files it leaves are removed; the files placed stay. This one puts one file
    // after another with the calls above; a target over a network keeps several in flight.
    virtual void put_files(const std::vector<StageWrite>& files, const std::function<void(std::size_t)>& placed);
};

// What a stage sent.
struct StageSent {
    std::uint64_t files = 0;
    std::uint64_t bytes = 0;
};

// One job's stage entries with their local manifests, computed once (on first use, from any thread) and shared
// by every host.
class StageSet {
public:
    StageSet(std::vector<StageSpec> entries, std::string workdir);

    const std::vector<StageSpec>& entries() const { return m_entries; }
    // Takes local files' hashes from `cache`, and records there those computed, before any use.
    void use_hash_cache(std::shared_ptr<StageHashCache> cache);
    // Identifies what entry `i` puts where: its destination and its content. Hosts stage a key once per run,
    // whichever job asks. Throws Error as manifest().
    std::string key(std::size_t i);
    // Sends what entry `i`'s target lacks and updates its manifest there, adding what it sent to `sent`. Throws
    // Error (the local tree or the target failed); the files already in place stay, and are in the manifest
    // when the target still takes its write.
    void stage(std::size_t i, StageTarget& target, StageSent& sent);

    // What stage(i, target) would send now: the files whose line the target's manifest lacks. Throws Error as
    // stage().
    StageSent pending(std::size_t i, StageTarget& target);

    // A file's line in a manifest: "<hash> <size> <mode> <mtime_ns> <path>".
    static std::string manifest_line(const StageFile& file, const std::string& hash);

private:
    struct Local {
        std::vector<StageFile> files;
        std::vector<std::string> directories;
        std::vector<std::string> hashes;
        std::string manifest;
    };
    const Local& local(std::size_t i);
    std::string part_name(const std::string& path);
    std::string hash_of(const std::string& path);
    void make_directories(std::size_t i, StageTarget& target);
    static std::string held_manifest(const Local& files, const std::vector<bool>& placed);
    void write_manifest(std::size_t i, StageTarget& target, const std::string& text);

    std::vector<StageSpec> m_entries;
    std::string m_workdir;
    std::mutex m_mutex;
    std::vector<std::optional<Local>> m_local;
    std::atomic<std::uint64_t> m_parts{0};
    std::shared_ptr<StageHashCache> m_hashes;
};

// Where entry `to`'s manifest is kept: `.NAME.sshard-manifest` in the directory of `to`.
std::string manifest_path(const std::string& to);

} // namespace sshard::core
