// End-to-end: the real binary runs commands whose values come from a lines file, in the places where the old
// quoting let them run as shell, and reports spec errors inside multi-line commands at their line.
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>

#include "tests/cli/binary.hpp"

namespace sshard::test {
namespace {

namespace fs = std::filesystem;

class PlaceholderValues : public E2eTest {};

TEST_F(PlaceholderValues, HostileLinesReachEachCommandAsTheirText) {
    std::string pwned = m_dir + "/PWNED";
    const std::vector<std::string> items = {"$(touch " + pwned + ")",
                                            "it's \"fine\" `touch " + pwned + "`",
                                            "a; touch " + pwned + " #",
                                            "\xff\xfe * ?",
                                            "-n",
                                            "${HOME} \\ }"};
    std::string lines;
    for (const auto& item : items) {
        lines += item + "\n";
    }
    write_file("items.txt", lines);
    std::string spec = write_file("jobs.yaml", R"yaml(version: 1
defaults: {env: {TOKEN: s3cret}}
jobs:
  - name: comment
    command: |
      echo start # it's fine
      printf '%s\n' {item}
    shards: {lines: items.txt}
  - name: case
    command: printf '%s\n' "$(case a in a) printf '%s' {item};; esac)"
    shards: {lines: items.txt}
  - name: heredoc
    command: |
      cat <<EOF
      processing {item}
      EOF
    shards: {lines: items.txt}
  - name: quoted
    command: |
      cat <<'EOF'
      processing {item}
      EOF
    shards: {lines: items.txt}
  - name: braces
    command: "{ f() { awk '{ print $1 }'; }; echo {job} | f; }; test ${HOME:+x} = x && find {job} -prune -exec echo {} \\;"
)yaml");
    fs::create_directories(m_dir + "/braces");
    Result r = run_sshard({"run", spec, "--run-dir", m_dir + "/run"}, m_dir);
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    EXPECT_FALSE(fs::exists(pwned)) << "a value ran as shell";
    for (std::size_t i = 0; i < items.size(); ++i) {
        std::string out = m_dir + "/run/out/";
        std::string index = std::to_string(i) + ".1.out";
        EXPECT_EQ(read_file(out + "comment/" + index), "start\n" + items[i] + "\n");
        EXPECT_EQ(read_file(out + "case/" + index), items[i] + "\n");
        EXPECT_EQ(read_file(out + "heredoc/" + index), "processing " + items[i] + "\n");
        EXPECT_EQ(read_file(out + "quoted/" + index), "processing " + items[i] + "\n");
    }
    EXPECT_EQ(read_file(m_dir + "/run/out/braces/0.1.out"), "braces\nbraces\n");
}

TEST_F(PlaceholderValues, RefusedValuesAndPlacesAreLocatedWithoutEnvValues) {
    write_file("items.txt", "ok\nEOF\n");
    std::string spec = write_file("jobs.yaml", R"yaml(version: 1
jobs:
  - name: a
    env:
      TOKEN: s3cret-1
      OTHER: [s3cret-2]
    command: |
      echo {item} # {item}
      cat <<'EOF'
      {item}
      EOF
    shards: {lines: items.txt}
)yaml");
    Result r = run_sshard({"plan", spec});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, spec +
                         ":6:14: error: 'OTHER' must be a single value, not a list\n"
                         "          OTHER: ***\n"
                         "                 ^\n" +
                         spec +
                         ":8:21: error: placeholder '{item}' in a comment in command: the shell never reads it\n"
                         "          echo {item} # {item}\n"
                         "                        ^\n"
                         "sshard: 2 errors in " +
                         spec + "; nothing was dispatched\n");
    write_file("jobs.yaml", R"yaml(version: 1
jobs:
  - name: a
    command: |
      cat <<'EOF'
      {item}
      EOF
    shards: {lines: items.txt}
)yaml");
    r = run_sshard({"run", spec, "--run-dir", m_dir + "/run"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, spec +
                         ":6:7: error: value 'EOF' of '{item}' would end the here-document, whose delimiter is "
                         "'EOF'\n"
                         "          {item}\n"
                         "          ^\n"
                         "sshard: 1 error in " +
                         spec + "; nothing was dispatched\n");
    EXPECT_FALSE(fs::exists(m_dir + "/run"));
}

} // namespace
} // namespace sshard::test
