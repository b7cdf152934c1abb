#include "core/ticker.hpp"

#include <system_error>
#include <utility>

#include "core/error.hpp"

namespace sshard::core {

Ticker::Ticker(std::chrono::milliseconds interval, std::function<void()> tick)
    : m_interval(interval), m_tick(std::move(tick)) {
    try {
        m_thread = std::thread([this] { run(); });
    } catch (const std::system_error& error) {
        throw Error(std::string("cannot start a thread: ") + error.what());
    }
}

Ticker::~Ticker() {
    stop();
}

void Ticker::stop() {
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_one();
    if (m_thread.joinable()) {
        m_thread.join();
    }
}

void Ticker::run() {
    std::unique_lock lock(m_mutex);
    while (!m_wake.wait_for(lock, m_interval, [this] { return m_stop; })) {
        lock.unlock();
        m_tick();
        lock.lock();
    }
}

} // namespace sshard::core
