// The transport a run uses: each host's own, by its `transport` key. Local hosts go to a LocalTransport, SSH
// hosts to an SshTransport, Slurm hosts to a SlurmTransport, an allocation's nodes to an AgentTransport; each is made
// only when some host needs it.
#pragma once

#include <memory>
#include <vector>

#include "core/spec.hpp"
#include "core/transport.hpp"
#include "transport/agent_transport.hpp"
#include "transport/local_sampler.hpp"
#include "transport/local_transport.hpp"
#include "transport/slurm_transport.hpp"
#include "transport/ssh_transport.hpp"

namespace sshard::transport {

class TransportSet final : public core::Transport {
public:
    // `hosts` must outlive the set; hosts appended to it during the run are told with add_host. Slurm hosts'
    // batches are written under `slurm_dir`; `submitted` are the handles of the tasks earlier sessions submitted
    // and recorded (core::ShardHistory::submitted_handles). Throws core::Error when a transport cannot start.
    TransportSet(core::TransportEvents& events, const std::vector<core::HostSpec>& hosts, SshOptions ssh_options,
                 const std::string& slurm_dir, const std::vector<std::string>& submitted = {});

    void connect(std::size_t host) override;
    void start(core::Launch launch) override;
    void cancel(std::uint64_t attempt, std::chrono::milliseconds grace) override;
    void shutdown() override;
    // Hosts added during the run go over SSH (a host file's hosts always do).
    void add_host(std::size_t host) override;
    void disconnect(std::size_t host) override;
    bool reports_starts(std::size_t host) const override;

private:
    core::Transport& for_host(std::size_t host) const;

    core::TransportEvents& m_events;
    const std::vector<core::HostSpec>& m_hosts;
    SshOptions m_ssh_options; // for an SSH transport made when the first SSH host is added
    std::unique_ptr<LocalTransport> m_local;
    std::unique_ptr<LocalSampler> m_sampler; // the local hosts' CPU and memory
    std::unique_ptr<SshTransport> m_ssh;
    std::unique_ptr<SlurmTransport> m_slurm;
    std::unique_ptr<AgentTransport> m_agents; // the nodes of `hosts: slurm_allocation`
};

} // namespace sshard::transport
