// A shard's files over SFTP on the host's existing session: its job's stage before it starts (once per host and
// content in a run), its collect after it ends. Both run on the host's thread, which owns the session; meanwhile
// the host's other channels wait (their data stays buffered within the SSH window).
#include <fmt/format.h>
#include <optional>

#include "core/collector.hpp"
#include "core/error.hpp"
#include "transport/sftp_files.hpp"
#include "transport/ssh_host.hpp"

namespace sshard::transport {

// An SFTP session on a session with room for its channel, opened on first use and closed with this.
class SshHost::SftpUse {
public:
    SftpUse(SshHost& host, std::string workdir) : m_host(host), m_workdir(std::move(workdir)) {}
    ~SftpUse() {
        m_files.reset();
        if (m_session != nullptr) {
            --m_session->channels;
        }
    }
    SftpUse(const SftpUse&) = delete;
    SftpUse& operator=(const SftpUse&) = delete;

    SftpFiles& files() {
        if (!m_files) {
            m_session = m_session != nullptr ? m_session : m_host.session_with_room();
            if (m_session == nullptr) {
                throw core::Error(fmt::format("{}: no connection has room for an SFTP channel", m_host.m_spec.name));
            }
            ++m_session->channels;
            try {
                m_files.emplace(m_session->connection->get(), m_host.m_spec.name, m_workdir);
            } catch (const core::Error&) {
                --m_session->channels;
                m_session = nullptr;
                throw;
            }
        }
        return *m_files;
    }
    // Whether the session used is still connected (true when none was used).
    bool connected() const { return m_session == nullptr || m_session->connection->connected(); }

private:
    SshHost& m_host;
    std::string m_workdir;
    Session* m_session = nullptr;
    std::optional<SftpFiles> m_files;
};

bool SshHost::stage(core::Launch& launch) {
    if (!launch.stage) {
        return true;
    }
    core::TransferStats& stats = m_sent[launch.attempt];
    std::string error;
    bool connected = true;
    {
        SftpUse sftp(*this, launch.workdir);
        error = core::stage_launch(
            launch, m_staged, [&]() -> core::StageTarget& { return sftp.files(); }, stats);
        connected = sftp.connected();
    }
    m_last_heard = Clock::now();
    if (error.empty()) {
        return true;
    }
    if (!connected) {
        fail_launch(launch, error);
        lose_host(error);
        return false;
    }
    m_events.on_finished(launch.attempt, core::stage_failure(error, stats));
    m_sent.erase(launch.attempt);
    return false;
}

void SshHost::complete(std::uint64_t attempt, const core::Launch& launch, core::Outcome& outcome) {
    if (auto it = m_sent.find(attempt); it != m_sent.end()) {
        outcome.transfer = it->second;
        m_sent.erase(it);
    }
    SftpUse sftp(*this, launch.workdir);
    core::collect_after(
        launch.collect, launch.collect_on_failure, [&]() -> core::CollectSource& { return sftp.files(); }, outcome);
    m_last_heard = Clock::now();
}

} // namespace sshard::transport
