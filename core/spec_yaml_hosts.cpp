// The spec's `hosts` and a job's `hosts` filter. A host is a string (core/hosts.hpp) or a mapping; either may
// name many hosts with a hostlist pattern (core/hostlist.hpp).
#include <algorithm>
#include <fmt/format.h>

#include "core/hostlist.hpp"
#include "core/hosts.hpp"
#include "core/slurm_allocation.hpp"
#include "core/spec_limits.hpp"
#include "core/spec_yaml.hpp"

namespace sshard::core {

namespace {

void add_hosts(YamlReader& yaml, const YAML::Node& node, std::vector<HostSpec> more, std::vector<HostSpec>& hosts) {
    for (auto& host : more) {
        auto same = [&](const HostSpec& h) { return h.name == host.name; };
        if (std::any_of(hosts.begin(), hosts.end(), same)) {
            yaml.error(node, fmt::format("duplicate host '{}' (each host may be listed once; use an alias in your "
                                         "ssh config to reach one machine twice)",
                                         host.name));
            return;
        }
        hosts.push_back(std::move(host));
    }
}

TransportKind read_transport(YamlReader& yaml, const YAML::Node& node) {
    auto text = yaml.scalar(node, "transport");
    if (text == "local") {
        return TransportKind::local;
    }
    if (text == "slurm") {
        return TransportKind::slurm;
    }
    if (text && text != "ssh") {
        yaml.error(node, fmt::format("unknown transport '{}' (use 'ssh', 'local' or 'slurm')", *text));
    }
    return TransportKind::ssh;
}

SlurmSettings read_slurm(YamlReader& yaml, const YAML::Node& node) {
    SlurmSettings slurm;
    if (!yaml.check_map(node, "'slurm'", {"partition", "account", "time", "options"})) {
        return slurm;
    }
    for (auto [key, value] : {std::pair{"partition", &slurm.partition}, std::pair{"account", &slurm.account}}) {
        if (node[key]) {
            *value = yaml.scalar(node[key], key).value_or("");
        }
    }
    if (node["time"]) {
        slurm.time = yaml.duration(node["time"], "time", false);
    }
    if (node["options"]) {
        slurm.options = yaml.string_list(node["options"], "options", false);
    }
    return slurm;
}

// The settings of a host mapping, which every host its name expands to shares.
HostSpec read_host_settings(YamlReader& yaml, const YAML::Node& node, int local_cpus) {
    HostSpec base;
    if (node["user"]) {
        base.user = yaml.scalar(node["user"], "user").value_or("");
        if (base.user.empty() && node["user"].IsScalar()) {
            yaml.error(node["user"], "'user' must not be empty (leave it out to take ssh_config's)");
        }
    }
    if (node["port"]) {
        base.port = static_cast<int>(yaml.integer(node["port"], "port", 1, 65535).value_or(0));
    }
    if (const auto& slots = node["slots"]; slots && slots.IsScalar() && slots.Scalar() == "auto") {
        base.auto_slots = true;
    } else if (slots) {
        base.slots = static_cast<int>(yaml.integer(slots, "slots", 1, k_max_slots).value_or(1));
    }
    if (node["priority"]) {
        base.priority =
            static_cast<int>(yaml.integer(node["priority"], "priority", -k_max_priority, k_max_priority).value_or(0));
    }
    if (node["labels"]) {
        base.labels = yaml.string_list(node["labels"], "labels", false);
    }
    if (node["transport"]) {
        base.transport = read_transport(yaml, node["transport"]);
    }
    if (node["slurm"]) {
        base.slurm = read_slurm(yaml, node["slurm"]);
        if (base.transport != TransportKind::slurm) {
            yaml.error(node["slurm"], "'slurm' is for hosts of 'transport: slurm'");
        }
    }
    if (base.auto_slots && base.transport == TransportKind::slurm) {
        yaml.error(node["slots"], "a Slurm host's 'slots' must be a number (shards queued or running at most)");
    }
    read_host_limits(yaml, node, base);
    if (base.auto_slots && base.transport == TransportKind::local) {
        base.slots = std::max(1, local_cpus);
    }
    return base;
}

// Adds a host named by each name `pattern` expands to, with the settings of `base`.
void add_expanded_hosts(YamlReader& yaml, const YAML::Node& node, const std::string& pattern, const HostSpec& base,
                        std::vector<HostSpec>& hosts) {
    try {
        std::vector<HostSpec> more;
        for (auto& expanded : expand_hostlist(pattern, k_max_hosts_per_pattern)) {
            more.push_back(base);
            more.back().name = std::move(expanded);
        }
        add_hosts(yaml, node, std::move(more), hosts);
    } catch (const HostlistError& e) {
        yaml.error(node, e.what());
    }
}

void read_host_map(YamlReader& yaml, const YAML::Node& node, int local_cpus, std::vector<HostSpec>& hosts) {
    if (!yaml.check_map(node, "a host",
                        {"name", "user", "port", "slots", "priority", "labels", "transport", "slurm", "max_load",
                         "min_free_memory"})) {
        return;
    }
    if (!node["name"]) {
        yaml.error(node, "a host needs a 'name'");
        return;
    }
    HostSpec base = read_host_settings(yaml, node, local_cpus);
    if (auto pattern = yaml.scalar(node["name"], "name")) {
        add_expanded_hosts(yaml, node["name"], *pattern, base, hosts);
    }
}

} // namespace

void read_host_limits(YamlReader& yaml, const YAML::Node& node, HostSpec& host) {
    if (auto load = node["max_load"] ? yaml.fraction(node["max_load"], "max_load") : std::nullopt) {
        host.max_load = load;
    }
    if (auto free =
            node["min_free_memory"] ? yaml.byte_size(node["min_free_memory"], "min_free_memory") : std::nullopt) {
        host.min_free_memory = free;
    }
}

void read_hosts(YamlReader& yaml, const YAML::Node& node, int local_cpus, std::vector<HostSpec>& hosts) {
    if (node.IsScalar() && node.Scalar() == k_slurm_allocation) {
        try {
            hosts = allocation_hosts_from_environment();
        } catch (const HostlistError& e) {
            yaml.error(node, e.what());
        }
        return;
    }
    if (!node.IsSequence()) {
        yaml.error(node, "'hosts' must be a list of host strings or mappings, or 'slurm_allocation'");
        return;
    }
    for (const auto& entry : node) {
        if (entry.IsMap()) {
            read_host_map(yaml, entry, local_cpus, hosts);
            continue;
        }
        auto text = yaml.scalar(entry, "hosts");
        if (!text) {
            continue;
        }
        try {
            add_hosts(yaml, entry, parse_host_string(*text), hosts);
        } catch (const HostlistError& e) {
            yaml.error(entry, e.what());
        }
    }
}

std::optional<HostFilter> read_host_filter(YamlReader& yaml, const YAML::Node& node) {
    HostFilter filter;
    if (node.IsMap()) {
        if (!yaml.check_map(node, "a job's 'hosts'", {"names", "labels"})) {
            return std::nullopt;
        }
        if (node["names"]) {
            filter.patterns = yaml.string_list(node["names"], "names", true);
        }
        if (node["labels"]) {
            filter.labels = yaml.string_list(node["labels"], "labels", true);
        }
    } else {
        filter.patterns = yaml.string_list(node, "hosts", true);
    }
    for (const auto& pattern : filter.patterns) {
        try {
            expand_hostlist(pattern, k_max_hosts_per_pattern);
        } catch (const HostlistError& e) {
            yaml.error(node, e.what());
            return std::nullopt;
        }
    }
    return filter;
}

} // namespace sshard::core
