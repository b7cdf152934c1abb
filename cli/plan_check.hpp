// `sshard plan --check`: how much each host would be sent by each job's stage, from the manifests the hosts
// hold (core/stager.hpp). It connects to the hosts and reads; it writes nothing anywhere.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "core/plan.hpp"
#include "transport/ssh_options.hpp"

namespace sshard::cli {

// One stage entry of one job on one of its hosts.
struct StageCheck {
    std::string job;
    std::string from;
    std::string to;
    std::string host;
    std::uint64_t files = 0; // to send
    std::uint64_t bytes = 0;
    std::string error; // why the host or the local tree could not be read; then nothing else is known
};

// Checks every stage entry of every job on each of its eligible hosts, one host after another. Never throws
// for a host or tree that fails: that is the check's error.
std::vector<StageCheck> check_stages(const core::Plan& plan, const transport::SshOptions& options);

// "stage check" and a line per entry and host.
void print_stage_checks_text(std::ostream& out, const std::vector<StageCheck>& checks);

// [{"job", "from", "to", "host", "files", "bytes"} or {..., "error"}].
nlohmann::ordered_json stage_checks_json(const std::vector<StageCheck>& checks);

} // namespace sshard::cli
