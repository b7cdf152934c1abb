// Typed reads of YAML values for the spec loader, each recording a diagnostic with its position when the value
// is wrong, so that the loader goes on and reports every problem of a file at once. Private to the spec loader's
// files (spec_loader.cpp, spec_yaml_*.cpp): no other part of sshard sees yaml-cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>
#include <yaml-cpp/yaml.h>

#include "core/diagnostic.hpp"
#include "core/duration.hpp"

namespace sshard::core {

class YamlReader {
public:
    // Records into `diag`, which holds the spec's text and must outlive the reader.
    explicit YamlReader(DiagnosticList& diag) : m_diag(diag) {}

    // Where `node` stands in the file, counting from 1; the whole file for a node without a position.
    SourceLocation where(const YAML::Node& node) const;
    // Where byte `offset` of scalar `node`'s value stands in the file, or where the value starts when it cannot
    // be told (escapes).
    SourceLocation offset_location(const YAML::Node& node, std::size_t offset) const;
    // Reports a problem at `node`; an empty value was already reported at its key, so it is passed over.
    void error(const YAML::Node& node, std::string message);

    // Whether `node` is a mapping (else reported); reports each key not among `keys` (with the closest as a
    // hint), duplicate, without a value, or a secret. `what` names the mapping in messages.
    bool check_map(const YAML::Node& node, std::string_view what, const std::vector<std::string>& keys);
    // The value of a scalar; nullopt, reported, for an empty value, a mapping or a list. `what` names it.
    std::optional<std::string> scalar(const YAML::Node& node, std::string_view what);
    // A whole number from `min` to `max`; nullopt, reported, otherwise.
    std::optional<std::int64_t> integer(const YAML::Node& node, std::string_view what, std::int64_t min,
                                        std::int64_t max);
    // `true` or `false`; nullopt, reported, otherwise.
    std::optional<bool> boolean(const YAML::Node& node, std::string_view what);
    // A duration (core/duration.hpp), longer than zero unless `allow_zero`; nullopt, reported, otherwise.
    std::optional<Duration> duration(const YAML::Node& node, std::string_view what, bool allow_zero);
    // A size of memory (core/byte_size.hpp) above zero; nullopt, reported, otherwise.
    std::optional<std::uint64_t> byte_size(const YAML::Node& node, std::string_view what);
    // A share above 0 and up to 1, written as a number (0.9) or a percentage (90%); nullopt, reported, otherwise.
    std::optional<double> fraction(const YAML::Node& node, std::string_view what);
    // A list of scalars, or with `allow_single` one scalar as a list of one. Items in error are left out.
    std::vector<std::string> string_list(const YAML::Node& node, std::string_view what, bool allow_single);

private:
    DiagnosticList& m_diag;
    std::set<std::pair<int, int>> m_empty_values; // positions of empty values already reported at their keys
};

} // namespace sshard::core
