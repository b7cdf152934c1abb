// The one way core writes to a file descriptor: all of it, across short writes and interruptions.
#pragma once

#include <string_view>

namespace sshard::core {

// Writes all of `data` to `fd`; returns 0, or the errno of the write that failed.
int write_all(int fd, std::string_view data);

} // namespace sshard::core
