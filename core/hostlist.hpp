// Hostlists in the ClusterShell/pdsh syntax: `node[01-10,12]`, `rack[1-2]-n[1-4]`, zero padding kept.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sshard::core {

// Expands one hostlist pattern (no top-level commas) into host names, in order: the leftmost bracket varies
// slowest. Throws HostlistError for an empty pattern, unbalanced or empty brackets, a bad range (`[5-1]`,
// `[a-3]`), or an expansion larger than `limit` names.
std::vector<std::string> expand_hostlist(std::string_view pattern, std::size_t limit = 1'000'000);

// Splits a comma-separated list of patterns at the commas outside brackets: "a[1,2],b" -> {"a[1,2]", "b"}.
// Throws HostlistError on unbalanced brackets or an empty element.
std::vector<std::string> split_hostlists(std::string_view list);

// Folds names back into the shortest readable hostlist: {node03, node07, node08, node09} -> "node[03,07-09]".
// Names that share a prefix and suffix around one number fold together; groups keep the order of their first
// names, so "x[08-11][1-100]" folds into a group per digit count and lists the names in another order.
std::string fold_hostlist(const std::vector<std::string>& names);

class HostlistError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

} // namespace sshard::core
