// How the CLI writes times and shares for people.
#pragma once

#include <optional>
#include <string>

namespace sshard::cli {

// A number of seconds as a compact duration, to the millisecond: "250ms", "1m2.5s".
std::string seconds_text(double seconds);

// A share from 0 to 1 as a percentage with one decimal: "54.2%".
std::string percent_text(double share);

// The same, or "n/a" where nothing was measured.
std::string seconds_text(std::optional<double> seconds);
std::string percent_text(std::optional<double> share);

// Seconds since the Unix epoch as local time, "2026-11-26 19:03:29".
std::string local_time_text(double unix_seconds);

} // namespace sshard::cli
