#include "core/journal.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <fstream>
#include <unistd.h>

#include "core/error.hpp"

namespace sshard::core {

namespace {

// Writes all of `data`, across short writes and interruptions; returns errno on failure, 0 on success.
int write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return errno;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return 0;
}

} // namespace

JournalWriter::JournalWriter(const std::string& path, std::chrono::milliseconds commit_interval)
    : m_path(path), m_interval(commit_interval) {
    m_fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (m_fd < 0) {
        throw Error(fmt::format("cannot open journal '{}': {}", path, std::strerror(errno)));
    }
    m_thread = std::thread([this] { writer_loop(); });
}

JournalWriter::~JournalWriter() {
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_one();
    m_thread.join();
    ::close(m_fd);
}

void JournalWriter::append(const nlohmann::json& event) {
    std::string line = event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    line += '\n';
    std::lock_guard lock(m_mutex);
    m_pending += line;
    ++m_appended;
}

void JournalWriter::sync() {
    std::unique_lock lock(m_mutex);
    std::uint64_t target = m_appended;
    m_sync_requested = true;
    m_wake.notify_one();
    m_synced.wait(lock, [&] { return m_durable >= target || !m_error.empty(); });
    if (!m_error.empty()) {
        throw Error(m_error);
    }
}

// Commits every interval, or at once when sync() asks: one write and one fdatasync for the whole batch.
void JournalWriter::writer_loop() {
    std::unique_lock lock(m_mutex);
    while (true) {
        m_wake.wait_for(lock, m_interval, [&] { return m_stop || m_sync_requested; });
        std::string batch;
        batch.swap(m_pending);
        std::uint64_t count = m_appended;
        bool stop = m_stop;
        m_sync_requested = false;
        lock.unlock();
        int error = batch.empty() ? 0 : write_all(m_fd, batch);
        if (error == 0 && !batch.empty() && ::fdatasync(m_fd) != 0) {
            error = errno;
        }
        lock.lock();
        if (error != 0 && m_error.empty()) {
            m_error = fmt::format("cannot write journal '{}': {}", m_path, std::strerror(error));
        }
        m_durable = count;
        m_synced.notify_all();
        if (stop) {
            return;
        }
    }
}

void read_journal(const std::string& path, const std::function<void(const nlohmann::json&, int line)>& visit) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw Error(fmt::format("cannot read journal '{}': {}", path, std::strerror(errno)));
    }
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
        ++number;
        bool last_cut_short = in.eof(); // no newline after it: the writer died mid-line
        nlohmann::json event = nlohmann::json::parse(line, nullptr, false);
        if (event.is_discarded() || !event.is_object()) {
            if (last_cut_short) {
                return;
            }
            throw Error(fmt::format("journal '{}' line {} is not a JSON object", path, number));
        }
        visit(event, number);
    }
}

} // namespace sshard::core
