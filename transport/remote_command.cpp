#include "transport/remote_command.hpp"

#include <charconv>
#include <fmt/format.h>
#include <random>
#include <vector>

#include "core/shell_quote.hpp"

namespace sshard::transport {

using core::shell_quote;

std::string make_marker() {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    return fmt::format("SSHARD-{:016x}", rng());
}

std::string wrap_command(const core::Launch& launch, const std::string& marker) {
    return "exec /bin/sh -c " + shell_quote(wrapper_script(launch, marker));
}

std::string wrapper_script(const core::Launch& launch, const std::string& marker) {
    // The env comes on stdin (env_line), so that its values are on no process list.
    std::string inner = fmt::format("printf '%s %s\\n' {} \"$$\" >&2; sshard_nl='\n'; "
                                    "IFS= read -r sshard_e && eval \"$sshard_e\"; unset sshard_nl sshard_e; ",
                                    marker);
    if (!launch.workdir.empty()) {
        std::string dir = shell_quote(launch.workdir);
        inner += fmt::format("cd {} 2>/dev/null || {{ printf 'sshard: cannot change to directory %s\\n' {} >&2; "
                             "exit 127; }}; ",
                             dir, shell_quote("'" + launch.workdir + "'"));
    }
    // The command runs in this very shell (one process less per shard than `sh -c`), or with a job's own
    // shell in a child of it; the EXIT trap reports its times however it ends, `exit N` included. `times`
    // must run here, not in a $(...) subshell.
    inner += fmt::format("trap 'rc=$?; printf \"%s \" {} >&2; times >&2; exit $rc' EXIT; ", marker);
    if (launch.shell.empty()) {
        inner += fmt::format("eval {} </dev/null", shell_quote(launch.command));
    } else {
        std::string shell = shell_quote(launch.shell);
        inner += fmt::format("command -v {0} >/dev/null 2>&1 || {{ printf 'sshard: no shell %s on this host\\n' {1} "
                             ">&2; exit 127; }}; {0} -c {2} </dev/null",
                             shell, shell_quote("'" + launch.shell + "'"), shell_quote(launch.command));
    }
    return inner;
}

// No `--` before the group: dash's kill takes "-<pid>" after the signal but rejects "--".
std::string kill_command(long pgid, const char* signal) {
    return fmt::format("kill -{} -{} 2>/dev/null; true", signal, pgid);
}

StderrFilter::StderrFilter(std::string marker) : m_marker(std::move(marker)) {}

std::string StderrFilter::feed(std::string_view data) {
    m_held.append(data);
    if (!m_opening_done) {
        auto newline = m_held.find('\n');
        if (newline == std::string::npos) {
            return {};
        }
        std::string_view line(m_held.data(), newline);
        if (line.rfind(m_marker + " ", 0) == 0) {
            long pgid = 0;
            auto rest = line.substr(m_marker.size() + 1);
            if (std::from_chars(rest.data(), rest.data() + rest.size(), pgid).ec == std::errc()) {
                m_pgid = pgid;
            }
            m_held.erase(0, newline + 1);
        }
        m_opening_done = true;
    }
    // Hold back enough for a closing report: the marker and four `times` values.
    std::size_t keep = m_marker.size() + 160;
    if (m_held.size() <= keep) {
        return {};
    }
    std::string out = m_held.substr(0, m_held.size() - keep);
    m_held.erase(0, m_held.size() - keep);
    return out;
}

std::string StderrFilter::finish() {
    auto at = m_held.rfind(m_marker + " ");
    if (at != std::string::npos && m_held.back() == '\n') {
        parse_closing(std::string_view(m_held).substr(at + m_marker.size() + 1));
        m_held.erase(at);
    }
    return std::move(m_held);
}

// The report is `times`' output: the shell's user and system time, then its children's, over two lines.
void StderrFilter::parse_closing(std::string_view report) {
    std::vector<std::string_view> words;
    std::size_t start = 0;
    while (start < report.size()) {
        std::size_t end = report.find_first_of(" \n", start);
        end = end == std::string_view::npos ? report.size() : end;
        if (end > start) {
            words.push_back(report.substr(start, end - start));
        }
        start = end + 1;
    }
    if (words.size() != 4) {
        return;
    }
    // The command ran in the shell itself and in its children: both count.
    auto shell_user = parse_times_value(words[0]);
    auto shell_sys = parse_times_value(words[1]);
    auto children_user = parse_times_value(words[2]);
    auto children_sys = parse_times_value(words[3]);
    if (shell_user && shell_sys && children_user && children_sys) {
        m_cpu_user = *shell_user + *children_user;
        m_cpu_sys = *shell_sys + *children_sys;
    }
}

std::optional<double> parse_times_value(std::string_view text) {
    double minutes = 0;
    if (auto m = text.find('m'); m != std::string_view::npos) {
        if (std::from_chars(text.data(), text.data() + m, minutes).ec != std::errc()) {
            return std::nullopt;
        }
        text.remove_prefix(m + 1);
    }
    if (!text.empty() && text.back() == 's') {
        text.remove_suffix(1);
    }
    double seconds = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return minutes * 60 + seconds;
}

} // namespace sshard::transport
