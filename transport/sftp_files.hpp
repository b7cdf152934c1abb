// A host's files over SFTP on an existing libssh session, for staging and collecting (core/stager.hpp,
// core/collector.hpp): no new connection, no scp process. The SFTP subsystem opens a channel of the session; the
// session's blocking timeout bounds each request. Staged files go through an SftpPipeline (several files and
// writes in flight); the rest, one request at a time through libssh. Memory stays bounded whatever the size.
#pragma once

#include <libssh/sftp.h>
#include <optional>
#include <string>

#include "core/collector.hpp"
#include "core/stager.hpp"
#include "transport/sftp_files_pipeline.hpp"

namespace sshard::transport {

// One SFTP session on `session`, its paths taken from `workdir` (from the login directory when relative or
// empty). Throws core::Error naming the host when the subsystem cannot start.
class SftpFiles final : public core::StageTarget, public core::CollectSource {
public:
    SftpFiles(ssh_session session, std::string host, std::string workdir);
    ~SftpFiles() override;
    SftpFiles(const SftpFiles&) = delete;
    SftpFiles& operator=(const SftpFiles&) = delete;

    std::optional<std::string> read_text(const std::string& path, std::size_t limit) override;
    void make_directory(const std::string& path) override;
    void write_file(const std::string& local, std::uint64_t size, const std::string& path, unsigned mode) override;
    void write_text(const std::string& path, const std::string& text) override;
    void set_mtime(const std::string& path, std::int64_t mtime_ns) override;
    void rename(const std::string& from, const std::string& to) override;
    void remove(const std::string& path) noexcept override;
    void put_files(const std::vector<core::StageWrite>& files, const std::function<void(std::size_t)>& placed) override;

    Kind kind(const std::string& path) override;
    std::uint64_t copy_to(const std::string& path, int fd, const std::string& to) override;

private:
    static constexpr std::size_t k_chunk = 240 * 1024; // under OpenSSH's 256 KiB SFTP message limit

    void set_nodelay(bool on);
    std::string full(const std::string& path) const;
    [[noreturn]] void fail(const std::string& what, const std::string& path) const;
    sftp_file open(const std::string& path, int flags, mode_t mode);
    void write_all(sftp_file file, const char* data, std::size_t size, const std::string& path);

    ssh_session m_session;
    sftp_session m_sftp = nullptr;
    std::string m_host;
    std::string m_workdir;
    std::optional<SftpPipeline> m_pipeline;
};

} // namespace sshard::transport
