#include "core/output_files.hpp"

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

// Makes the folder of `path` (0700) if it is missing; many sinks may race to make the same folder.
void make_parent(const std::string& path) {
    std::filesystem::path parent = std::filesystem::path(path).parent_path();
    std::error_code ec;
    if (!std::filesystem::exists(parent, ec)) {
        std::filesystem::create_directories(parent, ec);
        ::chmod(parent.c_str(), 0700);
        ::chmod(parent.parent_path().c_str(), 0700);
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
        m_tail.append(data.size() > k_tail_bytes ? data.substr(data.size() - k_tail_bytes) : data);
        if (m_tail.size() > k_tail_bytes) {
            m_tail.erase(0, m_tail.size() - k_tail_bytes);
        }
    }
    if (m_listener) {
        emit_lines(stream, file, data);
    }
    if (file.fd == -2) {
        return; // an earlier write failed: drop the rest
    }
    if (file.fd < 0) {
        make_parent(file.path);
        file.fd = ::open(file.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (file.fd < 0) {
            m_error = m_error.empty() ? fmt::format("cannot write '{}': {}", file.path, std::strerror(errno)) : m_error;
            file.fd = -2;
            return;
        }
    }
    while (!data.empty()) {
        ssize_t n = ::write(file.fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            m_error = m_error.empty() ? fmt::format("cannot write '{}': {}", file.path, std::strerror(errno)) : m_error;
            ::close(file.fd);
            file.fd = -2;
            return;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
}

void OutputFiles::emit_lines(Stream stream, File& file, std::string_view data) {
    while (!data.empty()) {
        std::size_t newline = data.find('\n');
        if (newline == std::string_view::npos) {
            file.partial_line.append(data);
            if (file.partial_line.size() >= k_max_line) {
                m_listener(stream, file.partial_line);
                file.partial_line.clear();
            }
            return;
        }
        if (file.partial_line.empty()) {
            m_listener(stream, data.substr(0, newline));
        } else {
            file.partial_line.append(data.substr(0, newline));
            m_listener(stream, file.partial_line);
            file.partial_line.clear();
        }
        data.remove_prefix(newline + 1);
    }
}

void OutputFiles::close() {
    std::lock_guard lock(m_mutex);
    for (auto* file : {&m_out, &m_err}) {
        if (m_listener && !file->partial_line.empty()) {
            m_listener(file == &m_out ? Stream::out : Stream::err, file->partial_line);
            file->partial_line.clear();
        }
        if (file->fd >= 0) {
            ::close(file->fd);
        }
        file->fd = -1;
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
