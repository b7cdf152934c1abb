#include "core/host_pool.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

#include "core/backoff.hpp"
#include "core/byte_size.hpp"

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

std::size_t HostPool::add(const HostSpec& spec) {
    Host host;
    host.spec = &spec;
    host.slots = spec.slots;
    host.unavailable_since = m_clock.now();
    m_hosts.push_back(host);
    return m_hosts.size() - 1;
}

std::optional<std::size_t> HostPool::find(const std::string& name) const {
    auto it = std::find_if(m_hosts.begin(), m_hosts.end(), [&](const Host& h) { return h.spec->name == name; });
    return it == m_hosts.end() ? std::nullopt : std::optional(static_cast<std::size_t>(it - m_hosts.begin()));
}

template <typename Change> void HostPool::update(std::size_t h, Change change) {
    Host& host = m_hosts[h];
    m_free.erase(free_host(h));
    m_down -= host.state == Host::State::down ? 1 : 0;
    change(host);
    m_down += host.state == Host::State::down ? 1 : 0;
    if (takes_one_slot(host)) {
        m_free.insert(free_host(h));
    }
}

void HostPool::start() {
    SteadyTime now = m_clock.now();
    for (auto& host : m_hosts) {
        host.unavailable_since = now;
    }
}

void HostPool::set_up(std::size_t h, std::optional<int> cpus, std::optional<std::uint64_t> memory) {
    update(h, [&](Host& host) {
        host.state = Host::State::up;
        if (host.spec->auto_slots && cpus) {
            host.slots = std::max(1, *cpus);
        }
        host.memory = memory ? memory : host.memory;
        host.sized = true;
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
        if (m_hosts[h].state == Host::State::down && !m_hosts[h].drained && now >= m_hosts[h].reconnect_at) {
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
        if (host.state == Host::State::down && !host.drained) {
            next = next ? std::min(*next, host.reconnect_at) : host.reconnect_at;
        }
    }
    return next;
}

std::optional<std::size_t> HostPool::choose(const std::vector<std::size_t>& eligible,
                                            const std::vector<std::size_t>& failed, const ShardNeed& need) const {
    std::optional<std::size_t> best_untried;
    // Every host eligible (a job without a `hosts` filter), none excluded, one slot and no memory: the first host
    // in the book.
    if (failed.empty() && eligible.size() == m_hosts.size() && need.cpus == 1 && need.memory == 0) {
        return m_free.empty() ? std::nullopt : std::optional(m_free.begin()->index);
    }
    std::optional<std::size_t> best_tried;
    bool untried_up = false;
    for (std::size_t h : eligible) {
        const Host& host = m_hosts[h];
        if (host.state != Host::State::up || host.drained || !could_hold(host, need)) {
            continue;
        }
        bool tried = std::find(failed.begin(), failed.end(), h) != failed.end();
        untried_up = untried_up || !tried;
        if (host.held || !has_free(host, need)) {
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

// What a host could hold when empty. Once up, a host that said nothing of its memory has none to promise.
HostCapacity HostPool::capacity(const Host& host) const {
    HostCapacity size;
    if (host.sized) {
        size.slots = host.slots;
        size.memory = host.memory.value_or(0);
    }
    return size;
}

// Whether `host`, once up, could hold `need` when nothing else runs there.
bool HostPool::could_hold(const Host& host, const ShardNeed& need) const {
    return host.slots >= need.cpus && (need.memory == 0 || host.memory.value_or(0) >= need.memory);
}

bool HostPool::has_free(const Host& host, const ShardNeed& need) const {
    if (host.running + need.cpus > host.slots) {
        return false;
    }
    return need.memory == 0 || (host.memory && host.memory_used + need.memory <= *host.memory);
}

void HostPool::occupy(std::size_t host, const ShardNeed& need) {
    update(host, [&](Host& h) {
        h.running += need.cpus;
        h.memory_used += need.memory;
    });
}

void HostPool::release(std::size_t host, const ShardNeed& need) {
    update(host, [&](Host& h) {
        h.running -= need.cpus;
        h.memory_used -= need.memory;
    });
}

bool HostPool::set_drained(std::size_t h, bool drained) {
    Host& host = m_hosts[h];
    if (host.drained == drained) {
        return false;
    }
    SteadyTime now = m_clock.now();
    update(h, [&](Host& changed) {
        changed.drained = drained;
        if (drained && changed.state == Host::State::up) {
            changed.unavailable_since = now;
        }
        if (!drained && changed.state == Host::State::down) {
            changed.reconnect_at = now;
            changed.reconnects = 0;
        }
    });
    return true;
}

std::vector<std::size_t> HostPool::take_idle_drained() {
    std::vector<std::size_t> idle;
    for (std::size_t h = 0; h < m_hosts.size(); ++h) {
        const Host& host = m_hosts[h];
        if (host.drained && host.state == Host::State::up && host.running == 0) {
            update(h, [](Host& drained) {
                drained.state = Host::State::down;
                drained.reason = "drained";
            });
            idle.push_back(h);
        }
    }
    return idle;
}

std::string HostPool::fits_none(const std::vector<std::size_t>& eligible, const ShardNeed& need) const {
    std::vector<HostCapacity> sizes;
    for (std::size_t h : eligible) {
        if (!m_hosts[h].sized) {
            return {};
        }
        sizes.push_back(capacity(m_hosts[h]));
    }
    return core::fits_none(need, sizes);
}

std::optional<HostHold> HostPool::sampled(std::size_t h, const HostSample& sample) {
    Host& host = m_hosts[h];
    const HostSpec& spec = *host.spec;
    if (!host.memory && sample.mem_total != 0) {
        host.memory = sample.mem_total;
    }
    HostHold change;
    auto percent = [](double share) { return static_cast<int>(std::lround(share * 100)); };
    std::uint64_t free = sample.mem_total - std::min(sample.mem_total, sample.mem_used);
    if (spec.max_load && sample.cpu_busy > *spec.max_load) {
        change = {true, "load",
                  fmt::format("CPU {}% busy, over max_load {}%", percent(sample.cpu_busy), percent(*spec.max_load))};
    } else if (spec.min_free_memory && sample.mem_total != 0 && free < *spec.min_free_memory) {
        change = {true, "memory",
                  fmt::format("{} of memory free, under min_free_memory {}", format_byte_size(free),
                              format_byte_size(*spec.min_free_memory))};
    }
    if (change.held == host.held) {
        return std::nullopt;
    }
    update(h, [&](Host& held) { held.held = change.held; });
    if (change.held) {
        host.held_kind = change.kind;
    } else {
        change.kind = host.held_kind; // the release names the hold it ends
    }
    return change;
}

std::optional<SteadyTime> HostPool::down_limit_expiry(const std::vector<std::size_t>& eligible) const {
    SteadyTime latest{};
    for (std::size_t h : eligible) {
        // A host whose first connection is still being made (waiting for a handshake slot on a busy machine)
        // has not failed yet: only a failed or lost connection counts towards the limit.
        bool first_try = m_hosts[h].state == Host::State::connecting && m_hosts[h].reason.empty();
        if ((m_hosts[h].state == Host::State::up || first_try) && !m_hosts[h].drained) {
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
