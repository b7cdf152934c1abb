// `sshard hosts --check`: whether a host can be used, as a run would use it.
#pragma once

#include <optional>
#include <string>

#include "core/spec.hpp"
#include "transport/ssh_options.hpp"

namespace sshard::transport {

struct HostCheck {
    bool ok = false;
    std::string error;  // what failed: resolution, connection, host key, authentication
    std::string server; // the server's version banner
    std::optional<int> cpus;
    std::optional<double> setup_s; // connection, key check and authentication; none for a local host
    double round_trip_s = 0;       // running `true` on the host (for a local host: `/bin/sh -c true` here)
    std::string fallback;          // why shards would run a channel each instead of on slot workers; "" when not
};

// Connects, checks the host key, authenticates, runs two small commands and starts a slot worker; a local
// host runs `true` through /bin/sh as its shards would. Never throws.
HostCheck check_host(const core::HostSpec& host, const SshOptions& options);

} // namespace sshard::transport
