// Ctrl-C and friends, handled on a thread of their own with sigwait(), so that the reaction can take locks and
// call into the scheduler, which a signal handler could not.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <pthread.h>
#include <thread>

namespace sshard::cli {

class SignalWatcher {
public:
    // Blocks SIGINT, SIGTERM and SIGHUP in the calling thread, so every thread started after inherits the
    // mask, and starts the watching thread. Construct it before any other thread.
    SignalWatcher();
    ~SignalWatcher();
    SignalWatcher(const SignalWatcher&) = delete;
    SignalWatcher& operator=(const SignalWatcher&) = delete;

    // Calls `handler` with the signal number for each signal that arrives; a third signal exits at once
    // with 130, in case the handler's work hangs. An empty handler only counts.
    void set_handler(std::function<void(int)> handler);
    int count() const { return m_count.load(); }

private:
    void watch();

    std::mutex m_mutex;
    std::function<void(int)> m_handler;
    std::atomic<int> m_count{0};
    std::thread m_thread;
};

} // namespace sshard::cli
