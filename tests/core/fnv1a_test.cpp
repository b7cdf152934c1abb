#include "core/fnv1a.hpp"

#include <gtest/gtest.h>

namespace sshard::core {
namespace {

// The published FNV-1a 64-bit test vectors: a spec's hash must not change between versions.
TEST(Fnv1a, KnownValues) {
    EXPECT_EQ(fnv1a_hex(""), "cbf29ce484222325");
    EXPECT_EQ(fnv1a_hex("a"), "af63dc4c8601ec8c");
    EXPECT_EQ(fnv1a_hex("foobar"), "85944171f73967e8");
}

TEST(Fnv1a, AddingInPartsIsAddingTheWhole) {
    EXPECT_EQ(Fnv1a().add("foo").add("bar").value(), Fnv1a().add("foobar").value());
    EXPECT_NE(Fnv1a().add(std::string_view("a\0", 2)).value(), Fnv1a().add("a").value());
}

} // namespace
} // namespace sshard::core
