#include "core/output_files.hpp"
#include "core/write_all.hpp"

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <unistd.h>

namespace sshard::core {

namespace {

constexpr std::size_t k_tail_bytes = 4096;
constexpr std::size_t k_max_line = 64 * 1024;
// File::fd besides an open descriptor: -1 not opened yet, or one of these.
constexpr int k_failed_fd = -2; // a write failed: the rest of the stream is dropped
constexpr int k_closed_fd = -3; // close() was called: late data must not reopen (and truncate) the file

// Keeps the last k_tail_bytes of everything appended; memory stays bounded however much is written.
void keep_tail(std::string& tail, std::string_view data) {
    if (data.size() >= k_tail_bytes) {
        tail.assign(data.substr(data.size() - k_tail_bytes));
        return;
    }
    tail.append(data);
    if (tail.size() > k_tail_bytes) {
        tail.erase(0, tail.size() - k_tail_bytes);
    }
}

} // namespace

OutputFiles::OutputFiles(const OpenDir& dir, std::string folder, const std::string& stem, LineListener listener)
    : m_dir(dir), m_folder(std::move(folder)), m_listener(std::move(listener)) {
    m_out.name = stem + ".out";
    m_err.name = stem + ".err";
}

OutputFiles::~OutputFiles() {
    close();
}

void OutputFiles::write(Stream stream, std::string_view data) {
    if (data.empty()) {
        return;
    }
    std::lock_guard lock(m_mutex);
    File& file = stream == Stream::out ? m_out : m_err;
    file.bytes += data.size();
    if (stream == Stream::err) {
        keep_tail(m_tail, data);
    }
    if (file.fd == k_closed_fd) {
        return;
    }
    if (m_listener) {
        emit_lines(stream, file, data);
    }
    if (file.fd == k_failed_fd) {
        return;
    }
    if (file.fd < 0) {
        file.fd = open_file(file);
    }
    int error = file.fd < 0 ? errno : write_all(file.fd, data);
    if (error != 0) {
        if (m_error.empty()) {
            m_error = fmt::format("cannot write '{}': {}", path_of(file), std::strerror(error));
        }
        if (file.fd >= 0) {
            ::close(file.fd);
        }
        file.fd = k_failed_fd;
    }
}

// Returns the open descriptor, or -1 with errno set. The folder is opened anew for each file: it costs little
// next to the file, and nothing is held open between attempts.
int OutputFiles::open_file(const File& file) const {
    int folder = open_folder_at(m_dir.fd(), m_folder);
    if (folder < 0) {
        return -1;
    }
    int fd = create_file_at(folder, file.name);
    int error = errno;
    ::close(folder);
    errno = error;
    return fd;
}

std::string OutputFiles::path_of(const File& file) const {
    return fmt::format("{}/{}/{}", m_dir.path(), m_folder, file.name);
}

// Lines are only assembled when someone listens: without a listener nothing is buffered.
void OutputFiles::emit_lines(Stream stream, File& file, std::string_view data) {
    while (!data.empty()) {
        std::size_t newline = data.find('\n');
        std::string_view piece = data.substr(0, newline);
        data.remove_prefix(newline == std::string_view::npos ? data.size() : newline + 1);
        // A line too long to hold is passed on in pieces of k_max_line bytes.
        while (file.partial_line.size() + piece.size() > k_max_line) {
            std::size_t take = k_max_line - file.partial_line.size();
            file.partial_line.append(piece.substr(0, take));
            piece.remove_prefix(take);
            m_listener(stream, file.partial_line);
            file.partial_line.clear();
        }
        if (newline == std::string_view::npos) {
            file.partial_line.append(piece);
        } else if (file.partial_line.empty()) {
            m_listener(stream, piece);
        } else {
            file.partial_line.append(piece);
            m_listener(stream, file.partial_line);
            file.partial_line.clear();
        }
    }
}

std::string OutputFiles::close() {
    std::lock_guard lock(m_mutex);
    for (Stream stream : {Stream::out, Stream::err}) {
        File& file = stream == Stream::out ? m_out : m_err;
        if (file.fd == k_closed_fd) {
            continue;
        }
        if (m_listener && !file.partial_line.empty()) {
            m_listener(stream, file.partial_line);
        }
        std::string().swap(file.partial_line);
        // Linux closes the descriptor even when close() reports EINTR; anything else may mean lost data (NFS).
        if (file.fd >= 0 && ::close(file.fd) != 0 && errno != EINTR && m_error.empty()) {
            m_error = fmt::format("cannot write '{}': {}", path_of(file), std::strerror(errno));
        }
        file.fd = k_closed_fd;
    }
    return m_error;
}

std::uint64_t OutputFiles::bytes(Stream stream) const {
    std::lock_guard lock(m_mutex);
    return stream == Stream::out ? m_out.bytes : m_err.bytes;
}

std::string OutputFiles::stderr_tail() const {
    std::lock_guard lock(m_mutex);
    return m_tail;
}

} // namespace sshard::core
