// What reaches a terminal is safe: the real binary printing a hostile shard's bytes and a hostile host name
// (terminal_safe() itself: terminal_safe_test.cpp).
#include <arpa/inet.h>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include "tests/cli/binary.hpp"

namespace sshard::test {
namespace {

class TerminalOutput : public E2eTest {};

// No byte that a terminal acts on, from C0 and DEL; the report's own line breaks aside.
bool has_raw_control(const std::string& text) {
    return text.find_first_of(std::string("\x1b\r\x07\x7f\0", 5)) != std::string::npos;
}

TEST_F(TerminalOutput, HostileHostNameAndStderrAreEscapedButStreamedOutputIsNot) {
    std::string spec = m_dir + "/jobs.yaml";
    std::ofstream(spec) << "version: 1\nhosts: [{name: \"h\\ex\", transport: local}]\n"
                        << "jobs:\n  - name: j\n    command: |\n"
                        << "      printf 'a\\033[2Jb\\r\\000c\\377\\007\\n' >&2; printf 'raw\\033[1m\\n'; exit 3\n";
    Result r = run_sshard({"run", spec, "--run-dir", m_dir + "/run", "--stream"});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.out.find("\n    | a\\e[2Jb\\r\\x00c\xef\xbf\xbd\\x07\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("  j[0] on h\\ex after 1 attempt: exit 3\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("j[0]@h\\ex: raw\x1b[1m\n"), std::string::npos) << "--stream passes the shard's bytes";
    EXPECT_NE(r.err.find(std::string("j[0]@h\\ex: a\x1b[2Jb\r\0c\xff\x07\n", 21)), std::string::npos);
    std::string report = r.out.substr(r.out.find("\nrun "));
    EXPECT_FALSE(has_raw_control(report)) << report;

    Result again = run_sshard({"report", m_dir + "/run"});
    EXPECT_FALSE(has_raw_control(again.out)) << again.out;
    EXPECT_NE(again.out.find("a\\e[2Jb"), std::string::npos) << again.out;
}

TEST_F(TerminalOutput, LibsshLogsOnlyWithVerbose) {
    // The ssh_config asks libssh for its debug log; the host refuses the connection at once.
    std::string config = m_dir + "/ssh_config";
    std::ofstream(config) << "Host *\n  LogLevel DEBUG\n";
    std::string spec = m_dir + "/jobs.yaml";
    std::ofstream(spec) << "version: 1\nhosts: [\"127.0.0.99:1\"]\njobs: [{name: j, command: 'true'}]\n";
    Result quiet = run_sshard({"hosts", spec, "--check", "--ssh-config", config});
    EXPECT_EQ(quiet.exit_code, 1);
    EXPECT_NE(quiet.out.find("127.0.0.99 FAIL  127.0.0.99: cannot connect to "), std::string::npos);
    EXPECT_EQ(quiet.err, "");
    Result verbose = run_sshard({"hosts", spec, "--check", "--ssh-config", config, "-v"});
    EXPECT_EQ(verbose.exit_code, 1);
    EXPECT_EQ(verbose.err.find("sshard: 127.0.0.99: libssh: ssh_connect: "), 0u) << verbose.err;
}

// The SSH packet of an SSH_MSG_DISCONNECT (RFC 4253 11.1) with `description`, unencrypted as before the key
// exchange: length, padding length, payload, padding to a multiple of 8.
std::string disconnect_packet(const std::string& description) {
    auto u32 = [](std::uint32_t value) {
        return std::string{static_cast<char>(value >> 24), static_cast<char>(value >> 16),
                           static_cast<char>(value >> 8), static_cast<char>(value)};
    };
    std::string payload =
        std::string(1, 1) + u32(2) + u32(static_cast<std::uint32_t>(description.size())) + description + u32(0);
    std::size_t padding = 8 - (5 + payload.size()) % 8 + 8;
    return u32(static_cast<std::uint32_t>(1 + payload.size() + padding)) + static_cast<char>(padding) + payload +
           std::string(padding, '\0');
}

TEST_F(TerminalOutput, ServerDisconnectMessageIsEscaped) {
    int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK + 96);
    socklen_t length = sizeof address;
    ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), length), 0);
    ASSERT_EQ(::listen(listener, 4), 0);
    ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length), 0);
    // One connection, answered with a banner and a disconnect whose message would recolour the terminal.
    std::thread server([listener] {
        pollfd ready{listener, POLLIN, 0};
        if (::poll(&ready, 1, 10000) == 1) {
            int fd = ::accept(listener, nullptr, nullptr);
            std::string banner = "SSH-2.0-evil\r\n";
            std::string packet = disconnect_packet("\x1b[31mred\r\a"
                                                   "bell");
            char buffer[4096];
            // The disconnect goes after the client's banner and its first packet (its key exchange offer), as a
            // server's would.
            [[maybe_unused]] auto sent = ::send(fd, banner.data(), banner.size(), MSG_NOSIGNAL);
            std::string received;
            auto offered = [&] {
                auto end = received.find('\n');
                return end != std::string::npos && received.size() > end + 5;
            };
            for (ssize_t got = 1; got > 0 && !offered();) {
                got = ::recv(fd, buffer, sizeof buffer, 0);
                received.append(buffer, static_cast<std::size_t>(std::max<ssize_t>(got, 0)));
            }
            sent = ::send(fd, packet.data(), packet.size(), MSG_NOSIGNAL);
            while (::recv(fd, buffer, sizeof buffer, 0) > 0) {
            }
            ::close(fd);
        }
        ::close(listener);
    });
    std::string host = "127.0.0.97:" + std::to_string(ntohs(address.sin_port));
    std::string spec = m_dir + "/jobs.yaml";
    std::ofstream(spec) << "version: 1\nhosts: [\"" << host << "\"]\njobs: [{name: j, command: 'true'}]\n";
    Result r = run_sshard({"hosts", spec, "--check", "--ssh-config", "/dev/null"});
    server.join();
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.out.find("\\e[31mred\\r\\x07bell"), std::string::npos) << r.out;
    EXPECT_FALSE(has_raw_control(r.out)) << r.out;
}

} // namespace
} // namespace sshard::test
