// Text from a spec, a host or a shard made safe inside HTML, between tags or in a quoted attribute.
#pragma once

#include <string>

namespace sshard::cli {

// `text` with &, <, >, " and ' written as character references.
std::string html_escape(const std::string& text);

} // namespace sshard::cli
