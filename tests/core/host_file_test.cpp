#include "core/host_file.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"

namespace sshard::core {
namespace {

// Every diagnostic of the SpecError that parsing `text` throws, formatted; "" when it parses.
std::string errors(const std::string& text) {
    try {
        parse_host_file("hosts.txt", text);
    } catch (const SpecError& e) {
        std::string out;
        for (const auto& d : e.diagnostics()) {
            out += format_diagnostic(e.file(), d);
        }
        return out;
    }
    return "";
}

TEST(HostFile, ParsesEntriesFieldsAndComments) {
    auto hosts = parse_host_file("hosts.txt", "# the render farm\n"
                                              "4/alice@node[1-2]:2222  labels=gpu,big priority=5  # fast ones\n"
                                              "\n"
                                              "   login1\tslots=auto\n"
                                              "cpu7 slots=8\n");
    ASSERT_EQ(hosts.size(), 4u);
    EXPECT_EQ(hosts[1].name, "node2");
    EXPECT_EQ(hosts[1].user, "alice");
    EXPECT_EQ(hosts[1].port, 2222);
    EXPECT_EQ(hosts[1].slots, 4);
    EXPECT_EQ(hosts[1].priority, 5);
    EXPECT_EQ(hosts[1].labels, (std::vector<std::string>{"gpu", "big"}));
    EXPECT_EQ(hosts[2].name, "login1");
    EXPECT_TRUE(hosts[2].auto_slots);
    EXPECT_TRUE(hosts[2].labels.empty());
    EXPECT_EQ(hosts[3].slots, 8);
    EXPECT_EQ(hosts[3].transport, TransportKind::ssh);
}

TEST(HostFile, EveryProblemNamesItsLineAndColumn) {
    EXPECT_EQ(errors("n1\nn[0-2] slots=0 \nn9 colour=red\n  n1\n"),
              "hosts.txt:2:8: error: bad slots '0' (a number from 1 to 100000, or auto)\n"
              "    n[0-2] slots=0 \n"
              "           ^\n"
              "hosts.txt:3:4: error: unknown field 'colour=red' (a line is a host, then slots=N, priority=N or "
              "labels=a,b)\n"
              "    n9 colour=red\n"
              "       ^\n"
              "hosts.txt:4:3: error: host 'n1' is listed twice (first at line 1)\n"
              "      n1\n"
              "      ^\n");
}

TEST(HostFile, RefusesWhatCannotBeMeant) {
    EXPECT_EQ(errors("n[1-2],n3\n"), "hosts.txt:1:1: error: unexpected ',' outside brackets in hostlist 'n[1-2],n3'\n"
                                     "    n[1-2],n3\n"
                                     "    ^\n");
    EXPECT_EQ(errors("n[1-3] n2\n").substr(0, 60), "hosts.txt:1:8: error: unknown field 'n2' (a line is a host, ");
    EXPECT_EQ(errors("2/n1 slots=3\n"), "hosts.txt:1:6: error: 'slots' is given twice for this host\n"
                                        "    2/n1 slots=3\n"
                                        "         ^\n");
    EXPECT_EQ(errors("n1 labels=a,,b\n"), "hosts.txt:1:4: error: empty label in 'labels=a,,b' (labels=a,b)\n"
                                          "    n1 labels=a,,b\n"
                                          "       ^\n");
    EXPECT_EQ(errors("n1 priority=high\n"),
              "hosts.txt:1:4: error: bad priority 'high' (a number from -1000000 to 1000000)\n"
              "    n1 priority=high\n"
              "       ^\n");
    EXPECT_EQ(errors("# nothing here\n\n"), "hosts.txt: error: the host file lists no host\n");
}

TEST(HostFile, UnreadableFileIsAUsageError) {
    EXPECT_THROW(read_host_file("/nonexistent/hosts.txt"), UsageError);
    EXPECT_THROW(read_host_file("/"), UsageError);
}

} // namespace
} // namespace sshard::core
