// Helpers for tests that load specs from text.
#pragma once

#include <string>

#include "core/error.hpp"
#include "core/spec_loader.hpp"

namespace sshard::core::test {

// Loads `text` as "jobs.yaml" and returns every diagnostic formatted as the CLI prints it, or "" when valid.
inline std::string spec_errors(const std::string& text, const LoadOptions& options = {}) {
    try {
        load_spec_text("jobs.yaml", text, options);
    } catch (const SpecError& e) {
        std::string out;
        for (const auto& diagnostic : e.diagnostics()) {
            out += format_diagnostic(e.file(), diagnostic);
        }
        return out;
    }
    return "";
}

} // namespace sshard::core::test
