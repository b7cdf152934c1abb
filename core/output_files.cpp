#include "core/output_files.hpp"
#include "core/write_all.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sshard::core {

namespace {

constexpr std::size_t k_tail_bytes = 4096;
constexpr std::size_t k_max_line = 64 * 1024;
// File::fd besides an open descriptor: -1 not opened yet, or one of these.
constexpr int k_failed_fd = -2; // a write failed: the rest of the stream is dropped
constexpr int k_closed_fd = -3; // close() was called: late data must not reopen (and truncate) the file

// Makes `dir` and its missing parents 0700. The sinks of one job race to make the same folder: EEXIST means
// another one won, which is as good. A failure is left for open() to report, with the file's path.
void make_directories(const std::filesystem::path& dir) {
    if (dir.empty() || ::mkdir(dir.c_str(), 0700) == 0 || errno == EEXIST) {
        return;
    }
    if (errno == ENOENT && dir.has_relative_path()) {
        make_directories(dir.parent_path());
        ::mkdir(dir.c_str(), 0700);
    }
}

// Returns the open descriptor, or -1 with errno set.
int open_output(const std::string& path) {
    make_directories(std::filesystem::path(path).parent_path());
    return ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
}

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

OutputFiles::OutputFiles(std::string out_path, std::string err_path, LineListener listener)
    : m_listener(std::move(listener)) {
    m_out.path = std::move(out_path);
    m_err.path = std::move(err_path);
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
        file.fd = open_output(file.path);
    }
    int error = file.fd < 0 ? errno : write_all(file.fd, data);
    if (error != 0) {
        if (m_error.empty()) {
            m_error = fmt::format("cannot write '{}': {}", file.path, std::strerror(error));
        }
        if (file.fd >= 0) {
            ::close(file.fd);
        }
        file.fd = k_failed_fd;
    }
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

void OutputFiles::close() {
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
            m_error = fmt::format("cannot write '{}': {}", file.path, std::strerror(errno));
        }
        file.fd = k_closed_fd;
    }
}

std::uint64_t OutputFiles::bytes(Stream stream) const {
    std::lock_guard lock(m_mutex);
    return stream == Stream::out ? m_out.bytes : m_err.bytes;
}

std::string OutputFiles::stderr_tail() const {
    std::lock_guard lock(m_mutex);
    return m_tail;
}

std::string OutputFiles::error() const {
    std::lock_guard lock(m_mutex);
    return m_error;
}

} // namespace sshard::core
