// The rules for names a spec gives: identifiers (placeholders, matrix keys, environment variables) and the names
// of jobs and runs, which become directory names.
#pragma once

#include <string>
#include <string_view>

namespace sshard::core {

// Whether `c` may start an identifier: an ASCII letter or '_'. Spelled out rather than std::isalpha, whose
// answer depends on the locale.
constexpr bool is_identifier_start(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

// Whether `c` may continue an identifier: an ASCII letter, digit or '_'.
constexpr bool is_identifier_char(char c) {
    return is_identifier_start(c) || (c >= '0' && c <= '9');
}

// Whether `name` is an identifier: letters, digits and '_', not starting with a digit. A placeholder's name, a
// matrix key (which becomes one) and an environment variable's name all follow this rule.
bool is_identifier(std::string_view name);

// Whether `name` may name a job or a run: letters, digits, '.', '_' and '-', not starting with '.', at most
// k_max_name_length bytes.
bool is_safe_name(std::string_view name);

// is_safe_name's rule in words, for messages.
std::string safe_name_rule();

// The run's name when the spec gives none: the stem of the spec's `path`, made a safe name.
std::string default_run_name(const std::string& path);

} // namespace sshard::core
