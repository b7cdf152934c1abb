// Quoting for POSIX `sh -c`, so that substituted values reach a command as one literal word.
#pragma once

#include <string>
#include <string_view>

namespace sshard::core {

// Returns `text` unchanged when it is non-empty and made only of characters no shell treats specially
// ([A-Za-z0-9_@%+=:,./-]); otherwise wraps it in single quotes, writing each ' as '\''. "" becomes ''.
std::string shell_quote(std::string_view text);

// For text placed inside a command's own '...': each ' becomes '\'' (close, escaped quote, reopen).
std::string shell_quote_in_single(std::string_view text);

// For text placed inside a command's own "...": a backslash before each $ ` " and \, the characters that keep
// a meaning there.
std::string shell_quote_in_double(std::string_view text);

} // namespace sshard::core
