#include "transport/transport_set.hpp"

#include <algorithm>
#include <filesystem>

namespace sshard::transport {

TransportSet::TransportSet(core::TransportEvents& events, const std::vector<core::HostSpec>& hosts,
                           SshOptions ssh_options, const std::string& slurm_dir,
                           const std::vector<std::string>& submitted)
    : m_events(events), m_hosts(hosts), m_ssh_options(ssh_options) {
    auto uses = [&](core::TransportKind kind) {
        return std::any_of(hosts.begin(), hosts.end(), [&](const core::HostSpec& h) { return h.transport == kind; });
    };
    if (uses(core::TransportKind::local)) {
        m_local = std::make_unique<LocalTransport>(events, hosts.size());
        m_sampler = std::make_unique<LocalSampler>(events);
    }
    if (uses(core::TransportKind::ssh)) {
        m_ssh = std::make_unique<SshTransport>(events, hosts, std::move(ssh_options));
    }
    if (uses(core::TransportKind::slurm)) {
        // Absolute: sbatch's output paths and the tasks' files are read on the compute nodes.
        m_slurm =
            std::make_unique<SlurmTransport>(events, hosts, std::filesystem::absolute(slurm_dir).string(), submitted);
    }
    if (uses(core::TransportKind::slurm_agent)) {
        m_agents = std::make_unique<AgentTransport>(events, hosts);
    }
}

core::Transport& TransportSet::for_host(std::size_t host) const {
    switch (m_hosts.at(host).transport) {
    case core::TransportKind::local:
        return *m_local;
    case core::TransportKind::slurm:
        return *m_slurm;
    case core::TransportKind::slurm_agent:
        return *m_agents;
    case core::TransportKind::ssh:
        break;
    }
    return *m_ssh;
}

void TransportSet::connect(std::size_t host) {
    if (m_hosts.at(host).transport == core::TransportKind::local) {
        m_sampler->add(host);
    }
    for_host(host).connect(host);
}

bool TransportSet::reports_starts(std::size_t host) const {
    return for_host(host).reports_starts(host);
}

void TransportSet::start(core::Launch launch) {
    Transport& transport = for_host(launch.host);
    transport.start(std::move(launch));
}

// Attempt ids are unique across the run, and each transport ignores ids it did not start.
void TransportSet::cancel(std::uint64_t attempt, std::chrono::milliseconds grace) {
    if (m_local) {
        m_local->cancel(attempt, grace);
    }
    if (m_ssh) {
        m_ssh->cancel(attempt, grace);
    }
    if (m_slurm) {
        m_slurm->cancel(attempt, grace);
    }
    if (m_agents) {
        m_agents->cancel(attempt, grace);
    }
}

void TransportSet::add_host(std::size_t host) {
    if (!m_ssh) {
        m_ssh = std::make_unique<SshTransport>(m_events, m_hosts, m_ssh_options);
    } else {
        m_ssh->add_host(host);
    }
}

void TransportSet::disconnect(std::size_t host) {
    for_host(host).disconnect(host);
}

void TransportSet::shutdown() {
    if (m_sampler) {
        m_sampler->stop();
    }
    if (m_local) {
        m_local->shutdown();
    }
    if (m_ssh) {
        m_ssh->shutdown();
    }
    if (m_slurm) {
        m_slurm->shutdown();
    }
    if (m_agents) {
        m_agents->shutdown();
    }
}

} // namespace sshard::transport
