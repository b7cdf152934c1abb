// Runs a command line through /bin/sh, for tests that check what the shell makes of quoted values.
#pragma once

#include <cstdio>
#include <gtest/gtest.h>
#include <string>
#include <sys/wait.h>

namespace sshard::core::test {

// Runs `command` with /bin/sh and returns what it wrote to stdout; fails the test on a non-zero exit.
inline std::string run_shell(const std::string& command) {
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) {
        ADD_FAILURE() << "popen failed for: " << command;
        return "";
    }
    std::string out;
    char buffer[4096];
    std::size_t n = 0;
    while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) {
        out.append(buffer, n);
    }
    int status = pclose(pipe);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status << " for: " << command;
    return out;
}

} // namespace sshard::core::test
