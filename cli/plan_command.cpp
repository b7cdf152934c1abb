#include "cli/plan_command.hpp"

#include <iostream>
#include <memory>

#include "cli/common_options.hpp"
#include "cli/exit_codes.hpp"
#include "cli/plan_printer.hpp"
#include "core/plan.hpp"

namespace sshard::cli {

Command add_plan_command(CLI::App& app) {
    auto options = std::make_shared<PlanOptions>();
    CLI::App* command = app.add_subcommand("plan", "Show what a run would do, touching nothing");
    command->add_option("SPEC", options->spec, "The job spec (YAML)")->required();
    add_host_options(*command, options->hosts);
    command->add_flag("--show-env", options->show_env, "Show environment values (hidden by default)");
    add_env_option(*command, options->pass_env);
    command->add_option("--format", options->format, "Output format")
        ->check(CLI::IsMember({"text", "json"}))
        ->capture_default_str();
    return {command, [options] { return plan_command(*options); }};
}

int plan_command(const PlanOptions& options) {
    core::Spec spec = load_spec_with_hosts(options.spec, options.hosts, options.pass_env);
    core::Plan plan = core::make_plan(spec);
    if (options.format == "json") {
        print_plan_json(std::cout, plan, options.show_env);
    } else {
        print_plan_text(std::cout, plan, options.show_env);
    }
    std::cout.flush();
    return std::cout ? k_exit_ok : k_exit_cannot_proceed;
}

} // namespace sshard::cli
