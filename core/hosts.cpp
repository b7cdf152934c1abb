#include "core/hosts.hpp"

#include <algorithm>
#include <charconv>
#include <fmt/format.h>
#include <fnmatch.h>
#include <unordered_set>

#include "core/hostlist.hpp"
#include "core/slurm_allocation.hpp"
#include "core/spec_limits.hpp"

namespace sshard::core {

namespace {

bool parse_number(std::string_view text, int min, int max, int& out) {
    int value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
        return false;
    }
    out = value;
    return true;
}

// The position of the ':' that starts a port: the last one outside brackets, or npos.
std::size_t port_colon(std::string_view text) {
    int depth = 0;
    std::size_t found = std::string_view::npos;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '[') {
            ++depth;
        } else if (text[i] == ']') {
            --depth;
        } else if (text[i] == ':' && depth == 0) {
            found = i;
        }
    }
    return found;
}

} // namespace

std::vector<HostSpec> parse_host_string(std::string_view text) {
    HostSpec base;
    std::string_view rest = text;
    if (auto slash = rest.find('/'); slash != std::string_view::npos) {
        if (!parse_number(rest.substr(0, slash), 1, k_max_slots, base.slots)) {
            throw HostlistError(fmt::format("bad slot count '{}' in host '{}' (a number from 1 to {})",
                                            rest.substr(0, slash), text, k_max_slots));
        }
        rest.remove_prefix(slash + 1);
    }
    if (auto at = rest.find('@'); at != std::string_view::npos) {
        base.user = std::string(rest.substr(0, at));
        if (base.user.empty()) {
            throw HostlistError(fmt::format("empty user name in host '{}'", text));
        }
        rest.remove_prefix(at + 1);
    }
    if (auto colon = port_colon(rest); colon != std::string_view::npos) {
        if (!parse_number(rest.substr(colon + 1), 1, 65535, base.port)) {
            throw HostlistError(
                fmt::format("bad port '{}' in host '{}' (a number from 1 to 65535)", rest.substr(colon + 1), text));
        }
        rest = rest.substr(0, colon);
    }
    std::vector<HostSpec> hosts;
    for (auto& name : expand_hostlist(rest, k_max_hosts_per_pattern)) {
        hosts.push_back(base);
        hosts.back().name = std::move(name);
    }
    return hosts;
}

std::vector<HostSpec> parse_host_list(std::string_view text) {
    if (text == k_slurm_allocation) {
        return allocation_hosts_from_environment();
    }
    std::vector<HostSpec> hosts;
    std::unordered_set<std::string> names;
    for (const auto& part : split_hostlists(text)) {
        for (auto& host : parse_host_string(part)) {
            if (!names.insert(host.name).second) {
                throw HostlistError(fmt::format("host '{}' is listed twice", host.name));
            }
            hosts.push_back(std::move(host));
        }
    }
    return hosts;
}

bool host_matches(std::string_view name, std::string_view pattern) {
    std::string subject(name);
    for (const auto& expanded : expand_hostlist(pattern, k_max_hosts_per_pattern)) {
        if (fnmatch(expanded.c_str(), subject.c_str(), 0) == 0) {
            return true;
        }
    }
    return false;
}

std::vector<std::size_t> filter_hosts(const std::vector<HostSpec>& hosts, const HostFilter& filter) {
    std::vector<std::size_t> chosen;
    for (std::size_t i = 0; i < hosts.size(); ++i) {
        const auto& host = hosts[i];
        bool name_ok =
            filter.patterns.empty() || std::any_of(filter.patterns.begin(), filter.patterns.end(),
                                                   [&](const std::string& p) { return host_matches(host.name, p); });
        bool labels_ok = std::all_of(filter.labels.begin(), filter.labels.end(), [&](const std::string& l) {
            return std::find(host.labels.begin(), host.labels.end(), l) != host.labels.end();
        });
        if (name_ok && labels_ok) {
            chosen.push_back(i);
        }
    }
    return chosen;
}

} // namespace sshard::core
