// Sizes of memory as users write them: `512M`, `2G`, `1.5G`, `64GiB`, or a bare number of bytes. Units are
// powers of 1024, as Slurm's `--mem` and GNU parallel's `--memfree` read them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sshard::core {

// Parses a size: a number (decimals allowed) then an optional unit K, M, G or T, itself optionally followed
// by `i`, `B` or `iB`. Returns nullopt for anything malformed, negative, or beyond 1 EiB.
std::optional<std::uint64_t> parse_byte_size(std::string_view text);

// Formats a size for messages and reports: the largest unit that keeps one decimal meaningful, "1.5 GiB",
// "512 MiB", "100 B".
std::string format_byte_size(std::uint64_t bytes);

} // namespace sshard::core
