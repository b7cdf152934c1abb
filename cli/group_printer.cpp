#include "cli/group_printer.hpp"

#include <csignal>
#include <fmt/format.h>
#include <iostream>
#include <unistd.h>

#include "cli/terminal.hpp"
#include "core/error.hpp"

namespace sshard::cli {

GroupPrinter::GroupPrinter(const core::Spec& spec, int outputs, Title title, RunDisplay& display)
    : m_spec(spec), m_outputs(outputs), m_title(title), m_display(display) {
    try {
        m_printer = std::thread([this] { print_loop(); });
    } catch (const std::system_error& error) {
        throw core::Error(std::string("cannot start the output printer's thread: ") + error.what());
    }
}

GroupPrinter::~GroupPrinter() {
    stop();
}

// On the scheduler's thread: only a note of what to print.
void GroupPrinter::attempt_finished(const core::Attempt& attempt, const core::AttemptEnd& end) {
    if (end.verdict == core::Verdict::retry || end.verdict == core::Verdict::requeued) {
        return;
    }
    const std::string& host = m_spec.hosts[attempt.host].name;
    StoredAttempt stored{attempt.job->name, fmt::format("{}.{}", attempt.index, attempt.number),
                         m_title == Title::host ? host
                                                : fmt::format("{}[{}]@{}", attempt.job->name, attempt.index, host)};
    {
        std::lock_guard lock(m_mutex);
        m_queue.push_back(std::move(stored));
    }
    m_wake.notify_one();
}

void GroupPrinter::run_finished(const core::RunSummary&) {
    stop();
}

// Prints what is queued, in order, until stopped with nothing left.
void GroupPrinter::print_loop() {
    std::unique_lock lock(m_mutex);
    while (true) {
        m_wake.wait(lock, [this] { return m_stopping || !m_queue.empty(); });
        if (m_queue.empty()) {
            return;
        }
        StoredAttempt stored = std::move(m_queue.front());
        m_queue.pop_front();
        lock.unlock();
        print(stored);
        lock.lock();
    }
}

void GroupPrinter::print(const StoredAttempt& stored) {
    if (m_closed) {
        return;
    }
    bool written = true;
    m_display.print_above([&] {
        try {
            written = print_attempt(std::cout, std::cerr, m_outputs, stored);
        } catch (const core::Error& e) {
            std::cerr << "sshard: error: " << terminal_safe(e.what()) << '\n';
        }
    });
    if (!written) {
        m_closed = true;
        std::cerr << "sshard: standard output or error was closed: stopping\n";
        ::kill(::getpid(), SIGTERM);
    }
}

void GroupPrinter::stop() {
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_wake.notify_one();
    if (m_printer.joinable()) {
        m_printer.join();
    }
}

} // namespace sshard::cli
