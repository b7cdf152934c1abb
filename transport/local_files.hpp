// The files of a local host, for staging and collecting (core/stager.hpp, core/collector.hpp): plain system calls
// in the job's workdir on this machine, never following a link at a path's end.
#pragma once

#include <string>

#include "core/collector.hpp"
#include "core/stager.hpp"

namespace sshard::transport {

// Paths are taken from `workdir` (from the current directory when it is empty or relative).
class LocalStageTarget final : public core::StageTarget {
public:
    explicit LocalStageTarget(std::string workdir) : m_workdir(std::move(workdir)) {}

    std::optional<std::string> read_text(const std::string& path, std::size_t limit) override;
    void make_directory(const std::string& path) override;
    void write_file(const std::string& local, std::uint64_t size, const std::string& path, unsigned mode) override;
    void write_text(const std::string& path, const std::string& text) override;
    void set_mtime(const std::string& path, std::int64_t mtime_ns) override;
    void rename(const std::string& from, const std::string& to) override;
    void remove(const std::string& path) noexcept override;

private:
    std::string full(const std::string& path) const;
    std::string m_workdir;
};

// Paths are taken from `workdir` as for LocalStageTarget.
class LocalCollectSource final : public core::CollectSource {
public:
    explicit LocalCollectSource(std::string workdir) : m_workdir(std::move(workdir)) {}

    Kind kind(const std::string& path) override;
    std::uint64_t copy_to(const std::string& path, int fd, const std::string& to) override;

private:
    std::string m_workdir;
};

// `path` taken from `workdir`: itself when `workdir` is empty.
std::string in_workdir(const std::string& workdir, const std::string& path);

} // namespace sshard::transport
