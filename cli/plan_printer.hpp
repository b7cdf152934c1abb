// Prints a plan for people (text) or programs (JSON).
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "core/plan.hpp"

namespace sshard::cli {

// How a host's slots read: "auto" for an SSH host that counts its CPUs when it connects, else the number.
std::string slots_text(const core::HostSpec& host);

// "local" or "ssh".
const char* transport_name(core::TransportKind transport);

// The hosts, then each job in dispatch order with its settings, eligible hosts and first five shards. Environment
// values are shown only with `show_env`: they may hold secrets.
void print_plan_text(std::ostream& out, const core::Plan& plan, bool show_env);

// One JSON document: {"name", "spec", "hosts": [...], "jobs": [{..., "shards": [{"index", "command"}]}]}
// with every shard, streamed; then `stage_check` (plan --check) when it is not null.
void print_plan_json(std::ostream& out, const core::Plan& plan, bool show_env,
                     const nlohmann::ordered_json& stage_check = nlohmann::ordered_json());

} // namespace sshard::cli
