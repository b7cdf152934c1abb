// `sshard report`: the report of a finished or interrupted run, read from its journal, as text, JSON, CSV or
// HTML.
#pragma once

#include <string>

#include "cli/command.hpp"

namespace sshard::cli {

struct ReportOptions {
    std::string run_dir = ".sshard/runs"; // a run directory, or a folder of runs (its latest)
    std::string format = "text";          // text, json, csv, html
};

// Declares `report` and its options on `app`.
Command add_report_command(CLI::App& app);

// Prints the report on stdout and returns 0, or 3 when stdout cannot be written. Throws core::UsageError when
// the directory is not a run's, core::Error when its journal cannot be read.
int report_command(const ReportOptions& options);

} // namespace sshard::cli
