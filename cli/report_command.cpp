#include "cli/report_command.hpp"

#include <iostream>
#include <memory>

#include "cli/exit_codes.hpp"
#include "cli/report_html.hpp"
#include "cli/report_printer.hpp"
#include "core/report.hpp"
#include "core/run_dir.hpp"

namespace sshard::cli {

Command add_report_command(CLI::App& app) {
    auto options = std::make_shared<ReportOptions>();
    CLI::App* command = app.add_subcommand("report", "Print the report of a finished or interrupted run");
    command->add_option("RUN_DIR", options->run_dir, "A run directory, or a folder of runs (its latest)")
        ->capture_default_str();
    command->add_option("--format", options->format, "Output format")
        ->check(CLI::IsMember({"text", "json", "csv", "html"}))
        ->capture_default_str();
    return {command, [options] { return report_command(*options); }};
}

int report_command(const ReportOptions& options) {
    core::RunDir dir = core::RunDir::open(options.run_dir);
    if (options.format == "csv") {
        print_report_csv(std::cout, dir.path());
    } else if (options.format == "html") {
        print_report_html(std::cout, core::build_report(dir.path()), dir.path());
    } else if (options.format == "json") {
        print_report_json(std::cout, core::build_report(dir.path()));
    } else {
        print_report_text(std::cout, core::build_report(dir.path()));
    }
    std::cout.flush();
    return std::cout ? k_exit_ok : k_exit_cannot_proceed;
}

} // namespace sshard::cli
