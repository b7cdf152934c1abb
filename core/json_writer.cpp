#include "core/json_writer.hpp"

#include <cassert>

namespace sshard::core {

void JsonWriter::separate() {
    if (m_after_key) {
        m_after_key = false;
        return;
    }
    if (!m_first.empty()) {
        if (!m_first.back()) {
            m_out << ',';
        }
        m_first.back() = false;
    }
}

void JsonWriter::begin_object() {
    separate();
    m_out << '{';
    m_first.push_back(true);
}

void JsonWriter::end_object() {
    assert(!m_first.empty());
    m_first.pop_back();
    m_out << '}';
}

void JsonWriter::begin_array() {
    separate();
    m_out << '[';
    m_first.push_back(true);
}

void JsonWriter::end_array() {
    assert(!m_first.empty());
    m_first.pop_back();
    m_out << ']';
}

void JsonWriter::key(std::string_view name) {
    separate();
    m_out << nlohmann::json(name).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << ':';
    m_after_key = true;
}

void JsonWriter::value(const nlohmann::ordered_json& value) {
    separate();
    // Replace invalid UTF-8 rather than throw: commands and items may hold any bytes.
    m_out << value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void JsonWriter::field(std::string_view name, const nlohmann::ordered_json& value) {
    key(name);
    this->value(value);
}

} // namespace sshard::core
