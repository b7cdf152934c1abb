// Prints a run's report as one self-contained HTML page: a Gantt chart of every slot's attempts
// (cli/gantt_chart.hpp) followed by the tables of the text report.
#pragma once

#include <ostream>
#include <string>

#include "core/report.hpp"

namespace sshard::cli {

// Writes the page for `report`, streaming the journal of `run_dir` once more for the chart. Throws core::Error
// when the journal cannot be read.
void print_report_html(std::ostream& out, const core::Report& report, const std::string& run_dir);

} // namespace sshard::cli
