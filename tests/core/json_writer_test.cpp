#include "core/json_writer.hpp"

#include <gtest/gtest.h>
#include <sstream>

namespace sshard::core {
namespace {

TEST(JsonWriter, NestsAndSeparates) {
    std::ostringstream out;
    JsonWriter json(out);
    json.begin_object();
    json.field("a", 1);
    json.key("list");
    json.begin_array();
    json.value("x\"y");
    json.begin_object();
    json.end_object();
    json.value(nullptr);
    json.end_array();
    json.field("b", {{"c", true}});
    json.end_object();
    EXPECT_EQ(out.str(), R"({"a":1,"list":["x\"y",{},null],"b":{"c":true}})");
    EXPECT_TRUE(nlohmann::json::accept(out.str()));
}

TEST(JsonWriter, InvalidUtf8IsReplacedNotThrown) {
    std::ostringstream out;
    JsonWriter json(out);
    json.value(std::string("a\xff"
                           "b"));
    EXPECT_EQ(out.str(), "\"a\xEF\xBF\xBD"
                         "b\"");
}

} // namespace
} // namespace sshard::core
