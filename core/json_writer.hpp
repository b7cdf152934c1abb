// Streams one JSON document of unbounded size: the structure is written as it goes, every value is encoded
// by nlohmann-json. Lets a plan of ten million shards be printed without holding it. Values are ordered_json,
// so objects keep their fields in the order written.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string_view>
#include <vector>

namespace sshard::core {

class JsonWriter {
public:
    explicit JsonWriter(std::ostream& out) : m_out(out) {}

    void begin_object();
    void end_object();
    void begin_array();
    void end_array();
    // Names the next value inside an object.
    void key(std::string_view name);
    // Writes a complete value (scalar or small document).
    void value(const nlohmann::ordered_json& value);
    // Writes `name: value` inside an object.
    void field(std::string_view name, const nlohmann::ordered_json& value);

private:
    void separate();

    std::ostream& m_out;
    std::vector<bool> m_first; // per open container: nothing written in it yet
    bool m_after_key = false;
};

} // namespace sshard::core
