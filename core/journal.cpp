#include "core/journal.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <fstream>
#include <string_view>
#include <unistd.h>

#include "core/error.hpp"
#include "core/write_all.hpp"

namespace sshard::core {

namespace {

// One group commit: a single write of the whole batch, then one fdatasync. Returns errno, or 0.
int commit(int fd, std::string_view batch) {
    if (batch.empty()) {
        return 0;
    }
    if (int error = write_all(fd, batch); error != 0) {
        return error;
    }
    while (::fdatasync(fd) != 0) {
        if (errno != EINTR) {
            return errno;
        }
    }
    return 0;
}

// nlohmann's messages start with an id such as "[json.exception.parse_error.101] " that means nothing to a user.
std::string parser_message(const nlohmann::json::exception& e) {
    std::string_view message = e.what();
    if (message.starts_with('[')) {
        if (std::size_t end = message.find("] "); end != std::string_view::npos) {
            message.remove_prefix(end + 2);
        }
    }
    return std::string(message);
}

} // namespace

JournalWriter::JournalWriter(const std::string& path, std::chrono::milliseconds commit_interval)
    : m_path(path), m_interval(commit_interval) {
    m_fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (m_fd < 0) {
        throw Error(fmt::format("cannot open journal '{}': {}", path, std::strerror(errno)));
    }
    try {
        m_thread = std::thread([this] { writer_loop(); });
    } catch (...) {
        ::close(m_fd);
        throw;
    }
}

JournalWriter::~JournalWriter() {
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_one();
    m_thread.join(); // the writer commits what is pending before it returns
    ::close(m_fd);
}

void JournalWriter::append(const nlohmann::json& event) {
    // Serialise outside the lock; `replace` turns invalid UTF-8 from a command's output into U+FFFD instead of
    // throwing in the middle of a run.
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

// Commits every interval, or at once when sync() asks or the writer stops. After a failure nothing more is
// written: the journal then ends at the last good commit (a line cut short there is what read_journal ignores),
// rather than having a hole in the middle.
void JournalWriter::writer_loop() {
    std::unique_lock lock(m_mutex);
    while (true) {
        m_wake.wait_for(lock, m_interval, [&] { return m_stop || m_sync_requested; });
        std::string batch;
        batch.swap(m_pending);
        std::uint64_t count = m_appended;
        bool stop = m_stop;
        bool failed = !m_error.empty();
        m_sync_requested = false;
        lock.unlock();
        int error = failed ? 0 : commit(m_fd, batch);
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
        bool unterminated = in.eof(); // only the last line can lack its newline: the writer died mid-line
        nlohmann::json event;
        try {
            event = nlohmann::json::parse(line);
        } catch (const nlohmann::json::parse_error& e) {
            if (unterminated) {
                return;
            }
            throw Error(fmt::format("journal '{}' line {} is not valid JSON: {}", path, number, parser_message(e)));
        }
        if (!event.is_object()) {
            throw Error(fmt::format("journal '{}' line {} is not a JSON object", path, number));
        }
        visit(event, number);
    }
    if (in.bad()) {
        throw Error(fmt::format("cannot read journal '{}': {}", path, std::strerror(errno)));
    }
}

} // namespace sshard::core
