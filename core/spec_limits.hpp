// The bounds a spec's values must keep, in one place: the loader checks them, the host list parser and the
// messages quote them, and man/sshard.yaml.5 documents them.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sshard::core {

// Shards one job may have, whatever their kind.
constexpr std::uint64_t k_max_shards = 1'000'000'000'000;
// `range` bounds (`from`, `to`, `chunk`) lie within plus or minus this.
constexpr std::int64_t k_max_range_bound = 1'000'000'000'000'000;
// Slots one host may have.
constexpr int k_max_slots = 100'000;
// Host names one host pattern (`node[1-100000]`) may expand to.
constexpr std::size_t k_max_hosts_per_pattern = 100'000;
// Job and host priorities lie within plus or minus this.
constexpr int k_max_priority = 1'000'000;
// Retries one job may ask for.
constexpr int k_max_retries = 1000;
// Bytes in a job's or a run's name, which become directory names.
constexpr std::size_t k_max_name_length = 100;
// yaml-cpp holds a few hundred bytes per node, so a spec of 16 MiB may take a few GiB; longer lists belong in a
// `lines` file, which is read as plain text up to 1 GiB. Both bounds also stop /dev/zero and endless pipes.
constexpr std::size_t k_max_spec_bytes = std::size_t{16} << 20;
constexpr std::size_t k_max_lines_bytes = std::size_t{1} << 30;
// Values a spec may hold once aliases are expanded (each counted at each use) and merge keys copied: no more
// than a spec without aliases can hold, one a byte, so that a "billion laughs" of aliases stays bounded.
constexpr std::uint64_t k_max_spec_values = k_max_spec_bytes;
// A shard's value goes on a command line, and ARG_MAX is 2 MiB.
constexpr std::size_t k_max_line_bytes = std::size_t{1} << 20;

} // namespace sshard::core
