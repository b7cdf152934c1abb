#include "cli/plan_command.hpp"

#include <iostream>
#include <memory>
#include <optional>

#include "cli/common_options.hpp"
#include "cli/exit_codes.hpp"
#include "cli/plan_check.hpp"
#include "cli/plan_printer.hpp"
#include "cli/prediction_printer.hpp"
#include "core/plan.hpp"
#include "core/run_dir.hpp"
#include "core/run_inputs.hpp"
#include "core/simulation.hpp"

namespace sshard::cli {

Command add_plan_command(CLI::App& app) {
    auto options = std::make_shared<PlanOptions>();
    CLI::App* command = app.add_subcommand("plan", "Show what a run would do, touching nothing");
    command->add_option("SPEC", options->spec, "The job spec (YAML); with --predict, the past run's copy by default");
    add_host_options(*command, options->hosts);
    auto* show_env = command->add_flag("--show-env", options->show_env, "Show environment values (hidden by default)");
    add_env_option(*command, options->pass_env);
    command
        ->add_option("--predict", options->predict,
                     "Predict the makespan and utilization from the run times of the run in RUN_DIR")
        ->excludes(show_env);
    command->add_option("--format", options->format, "Output format")
        ->check(CLI::IsMember({"text", "json"}))
        ->capture_default_str();
    command
        ->add_flag("--check", options->check,
                   "Connect to the hosts and say how many bytes each job's stage would send to each")
        ->excludes("--predict");
    add_ssh_options(*command, options->ssh);
    return {command, [options] {
                if (options->spec.empty() && options->predict.empty()) {
                    throw CLI::RequiredError("SPEC (or --predict RUN_DIR)");
                }
                return plan_command(*options);
            }};
}

namespace {

// The spec as given, or the past run's copy of the spec it ran with its copies of `lines` files.
core::Spec load_predicted_spec(const PlanOptions& options, const core::RunDir& past) {
    if (!options.spec.empty()) {
        return load_spec_with_hosts(options.spec, options.hosts, options.pass_env);
    }
    core::LoadOptions load_options = host_load_options(options.hosts);
    load_options.pass_env = options.pass_env;
    load_options.lines_dir = core::inputs_dir(past.path());
    return core::load_spec(past.spec_path(), load_options);
}

int predict_command(const PlanOptions& options) {
    core::RunDir past = core::RunDir::open(options.predict);
    core::PastDurations durations = core::PastDurations::read(past.journal_path());
    core::Spec spec = load_predicted_spec(options, past);
    core::Prediction prediction = core::predict(core::make_plan(spec), durations);
    PredictionSource source{spec.name, past.path()};
    if (options.format == "json") {
        print_prediction_json(std::cout, source, prediction);
    } else {
        print_prediction_text(std::cout, source, prediction);
    }
    std::cout.flush();
    return std::cout ? k_exit_ok : k_exit_cannot_proceed;
}

} // namespace

int plan_command(const PlanOptions& options) {
    if (!options.predict.empty()) {
        return predict_command(options);
    }
    core::Spec spec = load_spec_with_hosts(options.spec, options.hosts, options.pass_env);
    core::Plan plan = core::make_plan(spec);
    std::optional<std::vector<StageCheck>> checks;
    if (options.check) {
        checks = check_stages(plan, ssh_options(options.ssh));
    }
    if (options.format == "json") {
        print_plan_json(std::cout, plan, options.show_env,
                        checks ? stage_checks_json(*checks) : nlohmann::ordered_json());
    } else {
        print_plan_text(std::cout, plan, options.show_env);
        if (checks) {
            print_stage_checks_text(std::cout, *checks);
        }
    }
    std::cout.flush();
    return std::cout ? k_exit_ok : k_exit_cannot_proceed;
}

} // namespace sshard::cli
