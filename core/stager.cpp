#include "core/stager.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <set>
#include <unistd.h>

#include "core/error.hpp"
#include "core/fnv1a.hpp"
#include "core/unique_fd.hpp"

namespace sshard::core {

namespace {

constexpr std::size_t k_hash_chunk = 1 << 20;
constexpr std::size_t k_manifest_limit = 64 << 20;
// A stage's manifest is brought up to date after each batch of files sent.
constexpr std::size_t k_batch_files = 256;
constexpr std::uint64_t k_batch_bytes = 32 << 20;

// FNV-1a in four lanes over 8-byte words: a content hash fast enough (GB/s) to take a tree of hundreds of
// megabytes on every run. It tells changed files from unchanged ones; it is no defence against an adversary.
class ContentHash {
public:
    // Adds `size` bytes; every call but the last must pass a multiple of 32 bytes.
    void add(const char* data, std::size_t size) {
        std::size_t whole = size - size % 32;
        for (std::size_t at = 0; at < whole; at += 32) {
            for (std::size_t lane = 0; lane < 4; ++lane) {
                std::uint64_t word = 0;
                std::memcpy(&word, data + at + lane * 8, 8);
                m_lanes[lane] = (m_lanes[lane] ^ word) * k_prime;
            }
        }
        for (std::size_t at = whole; at < size; ++at) {
            m_lanes[0] = (m_lanes[0] ^ static_cast<unsigned char>(data[at])) * k_prime;
        }
        m_size += size;
    }
    std::string hex() const {
        Fnv1a fold;
        for (std::uint64_t lane : m_lanes) {
            fold.add(std::string_view(reinterpret_cast<const char*>(&lane), sizeof lane));
        }
        fold.add(std::to_string(m_size));
        return fmt::format("{:016x}", fold.value());
    }

private:
    static constexpr std::uint64_t k_prime = 1099511628211ull;
    std::uint64_t m_lanes[4] = {14695981039346656037ull, 1, 2, 3};
    std::uint64_t m_size = 0;
};

std::string file_hash(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.is_open()) {
        throw Error(fmt::format("cannot stage '{}': {}", path, std::strerror(errno)));
    }
    std::string buffer(k_hash_chunk, '\0');
    ContentHash hash;
    for (;;) {
        // Whole chunks (short reads filled up), so that the hash never depends on how the reads came.
        std::size_t filled = 0;
        while (filled < buffer.size()) {
            ssize_t got = ::read(fd.get(), buffer.data() + filled, buffer.size() - filled);
            if (got < 0 && errno == EINTR) {
                continue;
            }
            if (got < 0) {
                throw Error(fmt::format("cannot stage '{}': {}", path, std::strerror(errno)));
            }
            if (got == 0) {
                break;
            }
            filled += static_cast<std::size_t>(got);
        }
        hash.add(buffer.data(), filled);
        if (filled < buffer.size()) {
            return hash.hex();
        }
    }
}

std::set<std::string> manifest_lines(const std::optional<std::string>& held) {
    std::set<std::string> lines;
    for (std::size_t start = 0; held && start < held->size();) {
        std::size_t end = held->find('\n', start);
        end = end == std::string::npos ? held->size() : end + 1;
        lines.insert(held->substr(start, end - start));
        start = end;
    }
    return lines;
}

std::string join(const std::string& dir, const std::string& path) {
    return path.empty() ? dir : dir + "/" + path;
}

} // namespace

void StageTarget::put_files(const std::vector<StageWrite>& files, const std::function<void(std::size_t)>& placed) {
    for (std::size_t f = 0; f < files.size(); ++f) {
        const StageWrite& file = files[f];
        try {
            write_file(file.local, file.size, file.part, file.mode);
            set_mtime(file.part, file.mtime_ns);
            rename(file.part, file.dest);
        } catch (const Error&) {
            remove(file.part);
            throw;
        }
        placed(f);
    }
}

std::string manifest_path(const std::string& to) {
    auto slash = to.rfind('/');
    std::string dir = slash == std::string::npos ? "" : to.substr(0, slash + 1);
    return dir + "." + to.substr(slash == std::string::npos ? 0 : slash + 1) + ".sshard-manifest";
}

StageSet::StageSet(std::vector<StageSpec> entries, std::string workdir)
    : m_entries(std::move(entries)), m_workdir(std::move(workdir)), m_local(m_entries.size()) {}

std::string StageSet::manifest_line(const StageFile& file, const std::string& hash) {
    return fmt::format("{} {} {:o} {} {}\n", hash, file.size, file.mode, file.mtime_ns, file.path);
}

const StageSet::Local& StageSet::local(std::size_t i) {
    std::lock_guard lock(m_mutex);
    if (m_local[i]) {
        return *m_local[i];
    }
    const StageSpec& entry = m_entries[i];
    Local local;
    local.files = scan_stage_tree(entry.source, &local.directories);
    for (const auto& dir : local.directories) {
        if (dir.find('\n') != std::string::npos) {
            throw Error(fmt::format("cannot stage '{}': its name holds a line break", join(entry.source, dir)));
        }
        local.manifest += "directory " + dir + "\n";
    }
    for (auto& file : local.files) {
        if (file.path.find('\n') != std::string::npos) {
            throw Error(fmt::format("cannot stage '{}': its name holds a line break", join(entry.source, file.path)));
        }
        file.mode = entry.mode.value_or(file.mode);
        local.hashes.push_back(hash_of(join(entry.source, file.path)));
        local.manifest += manifest_line(file, local.hashes.back());
    }
    if (m_hashes) {
        m_hashes->save();
    }
    m_local[i] = std::move(local);
    return *m_local[i];
}

void StageSet::use_hash_cache(std::shared_ptr<StageHashCache> cache) {
    std::lock_guard lock(m_mutex);
    m_hashes = std::move(cache);
}

std::string StageSet::hash_of(const std::string& path) {
    auto stamp = m_hashes ? StageHashCache::stamp(path) : std::nullopt;
    if (stamp) {
        if (auto known = m_hashes->find(path, *stamp)) {
            return *known;
        }
    }
    std::string hash = file_hash(path);
    if (stamp) {
        m_hashes->insert(path, *stamp, hash);
    }
    return hash;
}

std::string StageSet::key(std::size_t i) {
    return fmt::format("{}\n{}\n{}", m_workdir, m_entries[i].to, fnv1a_hex(local(i).manifest));
}

// A temporary name beside `path`, unique to this write: hosts that share a file system, and runners, must not
// write into each other's files.
std::string StageSet::part_name(const std::string& path) {
    return fmt::format("{}.{}-{}-{}.sshard-part", path, ::getpid(), static_cast<const void*>(this), m_parts++);
}

void StageSet::make_directories(std::size_t i, StageTarget& target) {
    const Local& files = local(i);
    const std::string& to = m_entries[i].to;
    bool one_file = files.files.size() == 1 && files.files[0].path.empty();
    std::string top = one_file ? to.substr(0, to.rfind('/') == std::string::npos ? 0 : to.rfind('/')) : to;
    for (auto slash = top.find('/'); !top.empty(); slash = top.find('/', slash + 1)) {
        target.make_directory(top.substr(0, slash));
        if (slash == std::string::npos) {
            break;
        }
    }
    for (const auto& dir : files.directories) {
        target.make_directory(join(to, dir));
    }
}

std::string StageSet::held_manifest(const Local& files, const std::vector<bool>& placed) {
    std::string manifest;
    for (std::size_t f = 0; f < files.files.size(); ++f) {
        if (placed[f]) {
            manifest += manifest_line(files.files[f], files.hashes[f]);
        }
    }
    return manifest;
}

void StageSet::write_manifest(std::size_t i, StageTarget& target, const std::string& text) {
    std::string manifest = manifest_path(m_entries[i].to);
    std::string part = part_name(manifest);
    try {
        target.write_text(part, text);
        target.rename(part, manifest);
    } catch (const Error&) {
        target.remove(part);
        throw;
    }
}

StageSent StageSet::pending(std::size_t i, StageTarget& target) {
    const Local& files = local(i);
    auto held = target.read_text(manifest_path(m_entries[i].to), k_manifest_limit);
    StageSent missing;
    if (held == files.manifest) {
        return missing;
    }
    std::set<std::string> present = manifest_lines(held);
    for (std::size_t f = 0; f < files.files.size(); ++f) {
        if (!present.contains(manifest_line(files.files[f], files.hashes[f]))) {
            ++missing.files;
            missing.bytes += files.files[f].size;
        }
    }
    return missing;
}

void StageSet::stage(std::size_t i, StageTarget& target, StageSent& sent) {
    const Local& files = local(i);
    const std::string& to = m_entries[i].to;
    auto held = target.read_text(manifest_path(to), k_manifest_limit);
    if (held == files.manifest) {
        return;
    }
    std::set<std::string> present = manifest_lines(held);
    make_directories(i, target);
    std::vector<bool> placed(files.files.size());
    std::vector<std::size_t> missing;
    for (std::size_t f = 0; f < files.files.size(); ++f) {
        placed[f] = present.contains(manifest_line(files.files[f], files.hashes[f]));
        if (!placed[f]) {
            missing.push_back(f);
        }
    }
    // In batches, each followed by the manifest of what the host holds so far: a stage cut short (a crash, a
    // full disk) sends again only what no manifest recorded.
    for (std::size_t first = 0; first < missing.size();) {
        std::vector<StageWrite> batch;
        std::uint64_t bytes = 0;
        for (; first < missing.size() && batch.size() < k_batch_files && (batch.empty() || bytes < k_batch_bytes);
             ++first) {
            const StageFile& file = files.files[missing[first]];
            std::string dest = join(to, file.path);
            batch.push_back(
                {join(m_entries[i].source, file.path), file.size, file.mode, file.mtime_ns, part_name(dest), dest});
            bytes += file.size;
        }
        std::size_t offset = first - batch.size();
        try {
            target.put_files(batch, [&](std::size_t b) {
                placed[missing[offset + b]] = true;
                ++sent.files;
                sent.bytes += batch[b].size;
            });
        } catch (const Error&) {
            // Records what this batch placed before the failure, if the host still takes a write; the failure
            // is what the user must see, not that of this clean-up.
            try {
                write_manifest(i, target, held_manifest(files, placed));
            } catch (const Error&) {
            }
            throw;
        }
        if (first < missing.size()) {
            write_manifest(i, target, held_manifest(files, placed));
        }
    }
    write_manifest(i, target, files.manifest);
}

} // namespace sshard::core
