// One runner per run directory. Two runners of one run would each run every shard the journal does not show
// as done, so a runner holds an exclusive flock(2) on <run>/lock for its whole life; the kernel releases it
// when the runner ends, however it ends. The holder's pid is written in the file for the message a second
// runner gets. Readers (`sshard report`) take no lock.
#pragma once

#include "core/run_dir.hpp"

namespace sshard::core {

class RunLock {
public:
    // Takes the lock of `dir`. Throws UsageError "run RUN is in use by pid N" when another process holds it,
    // Error when the lock file cannot be made.
    explicit RunLock(const RunDir& dir);
    // Releases the lock.
    ~RunLock();
    RunLock(const RunLock&) = delete;
    RunLock& operator=(const RunLock&) = delete;

private:
    int m_fd = -1;
};

} // namespace sshard::core
