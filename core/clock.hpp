// Time as the scheduler sees it, behind an interface so tests can drive it by hand.
#pragma once

#include <chrono>

namespace sshard::core {

using SteadyTime = std::chrono::steady_clock::time_point;

class Clock {
public:
    virtual ~Clock() = default;
    // Monotonic time, for timers and durations.
    virtual SteadyTime now() const = 0;
    // Calendar time, for records.
    virtual std::chrono::system_clock::time_point wall() const = 0;
};

// Seconds since the Unix epoch, to the millisecond: how the journal and the joblog write times.
inline double unix_seconds(std::chrono::system_clock::time_point time) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
    return static_cast<double>(ms) / 1000.0;
}

class SystemClock final : public Clock {
public:
    SteadyTime now() const override { return std::chrono::steady_clock::now(); }
    std::chrono::system_clock::time_point wall() const override { return std::chrono::system_clock::now(); }
};

} // namespace sshard::core
