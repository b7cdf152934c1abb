#include "cli/plan_check.hpp"

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <map>
#include <memory>
#include <optional>

#include "cli/terminal.hpp"
#include "core/error.hpp"
#include "transport/local_files.hpp"
#include "transport/sftp_files.hpp"
#include "transport/ssh_connection.hpp"

namespace sshard::cli {

namespace {

// A host's connection, made on first use and kept for its other entries; or why it could not be made.
class CheckedHost {
public:
    CheckedHost(const core::HostSpec& host, const transport::SshOptions& options) : m_host(host) {
        if (host.transport == core::TransportKind::local) {
            return;
        }
        try {
            m_connection = std::make_unique<transport::SshConnection>(host, options);
        } catch (const transport::SshError& e) {
            m_error = e.what();
        }
    }

    // What entry `i` of `stage` would send there, into `check`.
    void check(core::StageSet& stage, std::size_t i, const std::string& workdir, StageCheck& check) {
        if (!m_error.empty()) {
            check.error = m_error;
            return;
        }
        try {
            core::StageSent missing;
            if (m_connection) {
                transport::SftpFiles files(m_connection->get(), m_host.name, workdir);
                missing = stage.pending(i, files);
            } else {
                transport::LocalStageTarget files(workdir);
                missing = stage.pending(i, files);
            }
            check.files = missing.files;
            check.bytes = missing.bytes;
        } catch (const core::Error& e) {
            check.error = e.what();
        }
    }

private:
    const core::HostSpec& m_host;
    std::unique_ptr<transport::SshConnection> m_connection;
    std::string m_error;
};

} // namespace

std::vector<StageCheck> check_stages(const core::Plan& plan, const transport::SshOptions& options) {
    std::map<std::size_t, std::unique_ptr<CheckedHost>> hosts;
    std::vector<StageCheck> checks;
    for (const auto& planned : plan.jobs) {
        for (std::size_t i = 0; planned.stage && i < planned.stage->entries().size(); ++i) {
            for (std::size_t h : planned.hosts) {
                const core::HostSpec& host = plan.spec->hosts[h];
                auto& checked = hosts[h];
                if (!checked) {
                    checked = std::make_unique<CheckedHost>(host, options);
                }
                const core::StageSpec& entry = planned.stage->entries()[i];
                StageCheck& check = checks.emplace_back();
                check.job = planned.job->name;
                check.from = entry.from;
                check.to = entry.to;
                check.host = host.name;
                checked->check(*planned.stage, i, planned.job->workdir, check);
            }
        }
    }
    return checks;
}

void print_stage_checks_text(std::ostream& out, const std::vector<StageCheck>& checks) {
    out << "\nstage check\n";
    for (const auto& c : checks) {
        std::string what = !c.error.empty()
                               ? "FAIL " + c.error
                               : fmt::format("{} file{}, {} bytes to send", c.files, c.files == 1 ? "" : "s", c.bytes);
        fmt::print(out, "  {} {} -> {} on {}: {}\n", terminal_safe(c.job), terminal_safe(c.from), terminal_safe(c.to),
                   terminal_safe(c.host), terminal_safe(what));
    }
}

nlohmann::ordered_json stage_checks_json(const std::vector<StageCheck>& checks) {
    nlohmann::ordered_json entries = nlohmann::ordered_json::array();
    for (const auto& c : checks) {
        nlohmann::ordered_json entry = {{"job", c.job}, {"from", c.from}, {"to", c.to}, {"host", c.host}};
        if (c.error.empty()) {
            entry["files"] = c.files;
            entry["bytes"] = c.bytes;
        } else {
            entry["error"] = c.error;
        }
        entries.push_back(std::move(entry));
    }
    return entries;
}

} // namespace sshard::cli
