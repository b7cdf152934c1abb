#include "core/journal.hpp"

#include <algorithm>
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

// The size of the file at `fd`, `size` bytes long, up to and with its last line break: what a reader counts as
// written. -1 when it cannot be read.
off_t complete_size(int fd, off_t size) {
    char block[4096];
    for (off_t end = size; end > 0;) {
        off_t from = std::max<off_t>(0, end - static_cast<off_t>(sizeof block));
        ssize_t got = ::pread(fd, block, static_cast<std::size_t>(end - from), from);
        if (got != end - from) {
            return -1;
        }
        for (ssize_t i = got; i > 0; --i) {
            if (block[i - 1] == '\n') {
                return from + i;
            }
        }
        end = from;
    }
    return size < 0 ? -1 : 0;
}

} // namespace

JournalWriter::JournalWriter(const std::string& path, std::chrono::milliseconds commit_interval,
                             FailureHandler on_failure)
    : m_path(path), m_interval(commit_interval), m_on_failure(std::move(on_failure)) {
    m_fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (m_fd < 0) {
        throw Error(fmt::format("cannot open journal '{}': {}", path, std::strerror(errno)));
    }
    // A torn last line would otherwise join the first line appended now, and damage the journal for good.
    off_t size = ::lseek(m_fd, 0, SEEK_END);
    m_committed = complete_size(m_fd, size);
    if (m_committed < 0 || (m_committed < size && ::ftruncate(m_fd, m_committed) != 0)) {
        int error = errno;
        ::close(m_fd);
        throw Error(fmt::format("cannot repair journal '{}': {}", path, std::strerror(error)));
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

void JournalWriter::append(const JournalEvent& event) {
    std::string line = encode_event(event); // outside the lock
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

// Commits every interval, or at once when sync() asks or the writer stops. After a failure the file is cut back
// to the last good commit and nothing more is written: the journal then ends at a whole event, rather than
// holding a hole or a torn line in the middle once later writes succeed.
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
        std::string failure;
        if (error != 0) {
            (void)!::ftruncate(m_fd, m_committed); // best effort: a reader ignores a torn last line anyway
            failure = fmt::format("cannot write journal '{}': {}", m_path, std::strerror(error));
            if (m_on_failure) {
                m_on_failure(failure); // unlocked: it may take other locks, such as the scheduler's
            }
        } else if (!failed) {
            m_committed += static_cast<off_t>(batch.size());
        }
        lock.lock();
        if (!failure.empty()) {
            m_error = failure; // only after the handler ran: sync() then throws with the run already stopping
        }
        m_durable = count;
        m_synced.notify_all();
        if (stop) {
            return;
        }
    }
}

void read_journal(const std::string& path, const std::function<void(const JournalEvent&, int line)>& visit) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw Error(fmt::format("cannot read journal '{}': {}", path, std::strerror(errno)));
    }
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (in.eof()) {
            break; // no line break: the writer died mid-line (see the top of journal.hpp)
        }
        JournalEvent event;
        try {
            event = decode_event(line);
        } catch (const Error& e) {
            throw Error(fmt::format("journal '{}' line {} {}", path, number, e.what()));
        }
        visit(event, number);
    }
    if (in.bad()) {
        throw Error(fmt::format("cannot read journal '{}': {}", path, std::strerror(errno)));
    }
}

} // namespace sshard::core
