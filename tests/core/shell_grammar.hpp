// A grammar of the shell contexts a placeholder can stand in, hostile values to fill them with, and the oracle that
// runs the rendered commands under dash and bash --posix: each value either reaches the command as exactly its
// text, with no side effect, or is refused when the spec is loaded. Shared by the execution test and the
// command_template fuzz target, so it uses no test framework.
#pragma once

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <functional>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "core/command_template.hpp"

namespace sshard::core::grammar {

// A command with {v} somewhere, and what it prints for a value.
struct Production {
    std::string text;
    std::function<std::string(const std::string&)> expected;
    bool wrapped = true; // inside another construct; false for the bases themselves
};

// A place a placeholder can never take a value: the template itself is refused.
inline const std::vector<std::string> k_refused = {
    "printf '%s' {v} # note {v}", "printf '%s' `printf %s {v}`", "printf '%s' \\{v}",    "cat <<{v}\nx\n{v}",
    "printf '%s' \"${x##{v}}\"",  "printf '%s' \"a\\{v}\"",      "printf '%s' $'{v}'",   "printf '%s' ${#{v}}",
    "printf '%s' $'\\'' {v}",     "printf '%s' ${x:1:{v}}",      "cat <<E\"{v}\"\nx\nE", "x=\"$(echo a # {v}\n)\"",
    "cat <<EOF\n`echo {v}`\nEOF",
};

inline std::vector<Production> bases() {
    auto same = [](const std::string& v) { return v; };
    auto around = [](std::string before, std::string after) {
        return [before, after](const std::string& v) { return before + v + after; };
    };
    return {
        {"printf '%s' {v}", same},
        {"printf '%s' 'a{v}b'", around("a", "b")},
        {"printf '%s' \"a{v}b\"", around("a", "b")},
        {"printf '%s' ${sshard_unset:-{v}}", same},
        {"printf '%s' \"${sshard_unset:-{v}}\"", same},
        {"x={v}Z; printf '%s' ${x##{v}}", [](const std::string&) { return std::string("Z"); }},
        {"case {v}Z in {v}) printf BAD;; {v}Z) printf '%s' {v};; esac", same},
        {"cat <<EOF\na{v}b\nEOF", around("a", "b\n")},
        {"cat <<'EOF'\na{v}b\nEOF", around("a", "b\n")},
        {"cat <<-\"EOF\"\n\t{v}\n\tEOF", around("", "\n")},
        {"cat <<EOF\n${sshard_unset:-{v}}\nEOF", around("", "\n")},
        {"cat <<EOF\n$(printf '%s.' {v})\nEOF", around("", ".\n")},
        {"printf '%s' $(( {v} ))", same},
        {"x={v}; printf '%s' \"$x\"", same},
        {"printf '%s' x\\\n{v}", around("x", "")},
    };
}

// Wrappers put a production inside the constructs that change how the rest of a command is read.
// bash 5.2 misreads a here-document inside a case inside $(...), whatever the values: no case wraps one.
inline std::vector<Production> wrap(const Production& p) {
    auto dot = [e = p.expected](const std::string& v) { return e(v) + "."; };
    std::vector<Production> cases = {
        {"printf '%s' \"$(case a in a)\n" + p.text + "\n;; esac; printf .)\"", dot},
        {"printf '%s' \"$(case a in (a) (\n" + p.text + "\n);; esac; printf .)\"", dot},
    };
    if (p.text.find("<<") != std::string::npos) {
        cases.clear();
    }
    Production bare = p;
    bare.wrapped = false;
    std::vector<Production> out = {
        bare,
        {"(\n" + p.text + "\n)", p.expected},
        {"{ " + p.text + "\n}", p.expected},
        {"f() {\n" + p.text + "\n}\nf", p.expected},
        {"if true; then\n" + p.text + "\nfi", p.expected},
        {"true # it's \"fine\" $( `\n" + p.text, p.expected},
        {"true && \\\n" + p.text, p.expected},
        {"printf '%s' \"$(\n" + p.text + "\nprintf .\n)\"", dot},
        {"x=$(\n" + p.text + "\nprintf .); printf '%s' \"$x\"", dot},
        {"cat <<'X' >/dev/null\n$(touch PWN) {{v}} it's \"\nX\n" + p.text, p.expected},
    };
    out.insert(out.end(), cases.begin(), cases.end());
    return out;
}

inline std::vector<Production> productions() {
    std::vector<Production> out;
    for (const auto& base : bases()) {
        for (auto& wrapped : wrap(base)) {
            out.push_back(std::move(wrapped));
        }
    }
    return out;
}

// Each would run `touch PWN` or print something else if it became shell syntax anywhere.
inline const std::vector<std::string> k_values = {"plain",
                                                  "",
                                                  "a b",
                                                  "'",
                                                  "\"",
                                                  "\\",
                                                  "$(touch PWN)",
                                                  "`touch PWN`",
                                                  "$HOME",
                                                  "${HOME}",
                                                  "; touch PWN",
                                                  "a\nb",
                                                  "EOF",
                                                  "x\nEOF\ntouch PWN",
                                                  "\tEOF",
                                                  "#",
                                                  "# x",
                                                  "*",
                                                  "?",
                                                  "[a]",
                                                  "~",
                                                  "-n",
                                                  "--",
                                                  "}",
                                                  "{",
                                                  ")",
                                                  "esac",
                                                  ";;",
                                                  "\t",
                                                  "$'\\x41'",
                                                  "$((1+1))",
                                                  "'\"'\"`",
                                                  "a\\",
                                                  "&",
                                                  "|",
                                                  "<x",
                                                  "\xff\xfe\x80",
                                                  "\\$(touch PWN)",
                                                  "010",
                                                  "-7",
                                                  "42",
                                                  "0",
                                                  "'; touch PWN; '",
                                                  "\"; touch PWN; \"",
                                                  "Z",
                                                  "a}b"};

// Runs `script` with `shell` (argv) in `dir`, stdin empty, and returns its standard output; status in `status`.
inline std::string run(const std::vector<std::string>& shell, const std::string& script, const std::string& dir,
                       int& status) {
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0) {
        status = -1;
        return "";
    }
    pid_t pid = fork();
    if (pid == 0) {
        alarm(20); // a bound, should a command ever wait for something
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(null, 2);
        dup2(pipe_fds[1], 1);
        close(pipe_fds[0]);
        if (chdir(dir.c_str()) != 0) {
            _exit(126);
        }
        std::vector<char*> argv;
        for (const auto& arg : shell) {
            argv.push_back(const_cast<char*>(arg.c_str()));
        }
        argv.push_back(const_cast<char*>("-c"));
        argv.push_back(const_cast<char*>(script.c_str()));
        argv.push_back(nullptr);
        execvp(argv[0], argv.data());
        _exit(127);
    }
    close(pipe_fds[1]);
    std::string out;
    char buffer[4096];
    // libFuzzer's timer signal interrupts reads and waits: a read cut short by it is not the end of the output.
    for (;;) {
        ssize_t n = read(pipe_fds[0], buffer, sizeof buffer);
        if (n > 0) {
            out.append(buffer, static_cast<std::size_t>(n));
        } else if (n == 0 || errno != EINTR) {
            break;
        }
    }
    close(pipe_fds[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return out;
}

inline const std::vector<std::vector<std::string>> k_shells = {{"dash"}, {"bash", "--posix"}};

// Renders `source` with every {v} as `value`. Returns false, and the reason, when the template or the value is
// refused, as loading the spec would refuse it.
inline bool render(const std::string& source, const std::string& value, std::string& rendered, std::string& why) {
    std::vector<CommandTemplate::Problem> problems;
    CommandTemplate command = CommandTemplate::parse(source, problems);
    if (!problems.empty()) {
        why = problems.front().message;
        return false;
    }
    for (const auto& segment : command.segments()) {
        if (segment.placeholder && !(why = CommandTemplate::refusal(segment, value)).empty()) {
            return false;
        }
    }
    rendered = command.render([&](std::string_view) { return value; });
    return true;
}

} // namespace sshard::core::grammar
