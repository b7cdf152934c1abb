#include "core/hostlist.hpp"

#include <gtest/gtest.h>

namespace sshard::core {
namespace {

using Names = std::vector<std::string>;

// The message of the HostlistError that `expand_hostlist(pattern, limit)` throws, or "" when it does not.
std::string expand_error(std::string_view pattern, std::size_t limit = 1'000'000) {
    try {
        expand_hostlist(pattern, limit);
    } catch (const HostlistError& error) {
        return error.what();
    }
    return "";
}

std::string split_error(std::string_view list) {
    try {
        split_hostlists(list);
    } catch (const HostlistError& error) {
        return error.what();
    }
    return "";
}

TEST(ExpandHostlist, PlainNameIsItself) {
    EXPECT_EQ(expand_hostlist("login1"), Names{"login1"});
    EXPECT_EQ(expand_hostlist("db.example.org"), Names{"db.example.org"});
}

TEST(ExpandHostlist, RangesAndSingleValues) {
    EXPECT_EQ(expand_hostlist("node[1-3,7]"), (Names{"node1", "node2", "node3", "node7"}));
    EXPECT_EQ(expand_hostlist("n[5]"), Names{"n5"});
    EXPECT_EQ(expand_hostlist("n[3-3]"), Names{"n3"});
    EXPECT_EQ(expand_hostlist("[1-2]"), (Names{"1", "2"}));
}

TEST(ExpandHostlist, KeepsTheOrderAsWritten) {
    EXPECT_EQ(expand_hostlist("n[9,1-2]"), (Names{"n9", "n1", "n2"}));
}

TEST(ExpandHostlist, ZeroPaddedStartSetsTheWidth) {
    EXPECT_EQ(expand_hostlist("n[08-11]"), (Names{"n08", "n09", "n10", "n11"}));
    EXPECT_EQ(expand_hostlist("n[098-100]"), (Names{"n098", "n099", "n100"}));
    EXPECT_EQ(expand_hostlist("n[01-100]").back(), "n100");
    EXPECT_EQ(expand_hostlist("n[005,7]"), (Names{"n005", "n7"}));
    EXPECT_EQ(expand_hostlist("n[00-01]"), (Names{"n00", "n01"}));
}

TEST(ExpandHostlist, UnpaddedStartPadsNothing) {
    EXPECT_EQ(expand_hostlist("n[0-2]"), (Names{"n0", "n1", "n2"}));
    EXPECT_EQ(expand_hostlist("n[9-10]"), (Names{"n9", "n10"}));
}

TEST(ExpandHostlist, SuffixAfterTheBrackets) {
    EXPECT_EQ(expand_hostlist("node[1-2].ib"), (Names{"node1.ib", "node2.ib"}));
}

TEST(ExpandHostlist, SeveralGroupsFormACartesianProductLeftmostSlowest) {
    EXPECT_EQ(expand_hostlist("rack[1-2]-n[1-3]"),
              (Names{"rack1-n1", "rack1-n2", "rack1-n3", "rack2-n1", "rack2-n2", "rack2-n3"}));
    EXPECT_EQ(expand_hostlist("r[1-2][8,9]x"), (Names{"r18x", "r19x", "r28x", "r29x"}));
}

TEST(ExpandHostlist, HandlesTheLargest64BitNumber) {
    EXPECT_EQ(expand_hostlist("n[18446744073709551614-18446744073709551615]"),
              (Names{"n18446744073709551614", "n18446744073709551615"}));
}

TEST(ExpandHostlist, AllowsExactlyTheLimit) {
    EXPECT_EQ(expand_hostlist("n[1-3]", 3).size(), 3u);
    EXPECT_EQ(expand_hostlist("n[1-2]-[1-2]", 4).size(), 4u);
}

TEST(ExpandHostlist, RejectsMoreNamesThanTheLimit) {
    EXPECT_EQ(expand_error("n[1-4]", 3), "hostlist 'n[1-4]' expands to more than 3 names");
    EXPECT_EQ(expand_error("n[1-2,5]-[1-2]", 5), "hostlist 'n[1-2,5]-[1-2]' expands to more than 5 names");
    EXPECT_EQ(expand_error("login", 0), "hostlist 'login' expands to more than 0 names");
    EXPECT_EQ(expand_error("n[1-99999999999]"), "hostlist 'n[1-99999999999]' expands to more than 1000000 names");
}

TEST(ExpandHostlist, CountsHugeExpansionsWithoutOverflow) {
    // 2^64 names in one range; a product of groups whose true size wraps 64 bits to a small number.
    EXPECT_EQ(expand_error("n[0-18446744073709551615]"),
              "hostlist 'n[0-18446744073709551615]' expands to more than 1000000 names");
    EXPECT_EQ(expand_error("n[1-4294967296][1-4294967296]"),
              "hostlist 'n[1-4294967296][1-4294967296]' expands to more than 1000000 names");
    EXPECT_EQ(expand_error("n[0-18446744073709551615,0-18446744073709551615]"),
              "hostlist 'n[0-18446744073709551615,0-18446744073709551615]' expands to more than 1000000 names");
}

TEST(ExpandHostlist, RejectsAnEmptyPattern) {
    EXPECT_EQ(expand_error(""), "empty hostlist");
}

TEST(ExpandHostlist, RejectsUnbalancedBrackets) {
    EXPECT_EQ(expand_error("node[1-3"), "unclosed '[' in hostlist 'node[1-3'");
    EXPECT_EQ(expand_error("node1-3]"), "unexpected ']' in hostlist 'node1-3]'");
    EXPECT_EQ(expand_error("n[1]]"), "unexpected ']' in hostlist 'n[1]]'");
}

TEST(ExpandHostlist, RejectsNestedBrackets) {
    EXPECT_EQ(expand_error("n[1[2]]"), "nested '[' in hostlist 'n[1[2]]'");
}

TEST(ExpandHostlist, RejectsEmptyBracketsAndRanges) {
    EXPECT_EQ(expand_error("node[]"), "empty brackets in hostlist 'node[]'");
    EXPECT_EQ(expand_error("n[1,,3]"), "empty range in hostlist 'n[1,,3]'");
    EXPECT_EQ(expand_error("n[1,]"), "empty range in hostlist 'n[1,]'");
    EXPECT_EQ(expand_error("n[,1]"), "empty range in hostlist 'n[,1]'");
}

TEST(ExpandHostlist, RejectsRangesThatAreNotNumbers) {
    EXPECT_EQ(expand_error("node[a-3]"),
              "bad range 'a-3' in hostlist 'node[a-3]' (expected a number or a range like 1-10)");
    EXPECT_EQ(expand_error("node[1-b]"),
              "bad range '1-b' in hostlist 'node[1-b]' (expected a number or a range like 1-10)");
    EXPECT_EQ(expand_error("n[1-]"), "bad range '1-' in hostlist 'n[1-]' (expected a number or a range like 1-10)");
    EXPECT_EQ(expand_error("n[-3]"), "bad range '-3' in hostlist 'n[-3]' (expected a number or a range like 1-10)");
    EXPECT_EQ(expand_error("n[1-2-3]"),
              "bad range '1-2-3' in hostlist 'n[1-2-3]' (expected a number or a range like 1-10)");
    EXPECT_EQ(expand_error("n[+1]"), "bad range '+1' in hostlist 'n[+1]' (expected a number or a range like 1-10)");
}

TEST(ExpandHostlist, RejectsReversedRanges) {
    EXPECT_EQ(expand_error("node[5-1]"), "bad range '5-1' in hostlist 'node[5-1]' (the start is after the end)");
}

TEST(ExpandHostlist, RejectsEndsPaddedDifferently) {
    EXPECT_EQ(expand_error("n[08-011]"),
              "bad range '08-011' in hostlist 'n[08-011]' (the start and the end are zero-padded differently)");
    EXPECT_EQ(expand_error("n[8-011]"),
              "bad range '8-011' in hostlist 'n[8-011]' (the start and the end are zero-padded differently)");
}

TEST(ExpandHostlist, RejectsNumbersBeyond64Bits) {
    EXPECT_EQ(expand_error("n[18446744073709551616]"),
              "bad range '18446744073709551616' in hostlist 'n[18446744073709551616]' (the number is too large)");
    EXPECT_EQ(expand_error("n[1-99999999999999999999]"),
              "bad range '1-99999999999999999999' in hostlist 'n[1-99999999999999999999]' (the number is too large)");
}

TEST(ExpandHostlist, RejectsWhitespace) {
    EXPECT_EQ(expand_error("node 1"), "unexpected whitespace in hostlist 'node 1'");
    EXPECT_EQ(expand_error(" node1"), "unexpected whitespace in hostlist ' node1'");
    EXPECT_EQ(expand_error("node1\t"), "unexpected whitespace in hostlist 'node1\t'");
    EXPECT_EQ(expand_error("n\n1"), "unexpected whitespace in hostlist 'n\n1'");
    EXPECT_EQ(expand_error("n\r1"), "unexpected whitespace in hostlist 'n\r1'");
    EXPECT_EQ(expand_error("n\v1"), "unexpected whitespace in hostlist 'n\v1'");
    EXPECT_EQ(expand_error("n\f1"), "unexpected whitespace in hostlist 'n\f1'");
    EXPECT_EQ(expand_error("n[1, 2]"), "unexpected whitespace in hostlist 'n[1, 2]'");
}

TEST(ExpandHostlist, RejectsCommasOutsideBrackets) {
    EXPECT_EQ(expand_error("a,b"), "unexpected ',' outside brackets in hostlist 'a,b'");
}

TEST(SplitHostlists, SplitsAtCommasOutsideBrackets) {
    EXPECT_EQ(split_hostlists("a[1,2],b"), (Names{"a[1,2]", "b"}));
    EXPECT_EQ(split_hostlists("n[1-3]"), Names{"n[1-3]"});
    EXPECT_EQ(split_hostlists("x,r[1-2]-n[3,4],y"), (Names{"x", "r[1-2]-n[3,4]", "y"}));
}

TEST(SplitHostlists, LeavesPatternProblemsToExpand) {
    EXPECT_EQ(split_hostlists("a[],b c"), (Names{"a[]", "b c"}));
}

TEST(SplitHostlists, RejectsAnEmptyList) {
    EXPECT_EQ(split_error(""), "empty hostlist");
}

TEST(SplitHostlists, RejectsEmptyElements) {
    EXPECT_EQ(split_error("a,,b"), "empty element in hostlist 'a,,b'");
    EXPECT_EQ(split_error(",a"), "empty element in hostlist ',a'");
    EXPECT_EQ(split_error("a,"), "empty element in hostlist 'a,'");
}

TEST(SplitHostlists, RejectsUnbalancedOrNestedBrackets) {
    EXPECT_EQ(split_error("a[1,2"), "unclosed '[' in hostlist 'a[1,2'");
    EXPECT_EQ(split_error("a],b"), "unexpected ']' in hostlist 'a],b'");
    EXPECT_EQ(split_error("a[1,[2]]"), "nested '[' in hostlist 'a[1,[2]]'");
}

TEST(FoldHostlist, EmptyListIsEmpty) {
    EXPECT_EQ(fold_hostlist({}), "");
}

TEST(FoldHostlist, SingleNameStaysUnbracketed) {
    EXPECT_EQ(fold_hostlist({"node03"}), "node03");
    EXPECT_EQ(fold_hostlist({"login"}), "login");
}

TEST(FoldHostlist, FoldsConsecutiveNumbersIntoRanges) {
    EXPECT_EQ(fold_hostlist({"node03", "node07", "node08", "node09"}), "node[03,07-09]");
    EXPECT_EQ(fold_hostlist({"n1", "n2", "n3", "n5", "n7", "n8"}), "n[1-3,5,7-8]");
}

TEST(FoldHostlist, SortsNumbersWithinAGroup) {
    EXPECT_EQ(fold_hostlist({"n9", "n2", "n1", "n10"}), "n[1-2,9-10]");
}

TEST(FoldHostlist, RemovesDuplicates) {
    EXPECT_EQ(fold_hostlist({"n1", "n2", "n1", "login", "login"}), "n[1-2],login");
    EXPECT_EQ(fold_hostlist({"n1", "n1"}), "n1");
}

TEST(FoldHostlist, KeepsNamesWithoutDigitsAsTheyAre) {
    EXPECT_EQ(fold_hostlist({"login", "n1", "gateway", "n2"}), "login,n[1-2],gateway");
}

TEST(FoldHostlist, OrdersGroupsByFirstAppearance) {
    EXPECT_EQ(fold_hostlist({"b2", "a1", "b1", "a2"}), "b[1-2],a[1-2]");
}

TEST(FoldHostlist, VariesTheLastRunOfDigits) {
    EXPECT_EQ(fold_hostlist({"rack1-n1", "rack1-n2", "rack2-n1"}), "rack1-n[1-2],rack2-n1");
    EXPECT_EQ(fold_hostlist({"10.0.0.1", "10.0.0.2", "10.0.0.3"}), "10.0.0.[1-3]");
    EXPECT_EQ(fold_hostlist({"1", "2", "3x"}), "[1-2],3x");
}

TEST(FoldHostlist, KeepsSuffixes) {
    EXPECT_EQ(fold_hostlist({"n1.ib", "n2.ib", "n3.eth"}), "n[1-2].ib,n3.eth");
}

TEST(FoldHostlist, KeepsPaddingWidthsApart) {
    EXPECT_EQ(fold_hostlist({"n08", "n8", "n09", "n9"}), "n[08-09],n[8-9]");
    EXPECT_EQ(fold_hostlist({"n008", "n08"}), "n008,n08");
    EXPECT_EQ(fold_hostlist({"n0", "n00"}), "n0,n00");
}

TEST(FoldHostlist, UnpaddedNumbersJoinAWidthTheyPrintUnder) {
    EXPECT_EQ(fold_hostlist({"n08", "n09", "n10", "n11"}), "n[08-11]");
    EXPECT_EQ(fold_hostlist({"n98", "n099", "n100"}), "n98,n[099-100]");
    // "n10" fits width 2 but not 3; with both present it takes the widest that fits.
    EXPECT_EQ(fold_hostlist({"n007", "n10", "n05", "n8"}), "n007,n[05,10],n8");
}

TEST(FoldHostlist, LeavesNumbersBeyond64BitsAlone) {
    EXPECT_EQ(fold_hostlist({"n99999999999999999999", "n1"}), "n99999999999999999999,n1");
}

TEST(FoldHostlist, KeepsEmptyNamesInPlace) {
    EXPECT_EQ(fold_hostlist({"", "a"}), ",a");
}

TEST(FoldHostlist, ExpandsBackToTheSameNames) {
    Names names = expand_hostlist("n[01-100]");
    EXPECT_EQ(fold_hostlist(names), "n[01-100]");
    Names grid = expand_hostlist("rack[1-2]-n[08-11]");
    EXPECT_EQ(fold_hostlist(grid), "rack1-n[08-11],rack2-n[08-11]");
    Names again;
    for (const auto& pattern : split_hostlists(fold_hostlist(grid))) {
        Names part = expand_hostlist(pattern);
        again.insert(again.end(), part.begin(), part.end());
    }
    EXPECT_EQ(again, grid);
}

} // namespace
} // namespace sshard::core
