// Prints a predicted run (`sshard plan --predict`): text for people, JSON for programs.
#pragma once

#include <ostream>
#include <string>

#include "core/simulation.hpp"

namespace sshard::cli {

// What the prediction is of: the spec's run name and the past run whose run times it replays.
struct PredictionSource {
    std::string name;
    std::string past_run;
};

// The makespan, T_total and utilization, a line per job and per host, and the critical path.
void print_prediction_text(std::ostream& out, const PredictionSource& source, const core::Prediction& prediction);

// One JSON document: {"name", "past_run", "predicted": {"makespan_s", "t_total_s", "slots", "utilization",
// "attempts"}, "jobs": [...], "hosts": [{..., "predicted_utilization"}], "critical_path": [...]}.
void print_prediction_json(std::ostream& out, const PredictionSource& source, const core::Prediction& prediction);

} // namespace sshard::cli
