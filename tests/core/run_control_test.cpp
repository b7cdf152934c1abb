#include "core/run_control.hpp"

#include <algorithm>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "core/error.hpp"

namespace sshard::core {
namespace {

class RunControlTest : public ::testing::Test {
protected:
    void SetUp() override {
        char name[] = "/tmp/sshard_control_XXXXXX";
        m_dir = mkdtemp(name);
    }
    void TearDown() override { std::filesystem::remove_all(m_dir); }

    // The server's answer: "" for drain of known hosts, else an error naming what it got.
    static std::string handle(const ControlRequest& request) {
        for (const auto& host : request.hosts) {
            if (host != "a" && host != "b") {
                return "the run has no host '" + host + "'";
            }
        }
        return request.drain ? "" : "undrained";
    }

    std::string m_dir;
};

TEST_F(RunControlTest, ARequestReachesTheRunAndItsAnswerComesBack) {
    ControlServer server(m_dir, handle);
    EXPECT_EQ(send_control(m_dir, {true, {"a", "b"}}), "");
    EXPECT_EQ(send_control(m_dir, {true, {"a", "x\ny"}}), "the run has no host 'x\ny'");
    EXPECT_EQ(send_control(m_dir, {false, {"a"}}), "undrained");
    struct stat st {};
    ASSERT_EQ(::stat((m_dir + "/control.sock").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << "owner-only";
}

TEST_F(RunControlTest, NoRunRunningIsAClearError) {
    try {
        send_control(m_dir, {true, {"a"}});
        FAIL() << "no error";
    } catch (const UsageError& e) {
        EXPECT_EQ(std::string(e.what()).rfind("no run is running in '" + m_dir + "'", 0), 0u) << e.what();
    }
    { ControlServer server(m_dir, handle); }
    EXPECT_FALSE(std::filesystem::exists(m_dir + "/control.sock")) << "removed when the run ends";
    EXPECT_THROW(send_control(m_dir, {true, {"a"}}), UsageError);
}

TEST_F(RunControlTest, ASocketLeftByAKilledRunnerIsReplacedAndALongPathWorks) {
    std::string deep = m_dir + "/" + std::string(120, 'd');
    std::filesystem::create_directory(deep);
    { ControlServer first(deep, handle); }
    int leftover = ::open((deep + "/control.sock").c_str(), O_CREAT | O_WRONLY, 0600);
    ::close(leftover);
    ControlServer server(deep, handle);
    EXPECT_EQ(send_control(deep, {true, {"b"}}), "");
}

TEST_F(RunControlTest, GarbageIsAnsweredNotObeyed) {
    ControlServer server(m_dir, handle);
    for (std::string request : {std::string("drain a\n"), std::string("{\"verb\":\"kill\",\"hosts\":[]}\n"),
                                std::string("{\"verb\":\"drain\",\"hosts\":[1]}\n"), std::string(100000, '{')}) {
        int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::string path = m_dir + "/control.sock";
        std::copy(path.begin(), path.end(), addr.sun_path);
        ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
        (void)!::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
        char answer[512] = {};
        ssize_t n = ::read(fd, answer, sizeof answer - 1);
        ::close(fd);
        EXPECT_GT(n, 0);
        EXPECT_EQ(std::string(answer).rfind("{\"error\":", 0), 0u) << answer;
    }
    EXPECT_EQ(send_control(m_dir, {true, {"a"}}), "") << "still serving";
}

} // namespace
} // namespace sshard::core
