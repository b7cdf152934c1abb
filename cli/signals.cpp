#include "cli/signals.hpp"

#include <csignal>
#include <unistd.h>

namespace sshard::cli {

namespace {

// SIGUSR2 only wakes the watcher when it is time to stop.
sigset_t watched_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR2);
    return set;
}

} // namespace

SignalWatcher::SignalWatcher() {
    sigset_t set = watched_signals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    m_thread = std::thread([this] { watch(); });
}

SignalWatcher::~SignalWatcher() {
    pthread_kill(m_thread.native_handle(), SIGUSR2);
    m_thread.join();
}

void SignalWatcher::set_handler(std::function<void(int)> handler) {
    std::lock_guard lock(m_mutex);
    m_handler = std::move(handler);
}

void SignalWatcher::watch() {
    sigset_t set = watched_signals();
    while (true) {
        int signal = 0;
        if (sigwait(&set, &signal) != 0 || signal == SIGUSR2) {
            return;
        }
        if (++m_count >= 3) {
            _exit(130);
        }
        std::lock_guard lock(m_mutex);
        if (m_handler) {
            m_handler(signal);
        }
    }
}

} // namespace sshard::cli
