#include "cli/terminal.hpp"

#include <cstdlib>
#include <cstring>
#include <sys/ioctl.h>
#include <unistd.h>

namespace sshard::cli {

bool colour_enabled(int fd) {
    const char* no_colour = std::getenv("NO_COLOR");
    const char* term = std::getenv("TERM");
    if (no_colour != nullptr && no_colour[0] != '\0') {
        return false;
    }
    return isatty(fd) == 1 && term != nullptr && std::strcmp(term, "dumb") != 0;
}

int terminal_width(int fd) {
    winsize size{};
    if (isatty(fd) == 1 && ioctl(fd, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
        return size.ws_col;
    }
    return 100;
}

} // namespace sshard::cli
