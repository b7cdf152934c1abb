#include "transport/local_files.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "core/error.hpp"
#include "core/unique_fd.hpp"
#include "core/write_all.hpp"

namespace sshard::transport {

namespace {

constexpr std::size_t k_copy_chunk = 256 * 1024;

[[noreturn]] void fail(const std::string& what, const std::string& path) {
    throw core::Error(fmt::format("{} '{}': {}", what, path, std::strerror(errno)));
}

core::UniqueFd open_file(const std::string& path, int flags, mode_t mode = 0) {
    core::UniqueFd fd(::open(path.c_str(), flags | O_CLOEXEC | O_NOFOLLOW, mode));
    if (!fd.is_open()) {
        fail("cannot open", path);
    }
    return fd;
}

// Copies from `in` to `out` through one bounded buffer, at most `limit` bytes; returns the bytes copied.
std::uint64_t copy_fd(int in, int out, const std::string& from, const std::string& to,
                      std::uint64_t limit = UINT64_MAX) {
    std::vector<char> buffer(k_copy_chunk);
    std::uint64_t total = 0;
    while (total < limit) {
        ssize_t got =
            ::read(in, buffer.data(), static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), limit - total)));
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            fail("cannot read", from);
        }
        if (got == 0) {
            return total;
        }
        if (int error = core::write_all(out, std::string_view(buffer.data(), static_cast<std::size_t>(got)))) {
            errno = error;
            fail("cannot write", to);
        }
        total += static_cast<std::uint64_t>(got);
    }
    return total;
}

} // namespace

std::string in_workdir(const std::string& workdir, const std::string& path) {
    return workdir.empty() ? path : workdir + "/" + path;
}

std::string LocalStageTarget::full(const std::string& path) const {
    return in_workdir(m_workdir, path);
}

std::optional<std::string> LocalStageTarget::read_text(const std::string& path, std::size_t limit) {
    core::UniqueFd fd(::open(full(path).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.is_open() && errno == ENOENT) {
        return std::nullopt;
    }
    if (!fd.is_open()) {
        fail("cannot open", full(path));
    }
    std::string text;
    std::array<char, 65536> buffer{};
    ssize_t got = 0;
    while ((got = ::read(fd.get(), buffer.data(), buffer.size())) > 0 && text.size() <= limit) {
        text.append(buffer.data(), static_cast<std::size_t>(got));
    }
    if (got < 0 || text.size() > limit) {
        throw core::Error(fmt::format("cannot read '{}': {}", full(path), got < 0 ? std::strerror(errno) : "too long"));
    }
    return text;
}

void LocalStageTarget::make_directory(const std::string& path) {
    struct stat st {};
    if (::mkdir(full(path).c_str(), 0755) == 0 ||
        (errno == EEXIST && ::lstat(full(path).c_str(), &st) == 0 && S_ISDIR(st.st_mode))) {
        return;
    }
    if (errno == EEXIST) {
        throw core::Error(fmt::format("cannot make directory '{}': something else is there", full(path)));
    }
    fail("cannot make directory", full(path));
}

void LocalStageTarget::write_file(const std::string& local, std::uint64_t /*size*/, const std::string& path,
                                  unsigned mode) {
    core::UniqueFd in = open_file(local, O_RDONLY);
    core::UniqueFd out = open_file(full(path), O_WRONLY | O_CREAT | O_EXCL, 0600);
    copy_fd(in.get(), out.get(), local, full(path));
    if (::fchmod(out.get(), mode) != 0) {
        fail("cannot set the mode of", full(path));
    }
}

void LocalStageTarget::write_text(const std::string& path, const std::string& text) {
    core::UniqueFd out = open_file(full(path), O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (int error = core::write_all(out.get(), text)) {
        errno = error;
        fail("cannot write", full(path));
    }
}

void LocalStageTarget::set_mtime(const std::string& path, std::int64_t mtime_ns) {
    timespec times[2] = {{0, UTIME_OMIT}, {mtime_ns / 1'000'000'000, mtime_ns % 1'000'000'000}};
    if (::utimensat(AT_FDCWD, full(path).c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
        fail("cannot set the time of", full(path));
    }
}

void LocalStageTarget::rename(const std::string& from, const std::string& to) {
    if (::rename(full(from).c_str(), full(to).c_str()) != 0) {
        fail("cannot rename", full(from));
    }
}

void LocalStageTarget::remove(const std::string& path) noexcept {
    ::unlink(full(path).c_str());
}

core::CollectSource::Kind LocalCollectSource::kind(const std::string& path) {
    struct stat st {};
    if (::lstat(in_workdir(m_workdir, path).c_str(), &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) {
            return Kind::missing;
        }
        fail("cannot collect", in_workdir(m_workdir, path));
    }
    return S_ISLNK(st.st_mode)   ? Kind::link
           : S_ISREG(st.st_mode) ? Kind::regular
           : S_ISDIR(st.st_mode) ? Kind::directory
                                 : Kind::other;
}

std::uint64_t LocalCollectSource::copy_to(const std::string& path, int fd, const std::string& to) {
    // O_NONBLOCK: a FIFO put in the file's place after kind() looked must not block the open.
    std::string full = in_workdir(m_workdir, path);
    core::UniqueFd in = open_file(full, O_RDONLY | O_NONBLOCK);
    struct stat st {};
    if (::fstat(in.get(), &st) != 0) {
        fail("cannot collect", full);
    }
    if (!S_ISREG(st.st_mode)) {
        throw core::Error(fmt::format("collect refused: '{}' is not a regular file", full));
    }
    // The size it has now, as scp(1) sends: a file that grows while it is read (a log a process still writes)
    // would otherwise be read for ever.
    return copy_fd(in.get(), fd, full, to, static_cast<std::uint64_t>(st.st_size));
}

} // namespace sshard::transport
