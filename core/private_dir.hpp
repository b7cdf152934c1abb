// Run directories hold what shards printed, which can be secret, and sshard writes in them unattended. Like
// ssh with ~/.ssh, it uses only directories that belong to its user and that nobody else can write, and it
// makes files in them by name inside a directory held open, never through a symbolic link: a path that someone
// swaps for a link cannot make sshard write elsewhere.
#pragma once

#include <string>
#include <string_view>

namespace sshard::core {

// Throws UsageError unless the directory `path` is owned by this process's user (a symbolic link is followed,
// and must be the user's own too). `what` names it in the message: "run directory".
void check_own_dir(const std::string& path, std::string_view what);

// check_own_dir(), and throws UsageError when group or others may write in the directory.
void check_private_dir(const std::string& path, std::string_view what);

// Throws UsageError when the symbolic link `path` exists and belongs to another user.
void check_own_link(const std::string& path);

// A directory held open by descriptor, to make files in it by name.
class OpenDir {
public:
    // Opens the directory `path`, which must not be a symbolic link. Throws UsageError for a link, Error for
    // anything else.
    explicit OpenDir(std::string path);
    ~OpenDir();
    OpenDir(const OpenDir&) = delete;
    OpenDir& operator=(const OpenDir&) = delete;

    int fd() const { return m_fd; }
    const std::string& path() const { return m_path; }

private:
    std::string m_path;
    int m_fd = -1;
};

// Opens the folder `name` (one path component) in the directory `dir`, making it 0700 when missing, without
// following a symbolic link. Returns its descriptor, or -1 with errno set (ELOOP for a link).
int open_folder_at(int dir, const std::string& name);

// Creates or truncates the file `name` in the directory `dir` for writing, 0600 when new, without following a
// symbolic link. Returns its descriptor, or -1 with errno set (ELOOP for a link).
int create_file_at(int dir, const std::string& name);

} // namespace sshard::core
