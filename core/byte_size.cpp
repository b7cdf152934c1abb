#include "core/byte_size.hpp"

#include <cmath>
#include <cstdlib>
#include <fmt/format.h>

namespace sshard::core {

namespace {

constexpr const char* k_size_units = "KMGT";

// The power of 1024 that unit `letter` stands for; 0 for none, -1 for an unknown letter.
int size_unit_power(char letter) {
    for (int i = 0; k_size_units[i] != '\0'; ++i) {
        if (letter == k_size_units[i] || letter == k_size_units[i] + ('a' - 'A')) {
            return i + 1;
        }
    }
    return -1;
}

} // namespace

std::optional<std::uint64_t> parse_byte_size(std::string_view text) {
    std::size_t digits = text.find_first_not_of("0123456789.");
    std::string number(text.substr(0, digits));
    std::string_view unit = digits == std::string_view::npos ? std::string_view() : text.substr(digits);
    if (number.empty() || number.front() == '.' || number.back() == '.') {
        return std::nullopt;
    }
    char* end = nullptr;
    double value = std::strtod(number.c_str(), &end);
    if (*end != '\0') {
        return std::nullopt;
    }
    int power = 0;
    if (!unit.empty()) {
        power = size_unit_power(unit.front());
        std::string_view rest = unit.substr(1);
        if (power < 0 || !(rest.empty() || rest == "i" || rest == "B" || rest == "iB")) {
            return std::nullopt;
        }
    } else if (number.find('.') != std::string::npos) {
        return std::nullopt; // a fraction of a byte
    }
    double bytes = std::round(value * std::pow(1024.0, power));
    if (!(bytes <= std::pow(1024.0, 6))) {
        return std::nullopt;
    }
    return static_cast<std::uint64_t>(bytes);
}

std::string format_byte_size(std::uint64_t bytes) {
    if (bytes < 1024) {
        return fmt::format("{} B", bytes);
    }
    double value = static_cast<double>(bytes);
    int unit = -1;
    while (value >= 1024.0 && k_size_units[unit + 1] != '\0') {
        value /= 1024.0;
        ++unit;
    }
    double rounded = std::round(value * 10.0) / 10.0;
    if (rounded == std::floor(rounded)) {
        return fmt::format("{:.0f} {}iB", rounded, k_size_units[unit]);
    }
    return fmt::format("{:.1f} {}iB", rounded, k_size_units[unit]);
}

} // namespace sshard::core
