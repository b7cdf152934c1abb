// Messages from any thread to one thread that takes them all at once: the scheduler's events from the
// transports, a transport's requests from the scheduler. The taking thread either blocks in wait() or, when it
// also polls descriptors (the transports' I/O loops), polls wake_fd() with them.
#pragma once

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <sys/eventfd.h>
#include <unistd.h>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/unique_fd.hpp"

namespace sshard::core {

template <typename Message> class Mailbox {
public:
    // How the taking thread learns of a message: it waits on a condition, or polls a descriptor.
    enum class Wake { condition, descriptor };

    // With Wake::descriptor, creates the eventfd behind wake_fd(); throws Error when it cannot.
    explicit Mailbox(Wake wake = Wake::condition) {
        if (wake == Wake::descriptor) {
            m_wake_fd.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
            if (!m_wake_fd.is_open()) {
                throw Error(std::string("cannot create a wake-up descriptor: ") + std::strerror(errno));
            }
        }
    }

    // Adds `message` after those waiting and wakes the taking thread. Thread-safe.
    void post(Message message) {
        {
            std::lock_guard lock(m_mutex);
            m_messages.push_back(std::move(message));
        }
        m_posted.notify_one();
        if (m_wake_fd.is_open()) {
            std::uint64_t one = 1;
            // Only a counter overflow could make this fail, and any non-zero count wakes the poller.
            [[maybe_unused]] auto written = ::write(m_wake_fd.get(), &one, sizeof one);
        }
    }

    // Every message posted so far, oldest first; the mailbox is then empty and wake_fd() not readable until the
    // next post. Thread-safe.
    std::vector<Message> take() {
        if (m_wake_fd.is_open()) {
            // Before the messages are taken: a post after this wakes the poller again, so none is missed.
            std::uint64_t count = 0;
            [[maybe_unused]] auto got = ::read(m_wake_fd.get(), &count, sizeof count);
        }
        std::vector<Message> messages;
        std::lock_guard lock(m_mutex);
        messages.swap(m_messages);
        return messages;
    }

    // Blocks until a message waits or the time `until` passes (forever without it).
    void wait(std::optional<std::chrono::steady_clock::time_point> until) {
        std::unique_lock lock(m_mutex);
        auto ready = [this] { return !m_messages.empty(); };
        if (until) {
            m_posted.wait_until(lock, *until, ready);
        } else {
            m_posted.wait(lock, ready);
        }
    }

    // Readable once a message was posted since the last take(), for poll(2); -1 with Wake::condition.
    int wake_fd() const { return m_wake_fd.get(); }

private:
    std::mutex m_mutex;
    std::condition_variable m_posted;
    std::vector<Message> m_messages; // guarded by m_mutex
    UniqueFd m_wake_fd;
};

} // namespace sshard::core
