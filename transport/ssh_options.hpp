// How the SSH transport and `sshard hosts --check` reach hosts: the user's ssh_config, host keys, and the time
// limits of handshakes, keepalives and kills.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

namespace sshard::transport {

struct SshOptions {
    std::string config_file;           // an ssh_config to read instead of ~/.ssh/config and /etc/ssh/ssh_config
    bool accept_new_host_keys = false; // like OpenSSH's StrictHostKeyChecking=accept-new
    // The limit of each phase of a handshake, and of any other wait for a host's answer.
    std::chrono::seconds connect_timeout{10};
    // A host that sends nothing for this long, keepalives included, is lost.
    std::chrono::seconds dead_after{10};
    // When a slot worker's channel closes (sshard gone, connection lost), between TERM and KILL to its shard.
    std::chrono::milliseconds kill_grace{5000};
    std::chrono::seconds keepalive_interval{2};
    int max_handshakes = 8; // connection set-ups in flight across all hosts
    // Where libssh's own log lines go, each with its host's name in front; when empty, nowhere.
    std::function<void(std::string_view)> log;
};

} // namespace sshard::transport
