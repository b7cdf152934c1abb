#include "transport/slot_worker.hpp"

#include <charconv>
#include <cstdlib>
#include <fmt/format.h>
#include <vector>

#include "core/shell_quote.hpp"
#include "transport/remote_command.hpp"

namespace sshard::transport {

namespace {

// The worker. The channel's shell (S) reads the marker, opens one FIFO, starts the runner (R) with the FIFO
// as its stdin and passes requests on to it, "U"/"K" as signals. In bash 5 the FIFO is a pipe opened
// read-write through a process substitution (one fork); elsewhere, or where /dev/fd cannot reopen a pipe, a
// named FIFO (mktemp, mkfifo and rm: three programs per worker). `command` keeps a failed redirection from
// ending a shell in POSIX mode.
// A shell's `read` takes a pipe one byte at a time, a system call each (about 2 us a byte of a request, read
// twice): in bash, `b` reads a request's line in one call (-N counts characters, hence LC_ALL=C, which the
// prefix sets for that read alone, and reads a pipe at once outside POSIX mode); elsewhere, a line as usual.
// R runs each shard (h) in the background, so that its traps (the signals from S) run while it waits. The
// shard runs in a function so that the job's text, which bash's job control formats and prints (to R's
// stderr, /dev/null) each time a job ends, is short. A `wait` status above 128 is a signal or an exit code
// above 128: a shard's shell writes such an exit code to the FIFO from an EXIT trap, and a shard killed by
// a signal writes none, so R then writes "-" and reads the first line back, which tells `exit 143` from
// SIGTERM (nothing else reads or writes the FIFO while a shard runs: S passes on a request only when sshard
// has seen the last one end). A `wait` cut short by a trap returns the signal's status, and the shell may
// have reaped the shard meanwhile: one more `wait` returns its real status (127 once it was returned).
// R's stdout is the channel's stderr, where all its records but one go, and its fd 6 the channel's stdout;
// R's own stderr is /dev/null (its `wait` reports killed jobs there: not into the shard's output, and not
// into a closed channel, where SIGPIPE would kill R before it kills the shard's group). Every redirection
// costs bash about eight system calls, so R's loop has one. A signal for a shard whose group does not exist
// yet (it has not run setsid) goes to its process. After the command, R KILLs the shard's group and waits (a
// bounded spin, without forking: zombies count until init reaps them) until it is empty, so nothing of the
// shard writes after the end record.
// A shard's own process group, with SIGINT and SIGQUIT at their defaults, costs two programs per shard in a
// plain sh (setsid(1), and env(1)'s --default-signal, since a background job of a shell without job control
// starts with both ignored) but none in bash, whose job control gives each background job both: the worker
// runs in bash when the host has it (worker_command) and S checks that job control works there (bash 5, a
// job in a group of its own), else it falls back to setsid and env. With job control, `wait` also returns once
// when the shard stops, and the next `wait` waits on (`wait -f`, which would wait through the stop, was seen
// looping for ever on "no record of process" under load). /bin/sh needs no `command -v` check before the
// exec: it is the shell the worker itself assumes. When S's stdin closes it TERMs R, which TERMs the shard's
// group and exits when the shard ends; after the grace a sleeper KILLs the group, then the worker's own.
constexpr std::string_view k_script = R"~(IFS= read -r m || exit 1
f=
case ${BASH_VERSION-} in [5-9].*) command eval 'command exec 4<> <(:)' 2>/dev/null && echo >&4 && IFS= read -r f <&4 && f=1;; esac
[ -n "$f" ] || { d=$(mktemp -d) && mkfifo "$d/q" && exec 4<>"$d/q" && rm -r "$d"; } || exit 1
j=
case ${BASH_VERSION-} in [5-9].*) set -m 2>/dev/null &&
{ (IFS= read -r j <&4) & kill -0 -"$!" 2>/dev/null && j=1; echo >&4; wait "$!"; set +m; };; esac
e=
if [ -z "$j" ]; then
command -v setsid >/dev/null || { echo 'sshard: no setsid(1) on this host' >&2; exit 1; }
e=setsid; env --default-signal=INT true 2>/dev/null && e='setsid env --default-signal=INT,QUIT'
b() { IFS= read -r "$2"; }
else
set +o posix
b() { LC_ALL=C IFS= read -r -N "$1" "$2" && IFS= read -r y; }
fi
sshard_nl='
'
h() { eval "$q"
[ -z "$sshard_w" ] || cd "$sshard_w" 2>/dev/null || { printf 'sshard: cannot change to directory %s\n' "'$sshard_w'" >&2; exit 127; }
[ "$sshard_s" = /bin/sh ] || command -v "$sshard_s" >/dev/null 2>&1 || { printf 'sshard: no shell %s on this host\n' "'$sshard_s'" >&2; exit 127; }
exec $e "$sshard_s" -c 'trap "s=\$?; [ \$s -lt 129 ] || echo \$s >&5" EXIT; eval "$1" 5>&-' sh "$sshard_c" </dev/null 5>&4 4>&-; }
(k() { { kill -$1 -"$p" || kill -$1 "$p"; } 2>/dev/null; }
trap '[ -z "$p" ] || k TERM' USR1
trap '[ -z "$p" ] || k KILL' USR2
trap 'z=1; [ -n "$p" ] && k TERM || exit 0' TERM
[ -z "$j" ] || set -m
p=
while IFS= read -r n && b "$n" q; do
h 2>&1 >&6 6>&- &
p=$!
printf '%s S %s\n' "$m" "$p"
while wait "$p"; s=$?; kill -0 "$p"; do :; done
wait "$p"; t=$?; [ $t = 127 ] || s=$t
g=$p; p=; i=0
kill -KILL -"$g" && while kill -0 -"$g" && [ $i -lt 1000 ]; do i=$((i+1)); done
if [ "$s" -gt 128 ]; then echo - >&4; IFS= read -r x; if [ "$x" != - ]; then IFS= read -r y; s=$x; else s=k$((s-128)); fi; fi
[ -z "$z" ] || exit 0
printf '%s\n' "$m" >&6
printf '%s E %s ' "$m" "$s"; times
done) <&4 6>&1 1>&2 2>/dev/null &
r=$!
printf '%s R\n' "$m"
exec >&4 4>&-
while IFS= read -r l; do case $l in U) kill -USR1 $r;; K) kill -USR2 $r;; Q*) b "${l#Q}" q || break; printf '%s\n%s\n' "${l#Q}" "$q";; esac; done
kill -TERM $r 2>/dev/null
(sleep "$1"; kill -USR2 $r 2>/dev/null; sleep 1; kill -KILL 0) &
wait $r
kill -KILL 0)~";

// Runs the worker in bash when the host has one (see k_script), else in /bin/sh. The script is the
// launcher's $0, so that it is sent once.
constexpr std::string_view k_launcher =
    R"~(command -v bash >/dev/null 2>&1 && exec bash --posix -c "$0" sshard-worker "$1"; exec /bin/sh -c "$0" sshard-worker "$1")~";

// The supervisor of a host's channels of their own: "+G" and "-G" lines add and remove process groups; when
// its stdin closes, the groups it still holds get TERM, then KILL after the grace.
constexpr std::string_view k_supervisor = R"~(l=' '
while IFS= read -r x; do
case $x in
+*) l="$l${x#+} ";;
-*) case $l in *" ${x#-} "*) l="${l%% ${x#-} *} ${l#* ${x#-} }";; esac;;
esac
done
[ -n "${l# }" ] || exit 0
for g in $l; do kill -TERM -"$g" 2>/dev/null; done
sleep "$1"
for g in $l; do kill -KILL -"$g" 2>/dev/null; done)~";

// Single-quotes `text` for the worker's eval, keeping the line one line: a newline becomes '"$sshard_nl"'.
std::string quote_for_line(std::string_view text) {
    std::string quoted = "'";
    for (char c : text) {
        if (c == '\'') {
            quoted += "'\\''";
        } else if (c == '\n') {
            quoted += "'\"$sshard_nl\"'";
        } else {
            quoted += c;
        }
    }
    return quoted + "'";
}

std::string exports(const core::Launch& launch) {
    std::string text;
    for (const auto& [name, value] : launch.env) {
        text += text.empty() ? "export " : " ";
        text += name + "=" + quote_for_line(value);
    }
    return text;
}

} // namespace

namespace {

std::string grace_seconds(std::chrono::milliseconds grace) {
    return std::to_string(std::max<long long>(1, (grace.count() + 999) / 1000));
}

} // namespace

std::string worker_command(std::chrono::milliseconds grace) {
    return fmt::format("exec /bin/sh -c {} {} {}", core::shell_quote(k_launcher), core::shell_quote(k_script),
                       grace_seconds(grace));
}

std::string worker_command_in(std::string_view shell, std::chrono::milliseconds grace) {
    return fmt::format("exec {} -c {} sshard-worker {}", shell, core::shell_quote(k_script), grace_seconds(grace));
}

std::string supervisor_command(std::chrono::milliseconds grace) {
    return fmt::format("exec /bin/sh -c {} sshard-supervisor {}", core::shell_quote(k_supervisor),
                       grace_seconds(grace));
}

std::string worker_request(const core::Launch& launch) {
    std::string line = exports(launch);
    if (!line.empty()) {
        line += "; ";
    }
    line +=
        fmt::format("sshard_w={}; sshard_s={}; sshard_c={}", quote_for_line(launch.workdir),
                    quote_for_line(launch.shell.empty() ? "/bin/sh" : launch.shell), quote_for_line(launch.command));
    return fmt::format("Q{}\n{}\n", line.size(), line);
}

std::string env_line(const core::Launch& launch) {
    std::string line = exports(launch);
    return line.empty() ? line : line + "\n";
}

WorkerReader::WorkerReader(std::string marker) : m_marker(std::move(marker)) {}

std::string WorkerReader::feed(core::Stream stream, std::string_view data) {
    Held& held = stream == core::Stream::out ? m_out : m_err;
    held.bytes.append(data);
    return scan(held, stream);
}

// Passes on everything before the first record, takes out every complete record, and holds a record still
// incomplete, or a tail that may be the start of the marker.
std::string WorkerReader::scan(Held& held, core::Stream stream) {
    std::string user;
    while (!held.bytes.empty() && !m_broken) {
        auto at = held.bytes.find(m_marker);
        if (at == std::string::npos) {
            std::size_t keep = std::min(held.bytes.size(), m_marker.size() - 1);
            while (keep > 0 && m_marker.compare(0, keep, held.bytes, held.bytes.size() - keep, keep) != 0) {
                --keep;
            }
            user.append(held.bytes, 0, held.bytes.size() - keep);
            held.bytes.erase(0, held.bytes.size() - keep);
            break;
        }
        user.append(held.bytes, 0, at);
        held.bytes.erase(0, at);
        std::size_t used = 0;
        if (!take_record(std::string_view(held.bytes).substr(m_marker.size()), stream, used)) {
            break; // incomplete: wait for more
        }
        held.bytes.erase(0, m_marker.size() + used);
    }
    return user;
}

// Reads one record after its marker; false when more bytes are needed. Sets `used` to its length.
bool WorkerReader::take_record(std::string_view record, core::Stream stream, std::size_t& used) {
    auto line_end = record.find('\n');
    if (line_end == std::string_view::npos) {
        return false;
    }
    std::string_view line = record.substr(0, line_end);
    used = line_end + 1;
    if (stream == core::Stream::out) {
        if (line == " R" && !m_ready) {
            m_ready = true;
        } else if (line.empty() && m_ready && !m_out_ended) {
            m_out_ended = true;
        } else {
            m_broken = true;
        }
        return true;
    }
    if (line.starts_with(" S ") && m_ready && !m_pgid) {
        long pgid = 0;
        auto text = line.substr(3);
        m_broken = std::from_chars(text.data(), text.data() + text.size(), pgid).ec != std::errc();
        m_pgid = pgid;
        return true;
    }
    if (!line.starts_with(" E ") || !m_pgid || m_err_ended) {
        m_broken = true;
        return true;
    }
    auto second_end = record.find('\n', line_end + 1); // `times` writes two lines
    if (second_end == std::string_view::npos) {
        return false;
    }
    used = second_end + 1;
    parse_end(record.substr(3, second_end - 3));
    m_err_ended = !m_broken;
    return true;
}

// "<status> <user> <sys>\n<children's user> <children's sys>": the shard's CPU is what the runner's children
// used since the last record.
void WorkerReader::parse_end(std::string_view text) {
    std::vector<std::string_view> words;
    for (std::size_t start = 0; start < text.size();) {
        std::size_t end = std::min(text.find_first_of(" \n", start), text.size());
        if (end > start) {
            words.push_back(text.substr(start, end - start));
        }
        start = end + 1;
    }
    m_broken = words.size() != 5;
    if (m_broken) {
        return;
    }
    double children_user = parse_times_value(words[3]).value_or(-1);
    double children_sys = parse_times_value(words[4]).value_or(-1);
    std::string_view status = words[0];
    bool signaled = status.starts_with('k');
    status.remove_prefix(signaled ? 1 : 0);
    int value = 0;
    auto [end, ec] = std::from_chars(status.data(), status.data() + status.size(), value);
    m_broken = children_user < 0 || children_sys < 0 || status.empty() || ec != std::errc() ||
               end != status.data() + status.size();
    if (m_broken) {
        return;
    }
    m_outcome.kind = signaled ? core::Outcome::Kind::signaled : core::Outcome::Kind::exited;
    (signaled ? m_outcome.signal : m_outcome.exit_code) = value;
    m_outcome.cpu_user_s = std::max(0.0, children_user - m_children_user);
    m_outcome.cpu_sys_s = std::max(0.0, children_sys - m_children_sys);
    m_children_user = children_user;
    m_children_sys = children_sys;
}

void WorkerReader::next_shard() {
    m_out_ended = m_err_ended = false;
    m_pgid.reset();
    m_outcome = {};
}

bool workers_disabled() {
    static const bool disabled = [] {
        const char* value = std::getenv("SSHARD_TEST_NO_WORKER");
        return value != nullptr && *value != '\0' && std::string_view(value) != "0";
    }();
    return disabled;
}

} // namespace sshard::transport
