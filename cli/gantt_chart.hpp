// The Gantt chart of the HTML report: every slot's attempts on a time axis, as inline SVG (no script, nothing
// fetched), with a legend of the jobs' colours.
#pragma once

#include <cstddef>
#include <ostream>
#include <string>

#include "core/report.hpp"

namespace sshard::cli {

// The chart draws at most this many attempts, the earliest by start time, so huge runs still give a page a
// browser can open; the page says how many were left out.
constexpr std::size_t k_max_drawn = 20000;

// Writes the chart's heading, legend and SVG for `report`, streaming the journal of `run_dir` once more for
// the attempts' intervals. Each host gets as many lanes as its attempts needed (interval partitioning).
// Throws core::Error when the journal cannot be read.
void print_gantt(std::ostream& out, const core::Report& report, const std::string& run_dir);

} // namespace sshard::cli
