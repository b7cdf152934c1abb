// Errors that stop a run before it starts. Remote outcomes are never errors: they are values in a shard's
// result (see core/transport.hpp).
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "core/diagnostic.hpp"

namespace sshard::core {

// A run cannot start: an unreadable file, a bad flag value found by core, a broken run directory.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The user's input is wrong before anything runs: a file that cannot be read, a flag value core checks, a
// directory that is not a run. The CLI exits 2 for these, 3 for other errors.
class UsageError : public Error {
public:
    using Error::Error;
};

// Every problem found in one spec file, in file order. Thrown once per load, never with an empty list.
class SpecError : public UsageError {
public:
    SpecError(std::string file, std::vector<Diagnostic> diagnostics);

    const std::string& file() const { return m_file; }
    const std::vector<Diagnostic>& diagnostics() const { return m_diagnostics; }

private:
    std::string m_file;
    std::vector<Diagnostic> m_diagnostics;
};

} // namespace sshard::core
