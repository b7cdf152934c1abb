// The slot worker: a small POSIX sh loop that sshard runs as the command of one SSH channel per slot, so that
// a host pays for a session (sshd's fork, the login shell, /bin/sh) once per slot instead of once per shard.
// Kept apart from libssh so that it is tested with the local /bin/sh.
//
// The worker is two shells: the channel's own, which reads the channel's stdin, and a runner it starts once,
// which runs the shards one after the other. On the channel's stdin sshard sends a random marker (one line,
// so it is on no process list and in no shard's environment), then one request per shard: a line "Q<length>",
// then a line of that many bytes, shell assignments of the env (values quoted, newlines spelled "$sshard_nl"),
// the workdir and the command. The runner
// runs each shard as `/bin/sh -c COMMAND` with stdin from /dev/null, leading a process group of its own with
// SIGINT and SIGQUIT at their defaults (by bash's job control, or else by setsid(1) and env(1)); when the
// command ends, it kills whatever the shard left in that group, and only then writes the shard's end record.
// Records start with the marker; anything before one is the shard's output:
//
//   stdout  "M R\n"                       once: the worker is ready
//   stderr  "M S <pgid>\n"                the shard started, in process group <pgid>
//   stdout  "M\n"                         the shard's stdout is complete
//   stderr  "M E <status> <times>"        the shard ended: status "<code>" or "k<signal>", then `times`'
//                                         two lines (the runner's and its children's CPU so far)
//
// Each stream carries its own end record, because sshd forwards stdout and stderr from separate pipes: a
// record on one cannot overtake the shard's last bytes on the other. A shard cannot forge a record without
// the marker, which it never sees. The line "U" asks the runner to send TERM to the shard's group, "K"
// KILL. When the channel's stdin closes (sshard gone, connection lost), the worker sends TERM to the
// running shard's group, KILL after the grace, and exits.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "core/transport.hpp"

namespace sshard::transport {

// The channel command that starts a worker; `grace` is the wait between TERM and KILL when its stdin closes.
// The worker runs in bash when the host has it (a shard then costs one fork and one exec of /bin/sh), else in
// /bin/sh (a shard also runs setsid and env).
std::string worker_command(std::chrono::milliseconds grace);

// The worker run by `shell` (a command line, e.g. "/bin/dash"), whatever the host has: worker_command runs this
// with bash or /bin/sh.
std::string worker_command_in(std::string_view shell, std::chrono::milliseconds grace);

// The channel command of a host's supervisor, for shards on channels of their own (a host that cannot run
// workers, jobs with `detach: true`): it reads "+<pgid>\n" when such a shard starts and "-<pgid>\n" when it
// ends, and when its stdin closes (sshard gone, connection lost) it sends TERM to every group it still holds,
// KILL after `grace`. One process per host.
std::string supervisor_command(std::chrono::milliseconds grace);

// The request that runs `launch` on a worker: "Q<length>\n", then one line of that length (newline not
// counted). Its env, workdir and command are quoted so that the worker's eval restores them byte for byte;
// nothing but sshard ever sees the line.
std::string worker_request(const core::Launch& launch);

// The env of `launch` as one line of `export NAME='value' ...` (newline included), for the wrapper of a
// channel of its own (wrap_command), which reads it from stdin. "" when there is no env.
std::string env_line(const core::Launch& launch);

// Reads a worker's stdout and stderr: takes its records out of the shard's bytes and keeps what they say.
// Used by one thread.
class WorkerReader {
public:
    explicit WorkerReader(std::string marker);

    // Takes the next bytes of a stream; returns those that are the shard's and can be passed on now. Bytes
    // that may begin the marker are held until the next call shows whether they do.
    std::string feed(core::Stream stream, std::string_view data);

    bool ready() const { return m_ready; }
    std::optional<long> pgid() const { return m_pgid; }
    // Both end records have arrived: the shard's output is complete and its result below is final.
    bool ended() const { return m_out_ended && m_err_ended; }
    // The worker sent something that breaks the protocol (a record out of place or unreadable).
    bool broken() const { return m_broken; }
    // The shard's outcome (kind, exit code or signal, CPU times); valid once ended().
    const core::Outcome& outcome() const { return m_outcome; }
    // Forgets the last shard, keeping the CPU times so far, for the next one on the same worker.
    void next_shard();

private:
    struct Held {
        std::string bytes;
    };
    std::string scan(Held& held, core::Stream stream);
    bool take_record(std::string_view record, core::Stream stream, std::size_t& used);
    void parse_end(std::string_view text);

    std::string m_marker;
    Held m_out;
    Held m_err;
    bool m_ready = false;
    bool m_out_ended = false;
    bool m_err_ended = false;
    bool m_broken = false;
    std::optional<long> m_pgid;
    core::Outcome m_outcome;
    double m_children_user = 0; // the runner's children's CPU at the last end record
    double m_children_sys = 0;
};

// Whether the test switch SSHARD_TEST_NO_WORKER is set (to anything but "" or "0"): every SSH host then runs
// a channel per shard, as a host whose shell cannot run the worker does. Read once.
bool workers_disabled();

} // namespace sshard::transport
