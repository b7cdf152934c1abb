// Kills what is left of the local shards when the runner dies. PR_SET_PDEATHSIG would reach only a shard's
// shell, not the processes it started, so one supervisor process per local transport holds the process group
// of every shard that runs: each shard registers its own group between fork and exec, the runner releases it
// just before reaping the shell, and when the supervisor's end of the socket closes (the runner exited or was
// killed) it sends TERM to every group it still holds, then KILL to those left after the grace.
//
// The socket is an AF_UNIX SOCK_SEQPACKET pair: each message is one pid_t, positive to hold a group and
// negative to release it, and the order of messages is the order of sends. A shard's registration is sent by
// the shard itself before it can start anything, so no window exists in which the runner could die with an
// unregistered shard: the shard's copy of the socket keeps the supervisor reading until it has registered.
#pragma once

#include <chrono>
#include <sys/types.h>

namespace sshard::transport {

class GroupSupervisor {
public:
    // Starts the supervisor process. Throws core::Error when it cannot be started.
    explicit GroupSupervisor(std::chrono::milliseconds grace);
    // Closes the socket and waits for the supervisor, which exits at once when it holds no group.
    ~GroupSupervisor();
    GroupSupervisor(const GroupSupervisor&) = delete;
    GroupSupervisor& operator=(const GroupSupervisor&) = delete;

    // The descriptor a shard child registers through with register_self(); close-on-exec.
    int fd() const { return m_fd; }
    // Called in a child after fork, which is then the leader of its own group: async-signal-safe.
    static void register_self(int fd);
    // Releases `group`: it is no longer killed when the runner dies. Call it before reaping the group's leader,
    // while its id cannot yet be reused.
    void release(pid_t group);

private:
    int m_fd = -1;
    pid_t m_pid = -1;
};

} // namespace sshard::transport
