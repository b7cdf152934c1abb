// A clock that tests move by hand, for the scheduler and its parts.
#pragma once

#include "core/clock.hpp"
#include "core/duration.hpp"

namespace sshard::core::test {

class FakeClock final : public Clock {
public:
    SteadyTime now() const override { return m_now; }
    std::chrono::system_clock::time_point wall() const override {
        return std::chrono::system_clock::time_point(m_now.time_since_epoch());
    }
    void advance(Duration d) { m_now += d; }

private:
    SteadyTime m_now{std::chrono::hours(1000)};
};

} // namespace sshard::core::test
