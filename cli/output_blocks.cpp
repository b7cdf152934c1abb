#include "cli/output_blocks.hpp"

#include <map>
#include <utility>

#include "cli/terminal.hpp"
#include "core/output_reader.hpp"

namespace sshard::cli {

namespace {

constexpr std::string_view k_rule = "----------------\n";

void print_header(std::ostream& out, const std::string& title, bool err) {
    out << k_rule << terminal_safe(title) << (err ? " (stderr)" : "") << '\n' << k_rule;
}

// A block's text as it ends up: a last line without its line break gets one, so the next header starts a line.
void print_text(std::ostream& out, std::string_view text) {
    out << text;
    if (!text.empty() && text.back() != '\n') {
        out << '\n';
    }
}

bool copy_stream(std::ostream& out, int outputs, const StoredAttempt& attempt, core::Stream stream) {
    bool started = false;
    char last = '\n';
    core::read_output(outputs, attempt.job, attempt.stem, stream, [&](std::string_view chunk) {
        if (!started) {
            print_header(out, attempt.title, stream == core::Stream::err);
            started = true;
        }
        out << chunk;
        last = chunk.back();
    });
    if (last != '\n') {
        out << '\n';
    }
    out.flush();
    return static_cast<bool>(out);
}

} // namespace

bool print_attempt(std::ostream& out, std::ostream& err, int outputs, const StoredAttempt& attempt) {
    bool out_ok = copy_stream(out, outputs, attempt, core::Stream::out);
    bool err_ok = copy_stream(err, outputs, attempt, core::Stream::err);
    return out_ok && err_ok;
}

bool print_folded(std::ostream& out, int outputs, const std::vector<StoredAttempt>& attempts,
                  const std::function<std::string(const std::vector<std::size_t>&)>& fold_title) {
    using Text = std::pair<std::string, std::string>; // standard output, standard error
    std::map<Text, std::size_t> group_of;
    std::vector<std::pair<const Text*, std::vector<std::size_t>>> groups; // in the order of first appearance
    for (std::size_t i = 0; i < attempts.size(); ++i) {
        Text text{core::read_output_text(outputs, attempts[i].job, attempts[i].stem, core::Stream::out),
                  core::read_output_text(outputs, attempts[i].job, attempts[i].stem, core::Stream::err)};
        if (text.first.empty() && text.second.empty()) {
            continue;
        }
        auto [it, inserted] = group_of.try_emplace(std::move(text), groups.size());
        if (inserted) {
            groups.emplace_back(&it->first, std::vector<std::size_t>());
        }
        groups[it->second].second.push_back(i);
    }
    for (const auto& [text, members] : groups) {
        std::string title = fold_title(members);
        if (!text->first.empty()) {
            print_header(out, title, false);
            print_text(out, text->first);
        }
        if (!text->second.empty()) {
            print_header(out, title, true);
            print_text(out, text->second);
        }
    }
    out.flush();
    return static_cast<bool>(out);
}

} // namespace sshard::cli
