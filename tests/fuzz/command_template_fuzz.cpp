// Fuzzes the command template and its quoting. The input is a template, then NUL-separated values for its
// placeholders. Any template parses or reports problems at offsets inside it; every value, quoted as a word,
// inside '...' or inside "...", must read back through POSIX sh rules as exactly itself; and the execution oracle
// of tests/core/shell_grammar.hpp: the first value, in the grammar's production picked by the template's first
// byte, is refused or printed as exactly itself by dash and bash --posix, with no file created.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/command_template.hpp"
#include "core/shell_quote.hpp"
#include "tests/core/shell_grammar.hpp"
#include "tests/fuzz/fuzz_target.hpp"

using namespace sshard;

namespace {

// The characters POSIX sh gives no meaning to, wherever they stand in a word (POSIX.1-2017 XCU 2.2, 2.6).
bool is_inert(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           std::string_view("_@%+=:,./-").find(c) != std::string_view::npos;
}

// Reads one shell word the way sh does for the two quotings a word may use here: '...' is literal, and \' is a
// quote. Anything else outside quotes must be inert; returns false when it is not, as a shell could act on it.
bool read_word(std::string_view word, std::string& value) {
    value.clear();
    for (std::size_t i = 0; i < word.size();) {
        if (word[i] == '\'') {
            auto close = word.find('\'', i + 1);
            if (close == std::string_view::npos) {
                return false;
            }
            value.append(word.substr(i + 1, close - i - 1));
            i = close + 1;
        } else if (word[i] == '\\' && i + 1 < word.size() && word[i + 1] == '\'') {
            value += '\'';
            i += 2;
        } else if (is_inert(word[i])) {
            value += word[i++];
        } else {
            return false;
        }
    }
    return !word.empty();
}

// Reads text placed inside '...' back: it must not close the quotes but through '\'' (close, quote, reopen).
bool read_in_single(std::string_view text, std::string& value) {
    value.clear();
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '\'') {
            value += text[i];
        } else if (text.substr(i, 4) == "'\\''") {
            value += '\'';
            i += 3;
        } else {
            return false;
        }
    }
    return true;
}

// Reads text placed inside "..." back by POSIX rules: \ before $ ` " \ is dropped; those four unescaped would
// end the quotes or expand.
bool read_in_double(std::string_view text, std::string& value) {
    value.clear();
    for (std::size_t i = 0; i < text.size(); ++i) {
        bool special = text[i] == '$' || text[i] == '`' || text[i] == '"' || text[i] == '\\';
        if (text[i] == '\\' && i + 1 < text.size() &&
            std::string_view("$`\"\\").find(text[i + 1]) != std::string_view::npos) {
            value += text[++i];
        } else if (special) {
            return false;
        } else {
            value += text[i];
        }
    }
    return true;
}

void check_by_execution(unsigned char pick, const std::string& value) {
    namespace fs = std::filesystem;
    static const std::vector<core::grammar::Production> productions = core::grammar::productions();
    static const fs::path dir = fs::temp_directory_path() / ("sshard-fuzz-" + std::to_string(getpid()));
    const core::grammar::Production& production = productions[pick % productions.size()];
    std::string rendered;
    std::string why;
    if (!core::grammar::render(production.text, value, rendered, why)) {
        return;
    }
    fs::create_directories(dir);
    for (const auto& shell : core::grammar::k_shells) {
        int status = 0;
        std::string out = core::grammar::run(shell, rendered, dir.string(), status);
        bool clean = fs::is_empty(dir);
        fs::remove_all(dir);
        fs::create_directories(dir);
        fuzz::check(clean, "a value made the shell create a file");
        fuzz::check(out == production.expected(value), "a value did not reach the command as its text");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    auto end = input.find('\0');
    std::string_view source = input.substr(0, end);
    std::vector<std::string> values;
    while (end != std::string_view::npos) {
        auto next = input.find('\0', end + 1);
        values.emplace_back(input.substr(end + 1, next == std::string_view::npos ? next : next - end - 1));
        end = next;
    }

    std::vector<core::CommandTemplate::Problem> problems;
    core::CommandTemplate command = core::CommandTemplate::parse(source, problems);
    for (const auto& problem : problems) {
        fuzz::check(problem.offset <= source.size(), "a problem points past the template");
        fuzz::check(!problem.message.empty(), "a problem without a message");
    }
    if (!problems.empty()) {
        return 0;
    }
    std::size_t next_value = 0;
    std::string rendered = command.render([&](std::string_view) -> std::optional<std::string> {
        if (values.empty()) {
            return std::nullopt;
        }
        return values[next_value++ % values.size()];
    });
    if (values.empty()) {
        fuzz::check(rendered.size() <= source.size(), "a command grew with nothing to substitute");
    }

    if (!values.empty()) {
        check_by_execution(source.empty() ? 0 : static_cast<unsigned char>(source[0]), values.front());
    }
    std::string read_back;
    for (const auto& value : values) {
        fuzz::check(read_word(core::shell_quote(value), read_back), "a quoted value is not one inert word");
        fuzz::check(read_back == value, "a quoted value reads back as something else");
        fuzz::check(read_in_single(core::shell_quote_in_single(value), read_back) && read_back == value,
                    "a value inside '...' does not read back as itself");
        fuzz::check(read_in_double(core::shell_quote_in_double(value), read_back) && read_back == value,
                    "a value inside \"...\" does not read back as itself");
    }
    return 0;
}
