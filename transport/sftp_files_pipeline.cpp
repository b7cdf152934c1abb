#include "transport/sftp_files_pipeline.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <libssh/libssh.h>
#include <limits>
#include <unistd.h>

#include "core/error.hpp"

namespace sshard::transport {

namespace {

constexpr std::size_t k_no_slot = std::numeric_limits<std::size_t>::max();
constexpr std::uint32_t k_max_packet = 1 << 20; // far above any answer to what is sent here

void put_u32(std::string& out, std::uint32_t value) {
    for (int shift = 24; shift >= 0; shift -= 8) {
        out += static_cast<char>((value >> shift) & 0xff);
    }
}

void put_u64(std::string& out, std::uint64_t value) {
    put_u32(out, static_cast<std::uint32_t>(value >> 32));
    put_u32(out, static_cast<std::uint32_t>(value));
}

void put_string(std::string& out, std::string_view text) {
    put_u32(out, static_cast<std::uint32_t>(text.size()));
    out += text;
}

std::uint32_t get_u32(std::string_view in, std::size_t at) {
    if (in.size() < at + 4) {
        return 0;
    }
    std::uint32_t value = 0;
    for (std::size_t i = 0; i < 4; ++i) {
        value = (value << 8) | static_cast<unsigned char>(in[at + i]);
    }
    return value;
}

// A string field at `at`, or "" when the packet is too short to hold it.
std::string get_string(std::string_view in, std::size_t at) {
    std::uint32_t size = get_u32(in, at);
    return in.size() < at + 4 + size ? std::string() : std::string(in.substr(at + 4, size));
}

// What a request that failed was doing, for its error message.
const char* failed_step(std::uint8_t type) {
    switch (type) {
    case SSH_FXP_OPEN:
        return "cannot open";
    case SSH_FXP_SETSTAT:
        return "cannot set the mode and time of";
    case SSH_FXP_WRITE:
    case SSH_FXP_CLOSE:
        return "cannot write";
    default:
        return "cannot rename";
    }
}

std::string attributes(unsigned mode, std::int64_t mtime_ns) {
    std::string out;
    put_u32(out, SSH_FILEXFER_ATTR_PERMISSIONS | (mtime_ns >= 0 ? SSH_FILEXFER_ATTR_ACMODTIME : 0));
    put_u32(out, mode);
    if (mtime_ns >= 0) {
        put_u32(out, static_cast<std::uint32_t>(mtime_ns / 1'000'000'000));
        put_u32(out, static_cast<std::uint32_t>(mtime_ns / 1'000'000'000));
    }
    return out;
}

} // namespace

const char* sftp_status_text(std::uint32_t status) {
    switch (status) {
    case SSH_FX_NO_SUCH_FILE:
        return "no such file";
    case SSH_FX_PERMISSION_DENIED:
        return "permission denied";
    case SSH_FX_FAILURE:
        return "failure (a full disk, or what the server would not say)";
    case SSH_FX_FILE_ALREADY_EXISTS:
        return "it exists";
    case SSH_FX_NO_CONNECTION:
    case SSH_FX_CONNECTION_LOST:
        return "the connection is lost";
    default:
        return nullptr;
    }
}

SftpPipeline::SftpPipeline(sftp_session sftp, std::string host, std::function<std::string(const std::string&)> full)
    : m_sftp(sftp), m_host(std::move(host)), m_full(std::move(full)),
      m_posix_rename(sftp_extension_supported(sftp, "posix-rename@openssh.com", "1") != 0) {}

void SftpPipeline::put(const std::vector<core::StageWrite>& files, const std::function<void(std::size_t)>& placed) {
    m_slots.clear();
    m_slots.reserve(files.size());
    m_error.clear();
    m_active = 0;
    for (;;) {
        while (m_error.empty() && m_slots.size() < files.size() && m_active < k_files) {
            start(files);
        }
        if (m_error.empty()) {
            feed(files);
        }
        if (m_requests.empty()) {
            break;
        }
        answer(files, receive(), placed);
    }
    if (!m_error.empty()) {
        clean_up(files);
        throw core::Error(m_error);
    }
}

bool SftpPipeline::posix_rename(const std::string& from, const std::string& to) {
    if (!m_posix_rename) {
        return false;
    }
    std::string body;
    put_string(body, "posix-rename@openssh.com");
    put_string(body, m_full(from));
    put_string(body, m_full(to));
    std::uint32_t id = send(SSH_FXP_EXTENDED, body, k_no_slot);
    Reply reply = receive();
    m_requests.erase(reply.id);
    if (reply.id != id || reply.type != SSH_FXP_STATUS) {
        throw core::Error(fmt::format("{}: the SFTP server answered out of turn", m_host));
    }
    if (get_u32(reply.body, 0) != SSH_FX_OK) {
        m_error.clear();
        fail("cannot rename", from, reply);
        throw core::Error(m_error);
    }
    return true;
}

void SftpPipeline::start(const std::vector<core::StageWrite>& files) {
    Slot& slot = m_slots.emplace_back();
    slot.file = m_slots.size() - 1;
    ++m_active;
    const core::StageWrite& file = files[slot.file];
    slot.fd = core::UniqueFd(::open(file.local.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!slot.fd.is_open()) {
        m_error = fmt::format("cannot read '{}': {}", file.local, std::strerror(errno));
        slot.step = Step::done;
        --m_active;
        return;
    }
    std::string body;
    put_string(body, m_full(file.part));
    // EXCL: a part file is new; a link planted at its name (a shared workdir) is refused, never written through.
    put_u32(body, SSH_FXF_WRITE | SSH_FXF_CREAT | SSH_FXF_EXCL);
    body += attributes(0600, -1);
    send(SSH_FXP_OPEN, body, slot.file);
}

// Sends writes while fewer than k_writes are unanswered, the first open file first.
void SftpPipeline::feed(const std::vector<core::StageWrite>& files) {
    std::string data(k_chunk, '\0');
    for (Slot& slot : m_slots) {
        if (slot.step != Step::writing) {
            continue;
        }
        const core::StageWrite& file = files[slot.file];
        while (m_writes < k_writes && slot.offset < file.size) {
            std::size_t want = std::min<std::uint64_t>(k_chunk, file.size - slot.offset);
            ssize_t got = ::pread(slot.fd.get(), data.data(), want, static_cast<off_t>(slot.offset));
            if (got <= 0) {
                bool shrank = got == 0;
                m_error = fmt::format("cannot read '{}': {}", file.local,
                                      shrank ? "it shrank while it was staged" : std::strerror(errno));
                return;
            }
            std::string body;
            put_string(body, slot.handle);
            put_u64(body, slot.offset);
            put_string(body, std::string_view(data.data(), static_cast<std::size_t>(got)));
            send(SSH_FXP_WRITE, body, slot.file);
            ++m_writes;
            slot.offset += static_cast<std::uint64_t>(got);
        }
        if (slot.offset < file.size) {
            return;
        }
        finish_file(files, slot);
    }
}

// The file's last write is sent: its handle is closed, then its mode and time set (a close does not change them).
void SftpPipeline::finish_file(const std::vector<core::StageWrite>& files, Slot& slot) {
    const core::StageWrite& file = files[slot.file];
    std::string close;
    put_string(close, slot.handle);
    send(SSH_FXP_CLOSE, close, slot.file);
    slot.closed = true;
    std::string setstat;
    put_string(setstat, m_full(file.part));
    setstat += attributes(file.mode, file.mtime_ns);
    send(SSH_FXP_SETSTAT, setstat, slot.file);
    slot.fd = core::UniqueFd();
    slot.step = Step::closing;
}

void SftpPipeline::answer(const std::vector<core::StageWrite>& files, const Reply& reply,
                          const std::function<void(std::size_t)>& placed) {
    auto it = m_requests.find(reply.id);
    if (it == m_requests.end()) {
        throw core::Error(fmt::format("{}: the SFTP server answered a request never sent", m_host));
    }
    Request request = it->second;
    m_requests.erase(it);
    Slot& slot = m_slots[request.slot];
    --slot.pending;
    m_writes -= request.type == SSH_FXP_WRITE ? 1 : 0;
    const core::StageWrite& file = files[slot.file];
    bool ok = reply.type == SSH_FXP_STATUS && get_u32(reply.body, 0) == SSH_FX_OK;
    if (request.type == SSH_FXP_OPEN && reply.type == SSH_FXP_HANDLE) {
        slot.handle = get_string(reply.body, 0);
        slot.step = Step::writing;
    } else if (request.type == SSH_FXP_REMOVE) {
        // The old file before a rename that cannot replace it: there may be none.
    } else if (!ok) {
        slot.closed = slot.closed || request.type == SSH_FXP_OPEN;
        fail(failed_step(request.type), file.part, reply);
    } else if (slot.step == Step::renaming && slot.pending == 0) {
        slot.step = Step::done;
        --m_active;
        placed(slot.file);
    }
    if (slot.step == Step::closing && slot.pending == 0 && m_error.empty()) {
        rename_into_place(file, slot);
    }
}

void SftpPipeline::rename_into_place(const core::StageWrite& file, Slot& slot) {
    std::string body;
    if (m_posix_rename) {
        put_string(body, "posix-rename@openssh.com");
        put_string(body, m_full(file.part));
        put_string(body, m_full(file.dest));
        send(SSH_FXP_EXTENDED, body, slot.file);
    } else {
        // SFTP version 3 refuses to rename over a file: the old one goes first. A shard may then find no file
        // for that moment, but never half of one.
        std::string remove;
        put_string(remove, m_full(file.dest));
        send(SSH_FXP_REMOVE, remove, slot.file);
        put_string(body, m_full(file.part));
        put_string(body, m_full(file.dest));
        send(SSH_FXP_RENAME, body, slot.file);
    }
    slot.step = Step::renaming;
}

void SftpPipeline::fail(const std::string& what, const std::string& path, const Reply& reply) {
    if (!m_error.empty()) {
        return;
    }
    const char* status = reply.type == SSH_FXP_STATUS ? sftp_status_text(get_u32(reply.body, 0)) : nullptr;
    std::string message = reply.type == SSH_FXP_STATUS ? get_string(reply.body, 4) : "an answer out of turn";
    m_error = fmt::format("{} '{}' on {}: {}", what, m_full(path), m_host, status != nullptr ? status : message);
}

// After a failure, once every request is answered: the handles still open are closed and the part files removed.
void SftpPipeline::clean_up(const std::vector<core::StageWrite>& files) {
    for (Slot& slot : m_slots) {
        if (slot.step == Step::done) {
            continue;
        }
        if (!slot.closed && !slot.handle.empty()) {
            std::string close;
            put_string(close, slot.handle);
            send(SSH_FXP_CLOSE, close, slot.file);
        }
        std::string remove;
        put_string(remove, m_full(files[slot.file].part));
        send(SSH_FXP_REMOVE, remove, slot.file);
    }
    while (!m_requests.empty()) {
        m_requests.erase(receive().id);
    }
}

std::uint32_t SftpPipeline::send(std::uint8_t type, const std::string& body, std::size_t slot) {
    std::uint32_t id = m_next_id++;
    std::string packet;
    put_u32(packet, static_cast<std::uint32_t>(body.size() + 5));
    packet += static_cast<char>(type);
    put_u32(packet, id);
    packet += body;
    for (std::size_t at = 0; at < packet.size();) {
        int wrote =
            ssh_channel_write(m_sftp->channel, packet.data() + at, static_cast<std::uint32_t>(packet.size() - at));
        if (wrote == SSH_ERROR) {
            throw core::Error(fmt::format("{}: the connection is lost: {}", m_host, ssh_get_error(m_sftp->session)));
        }
        at += static_cast<std::size_t>(wrote);
    }
    m_requests[id] = Request{slot, type};
    if (slot != k_no_slot) {
        ++m_slots[slot].pending;
    }
    return id;
}

SftpPipeline::Reply SftpPipeline::receive() {
    for (;;) {
        std::uint32_t size = get_u32(m_in, 0);
        if (m_in.size() >= 4 && (size < 5 || size > k_max_packet)) {
            throw core::Error(fmt::format("{}: the SFTP server sent a packet of {} bytes", m_host, size));
        }
        if (m_in.size() >= 4 && m_in.size() >= 4 + std::size_t{size}) {
            Reply reply{static_cast<std::uint8_t>(m_in[4]), get_u32(m_in, 5), m_in.substr(9, size - 5)};
            m_in.erase(0, 4 + std::size_t{size});
            return reply;
        }
        char buffer[16 * 1024];
        int got = ssh_channel_read(m_sftp->channel, buffer, sizeof buffer, 0);
        if (got > 0) {
            m_in.append(buffer, static_cast<std::size_t>(got));
        } else if (got == SSH_ERROR || ssh_channel_is_eof(m_sftp->channel) != 0) {
            throw core::Error(fmt::format("{}: the connection is lost: {}", m_host, ssh_get_error(m_sftp->session)));
        } else {
            throw core::Error(fmt::format("{}: the SFTP server did not answer in time", m_host));
        }
    }
}

} // namespace sshard::transport
