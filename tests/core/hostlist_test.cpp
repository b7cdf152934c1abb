#include "core/hostlist.hpp"

#include <gtest/gtest.h>

namespace sshard::core {
namespace {

using Names = std::vector<std::string>;

std::string error_of(std::string_view pattern, std::size_t limit = 1'000'000) {
    try {
        expand_hostlist(pattern, limit);
    } catch (const HostlistError& e) {
        return e.what();
    }
    return "";
}

TEST(Hostlist, PlainNameAndRanges) {
    EXPECT_EQ(expand_hostlist("web"), Names{"web"});
    EXPECT_EQ(expand_hostlist("node[1-3,7]"), (Names{"node1", "node2", "node3", "node7"}));
    EXPECT_EQ(expand_hostlist("n[5]x"), Names{"n5x"});
}

TEST(Hostlist, ZeroPaddingIsKept) {
    EXPECT_EQ(expand_hostlist("n[08-11]"), (Names{"n08", "n09", "n10", "n11"}));
    EXPECT_EQ(expand_hostlist("n[9-10]"), (Names{"n9", "n10"}));
    EXPECT_EQ(expand_hostlist("n[001-002]"), (Names{"n001", "n002"}));
}

TEST(Hostlist, SeveralGroupsFormAProductLeftmostSlowest) {
    EXPECT_EQ(expand_hostlist("rack[1-2]-n[1-2]"), (Names{"rack1-n1", "rack1-n2", "rack2-n1", "rack2-n2"}));
}

TEST(Hostlist, Errors) {
    EXPECT_EQ(error_of(""), "empty hostlist");
    EXPECT_EQ(error_of("n[1-3"), "unclosed '[' in hostlist 'n[1-3'");
    EXPECT_EQ(error_of("n[[1]]"), "nested '[' in hostlist 'n[[1]]'");
    EXPECT_EQ(error_of("n[]"), "empty brackets in hostlist 'n[]'");
    EXPECT_EQ(error_of("n[1,]"), "empty range in hostlist 'n[1,]'");
    EXPECT_EQ(error_of("n[5-1]"), "bad range '5-1' in hostlist 'n[5-1]' (the start is after the end)");
    EXPECT_EQ(error_of("n[a-3]"), "bad range 'a-3' in hostlist 'n[a-3]' (expected a number or a range like 1-10)");
    EXPECT_EQ(error_of("n[01-0003]"),
              "bad range '01-0003' in hostlist 'n[01-0003]' (the start and the end are zero-padded differently)");
    EXPECT_EQ(error_of("n[1-99999999999999999999]"),
              "bad range '1-99999999999999999999' in hostlist 'n[1-99999999999999999999]' (the number is too large)");
    EXPECT_EQ(error_of("a b"), "unexpected whitespace in hostlist 'a b'");
    EXPECT_EQ(error_of("a,b"), "unexpected ',' outside brackets in hostlist 'a,b'");
    EXPECT_EQ(error_of("n[1-1000]", 999), "hostlist 'n[1-1000]' expands to more than 999 names");
    EXPECT_EQ(error_of("a[0-99999]b[0-99999]c[0-99999]"),
              "hostlist 'a[0-99999]b[0-99999]c[0-99999]' expands to more than 1000000 names");
}

TEST(Hostlist, SplitsAtCommasOutsideBrackets) {
    EXPECT_EQ(split_hostlists("a[1,2],b,c[3-4]"), (Names{"a[1,2]", "b", "c[3-4]"}));
    EXPECT_THROW(split_hostlists("a,,b"), HostlistError);
    EXPECT_THROW(split_hostlists("a[1,2"), HostlistError);
    EXPECT_THROW(split_hostlists(""), HostlistError);
}

TEST(Hostlist, FoldsBackIntoRanges) {
    EXPECT_EQ(fold_hostlist({"node03", "node07", "node08", "node09"}), "node[03,07-09]");
    EXPECT_EQ(fold_hostlist({"node03"}), "node03");
    EXPECT_EQ(fold_hostlist({"web", "n1", "n2", "n3", "db"}), "web,n[1-3],db");
    EXPECT_EQ(fold_hostlist({"n08", "n09", "n10"}), "n[08-10]");
    EXPECT_EQ(fold_hostlist({"n8", "n08"}), "n8,n08");
    EXPECT_EQ(fold_hostlist({"n2", "n1", "n2"}), "n[1-2]");
    EXPECT_EQ(fold_hostlist({"r1-a", "r2-a", "r1-b"}), "r[1-2]-a,r1-b");
    EXPECT_EQ(fold_hostlist({}), "");
}

TEST(Hostlist, FoldIsTheInverseOfExpand) {
    for (const char* pattern : {"node[01-10,12]", "x[1-3,5,7-9]", "gpu[001-128]"}) {
        EXPECT_EQ(fold_hostlist(expand_hostlist(pattern)), pattern);
    }
}

} // namespace
} // namespace sshard::core
