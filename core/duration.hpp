// Durations as users write them: `250ms`, `30s`, `5m`, `1h30m`, `2d`, or a bare number of seconds (`1.5`).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace sshard::core {

using Duration = std::chrono::milliseconds;

// Parses a duration; returns nullopt for anything malformed, negative, or beyond 100 days.
// Units: ms, s, m, h, d; parts in decreasing order, each unit once ("1h30m", not "30m1h").
std::optional<Duration> parse_duration(std::string_view text);

// Formats compactly and losslessly for display: "250ms", "30s", "1h30m", "1m0.5s"; zero is "0s".
std::string format_duration(Duration duration);

} // namespace sshard::core
