// Prints a plan for people (text) or programs (JSON).
#pragma once

#include <ostream>

#include "core/plan.hpp"

namespace sshard::cli {

// How many shards of each job the text plan lists before summarising the rest.
constexpr int k_plan_text_shards = 5;

// The hosts, then each job in dispatch order with its settings, eligible hosts and first shards. Environment
// values are shown only with `show_env`: they may hold secrets.
void print_plan_text(std::ostream& out, const core::Plan& plan, bool show_env);

// One JSON document: {"name", "spec", "hosts": [...], "jobs": [{..., "shards": [{"index", "command"}]}]}
// with every shard, streamed.
void print_plan_json(std::ostream& out, const core::Plan& plan, bool show_env);

} // namespace sshard::cli
