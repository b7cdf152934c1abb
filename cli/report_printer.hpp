// Prints a run's report: text for people (tables that fit 100 columns, and a timeline per host), JSON for
// programs, CSV with one row per attempt.
#pragma once

#include <ostream>
#include <string>

#include "core/report.hpp"

namespace sshard::cli {

void print_report_text(std::ostream& out, const core::Report& report);
void print_report_json(std::ostream& out, const core::Report& report);
// Streams the journal of `run_dir`: one row per attempt. Throws core::Error when it cannot be read.
void print_report_csv(std::ostream& out, const std::string& run_dir);

} // namespace sshard::cli
