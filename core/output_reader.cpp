#include "core/output_reader.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include "core/error.hpp"

namespace sshard::core {

namespace {

// Closes a descriptor when it goes out of scope.
class Descriptor {
public:
    explicit Descriptor(int fd) : m_fd(fd) {}
    ~Descriptor() {
        if (m_fd >= 0) {
            ::close(m_fd);
        }
    }
    Descriptor(const Descriptor&) = delete;
    Descriptor& operator=(const Descriptor&) = delete;
    int get() const { return m_fd; }

private:
    int m_fd;
};

Error read_error(const std::string& name, int error) {
    return Error(fmt::format("cannot read output '{}': {}", name, std::strerror(error)));
}

} // namespace

bool read_output(int outputs, const std::string& job, const std::string& stem, Stream stream,
                 const std::function<void(std::string_view)>& chunk) {
    std::string name = job + "/" + stem + (stream == Stream::out ? ".out" : ".err");
    Descriptor folder(::openat(outputs, job.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (folder.get() < 0) {
        if (errno == ENOENT) {
            return false;
        }
        throw read_error(name, errno);
    }
    std::string file_name = name.substr(job.size() + 1);
    Descriptor file(::openat(folder.get(), file_name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (file.get() < 0) {
        if (errno == ENOENT) {
            return false;
        }
        throw read_error(name, errno);
    }
    char block[65536];
    while (true) {
        ssize_t n = ::read(file.get(), block, sizeof block);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            throw read_error(name, errno);
        }
        if (n == 0) {
            return true;
        }
        chunk(std::string_view(block, static_cast<std::size_t>(n)));
    }
}

std::string read_output_text(int outputs, const std::string& job, const std::string& stem, Stream stream) {
    std::string text;
    read_output(outputs, job, stem, stream, [&](std::string_view piece) { text.append(piece); });
    return text;
}

} // namespace sshard::core
