#include "transport/ssh_transport.hpp"

#include <algorithm>
#include <cassert>
#include <libssh/libssh.h>

#include "transport/handshake_gate.hpp"
#include "transport/ssh_host.hpp"

namespace sshard::transport {

// Passes the hosts' reports on to the scheduler, forgetting where an attempt runs once its outcome is out.
class SshTransport::Reports final : public core::TransportEvents {
public:
    Reports(SshTransport& transport, core::TransportEvents& events) : m_transport(transport), m_events(events) {}

    void on_finished(std::uint64_t attempt, core::Outcome outcome) override {
        m_transport.forget(attempt);
        m_events.on_finished(attempt, std::move(outcome));
    }
    void on_started(std::uint64_t attempt) override { m_events.on_started(attempt); }
    void on_host_state(std::size_t host, core::HostState state) override {
        m_events.on_host_state(host, std::move(state));
    }
    void on_host_sample(std::size_t host, core::HostSample sample) override { m_events.on_host_sample(host, sample); }

private:
    SshTransport& m_transport;
    core::TransportEvents& m_events;
};

SshTransport::SshTransport(core::TransportEvents& events, const std::vector<core::HostSpec>& hosts, SshOptions options)
    : m_table(hosts), m_options(std::move(options)), m_reports(std::make_unique<Reports>(*this, events)),
      m_gate(std::make_unique<HandshakeGate>(std::clamp(m_options.max_handshakes, 1, 64))) {
    ssh_init();
    for (std::size_t i = 0; i < hosts.size(); ++i) {
        add_host(i);
    }
}

void SshTransport::add_host(std::size_t host) {
    m_hosts.resize(std::max(m_hosts.size(), host + 1));
    m_let_go.resize(m_hosts.size());
    if (m_table[host].transport == core::TransportKind::ssh) {
        m_hosts[host] = std::make_unique<SshHost>(*m_reports, m_table[host], host, m_options, *m_gate);
    }
}

void SshTransport::disconnect(std::size_t host) {
    assert(m_hosts.at(host));
    m_hosts[host]->post_shutdown();
    m_let_go[host] = true;
}

SshTransport::~SshTransport() {
    shutdown();
}

void SshTransport::connect(std::size_t host) {
    assert(m_hosts.at(host));
    if (m_let_go[host]) {
        m_hosts[host]->join(); // quick: it had nothing running and was told to end when let go
        m_hosts[host] = std::make_unique<SshHost>(*m_reports, m_table[host], host, m_options, *m_gate);
        m_let_go[host] = false;
    }
    m_hosts[host]->post_connect();
}

void SshTransport::start(core::Launch launch) {
    assert(m_hosts.at(launch.host));
    {
        std::lock_guard lock(m_mutex);
        m_attempt_hosts[launch.attempt] = launch.host;
    }
    SshHost& host = *m_hosts[launch.host];
    host.post_start(std::move(launch));
}

void SshTransport::cancel(std::uint64_t attempt, std::chrono::milliseconds grace) {
    std::size_t host = 0;
    {
        std::lock_guard lock(m_mutex);
        auto it = m_attempt_hosts.find(attempt);
        if (it == m_attempt_hosts.end()) {
            return;
        }
        host = it->second;
    }
    m_hosts[host]->post_cancel(attempt, grace);
}

void SshTransport::shutdown() {
    if (m_shut_down) {
        return;
    }
    m_shut_down = true;
    m_gate->stop(); // no host's thread waits for a handshake now
    for (auto& host : m_hosts) {
        if (host) {
            host->post_shutdown();
        }
    }
    for (auto& host : m_hosts) {
        if (host) {
            host->join();
        }
    }
}

void SshTransport::forget(std::uint64_t attempt) {
    std::lock_guard lock(m_mutex);
    m_attempt_hosts.erase(attempt);
}

} // namespace sshard::transport
