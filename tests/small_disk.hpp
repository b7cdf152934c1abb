// A small tmpfs for tests of a full disk: mounted on a directory of the test's own, unmounted when done.
// Mounting needs root (CAP_SYS_ADMIN); tests skip when mounted() is false.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <sys/mount.h>

namespace sshard::test {

class SmallDisk {
public:
    // Mounts a tmpfs of `bytes` (whole pages) on `path`, made when missing; mode 0700, owned by the caller.
    SmallDisk(std::string path, std::size_t bytes) : m_path(std::move(path)) {
        std::filesystem::create_directories(m_path);
        std::string options = "size=" + std::to_string(bytes) + ",mode=0700";
        m_mounted = ::mount("tmpfs", m_path.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) == 0;
    }
    // Detaches lazily: a file a failed test left open must not keep the mount.
    ~SmallDisk() {
        if (m_mounted) {
            ::umount2(m_path.c_str(), MNT_DETACH);
        }
    }
    SmallDisk(const SmallDisk&) = delete;
    SmallDisk& operator=(const SmallDisk&) = delete;

    bool mounted() const { return m_mounted; }
    // Makes room: the mount grows to `bytes`, keeping its files. Returns whether it did.
    bool grow(std::size_t bytes) {
        std::string options = "size=" + std::to_string(bytes);
        return ::mount("tmpfs", m_path.c_str(), "tmpfs", MS_REMOUNT | MS_NOSUID | MS_NODEV, options.c_str()) == 0;
    }

private:
    std::string m_path;
    bool m_mounted = false;
};

} // namespace sshard::test
