// The remote wrapper, run by the local /bin/sh exactly as an SSH server's login shell would run it.
#include "transport/remote_command.hpp"

#include <array>
#include <cstdio>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/shell_quote.hpp"
#include "transport/slot_worker.hpp"

namespace sshard::transport {
namespace {

struct Ran {
    std::string out;
    std::string err;
    int status = -1;
};

// Runs `command` as sshd runs a session's command: `sh -c COMMAND`, in a session of its own, with `input` on
// its stdin.
Ran run_like_sshd(const std::string& command, const std::string& input = "") {
    char err_name[] = "/tmp/sshard_wrap_XXXXXX";
    int err_fd = mkstemp(err_name);
    char in_name[] = "/tmp/sshard_wrap_in_XXXXXX";
    int in_fd = mkstemp(in_name);
    EXPECT_EQ(write(in_fd, input.data(), input.size()), static_cast<ssize_t>(input.size()));
    close(in_fd);
    std::string script = "setsid /bin/sh -c " + core::shell_quote(command) + " 2>" + err_name + " <" + in_name +
                         "; s=$?; rm " + in_name + "; exit $s";
    FILE* pipe = popen(script.c_str(), "r");
    Ran ran;
    std::array<char, 4096> buffer{};
    while (std::size_t n = fread(buffer.data(), 1, buffer.size(), pipe)) {
        ran.out.append(buffer.data(), n);
    }
    ran.status = WEXITSTATUS(pclose(pipe));
    while (ssize_t n = read(err_fd, buffer.data(), buffer.size())) {
        if (n < 0) {
            break;
        }
        ran.err.append(buffer.data(), static_cast<std::size_t>(n));
    }
    close(err_fd);
    unlink(err_name);
    return ran;
}

TEST(RemoteCommand, MarkersAreFreshWords) {
    std::string a = make_marker();
    EXPECT_EQ(a.size(), 23u);
    EXPECT_EQ(a.rfind("SSHARD-", 0), 0u);
    EXPECT_NE(a, make_marker());
}

TEST(RemoteCommand, RunsWithEnvAndWorkdirAndReportsGroupAndCpu) {
    core::Launch launch;
    launch.command = "echo \"$GREETING from $(pwd)\"; echo oops >&2; i=0; while [ $i -lt 200000 ]; do i=$((i+1)); "
                     "done; exit 3";
    launch.env = {{"GREETING", "it's a\nb"}};
    launch.workdir = "/tmp";
    std::string marker = make_marker();
    std::string command = wrap_command(launch, marker);
    EXPECT_EQ(command.find("it's"), std::string::npos) << "env values are not on the command line";
    Ran ran = run_like_sshd(command, env_line(launch));
    EXPECT_EQ(ran.out, "it's a\nb from /tmp\n") << ran.err;
    EXPECT_EQ(ran.status, 3);
    StderrFilter filter(marker);
    std::string user;
    for (char c : ran.err) { // byte by byte: the filter must not depend on how stderr is cut
        user += filter.feed(std::string_view(&c, 1));
    }
    user += filter.finish();
    EXPECT_EQ(user, "oops\n");
    ASSERT_TRUE(filter.pgid());
    EXPECT_GT(*filter.pgid(), 1);
    ASSERT_TRUE(filter.cpu_user_s());
    EXPECT_GT(*filter.cpu_user_s() + *filter.cpu_sys_s(), 0.0);
}

TEST(RemoteCommand, BadWorkdirExits127WithAMessage) {
    core::Launch launch;
    launch.command = "echo never";
    launch.workdir = "/nonexistent dir";
    std::string marker = make_marker();
    Ran ran = run_like_sshd(wrap_command(launch, marker));
    EXPECT_EQ(ran.status, 127);
    EXPECT_EQ(ran.out, "");
    StderrFilter filter(marker);
    std::string user = filter.feed(ran.err);
    user += filter.finish();
    EXPECT_EQ(user, "sshard: cannot change to directory '/nonexistent dir'\n");
}

TEST(RemoteCommand, FilterPassesOutputWithoutReports) {
    StderrFilter filter("SSHARD-0123456789abcdef");
    std::string user = filter.feed("no report here\n");
    user += filter.finish();
    EXPECT_EQ(user, "no report here\n");
    EXPECT_FALSE(filter.pgid());
    EXPECT_FALSE(filter.cpu_user_s());
}

TEST(RemoteCommand, FilterKeepsUserTextThatLooksAlikeButIsNotTheMarker) {
    std::string marker = "SSHARD-0123456789abcdef";
    StderrFilter filter(marker);
    std::string big(100000, 'x');
    std::string user = filter.feed(marker + " 42\n" + big + "\nSSHARD-ffffffffffffffff 1\n");
    user += filter.feed(marker + " 0m0.000000s 0m0.000000s\n0m1.500000s 0m0.250000s\n");
    user += filter.finish();
    EXPECT_EQ(user, big + "\nSSHARD-ffffffffffffffff 1\n");
    EXPECT_EQ(filter.pgid(), 42);
    EXPECT_EQ(filter.cpu_user_s(), 1.5);
    EXPECT_EQ(filter.cpu_sys_s(), 0.25);
}

TEST(RemoteCommand, ShellAndChildrenTimesAddUp) {
    std::string marker = "SSHARD-0123456789abcdef";
    StderrFilter filter(marker);
    std::string user = filter.feed(marker + " 7\n");
    user += filter.feed(marker + " 0m1.000000s 0m0.500000s\n0m2.000000s 0m0.250000s\n");
    user += filter.finish();
    EXPECT_EQ(user, "");
    EXPECT_EQ(filter.cpu_user_s(), 3.0);
    EXPECT_EQ(filter.cpu_sys_s(), 0.75);
}

TEST(RemoteCommand, ExitInTheCommandStillReportsTimes) {
    core::Launch launch;
    launch.command = "echo before; exit 4; echo after";
    std::string marker = make_marker();
    Ran ran = run_like_sshd(wrap_command(launch, marker));
    EXPECT_EQ(ran.out, "before\n");
    EXPECT_EQ(ran.status, 4);
    StderrFilter filter(marker);
    std::string user = filter.feed(ran.err);
    user += filter.finish();
    EXPECT_EQ(user, "");
    EXPECT_TRUE(filter.cpu_user_s());
}

TEST(RemoteCommand, TimesValues) {
    EXPECT_EQ(parse_times_value("1m2.500000s"), 62.5);
    EXPECT_EQ(parse_times_value("0m0.010s"), 0.01);
    EXPECT_EQ(parse_times_value("0.25"), 0.25);
    EXPECT_EQ(parse_times_value("x"), std::nullopt);
    EXPECT_EQ(parse_times_value(""), std::nullopt);
}

TEST(RemoteCommand, KillCommand) {
    EXPECT_EQ(kill_command(1234, "TERM"), "kill -TERM -1234 2>/dev/null; true");
}

} // namespace
} // namespace sshard::transport
