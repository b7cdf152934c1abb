#include "core/run_dir.hpp"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <filesystem>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.hpp"

namespace sshard::core {

namespace fs = std::filesystem;

namespace {

std::string timestamp() {
    std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    char text[32];
    std::strftime(text, sizeof text, "%Y%m%d-%H%M%S", &local);
    return text;
}

// Writes a new private file whole; throws Error.
void write_private_file(const std::string& path, const std::string& text) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        throw Error(fmt::format("cannot create '{}': {}", path, std::strerror(errno)));
    }
    std::string_view rest = text;
    while (!rest.empty()) {
        ssize_t n = ::write(fd, rest.data(), rest.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            int error = errno;
            ::close(fd);
            throw Error(fmt::format("cannot write '{}': {}", path, std::strerror(error)));
        }
        rest.remove_prefix(static_cast<std::size_t>(n));
    }
    if (::close(fd) != 0) {
        throw Error(fmt::format("cannot write '{}': {}", path, std::strerror(errno)));
    }
}

void point_latest(const std::string& root, const std::string& id) {
    std::string temporary = fmt::format("{}/latest.tmp-{}", root, ::getpid());
    ::unlink(temporary.c_str());
    if (::symlink(id.c_str(), temporary.c_str()) != 0 || ::rename(temporary.c_str(), (root + "/latest").c_str()) != 0) {
        throw Error(fmt::format("cannot point '{}/latest' at '{}': {}", root, id, std::strerror(errno)));
    }
}

} // namespace

RunDir RunDir::create(const std::string& root, const std::string& name, const std::string& spec_text) {
    std::error_code ec;
    fs::create_directories(root, ec);
    if (ec) {
        throw Error(fmt::format("cannot create run directory root '{}': {}", root, ec.message()));
    }
    std::string base = name + "-" + timestamp();
    for (int n = 1; n < 1000; ++n) {
        std::string id = n == 1 ? base : fmt::format("{}-{}", base, n);
        std::string path = root + "/" + id;
        if (::mkdir(path.c_str(), 0700) == 0) {
            RunDir dir(path, id);
            write_private_file(dir.spec_path(), spec_text);
            point_latest(root, id);
            return dir;
        }
        if (errno != EEXIST) {
            throw Error(fmt::format("cannot create run directory '{}': {}", path, std::strerror(errno)));
        }
    }
    throw Error(fmt::format("cannot create run directory '{}/{}': too many runs this second", root, base));
}

RunDir RunDir::create_at(const std::string& path, const std::string& spec_text) {
    std::error_code ec;
    if (fs::exists(path, ec) && !(fs::is_directory(path, ec) && fs::is_empty(path, ec))) {
        throw UsageError(fmt::format("run directory '{}' already exists and is not empty (use --resume to "
                                     "continue a run)",
                                     path));
    }
    fs::path parent = fs::path(path).parent_path();
    if (!parent.empty()) {
        fs::create_directories(parent, ec);
    }
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
        throw Error(fmt::format("cannot create run directory '{}': {}", path, std::strerror(errno)));
    }
    ::chmod(path.c_str(), 0700);
    std::string id = fs::path(path).lexically_normal().filename().string();
    if (id.empty()) {
        id = fs::path(path).lexically_normal().parent_path().filename().string();
    }
    RunDir dir(path, id);
    write_private_file(dir.spec_path(), spec_text);
    return dir;
}

RunDir RunDir::open(const std::string& path) {
    std::error_code ec;
    std::string dir = path;
    if (!fs::exists(dir + "/journal.jsonl", ec) && fs::exists(dir + "/latest/journal.jsonl", ec)) {
        dir = (fs::path(dir) / fs::read_symlink(dir + "/latest", ec)).string();
    }
    if (!fs::exists(dir + "/journal.jsonl", ec)) {
        throw UsageError(fmt::format("'{}' is not a run directory (no journal.jsonl in it)", path));
    }
    std::string id = fs::path(dir).lexically_normal().filename().string();
    if (id.empty()) {
        id = fs::path(dir).lexically_normal().parent_path().filename().string();
    }
    return RunDir(dir, id);
}

void RunDir::replace_spec(const std::string& spec_text) const {
    std::string temporary = spec_path() + ".new";
    write_private_file(temporary, spec_text);
    if (::rename(temporary.c_str(), spec_path().c_str()) != 0) {
        throw Error(fmt::format("cannot replace '{}': {}", spec_path(), std::strerror(errno)));
    }
}

std::string RunDir::output_path(std::string_view job, std::uint64_t index, int attempt, Stream stream) const {
    return fmt::format("{}/out/{}/{}.{}.{}", m_path, job, index, attempt, stream == Stream::out ? "out" : "err");
}

} // namespace sshard::core
