#include "core/names.hpp"

#include <algorithm>
#include <filesystem>
#include <fmt/format.h>

#include "core/spec_limits.hpp"

namespace sshard::core {

namespace {

bool is_safe_name_char(char c) {
    return is_identifier_char(c) || c == '-' || c == '.';
}

} // namespace

bool is_identifier(std::string_view name) {
    return !name.empty() && is_identifier_start(name[0]) && std::all_of(name.begin(), name.end(), is_identifier_char);
}

// Job and run names become directory names: keep them to a portable set.
bool is_safe_name(std::string_view name) {
    return !name.empty() && name[0] != '.' && name.size() <= k_max_name_length &&
           std::all_of(name.begin(), name.end(), is_safe_name_char);
}

std::string safe_name_rule() {
    return fmt::format("letters, digits, '.', '_' and '-', not starting with '.', at most {}", k_max_name_length);
}

std::string default_run_name(const std::string& path) {
    std::string name = std::filesystem::path(path).stem().string();
    std::replace_if(
        name.begin(), name.end(), [](char c) { return !is_safe_name_char(c); }, '-');
    name = name.substr(0, k_max_name_length);
    return name.empty() || name[0] == '.' ? "run" + name : name;
}

} // namespace sshard::core
