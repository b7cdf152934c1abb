#include "cli/units.hpp"

#include <ctime>
#include <fmt/format.h>

#include "core/duration.hpp"

namespace sshard::cli {

std::string seconds_text(double seconds) {
    return core::format_duration(core::Duration(static_cast<core::Duration::rep>(seconds * 1000.0 + 0.5)));
}

std::string percent_text(double share) {
    return fmt::format("{:.1f}%", share * 100.0);
}

std::string seconds_text(std::optional<double> seconds) {
    return seconds ? seconds_text(*seconds) : "n/a";
}

std::string percent_text(std::optional<double> share) {
    return share ? percent_text(*share) : "n/a";
}

std::string local_time_text(double unix_seconds) {
    auto t = static_cast<std::time_t>(unix_seconds);
    std::tm local{};
    localtime_r(&t, &local);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &local);
    return text;
}

} // namespace sshard::cli
