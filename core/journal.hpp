// The run's journal: an append-only file of JSON lines, one event per line, made durable in batches (group
// commit). It is the run's record of truth: resume and report read nothing else. The events are the structs
// of core/journal_events.hpp, documented in man/sshard.1 (JOURNAL).
//
// A line counts once its line break is on disk. A runner that dies mid-write leaves a last line without one:
// readers ignore it and a resume cuts it off before it appends. Anything else that does not parse is damage,
// reported with its line.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <sys/types.h>
#include <thread>

#include "core/journal_events.hpp"

namespace sshard::core {

// Appends events from any thread; a writer thread writes and fdatasync()s them every `commit_interval`, so a
// crash loses at most the last interval's events. A failure to write is remembered and thrown by sync(); the
// file is cut back to its last good commit and nothing more is written, so what was committed stays valid.
class JournalWriter {
public:
    // Called once, on the writer's thread, with the message of the first write failure.
    using FailureHandler = std::function<void(const std::string& message)>;

    // Opens `path` for appending (creating it 0600, never through a symbolic link), first cutting off a last
    // line left without its line break by a runner that died mid-write. Throws Error when it cannot.
    explicit JournalWriter(const std::string& path,
                           std::chrono::milliseconds commit_interval = std::chrono::milliseconds(50),
                           FailureHandler on_failure = {});
    // Syncs what is pending (errors are swallowed here: call sync() to see them) and closes.
    ~JournalWriter();
    JournalWriter(const JournalWriter&) = delete;
    JournalWriter& operator=(const JournalWriter&) = delete;

    // Queues one event; it is serialised at once, written by the next commit. Thread-safe, never blocks on I/O.
    void append(const JournalEvent& event);
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
    std::string m_error;   // the first write or sync failure
    off_t m_committed = 0; // the file's size after the last good commit
    FailureHandler m_on_failure;
    std::thread m_thread;
};

// Calls `visit` for each event of the journal at `path`, in order, with its 1-based line number. A last line
// without its line break is ignored; any other line that is not a valid event throws Error naming the file
// and line. Throws Error when the file cannot be read. Streams: memory does not grow with the journal.
void read_journal(const std::string& path, const std::function<void(const JournalEvent&, int line)>& visit);

} // namespace sshard::core
