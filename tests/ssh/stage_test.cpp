// End-to-end over SSH: `stage` and `collect` through SFTP on the loopback cluster (tests/ssh/cluster.sh). The
// cluster's hosts are one machine and one user, so each host gets a job and a workdir of its own: what a host
// holds is then its own, as on real machines.
#include <fcntl.h>
#include <filesystem>
#include <gtest/gtest.h>
#include <map>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/unique_fd.hpp"
#include "tests/small_disk.hpp"
#include "tests/ssh/ssh_fixture.hpp"
#include "transport/sftp_files.hpp"
#include "transport/ssh_connection.hpp"

namespace sshard::test {
namespace {

class SshStage : public SshFixture {
protected:
    void SetUp() override {
        SshFixture::SetUp();
        fs::create_directories(m_dir + "/tree/small");
        fs::create_directories(m_dir + "/tree/empty/deeper");
        write_file("tree/big", std::string(3 << 20, 'x'));
        for (int i = 0; i < 40; ++i) {
            write_file("tree/small/" + std::to_string(i), std::string(static_cast<std::size_t>(i), 's'));
        }
        m_tree_bytes = (3 << 20) + 39 * 40 / 2;
        for (int h = 1; h <= 4; ++h) {
            make_workdir(m_dir + "/h" + std::to_string(h));
        }
    }
    static void make_workdir(const std::string& path) {
        fs::create_directories(path);
        fs::permissions(path, fs::perms::all);
    }

    // One job per host, `node<h>` in `<m_dir>/h<h>`, each of 2 shards that check the staged tree, then `extra`.
    std::string spec(const std::string& extra = "", const std::string& workdir4 = "") {
        std::string text = "version: 1\nhosts: [\"node[1-4]\"]\njobs:\n";
        for (int h = 1; h <= 4; ++h) {
            std::string dir = h == 4 && !workdir4.empty() ? workdir4 : m_dir + "/h" + std::to_string(h);
            text += "  - name: n" + std::to_string(h) + "\n    hosts: node" + std::to_string(h) +
                    "\n    workdir: " + dir +
                    "\n    shards: {count: 2}\n    stage:\n      - {from: tree, to: w/tree}\n"
                    "      - {from: tree/small/3, to: w/tool, mode: \"0755\"}\n"
                    "    command: test -x w/tool && wc -c < w/tree/big && ls w/tree/small | wc -l\n" +
                    extra;
        }
        return write_spec(text);
    }
    // Bytes staged per host over the run's attempts, from its journal.
    std::map<std::string, std::uint64_t> sent() const {
        std::map<std::string, std::uint64_t> bytes;
        for (const auto& a : attempts()) {
            bytes[a["host"].get<std::string>()] += a.contains("transfer") ? a["transfer"].value("sent_bytes", 0ull) : 0;
        }
        return bytes;
    }

    std::uint64_t m_tree_bytes = 0;
};

TEST_F(SshStage, StagesATreeOnceAHostThenOnlyWhatChanged) {
    std::string path = spec();
    Result first = run({"run", path});
    ASSERT_EQ(first.exit_code, 0) << first.err;
    for (int h = 1; h <= 4; ++h) {
        for (int i = 0; i < 2; ++i) {
            EXPECT_EQ(read_file(m_dir + "/run/out/n" + std::to_string(h) + "/" + std::to_string(i) + ".1.out"),
                      std::to_string(3 << 20) + "\n40\n");
        }
        EXPECT_EQ(sent()["node" + std::to_string(h)], m_tree_bytes + 3);
        EXPECT_TRUE(fs::is_directory(m_dir + "/h" + std::to_string(h) + "/w/tree/empty/deeper"));
    }
    fs::remove_all(m_dir + "/run");
    Result second = run({"run", path});
    ASSERT_EQ(second.exit_code, 0) << second.err;
    for (const auto& [host, bytes] : sent()) {
        EXPECT_EQ(bytes, 0u) << host;
    }
    write_file("tree/small/7", "seven!!!!");
    fs::remove_all(m_dir + "/run");
    Result third = run({"run", path});
    ASSERT_EQ(third.exit_code, 0) << third.out << third.err;
    for (const auto& [host, bytes] : sent()) {
        EXPECT_EQ(bytes, 9u) << host;
    }
    EXPECT_EQ(read_file(m_dir + "/h2/w/tree/small/7"), "seven!!!!");
}

TEST_F(SshStage, AFullDiskFailsThatHostsStagingAlone) {
    std::string small = m_dir + "/small";
    SmallDisk disk(small, 1 << 20);
    if (!disk.mounted()) {
        GTEST_SKIP() << "mounting a tmpfs needs root";
    }
    fs::permissions(small, fs::perms::all);
    Result r = run({"run", spec("    retries: 1\n    backoff: 100ms\n", small)});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    int n4_attempts = 0;
    for (const auto& a : attempts()) {
        if (a["job"] == "n4") {
            ++n4_attempts;
            EXPECT_EQ(a["reason"].get<std::string>().rfind("staging 'tree' failed: cannot write '" + small, 0), 0u)
                << a.dump();
        } else {
            EXPECT_EQ(a["verdict"], "succeeded") << a.dump();
        }
    }
    EXPECT_EQ(n4_attempts, 4) << "two shards, each tried twice";
    for (const auto& entry : fs::recursive_directory_iterator(small)) {
        EXPECT_EQ(entry.path().string().find("sshard-part"), std::string::npos) << entry.path();
    }
}

// plan --check reads each host's manifest: a changed file is all a host that staged the tree would be sent, and
// a host without a manifest would be sent the whole tree.
TEST_F(SshStage, PlanCheckSaysWhatEachHostWouldBeSent) {
    std::string path = spec();
    Result first = run({"run", path});
    ASSERT_EQ(first.exit_code, 0) << first.err;
    write_file("tree/small/7", "seven!!!!");
    fs::remove(m_dir + "/h2/w/.tree.sshard-manifest");
    Result plan = run_sshard({"plan", path, "--check", "--format", "json", "--ssh-config", k_cluster + "/ssh_config"});
    ASSERT_EQ(plan.exit_code, 0) << plan.err;
    std::map<std::string, std::uint64_t> bytes;
    auto doc = nlohmann::json::parse(plan.out);
    for (const auto& c : doc["stage_check"]) {
        ASSERT_FALSE(c.contains("error")) << c.dump();
        bytes[c["job"].get<std::string>() + " " + c["to"].get<std::string>()] = c["bytes"];
    }
    EXPECT_EQ(bytes["n1 w/tree"], 9u) << "only the changed file";
    EXPECT_EQ(bytes["n1 w/tool"], 0u);
    EXPECT_EQ(bytes["n2 w/tree"], m_tree_bytes + 9 - 7);
    EXPECT_EQ(bytes["n2 w/tool"], 0u);
    Result text = run_sshard({"plan", path, "--check", "--ssh-config", k_cluster + "/ssh_config"});
    EXPECT_NE(text.out.find("  n1 tree -> w/tree on node1: 1 file, 9 bytes to send\n"), std::string::npos) << text.out;
    Result dry = run({"run", path, "--dry-run", "--check"});
    ASSERT_EQ(dry.exit_code, 0) << dry.err;
    EXPECT_EQ(dry.out, text.out) << "run --dry-run --check shows what plan --check shows";
    EXPECT_EQ(run({"run", path, "--check"}).exit_code, 2) << "--check needs --dry-run";
}

// The manifest follows the files as they land: a stage cut short by a full disk, run again with room, sends only
// what the first one did not place.
TEST_F(SshStage, AStageCutShortSendsOnlyWhatIsMissingWhenRunAgain) {
    std::string small = m_dir + "/small";
    SmallDisk disk(small, 2 << 20); // 512 pages: the small files fit, z does not
    if (!disk.mounted()) {
        GTEST_SKIP() << "mounting a tmpfs needs root";
    }
    fs::permissions(small, fs::perms::all);
    fs::create_directories(m_dir + "/cut");
    for (int i = 0; i < 300; ++i) {
        write_file("cut/a" + std::to_string(1000 + i), std::string(1000, 'a'));
    }
    write_file("cut/z", std::string(3 << 20, 'z'));
    std::uint64_t total = 300 * 1000 + (3 << 20);
    std::string path = write_spec("version: 1\nhosts: [node1]\njobs:\n  - name: c\n    workdir: " + small +
                                  "\n    stage: [{from: cut, to: cut}]\n    command: cmp cut/z " + m_dir + "/cut/z\n");
    Result first = run({"run", path});
    EXPECT_EQ(first.exit_code, 1) << first.err;
    std::uint64_t placed = sent()["node1"];
    EXPECT_GE(placed, 256u * 1000) << "the first batch, at least, was recorded";
    EXPECT_LT(placed, total);
    ASSERT_TRUE(disk.grow(16 << 20));
    fs::remove_all(m_dir + "/run");
    Result second = run({"run", path});
    ASSERT_EQ(second.exit_code, 0) << second.err;
    EXPECT_EQ(placed + sent()["node1"], total) << "no file sent twice";
}

TEST_F(SshStage, CollectsAFilePerShardAndRefusesHostilePaths) {
    fs::create_symlink("/etc/passwd", m_dir + "/h1/link");
    std::string path = write_spec("version: 1\nhosts: [node1]\njobs:\n  - name: c\n    workdir: " + m_dir +
                                  "/h1\n    shards: {items: [ok, ok, \"../../x\", link]}\n"
                                  "    command: echo result {index} > r{index}.out; echo {index} > ok\n"
                                  "    collect:\n      - {from: \"{item}\", to: \"got/{index}\"}\n"
                                  "      - {from: \"r{index}.out\", to: \"got/{index}.out\", optional: true}\n");
    Result r = run({"run", path});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    std::map<std::uint64_t, nlohmann::json> ends;
    for (const auto& a : attempts()) {
        ends[a["index"].get<std::uint64_t>()] = a;
    }
    EXPECT_EQ(ends[0]["verdict"], "succeeded");
    EXPECT_EQ(ends[2]["reason"], "collect refused: '../../x' to 'got/2' would leave its directory");
    EXPECT_EQ(ends[3]["reason"], "collect refused: 'link' is a symbolic link on the host");
    EXPECT_FALSE(fs::exists(m_dir + "/run/got/3"));
    std::uint64_t on_disk = 0;
    for (const char* name : {"0", "0.out", "1", "1.out"}) {
        on_disk += fs::file_size(m_dir + "/run/got/" + name);
    }
    EXPECT_EQ(read_file(m_dir + "/run/got/1.out"), "result 1\n");
    Result report = run_sshard({"report", m_dir + "/run", "--format", "json"});
    ASSERT_EQ(report.exit_code, 0) << report.err;
    EXPECT_EQ(nlohmann::json::parse(report.out)["hosts"][0]["transfer"]["received_bytes"], on_disk);
}

// SftpFiles on a connection of its own to node1, its paths taken from `workdir`.
struct Node1Sftp {
    explicit Node1Sftp(const std::string& workdir)
        : connection(host(), options()), files(connection.get(), "node1", workdir) {}
    static core::HostSpec host() {
        core::HostSpec node1;
        node1.name = "node1";
        return node1;
    }
    static transport::SshOptions options() {
        transport::SshOptions cluster;
        cluster.config_file = k_cluster + "/ssh_config";
        return cluster;
    }
    transport::SshConnection connection;
    transport::SftpFiles files;
};

// A file that grows while SFTP reads it is copied at the size it had when opened, as scp does. The copy's output
// is the file itself, appended to (the cluster's hosts share this machine's disk): it grows as fast as it is read,
// and read to its end would fill the small disk.
TEST_F(SshStage, SftpCopiesAFileThatGrowsWhileReadAtItsSizeWhenOpened) {
    std::string small = m_dir + "/small";
    SmallDisk disk(small, 2 << 20);
    if (!disk.mounted()) {
        GTEST_SKIP() << "mounting a tmpfs needs root";
    }
    fs::permissions(small, fs::perms::all);
    const std::uint64_t size = 600 * 1024; // more than one SFTP read
    write_file("small/log", std::string(size, 'l'));
    fs::permissions(small + "/log", fs::perms::all);
    Node1Sftp sftp(small);
    transport::SftpFiles& files = sftp.files;
    core::UniqueFd append(::open((small + "/log").c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
    ASSERT_TRUE(append.is_open());
    EXPECT_EQ(files.copy_to("log", append.get(), "copy"), size);
    EXPECT_EQ(fs::file_size(small + "/log"), 2 * size);
}

// A link planted where a part file is about to be written (another user of a shared workdir, a hostile host)
// must not have the write go through it: part files are made new, never opened as they are.
TEST_F(SshStage, SftpNeverWritesThroughALinkAtAPartFilesName) {
    write_file("victim", "precious\n");
    write_file("local", "payload\n");
    fs::permissions(m_dir + "/victim", fs::perms::all);
    fs::create_symlink(m_dir + "/victim", m_dir + "/h1/one.part");
    fs::create_symlink(m_dir + "/victim", m_dir + "/h1/two.part");
    fs::create_symlink(m_dir + "/victim", m_dir + "/h1/three.part");
    Node1Sftp sftp(m_dir + "/h1");
    transport::SftpFiles& files = sftp.files;
    EXPECT_THROW(files.write_file(m_dir + "/local", 8, "one.part", 0644), core::Error);
    EXPECT_THROW(files.write_text("two.part", "payload\n"), core::Error);
    EXPECT_THROW(files.put_files({{m_dir + "/local", 8, 0644, 0, "three.part", "three"}}, [](std::size_t) {}),
                 core::Error);
    EXPECT_EQ(read_file(m_dir + "/victim"), "precious\n");
    EXPECT_FALSE(fs::exists(m_dir + "/h1/three"));
}

} // namespace
} // namespace sshard::test
