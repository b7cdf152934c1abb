#include "transport/sftp_files.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <libssh/libssh.h>
#include <memory>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/time.h>
#include <unistd.h>
#include <vector>

#include "core/error.hpp"
#include "core/unique_fd.hpp"
#include "core/write_all.hpp"
#include "transport/local_files.hpp"

namespace sshard::transport {

namespace {

struct FileCloser {
    void operator()(sftp_file file) const { sftp_close(file); }
};
using SftpFile = std::unique_ptr<sftp_file_struct, FileCloser>;

} // namespace

SftpFiles::SftpFiles(ssh_session session, std::string host, std::string workdir)
    : m_session(session), m_host(std::move(host)), m_workdir(std::move(workdir)) {
    // Each request waits for its answer: with Nagle's algorithm the tail of a write would wait for the server's
    // delayed ACK (40 ms) every time.
    set_nodelay(true);
    m_sftp = sftp_new(session);
    if (m_sftp == nullptr || sftp_init(m_sftp) != SSH_OK) {
        std::string why = ssh_get_error(session);
        if (m_sftp != nullptr) {
            sftp_free(m_sftp);
        }
        set_nodelay(false);
        throw core::Error(fmt::format("{}: cannot start SFTP: {}", m_host, why));
    }
    m_pipeline.emplace(m_sftp, m_host, [this](const std::string& path) { return full(path); });
}

SftpFiles::~SftpFiles() {
    sftp_free(m_sftp);
    set_nodelay(false);
}

void SftpFiles::set_nodelay(bool on) {
    int value = on ? 1 : 0;
    setsockopt(ssh_get_fd(m_session), IPPROTO_TCP, TCP_NODELAY, &value, sizeof value);
}

std::string SftpFiles::full(const std::string& path) const {
    return in_workdir(m_workdir, path);
}

void SftpFiles::fail(const std::string& what, const std::string& path) const {
    const char* status = sftp_status_text(static_cast<std::uint32_t>(sftp_get_error(m_sftp)));
    throw core::Error(fmt::format("{} '{}' on {}: {}", what, full(path), m_host,
                                  status != nullptr ? status : ssh_get_error(m_session)));
}

sftp_file SftpFiles::open(const std::string& path, int flags, mode_t mode) {
    sftp_file file = sftp_open(m_sftp, full(path).c_str(), flags, mode);
    if (file == nullptr) {
        fail("cannot open", path);
    }
    return file;
}

void SftpFiles::write_all(sftp_file file, const char* data, std::size_t size, const std::string& path) {
    while (size > 0) {
        ssize_t wrote = sftp_write(file, data, std::min(size, k_chunk));
        if (wrote <= 0) {
            fail("cannot write", path);
        }
        data += wrote;
        size -= static_cast<std::size_t>(wrote);
    }
}

std::optional<std::string> SftpFiles::read_text(const std::string& path, std::size_t limit) {
    sftp_file raw = sftp_open(m_sftp, full(path).c_str(), O_RDONLY, 0);
    if (raw == nullptr && sftp_get_error(m_sftp) == SSH_FX_NO_SUCH_FILE) {
        return std::nullopt;
    }
    if (raw == nullptr) {
        fail("cannot open", path);
    }
    SftpFile file(raw);
    std::string text;
    std::vector<char> buffer(k_chunk);
    ssize_t got = 0;
    while ((got = sftp_read(file.get(), buffer.data(), buffer.size())) > 0 && text.size() <= limit) {
        text.append(buffer.data(), static_cast<std::size_t>(got));
    }
    if (got < 0) {
        fail("cannot read", path);
    }
    if (text.size() > limit) {
        throw core::Error(fmt::format("cannot read '{}' on {}: over {} bytes", full(path), m_host, limit));
    }
    return text;
}

void SftpFiles::make_directory(const std::string& path) {
    if (sftp_mkdir(m_sftp, full(path).c_str(), 0755) == SSH_OK) {
        return;
    }
    // SFTP version 3 servers answer an existing directory with a plain failure: look at what is there.
    sftp_attributes attributes = sftp_lstat(m_sftp, full(path).c_str());
    bool directory = attributes != nullptr && attributes->type == SSH_FILEXFER_TYPE_DIRECTORY;
    sftp_attributes_free(attributes);
    if (!directory) {
        fail("cannot make directory", path);
    }
}

void SftpFiles::write_file(const std::string& local, std::uint64_t /*size*/, const std::string& path, unsigned mode) {
    core::UniqueFd in(::open(local.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!in.is_open()) {
        throw core::Error(fmt::format("cannot read '{}': {}", local, std::strerror(errno)));
    }
    SftpFile file(open(path, O_WRONLY | O_CREAT | O_EXCL, 0600));
    std::vector<char> buffer(k_chunk);
    for (;;) {
        ssize_t got = ::read(in.get(), buffer.data(), buffer.size());
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            throw core::Error(fmt::format("cannot read '{}': {}", local, std::strerror(errno)));
        }
        if (got == 0) {
            break;
        }
        write_all(file.get(), buffer.data(), static_cast<std::size_t>(got), path);
    }
    file.reset();
    if (sftp_chmod(m_sftp, full(path).c_str(), mode) != SSH_OK) {
        fail("cannot set the mode of", path);
    }
}

void SftpFiles::write_text(const std::string& path, const std::string& text) {
    SftpFile file(open(path, O_WRONLY | O_CREAT | O_EXCL, 0644));
    write_all(file.get(), text.data(), text.size(), path);
}

void SftpFiles::set_mtime(const std::string& path, std::int64_t mtime_ns) {
    timeval times[2] = {};
    times[0].tv_sec = times[1].tv_sec = mtime_ns / 1'000'000'000;
    times[0].tv_usec = times[1].tv_usec = (mtime_ns % 1'000'000'000) / 1000;
    if (sftp_utimes(m_sftp, full(path).c_str(), times) != SSH_OK) {
        fail("cannot set the time of", path);
    }
}

void SftpFiles::rename(const std::string& from, const std::string& to) {
    if (m_pipeline->posix_rename(from, to)) {
        return;
    }
    // An SFTP version 3 rename refuses to replace a file: the old one goes first. A shard may then find no file
    // for that moment, but never half of one.
    if (sftp_rename(m_sftp, full(from).c_str(), full(to).c_str()) == SSH_OK) {
        return;
    }
    if (sftp_unlink(m_sftp, full(to).c_str()) != SSH_OK ||
        sftp_rename(m_sftp, full(from).c_str(), full(to).c_str()) != SSH_OK) {
        fail("cannot rename", from);
    }
}

void SftpFiles::put_files(const std::vector<core::StageWrite>& files, const std::function<void(std::size_t)>& placed) {
    m_pipeline->put(files, placed);
}

void SftpFiles::remove(const std::string& path) noexcept {
    sftp_unlink(m_sftp, full(path).c_str());
}

core::CollectSource::Kind SftpFiles::kind(const std::string& path) {
    sftp_attributes attributes = sftp_lstat(m_sftp, full(path).c_str());
    if (attributes == nullptr) {
        if (sftp_get_error(m_sftp) == SSH_FX_NO_SUCH_FILE) {
            return Kind::missing;
        }
        fail("cannot collect", path);
    }
    Kind kind = attributes->type == SSH_FILEXFER_TYPE_REGULAR     ? Kind::regular
                : attributes->type == SSH_FILEXFER_TYPE_DIRECTORY ? Kind::directory
                : attributes->type == SSH_FILEXFER_TYPE_SYMLINK   ? Kind::link
                                                                  : Kind::other;
    sftp_attributes_free(attributes);
    return kind;
}

std::uint64_t SftpFiles::copy_to(const std::string& path, int fd, const std::string& to) {
    SftpFile file(open(path, O_RDONLY, 0));
    // The size it has now, as scp(1) sends: a file that grows while it is read (a log a process still writes, or
    // a hostile host) would otherwise be read for ever.
    sftp_attributes attributes = sftp_fstat(file.get());
    if (attributes == nullptr) {
        fail("cannot collect", path);
    }
    bool regular = attributes->type == SSH_FILEXFER_TYPE_REGULAR;
    std::uint64_t size = attributes->size;
    sftp_attributes_free(attributes);
    if (!regular) {
        throw core::Error(fmt::format("collect refused: '{}' on {} is not a regular file", full(path), m_host));
    }
    std::vector<char> buffer(k_chunk);
    std::uint64_t total = 0;
    ssize_t got = 0;
    while (total < size &&
           (got = sftp_read(file.get(), buffer.data(), std::min<std::uint64_t>(buffer.size(), size - total))) > 0) {
        if (int error = core::write_all(fd, std::string_view(buffer.data(), static_cast<std::size_t>(got)))) {
            throw core::Error(fmt::format("cannot write '{}': {}", to, std::strerror(error)));
        }
        total += static_cast<std::uint64_t>(got);
    }
    if (got < 0) {
        fail("cannot read", path);
    }
    return total;
}

} // namespace sshard::transport
