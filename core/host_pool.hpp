// The hosts of a run as the scheduler sees them: which are up and how busy, which one a shard goes to, when a
// lost host is tried again, and when a job's hosts have all been away for the down limit. The scheduler's thread
// owns it; it talks to no transport and no listener, it only keeps the books.
//
// A host's capacity is its slots and, once it has said on connect, its memory; a shard takes its job's `cpus`
// slots and its `memory` (core/shard_fit.hpp) and goes only where both are free. A host whose last sample is
// over its `max_load` or under its `min_free_memory` is held back: it takes no new shard until a sample is
// within its limits again.
#pragma once

#include <cstddef>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/host_sample.hpp"
#include "core/shard_fit.hpp"
#include "core/spec.hpp"

namespace sshard::core {

class HostPool {
public:
    // `hosts`, `clock` and `rng` (shared with the scheduler's retry jitter) must outlive the pool. Every host
    // starts out connecting.
    HostPool(const std::vector<HostSpec>& hosts, const Clock& clock, std::mt19937_64& rng, Backoff reconnect,
             Duration down_limit);

    std::size_t size() const { return m_hosts.size(); }
    // Adds a host during the run, connecting from now, and returns its index. `spec` must outlive the pool.
    std::size_t add(const HostSpec& spec);
    // The index of the host named `name`, if the run has it.
    std::optional<std::size_t> find(const std::string& name) const;

    // The run starts: every host counts as unavailable from now, for the down limit.
    void start();
    // Host `host` is up. With `slots: auto`, `cpus` (where known) sets its slots; `memory` (where known) is
    // its memory, which shards with a `memory` need.
    void set_up(std::size_t host, std::optional<int> cpus, std::optional<std::uint64_t> memory = std::nullopt);
    // Host `host` is lost or could not connect, for `reason`: it is tried again after the reconnect backoff,
    // which grows with each failure in a row. Returns false when it was down already (nothing changed).
    bool set_down(std::size_t host, const std::string& reason);
    // The hosts whose time to reconnect has come, now connecting: the caller connects them.
    std::vector<std::size_t> take_due_reconnects();
    // When the next down host is due to reconnect, if any is down.
    std::optional<SteadyTime> next_reconnect() const;

    // Where a shard that takes `need` goes among `eligible` hosts (highest priority first, then the least
    // loaded), among those up, not held back and with `need` free, preferring hosts not in `failed` (where it
    // failed before): while such a host is up and could ever hold it, none of `failed` is chosen, so the shard
    // waits for it. nullopt: no host to take it now. `eligible` is as the plan makes it: each host once, highest
    // priority first, then spec order, which breaks ties. When it holds every host, `failed` is empty and the
    // shard takes one slot and no memory, the answer comes from a book of free hosts, without a walk.
    std::optional<std::size_t> choose(const std::vector<std::size_t>& eligible, const std::vector<std::size_t>& failed,
                                      const ShardNeed& need = {}) const;
    // An attempt that takes `need` starts on, or ends on, host `host`: its slots and memory in use, or free again.
    void occupy(std::size_t host, const ShardNeed& need = {});
    void release(std::size_t host, const ShardNeed& need = {});
    // Why `need` can never go to any of `eligible` (core/shard_fit.hpp), once each of them has been up and so
    // said its size; "" while it may.
    std::string fits_none(const std::vector<std::size_t>& eligible, const ShardNeed& need) const;

    // Host `host` was sampled: it is held back while the sample is over its `max_load` or under its
    // `min_free_memory`, and free again once a sample is within both. Returns the change, if any. A host that
    // said nothing of its memory on connect takes it from its samples.
    std::optional<HostHold> sampled(std::size_t host, const HostSample& sample);

    // Drains or undrains `host`; returns whether that changed anything. A drained host takes no new shard, counts
    // as away for the down limit, and is never reconnected; undrained, a host that was let go or lost is due to
    // reconnect at once.
    bool set_drained(std::size_t host, bool drained);
    // The drained hosts that are up with nothing running, now let go (down, not to be reconnected): the caller
    // disconnects them.
    std::vector<std::size_t> take_idle_drained();

    // When a job that may run on `eligible` has waited the down limit for a host, counting from the latest
    // time one of them was last up; nullopt while one of them is up.
    std::optional<SteadyTime> down_limit_expiry(const std::vector<std::size_t>& eligible) const;
    bool any_up() const;
    // Why `host` was last down, or "" when it never was since it was last up.
    const std::string& last_error(std::size_t host) const { return m_hosts[host].reason; }

private:
    struct Host {
        const HostSpec* spec = nullptr;
        int slots = 1;
        int running = 0; // slots in use
        std::optional<std::uint64_t> memory;
        std::uint64_t memory_used = 0; // promised to running shards
        bool sized = false;            // has been up, so its size is known
        bool held = false;
        std::string held_kind;
        bool drained = false;
        enum class State { connecting, up, down } state = State::connecting;
        SteadyTime unavailable_since{}; // when it was last seen up, or its first connection failed
        SteadyTime reconnect_at{};
        int reconnects = 0; // failures to connect in a row
        std::string reason;
    };

    // A host that takes a shard of one slot and no memory, where choose() prefers it: as better() orders hosts,
    // then by index, the order of a job's `eligible` among hosts that compare equal. update() takes it out and
    // puts it back as its load moves.
    struct FreeHost {
        int priority = 0;
        long running = 0;
        long slots = 1;
        std::size_t index = 0;
        bool operator<(const FreeHost& other) const {
            if (priority != other.priority) {
                return priority > other.priority;
            }
            if (running * other.slots != other.running * slots) {
                return running * other.slots < other.running * slots;
            }
            return index < other.index;
        }
    };
    FreeHost free_host(std::size_t h) const {
        return {m_hosts[h].spec->priority, m_hosts[h].running, m_hosts[h].slots, h};
    }
    bool takes_one_slot(const Host& host) const {
        return host.state == Host::State::up && !host.drained && !host.held && host.running < host.slots;
    }
    // Changes host `h` by `change`, keeping the books that spare choose() and the reconnect timers a walk over
    // every host: a thousand busy hosts and a million shards would make that a billion steps.
    template <typename Change> void update(std::size_t h, Change change);

    bool better(std::size_t a, std::size_t b) const;
    HostCapacity capacity(const Host& host) const;
    bool could_hold(const Host& host, const ShardNeed& need) const;
    bool has_free(const Host& host, const ShardNeed& need) const;

    std::vector<Host> m_hosts;
    const Clock& m_clock;
    std::mt19937_64& m_rng;
    Backoff m_reconnect;
    Duration m_down_limit;
    std::set<FreeHost> m_free; // the hosts where takes_one_slot()
    std::size_t m_down = 0;    // hosts down
};

} // namespace sshard::core
