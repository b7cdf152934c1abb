#include "core/host_pool.hpp"

#include <algorithm>

#include "core/backoff.hpp"

namespace sshard::core {

HostPool::HostPool(const std::vector<HostSpec>& hosts, const Clock& clock, std::mt19937_64& rng, Backoff reconnect,
                   Duration down_limit)
    : m_clock(clock), m_rng(rng), m_reconnect(reconnect), m_down_limit(down_limit) {
    for (const auto& spec : hosts) {
        Host host;
        host.spec = &spec;
        host.slots = spec.slots;
        m_hosts.push_back(host);
    }
}

void HostPool::start() {
    SteadyTime now = m_clock.now();
    for (auto& host : m_hosts) {
        host.unavailable_since = now;
    }
}

template <typename Change> void HostPool::update(std::size_t h, Change change) {
    Host& host = m_hosts[h];
    m_free.erase(free_host(h));
    m_down -= host.state == Host::State::down ? 1 : 0;
    change(host);
    m_down += host.state == Host::State::down ? 1 : 0;
    if (free_slots(host) > 0) {
        m_free.insert(free_host(h));
    }
}

void HostPool::set_up(std::size_t h, std::optional<int> cpus) {
    update(h, [&](Host& host) {
        host.state = Host::State::up;
        if (host.spec->auto_slots && cpus) {
            host.slots = std::max(1, *cpus);
        }
        host.reconnects = 0;
        host.reason.clear();
    });
}

bool HostPool::set_down(std::size_t h, const std::string& reason) {
    Host& host = m_hosts[h];
    if (host.state == Host::State::down) {
        return false;
    }
    SteadyTime now = m_clock.now();
    update(h, [&](Host& down) {
        if (down.state == Host::State::up || down.reason.empty()) {
            down.unavailable_since = now;
        }
        down.state = Host::State::down;
        down.reason = reason;
        down.reconnect_at = now + backoff_delay(m_reconnect, ++down.reconnects, m_rng);
    });
    return true;
}

std::vector<std::size_t> HostPool::take_due_reconnects() {
    SteadyTime now = m_clock.now();
    std::vector<std::size_t> due;
    for (std::size_t h = 0; h < m_hosts.size() && m_down > 0; ++h) {
        if (m_hosts[h].state == Host::State::down && now >= m_hosts[h].reconnect_at) {
            update(h, [](Host& host) { host.state = Host::State::connecting; });
            due.push_back(h);
        }
    }
    return due;
}

std::optional<SteadyTime> HostPool::next_reconnect() const {
    std::optional<SteadyTime> next;
    if (m_down == 0) {
        return next;
    }
    for (const auto& host : m_hosts) {
        if (host.state == Host::State::down) {
            next = next ? std::min(*next, host.reconnect_at) : host.reconnect_at;
        }
    }
    return next;
}

std::optional<std::size_t> HostPool::choose(const std::vector<std::size_t>& eligible,
                                            const std::vector<std::size_t>& failed) const {
    std::optional<std::size_t> best_untried;
    // Every host eligible (a job without a `hosts` filter) and none excluded: the first host with a free slot.
    if (failed.empty() && eligible.size() == m_hosts.size()) {
        return m_free.empty() ? std::nullopt : std::optional(m_free.begin()->index);
    }
    std::optional<std::size_t> best_tried;
    bool untried_up = false;
    for (std::size_t h : eligible) {
        const Host& host = m_hosts[h];
        if (host.state != Host::State::up) {
            continue;
        }
        bool tried = std::find(failed.begin(), failed.end(), h) != failed.end();
        untried_up = untried_up || !tried;
        if (host.running >= host.slots) {
            continue;
        }
        auto& best = tried ? best_tried : best_untried;
        if (!best || better(h, *best)) {
            best = h;
        }
    }
    if (best_untried) {
        return best_untried;
    }
    return untried_up ? std::nullopt : best_tried;
}

bool HostPool::better(std::size_t a, std::size_t b) const {
    const Host& x = m_hosts[a];
    const Host& y = m_hosts[b];
    if (x.spec->priority != y.spec->priority) {
        return x.spec->priority > y.spec->priority;
    }
    // Least loaded: compare running/slots without division.
    return static_cast<long>(x.running) * y.slots < static_cast<long>(y.running) * x.slots;
}

void HostPool::occupy(std::size_t host) {
    update(host, [](Host& h) { ++h.running; });
}

void HostPool::release(std::size_t host) {
    update(host, [](Host& h) { --h.running; });
}

std::optional<SteadyTime> HostPool::down_limit_expiry(const std::vector<std::size_t>& eligible) const {
    SteadyTime latest{};
    for (std::size_t h : eligible) {
        // A host whose first connection is still being made (waiting for a handshake slot on a busy machine)
        // has not failed yet: only a failed or lost connection counts towards the limit.
        bool first_try = m_hosts[h].state == Host::State::connecting && m_hosts[h].reason.empty();
        if (m_hosts[h].state == Host::State::up || first_try) {
            return std::nullopt;
        }
        latest = std::max(latest, m_hosts[h].unavailable_since);
    }
    return latest + m_down_limit;
}

bool HostPool::any_up() const {
    return std::any_of(m_hosts.begin(), m_hosts.end(), [](const Host& h) { return h.state == Host::State::up; });
}

} // namespace sshard::core
