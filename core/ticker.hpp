// A thread of its own that calls a function every interval until it is stopped: the host-file poll and the
// local host's /proc sampler. Stopping does not wait out the interval.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace sshard::core {

class Ticker {
public:
    // Calls `tick` every `interval`, the first time one interval from now, on a new thread; throws Error when
    // the thread cannot be started. `tick` must not throw.
    Ticker(std::chrono::milliseconds interval, std::function<void()> tick);
    // Stops the thread.
    ~Ticker();
    Ticker(const Ticker&) = delete;
    Ticker& operator=(const Ticker&) = delete;

    // Returns once the thread has ended: a tick under way finishes first, and none comes after. Idempotent.
    void stop();

private:
    void run();

    std::chrono::milliseconds m_interval;
    std::function<void()> m_tick;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    bool m_stop = false;
    std::thread m_thread;
};

} // namespace sshard::core
