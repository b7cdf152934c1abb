// Each host's timeline in a report: how busy its slots were in equal slices of the run's active time.
#pragma once

#include <string>

#include "core/report.hpp"

namespace sshard::core {

// Sets each host's timeline in `report`, whose hosts and sessions are already counted, from the attempts in
// `journal`: k_timeline_slices shares of its slots, each from 0 to 1. Throws Error when the journal cannot be
// read.
void fill_timelines(const std::string& journal, Report& report);

} // namespace sshard::core
