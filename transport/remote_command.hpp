// The wrapper around a shard's command on an SSH host, and the filter that takes the wrapper's report back
// out of the shard's stderr. Kept apart from libssh so both are tested without a server.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/transport.hpp"

namespace sshard::transport {

// A random word that no shard's output will hold by chance: "SSHARD-" and 16 hex digits.
std::string make_marker();

// The text to `exec` on the host for `launch`. The login shell execs /bin/sh, whose pid is then the session's
// process group (sshd makes each session's process a session leader). That shell prints
// "<marker> <pgid>\n" on stderr, reads the env as one line from stdin (env_line: the caller writes it, then
// EOF) and exports it, enters the workdir (exit 127 with a message when it
// cannot), runs the command itself (eval) with stdin from /dev/null, and on exit prints "<marker> " and the
// output of `times` (two lines: its own and its children's user and system time) and exits with the
// command's status. A command that replaces the shell (exec) or its EXIT trap leaves no times.
std::string wrap_command(const core::Launch& launch, const std::string& marker);

// What wrap_command has /bin/sh run, as a script for a file of its own (`/bin/sh FILE`, one exec less).
std::string wrapper_script(const core::Launch& launch, const std::string& marker);

// The command that signals a shard's process group on its host: `kill -<signal> -<pgid>`.
std::string kill_command(long pgid, const char* signal);

// Splits a shard's stderr into the user's bytes and the wrapper's two report lines. The first line is held
// until complete; the last bytes are held back until the end, since the closing report may still follow.
class StderrFilter {
public:
    explicit StderrFilter(std::string marker);

    // Takes the next bytes of stderr; returns those that are the user's and can be passed on now.
    std::string feed(std::string_view data);
    // At the end of stderr: returns the rest of the user's bytes, the closing report taken out.
    std::string finish();

    std::optional<long> pgid() const { return m_pgid; }
    std::optional<double> cpu_user_s() const { return m_cpu_user; }
    std::optional<double> cpu_sys_s() const { return m_cpu_sys; }

private:
    void parse_closing(std::string_view report);

    std::string m_marker;
    bool m_opening_done = false;
    std::string m_held;
    std::optional<long> m_pgid;
    std::optional<double> m_cpu_user;
    std::optional<double> m_cpu_sys;
};

// Parses one of `times`' values, "1m2.500000s" (dash, bash) or "0.01" (some shells), into seconds.
std::optional<double> parse_times_value(std::string_view text);

} // namespace sshard::transport
