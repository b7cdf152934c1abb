#include "core/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace sshard::core {

Duration backoff_delay(const Backoff& backoff, int failures, std::mt19937_64& rng) {
    double delay = static_cast<double>(backoff.initial.count()) * std::pow(backoff.factor, failures - 1);
    delay = std::min(delay, static_cast<double>(backoff.max.count()));
    std::uniform_real_distribution<double> jitter(0.5, 1.0);
    return Duration(static_cast<Duration::rep>(delay * jitter(rng)));
}

} // namespace sshard::core
