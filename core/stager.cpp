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

std::string join(const std::string& dir, const std::string& path) {
    return path.empty() ? dir : dir + "/" + path;
}

} // namespace

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
    local.files = scan_stage_tree(entry.source);
    for (auto& file : local.files) {
        if (file.path.find('\n') != std::string::npos) {
            throw Error(fmt::format("cannot stage '{}': its name holds a line break", join(entry.source, file.path)));
        }
        file.mode = entry.mode.value_or(file.mode);
        local.hashes.push_back(file_hash(join(entry.source, file.path)));
        local.manifest += manifest_line(file, local.hashes.back());
    }
    m_local[i] = std::move(local);
    return *m_local[i];
}

std::string StageSet::key(std::size_t i) {
    return fmt::format("{}\n{}\n{}", m_workdir, m_entries[i].to, fnv1a_hex(local(i).manifest));
}

// A temporary name beside `path`, unique to this write: hosts that share a file system, and runners, must not
// write into each other's files.
std::string StageSet::part_name(const std::string& path) {
    return fmt::format("{}.{}-{}-{}.sshard-part", path, ::getpid(), static_cast<const void*>(this), m_parts++);
}

StageSent StageSet::stage(std::size_t i, StageTarget& target) {
    const Local& files = local(i);
    const std::string& to = m_entries[i].to;
    std::string manifest = manifest_path(to);
    auto held = target.read_text(manifest, k_manifest_limit);
    if (held == files.manifest) {
        return {};
    }
    std::set<std::string> present;
    for (std::size_t start = 0; held && start < held->size();) {
        std::size_t end = held->find('\n', start);
        end = end == std::string::npos ? held->size() : end + 1;
        present.insert(held->substr(start, end - start));
        start = end;
    }
    bool one_file = files.files.size() == 1 && files.files[0].path.empty();
    std::string top = one_file ? to.substr(0, to.rfind('/') == std::string::npos ? 0 : to.rfind('/')) : to;
    for (auto slash = top.find('/'); !top.empty(); slash = top.find('/', slash + 1)) {
        target.make_directory(top.substr(0, slash));
        if (slash == std::string::npos) {
            break;
        }
    }
    for (const auto& dir : stage_directories(files.files)) {
        target.make_directory(join(to, dir));
    }
    StageSent sent;
    for (std::size_t f = 0; f < files.files.size(); ++f) {
        const StageFile& file = files.files[f];
        if (present.contains(manifest_line(file, files.hashes[f]))) {
            continue;
        }
        std::string dest = join(to, file.path);
        std::string part = part_name(dest);
        try {
            target.write_file(join(m_entries[i].source, file.path), file.size, part, file.mode);
            target.set_mtime(part, file.mtime_ns);
            target.rename(part, dest);
        } catch (const Error&) {
            target.remove(part);
            throw;
        }
        ++sent.files;
        sent.bytes += file.size;
    }
    std::string part = part_name(manifest);
    try {
        target.write_text(part, files.manifest);
        target.rename(part, manifest);
    } catch (const Error&) {
        target.remove(part);
        throw;
    }
    return sent;
}

} // namespace sshard::core
