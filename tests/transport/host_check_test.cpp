#include "transport/host_check.hpp"

#include <gtest/gtest.h>

#include "core/cpu_count.hpp"

namespace sshard::transport {
namespace {

// `hosts --check` shows a local host's CPUs as a run would give `slots: auto` there: never 0; and the round trip
// of `/bin/sh -c true` run here.
TEST(HostCheck, LocalHostShowsThisMachinesCpus) {
    core::HostSpec host;
    host.name = "here";
    host.transport = core::TransportKind::local;
    HostCheck check = check_host(host, SshOptions{});
    EXPECT_TRUE(check.ok);
    EXPECT_EQ(check.server, "local");
    ASSERT_TRUE(check.cpus);
    EXPECT_EQ(*check.cpus, core::local_cpu_count());
    EXPECT_GE(*check.cpus, 1);
    EXPECT_GT(check.round_trip_s, 0.0) << "a real command was run";
    EXPECT_FALSE(check.setup_s) << "no connection to set up";
}

} // namespace
} // namespace sshard::transport
