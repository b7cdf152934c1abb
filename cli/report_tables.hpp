// The tables that the text and the HTML report share: the same columns and the same cells, each report
// drawing them its own way (fixed-width columns on a terminal, <table> in HTML).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/report.hpp"

namespace sshard::cli {

struct Column {
    std::string name;
    int width = 0; // the text report's least width: columns widen to their longest cell
};

struct Table {
    std::vector<Column> columns;
    std::vector<std::vector<std::string>> rows; // cells as text, not yet made safe for a terminal or HTML; n/a
                                                // where nothing was measured
};

// One row per job: shards by outcome, attempts, time and CPU efficiency.
Table jobs_table(const std::vector<core::JobReport>& jobs);

// One row per host: what it ran and lost, how busy its slots were, its CPU time and its connection set-up.
Table hosts_table(const std::vector<core::HostReport>& hosts);

// One row per host: its own CPU and memory over the run from its samples, n/a where it offers none, and how
// long it was held back from new shards by its limits, and why.
Table host_use_table(const std::vector<core::HostReport>& hosts);

// One row per host and then per job that staged or collected files: bytes and files each way, seconds and MB/s.
// No rows when nothing was transferred.
Table transfer_table(const core::Report& report);

// The shards of `shards` that neither succeeded, failed nor were skipped.
std::uint64_t not_run_count(const core::ShardCounts& shards);

} // namespace sshard::cli
