// The run's journal: an append-only file of JSON lines, one event per line, made durable in batches (group
// commit). It is the run's record of truth: resume and report read nothing else. The event schema is
// documented in man/sshard.1 (JOURNAL).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

namespace sshard::core {

// Appends events from any thread; a writer thread writes and fdatasync()s them every `commit_interval`, so a
// crash loses at most the last interval's events. A failure to write is remembered and thrown by sync().
class JournalWriter {
public:
    // Opens `path` for appending (creating it 0600). Throws Error when it cannot.
    explicit JournalWriter(const std::string& path,
                           std::chrono::milliseconds commit_interval = std::chrono::milliseconds(50));
    // Syncs what is pending (errors are swallowed here: call sync() to see them) and closes.
    ~JournalWriter();
    JournalWriter(const JournalWriter&) = delete;
    JournalWriter& operator=(const JournalWriter&) = delete;

    // Queues one event; it is serialised at once, written by the next commit. Thread-safe, never blocks on I/O.
    void append(const nlohmann::json& event);
    // Returns once every event appended before the call is on disk. Throws Error if a write or sync failed.
    void sync();

private:
    void writer_loop();

    std::string m_path;
    int m_fd = -1;
    std::chrono::milliseconds m_interval;
    std::mutex m_mutex;
    std::condition_variable m_wake;   // the writer: work to do or stop
    std::condition_variable m_synced; // sync() callers: a commit finished
    std::string m_pending;            // serialised lines not yet written
    std::uint64_t m_appended = 0;     // events appended so far
    std::uint64_t m_durable = 0;      // events known to be on disk
    bool m_sync_requested = false;
    bool m_stop = false;
    std::string m_error; // the first write or sync failure
    std::thread m_thread;
};

// Calls `visit` for each event of the journal at `path`, in order, with its 1-based line number. A last line
// cut short by a crash is ignored; any other line that is not a JSON object throws Error naming the file and
// line. Throws Error when the file cannot be read. Streams: memory does not grow with the journal.
void read_journal(const std::string& path, const std::function<void(const nlohmann::json&, int line)>& visit);

} // namespace sshard::core
