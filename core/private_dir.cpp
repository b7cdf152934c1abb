#include "core/private_dir.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.hpp"

namespace sshard::core {

namespace {

constexpr int k_folder_flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

// The user's name for messages, or their uid when the system has no name for it.
std::string user_name(uid_t uid) {
    passwd entry{};
    passwd* found = nullptr;
    char buffer[4096];
    if (::getpwuid_r(uid, &entry, buffer, sizeof buffer, &found) == 0 && found != nullptr) {
        return fmt::format("'{}'", found->pw_name);
    }
    return fmt::format("uid {}", uid);
}

void check_owner(const std::string& path, std::string_view what, const struct stat& info, std::string_view rule) {
    if (info.st_uid != ::geteuid()) {
        throw UsageError(fmt::format("{} '{}' is owned by {}, not by {}: sshard {}", what, path, user_name(info.st_uid),
                                     user_name(::geteuid()), rule));
    }
}

// check_own_dir(), returning what it found.
struct stat own_dir(const std::string& path, std::string_view what) {
    check_own_link(path);
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) {
        throw Error(fmt::format("cannot open {} '{}': {}", what, path, std::strerror(errno)));
    }
    if (!S_ISDIR(info.st_mode)) {
        throw UsageError(fmt::format("{} '{}' is not a directory", what, path));
    }
    check_owner(path, what, info, "uses only its own user's run directories");
    return info;
}

} // namespace

void check_own_dir(const std::string& path, std::string_view what) {
    own_dir(path, what);
}

void check_private_dir(const std::string& path, std::string_view what) {
    struct stat info = own_dir(path, what);
    mode_t writable = info.st_mode & (S_IWGRP | S_IWOTH);
    if (writable != 0) {
        const char* who = writable == S_IWGRP ? "group" : writable == S_IWOTH ? "others" : "group and others";
        throw UsageError(fmt::format("{} '{}' is writable by {} (mode {:04o}): make it private with 'chmod go-w {}'",
                                     what, path, who, info.st_mode & 07777, path));
    }
}

void check_own_link(const std::string& path) {
    struct stat info {};
    if (::lstat(path.c_str(), &info) == 0 && S_ISLNK(info.st_mode)) {
        check_owner(path, "link", info, "follows only its own user's links");
    }
}

OpenDir::OpenDir(std::string path) : m_path(std::move(path)) {
    m_fd = ::open(m_path.c_str(), k_folder_flags);
    if (m_fd >= 0) {
        return;
    }
    int error = errno;
    struct stat info {};
    if (::lstat(m_path.c_str(), &info) == 0 && S_ISLNK(info.st_mode)) {
        throw UsageError(
            fmt::format("'{}' is a symbolic link: sshard writes run records only in real directories", m_path));
    }
    throw Error(fmt::format("cannot open '{}': {}", m_path, std::strerror(error)));
}

OpenDir::~OpenDir() {
    ::close(m_fd);
}

int open_folder_at(int dir, const std::string& name) {
    int fd = ::openat(dir, name.c_str(), k_folder_flags);
    struct stat info {};
    // Linux says ENOTDIR for a link opened with O_DIRECTORY | O_NOFOLLOW; a file says ELOOP.
    if (fd < 0 && errno == ENOTDIR && ::fstatat(dir, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISLNK(info.st_mode)) {
        errno = ELOOP;
    }
    if (fd >= 0 || errno != ENOENT) {
        return fd;
    }
    // The sinks of one job race to make its folder: EEXIST means another one won, which is as good.
    if (::mkdirat(dir, name.c_str(), 0700) != 0 && errno != EEXIST) {
        return -1;
    }
    return ::openat(dir, name.c_str(), k_folder_flags);
}

int create_file_at(int dir, const std::string& name) {
    return ::openat(dir, name.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
}

} // namespace sshard::core
