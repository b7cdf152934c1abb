#include "cli/prediction_printer.hpp"

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <nlohmann/json.hpp>

#include "cli/terminal.hpp"
#include "cli/units.hpp"

namespace sshard::cli {

namespace {

using nlohmann::ordered_json;

// A name for a column of `width`: cut to it and safe for the terminal.
std::string cell(const std::string& name, std::size_t width) {
    return terminal_safe(std::string_view(name).substr(0, width));
}

void print_jobs(std::ostream& out, const core::Prediction& prediction) {
    fmt::print(out, "\n{:<20} {:>9} {:>9} {:>10} {:>10} {:>10}\n", "job", "shards", "measured", "start", "end",
               "T_total");
    for (const auto& job : prediction.jobs) {
        fmt::print(out, "{:<20} {:>9} {:>9} {:>10} {:>10} {:>10}\n", cell(job.name, 20), job.shards, job.measured,
                   seconds_text(job.start_s), seconds_text(job.end_s), seconds_text(job.t_total_s));
    }
}

void print_hosts(std::ostream& out, const core::Prediction& prediction) {
    fmt::print(out, "\n{:<20} {:>6} {:>6} {:>10} {:>8}\n", "host", "slots", "speed", "busy", "R");
    for (const auto& host : prediction.hosts) {
        fmt::print(out, "{:<20} {:>6} {:>6.2f} {:>10} {:>8}\n", cell(host.name, 20), host.slots, host.speed,
                   seconds_text(host.busy_s), percent_text(host.utilization));
    }
}

void print_critical_path(std::ostream& out, const core::Prediction& prediction) {
    fmt::print(out, "\ncritical path (through needs)\n");
    for (std::size_t index : prediction.critical_path) {
        const core::PredictedJob& job = prediction.jobs[index];
        fmt::print(out, "  {:<20} {} to {}\n", cell(job.name, 20), seconds_text(job.start_s), seconds_text(job.end_s));
    }
}

} // namespace

void print_prediction_text(std::ostream& out, const PredictionSource& source, const core::Prediction& prediction) {
    fmt::print(out, "predicted run '{}' with the run times of {}\n", terminal_safe(source.name),
               terminal_safe(source.past_run));
    fmt::print(out, "  makespan {}, T_total {}, {} slots, utilization R {}, {} attempts\n",
               seconds_text(prediction.makespan_s), seconds_text(prediction.t_total_s), prediction.slots,
               percent_text(prediction.utilization), prediction.attempts);
    print_jobs(out, prediction);
    print_hosts(out, prediction);
    print_critical_path(out, prediction);
}

void print_prediction_json(std::ostream& out, const PredictionSource& source, const core::Prediction& prediction) {
    ordered_json jobs = ordered_json::array();
    for (const auto& job : prediction.jobs) {
        jobs.push_back({{"name", job.name},
                        {"shards", job.shards},
                        {"measured", job.measured},
                        {"start_s", job.start_s},
                        {"end_s", job.end_s},
                        {"t_total_s", job.t_total_s}});
    }
    ordered_json hosts = ordered_json::array();
    for (const auto& host : prediction.hosts) {
        hosts.push_back({{"name", host.name},
                         {"slots", host.slots},
                         {"speed", host.speed},
                         {"predicted_busy_s", host.busy_s},
                         {"predicted_utilization", host.utilization}});
    }
    ordered_json path = ordered_json::array();
    for (std::size_t index : prediction.critical_path) {
        const core::PredictedJob& job = prediction.jobs[index];
        path.push_back({{"job", job.name}, {"start_s", job.start_s}, {"end_s", job.end_s}});
    }
    ordered_json document = {{"name", source.name},
                             {"past_run", source.past_run},
                             {"predicted",
                              {{"makespan_s", prediction.makespan_s},
                               {"t_total_s", prediction.t_total_s},
                               {"slots", prediction.slots},
                               {"utilization", prediction.utilization},
                               {"attempts", prediction.attempts}}},
                             {"jobs", jobs},
                             {"hosts", hosts},
                             {"critical_path", path}};
    out << document.dump(2, ' ', false, ordered_json::error_handler_t::replace) << '\n';
}

} // namespace sshard::cli
