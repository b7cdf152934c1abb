#include "core/run_inputs.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.hpp"
#include "core/write_all.hpp"

namespace sshard::core {

namespace {

// Writes `text` to a new temporary file beside `path`, syncs it and renames it over `path`. Throws Error.
void replace_file(const std::string& path, const std::string& text) {
    std::string temporary = fmt::format("{}.tmp-{}", path, ::getpid());
    ::unlink(temporary.c_str()); // left over by a crashed runner that had our pid
    int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    int error = fd < 0 ? errno : write_all(fd, text);
    if (fd >= 0 && error == 0 && ::fsync(fd) != 0) {
        error = errno;
    }
    if (fd >= 0 && ::close(fd) != 0 && error == 0) {
        error = errno;
    }
    if (error == 0 && ::rename(temporary.c_str(), path.c_str()) != 0) {
        error = errno;
    }
    if (error != 0) {
        ::unlink(temporary.c_str());
        throw Error(fmt::format("cannot write '{}': {}", path, std::strerror(error)));
    }
}

} // namespace

std::string inputs_dir(const std::string& run_dir) {
    return run_dir + "/inputs";
}

void save_inputs(const std::string& run_dir, const Spec& spec) {
    std::string dir = inputs_dir(run_dir);
    bool made = false;
    for (const auto& job : spec.jobs) {
        const auto* lines = std::get_if<LinesShards>(&job.shards);
        if (lines == nullptr) {
            continue;
        }
        if (!made && ::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
            throw Error(fmt::format("cannot create '{}': {}", dir, std::strerror(errno)));
        }
        made = true;
        std::string text;
        for (const auto& line : lines->lines) {
            text += line;
            text += '\n';
        }
        replace_file(fmt::format("{}/{}.lines", dir, job.name), text);
    }
}

} // namespace sshard::core
