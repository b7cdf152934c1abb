#include "core/fnv1a.hpp"

#include <fmt/format.h>

namespace sshard::core {

std::string fnv1a_hex(std::string_view text) {
    return fmt::format("{:016x}", Fnv1a().add(text).value());
}

} // namespace sshard::core
