// Files written to a host with many SFTP requests in flight. libssh 0.10 (Debian 12) sends an SFTP write and
// waits for its answer before the next, so a file crawls at one request per round trip. This speaks the SFTP
// protocol (version 3, draft-ietf-secsh-filexfer-02) itself on the channel of libssh's own SFTP session, between
// libssh's calls, and answers every request it sent before it returns: libssh never sees its packets.
#pragma once

#include <cstdint>
#include <functional>
#include <libssh/sftp.h>
#include <map>
#include <string>
#include <vector>

#include "core/stager.hpp"
#include "core/unique_fd.hpp"

namespace sshard::transport {

// A status code of SFTP's as the end of an error message, or nullptr for one with nothing better to say than
// libssh's error.
const char* sftp_status_text(std::uint32_t status);

class SftpPipeline {
public:
    // On `sftp`'s channel, naming `host` in errors; `full` makes a request's path of a target path.
    SftpPipeline(sftp_session sftp, std::string host, std::function<std::string(const std::string&)> full);

    // StageTarget::put_files: up to k_files files open at a time and k_writes writes of k_chunk bytes unanswered,
    // so memory stays bounded. A file is renamed into place only once all its writes are answered.
    void put(const std::vector<core::StageWrite>& files, const std::function<void(std::size_t)>& placed);
    // Renames `from` over `to` in one step with OpenSSH's posix-rename extension; false when the server lacks it.
    bool posix_rename(const std::string& from, const std::string& to);

private:
    static constexpr std::size_t k_files = 8;
    static constexpr std::size_t k_writes = 32;
    static constexpr std::size_t k_chunk = 64 * 1024;

    enum class Step { opening, writing, closing, renaming, done };
    struct Slot {
        std::size_t file = 0;
        core::UniqueFd fd;
        std::string handle;
        std::uint64_t offset = 0;
        std::size_t pending = 0; // requests without their answer
        bool closed = false;
        Step step = Step::opening;
    };
    struct Request {
        std::size_t slot;
        std::uint8_t type;
    };
    struct Reply {
        std::uint8_t type = 0;
        std::uint32_t id = 0;
        std::string body;
    };

    void start(const std::vector<core::StageWrite>& files);
    void feed(const std::vector<core::StageWrite>& files);
    void answer(const std::vector<core::StageWrite>& files, const Reply& reply,
                const std::function<void(std::size_t)>& placed);
    void finish_file(const std::vector<core::StageWrite>& files, Slot& slot);
    void rename_into_place(const core::StageWrite& file, Slot& slot);
    void fail(const std::string& what, const std::string& path, const Reply& reply);
    void clean_up(const std::vector<core::StageWrite>& files);
    std::uint32_t send(std::uint8_t type, const std::string& body, std::size_t slot);
    Reply receive();

    sftp_session m_sftp;
    std::string m_host;
    std::function<std::string(const std::string&)> m_full;
    bool m_posix_rename;
    std::uint32_t m_next_id = 0x80000000u;
    std::vector<Slot> m_slots;
    std::map<std::uint32_t, Request> m_requests;
    std::size_t m_active = 0; // files started, not yet in place
    std::size_t m_writes = 0; // writes unanswered
    std::string m_error;      // the first failure
    std::string m_in;         // bytes received, not yet a whole packet
};

} // namespace sshard::transport
