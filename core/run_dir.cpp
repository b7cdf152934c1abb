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
#include "core/private_dir.hpp"
#include "core/write_all.hpp"

namespace sshard::core {

namespace fs = std::filesystem;

namespace {

// Run ids sort by time when listed; a second is fine enough, the suffix handles the rest.
std::string timestamp() {
    std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    char text[32];
    std::strftime(text, sizeof text, "%Y%m%d-%H%M%S", &local);
    return text;
}

// The run id of a directory path, whatever its spelling: "runs/x", "runs/x/", "." and "runs/latest" (a link to
// x) all name their directory.
std::string last_component(const std::string& path) {
    std::error_code ec;
    fs::path absolute = fs::weakly_canonical(path, ec);
    fs::path normal = (ec ? fs::path(path) : absolute).lexically_normal();
    if (normal.filename().empty()) {
        normal = normal.parent_path();
    }
    return normal.filename().string();
}

// Writes a new private file whole and makes it durable; throws Error. O_EXCL: never writes through a file or
// link someone else put there.
void write_private_file(const std::string& path, const std::string& text) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        throw Error(fmt::format("cannot create '{}': {}", path, std::strerror(errno)));
    }
    int error = write_all(fd, text);
    if (error == 0 && ::fsync(fd) != 0) {
        error = errno;
    }
    if (::close(fd) != 0 && error == 0) {
        error = errno;
    }
    if (error != 0) {
        throw Error(fmt::format("cannot write '{}': {}", path, std::strerror(error)));
    }
}

// Makes `path` 0700; an existing directory is accepted when `may_exist`. Throws Error.
void make_private_dir(const std::string& path, bool may_exist) {
    if (::mkdir(path.c_str(), 0700) != 0 && !(may_exist && errno == EEXIST)) {
        throw Error(fmt::format("cannot create run directory '{}': {}", path, std::strerror(errno)));
    }
}

// Makes `dir` and its missing parents 0700: like mkdir -p, but private whatever the umask. Returns 0 or errno.
int make_private_dirs(const fs::path& dir) {
    if (dir.empty() || ::mkdir(dir.c_str(), 0700) == 0 || errno == EEXIST) {
        return 0;
    }
    if (errno != ENOENT || !dir.has_relative_path()) {
        return errno;
    }
    if (int error = make_private_dirs(dir.parent_path()); error != 0) {
        return error;
    }
    return ::mkdir(dir.c_str(), 0700) == 0 || errno == EEXIST ? 0 : errno;
}

// A reader of `latest` sees the old run or the new one, never a missing link: rename replaces it atomically.
void point_latest(const std::string& root, const std::string& id) {
    std::string temporary = fmt::format("{}/latest.tmp-{}", root, ::getpid());
    ::unlink(temporary.c_str()); // left over by a crashed run that had our pid
    if (::symlink(id.c_str(), temporary.c_str()) != 0) {
        throw Error(fmt::format("cannot create '{}': {}", temporary, std::strerror(errno)));
    }
    std::string latest = root + "/latest";
    if (::rename(temporary.c_str(), latest.c_str()) != 0) {
        int error = errno;
        ::unlink(temporary.c_str());
        throw Error(fmt::format("cannot point '{}' at '{}': {}", latest, id, std::strerror(error)));
    }
}

} // namespace

std::string RunDir::reserve(const std::string& root, const std::string& name) {
    if (int error = make_private_dirs(root); error != 0) {
        throw Error(fmt::format("cannot create run directory root '{}': {}", root, std::strerror(error)));
    }
    check_private_dir(root, "runs folder");
    std::string base = name + "-" + timestamp();
    // mkdir's EEXIST decides which suffix is free, so two runs started together never share a directory.
    for (int n = 1; n < 1000; ++n) {
        std::string id = n == 1 ? base : fmt::format("{}-{}", base, n);
        std::string path = root + "/" + id;
        if (::mkdir(path.c_str(), 0700) != 0) {
            if (errno == EEXIST) {
                continue;
            }
            throw Error(fmt::format("cannot create run directory '{}': {}", path, std::strerror(errno)));
        }
        return path;
    }
    throw Error(fmt::format("cannot create run directory '{}/{}': too many runs this second", root, base));
}

void RunDir::make_latest(const std::string& path) {
    point_latest(fs::path(path).parent_path().string(), last_component(path));
}

RunDir RunDir::create(const std::string& root, const std::string& name, const std::string& spec_text) {
    std::string path = reserve(root, name);
    point_latest(root, last_component(path));
    RunDir dir(path, last_component(path));
    make_private_dir(path + "/out", false);
    write_private_file(dir.spec_path(), spec_text);
    return dir;
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
        fs::create_directories(parent, ec); // a failure shows as mkdir's error just below
    }
    make_private_dir(path, true);
    check_own_dir(path, "run directory");
    // An empty directory the user made for us has their default mode: outputs can hold secrets.
    if (::chmod(path.c_str(), 0700) != 0) {
        throw Error(fmt::format("cannot create run directory '{}': {}", path, std::strerror(errno)));
    }
    RunDir dir(path, last_component(path));
    make_private_dir(path + "/out", false);
    write_private_file(dir.spec_path(), spec_text);
    return dir;
}

RunDir RunDir::open(const std::string& path) {
    std::error_code ec;
    std::string dir = path;
    if (!fs::exists(dir + "/journal.jsonl", ec) && fs::exists(dir + "/latest/journal.jsonl", ec)) {
        check_private_dir(dir, "runs folder");
        check_own_link(dir + "/latest");
        // Followed here so that the id is the run's, not "latest".
        fs::path target = fs::read_symlink(dir + "/latest", ec);
        dir = (fs::path(path) / (ec ? fs::path("latest") : target)).string();
    }
    if (!fs::exists(dir + "/journal.jsonl", ec)) {
        throw UsageError(fmt::format("'{}' is not a run directory (no journal.jsonl in it)", path));
    }
    check_private_dir(dir, "run directory");
    return RunDir(dir, last_component(dir));
}

void RunDir::replace_spec(const std::string& spec_text) const {
    std::string temporary = fmt::format("{}.tmp-{}", spec_path(), ::getpid());
    ::unlink(temporary.c_str()); // left over by a crashed resume that had our pid
    write_private_file(temporary, spec_text);
    if (::rename(temporary.c_str(), spec_path().c_str()) != 0) {
        int error = errno;
        ::unlink(temporary.c_str());
        throw Error(fmt::format("cannot replace '{}': {}", spec_path(), std::strerror(error)));
    }
}

OpenDir RunDir::open_outputs() const {
    std::string path = m_path + "/out";
    make_private_dir(path, true); // the user may have removed it between a run and its resume
    return OpenDir(path);
}

} // namespace sshard::core
