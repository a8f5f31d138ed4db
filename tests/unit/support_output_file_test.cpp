//===- support_output_file_test.cpp - support/OutputFile: nothing the user has is lost -===//
#include "tfc/support/OutputFile.h"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace {

using tfc::support::checkOutputPaths;
using tfc::support::OutputFile;
using tfc::support::writeFileAtomically;

class OutputFileTest : public ::testing::Test {
protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tfc_outfile_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir = tmpl;
  }
  void TearDown() override { (void)std::system(("rm -rf '" + dir + "'").c_str()); }

  std::string path(const std::string &name) const { return dir + "/" + name; }
  static std::string read(const std::string &p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  static void write(const std::string &p, const std::string &text) {
    std::ofstream(p, std::ios::binary) << text;
  }
  static mode_t modeOf(const std::string &p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st.st_mode & 07777;
  }
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    if (DIR *d = ::opendir(dir.c_str())) {
      while (dirent *e = ::readdir(d))
        if (std::string(e->d_name) != "." && std::string(e->d_name) != "..")
          names.push_back(e->d_name);
      ::closedir(d);
    }
    return names;
  }
  std::string dir;
};

TEST_F(OutputFileTest, WritesAndReplaces) {
  write(path("out"), "old contents");
  ASSERT_EQ(writeFileAtomically(path("out"), std::string("new")), "");
  EXPECT_EQ(read(path("out")), "new");
  EXPECT_EQ(entries(), std::vector<std::string>{"out"});  // no temporary file left
}

TEST_F(OutputFileTest, DiscardLeavesTheOldFileAndNoTemporary) {
  write(path("out"), "keep me");
  {
    OutputFile f;
    ASSERT_EQ(f.open(path("out")), "");
    ASSERT_EQ(f.write("partial", 7), "");
    EXPECT_FALSE(f.tempPath().empty());
    // destroyed without commit(): a failure half way
  }
  EXPECT_EQ(read(path("out")), "keep me");
  EXPECT_EQ(entries(), std::vector<std::string>{"out"});
}

TEST_F(OutputFileTest, KeepsAnExistingFilesMode) {
  write(path("secret"), "x");
  ASSERT_EQ(::chmod(path("secret").c_str(), 0600), 0);
  ASSERT_EQ(writeFileAtomically(path("secret"), std::string("y")), "");
  EXPECT_EQ(modeOf(path("secret")), 0600u);  // was widened to 0644 before
  ASSERT_EQ(::chmod(path("secret").c_str(), 0751), 0);
  ASSERT_EQ(writeFileAtomically(path("secret"), std::string("z")), "");
  EXPECT_EQ(modeOf(path("secret")), 0751u);
}

TEST_F(OutputFileTest, NewFilesHonourTheUmask) {
  mode_t old = ::umask(077);
  std::string e1 = writeFileAtomically(path("private"), std::string("a"));
  ::umask(022);
  std::string e2 = writeFileAtomically(path("public"), std::string("b"));
  ::umask(old);
  ASSERT_EQ(e1, "");
  ASSERT_EQ(e2, "");
  EXPECT_EQ(modeOf(path("private")), 0600u);
  EXPECT_EQ(modeOf(path("public")), 0644u);
}

TEST_F(OutputFileTest, WritesThroughASymlinkAndKeepsTheLink) {
  write(path("target"), "old");
  ASSERT_EQ(::symlink("target", path("link").c_str()), 0);
  ASSERT_EQ(writeFileAtomically(path("link"), std::string("new")), "");
  struct stat st {};
  ASSERT_EQ(::lstat(path("link").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode)) << "the link was replaced by a regular file";
  EXPECT_EQ(read(path("target")), "new");
}

TEST_F(OutputFileTest, RefusesADanglingSymlink) {
  ASSERT_EQ(::symlink("missing/nowhere", path("dangling").c_str()), 0);
  std::string e = writeFileAtomically(path("dangling"), std::string("x"));
  EXPECT_NE(e.find("symbolic link"), std::string::npos) << e;
  struct stat st {};
  ASSERT_EQ(::lstat(path("dangling").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
}

TEST_F(OutputFileTest, DeviceNodesAreWrittenNotReplaced) {
  // /dev/null stays a character device (a rename over it would replace it).
  ASSERT_EQ(writeFileAtomically("/dev/null", std::string("discarded")), "");
  struct stat st {};
  ASSERT_EQ(::stat("/dev/null", &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  // A FIFO: written through, still a FIFO.
  ASSERT_EQ(::mkfifo(path("fifo").c_str(), 0600), 0);
  pid_t reader = ::fork();
  if (reader == 0) {
    int fd = ::open(path("fifo").c_str(), O_RDONLY);
    char buf[64];
    ssize_t n = ::read(fd, buf, sizeof(buf));
    ::_exit(n == 5 && std::string(buf, 5) == "hello" ? 0 : 1);
  }
  EXPECT_EQ(writeFileAtomically(path("fifo"), std::string("hello")), "");
  int status = 0;
  ::waitpid(reader, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_EQ(::lstat(path("fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
}

TEST_F(OutputFileTest, RefusesADirectory) {
  ASSERT_EQ(::mkdir(path("d").c_str(), 0755), 0);
  std::string e = writeFileAtomically(path("d"), std::string("x"));
  EXPECT_NE(e.find("is a directory"), std::string::npos) << e;
}

TEST_F(OutputFileTest, OutputThatIsAnInputIsRefused) {
  write(path("m.fbs"), "model");
  ASSERT_EQ(::link(path("m.fbs").c_str(), path("hard.fbs").c_str()), 0);
  ASSERT_EQ(::symlink("m.fbs", path("soft.fbs").c_str()), 0);
  for (std::string out : {path("m.fbs"), path("hard.fbs"), path("soft.fbs"),
                          dir + "/./m.fbs"}) {
    std::string e = checkOutputPaths({{path("m.fbs"), "the model"}}, {{out, "-o"}});
    EXPECT_NE(e.find("is the same file as the model"), std::string::npos) << out << ": " << e;
  }
  EXPECT_EQ(checkOutputPaths({{path("m.fbs"), "the model"}}, {{path("plan.bin"), "-o"}}), "");
  EXPECT_EQ(read(path("m.fbs")), "model");
}

TEST_F(OutputFileTest, OneFileForTwoOutputsIsRefused) {
  // Neither exists yet: compared by directory + name.
  std::string e = checkOutputPaths({}, {{path("x"), "-o"}, {dir + "/./x", "--report"}});
  EXPECT_NE(e.find("name the same file"), std::string::npos) << e;
  EXPECT_EQ(checkOutputPaths({}, {{path("x"), "-o"}, {path("y"), "--report"}}), "");
}

TEST_F(OutputFileTest, SigintRemovesTheTemporaryFile) {
  write(path("plan.bin"), "the previous plan");
  pid_t child = ::fork();
  if (child == 0) {
    tfc::support::installTempFileCleanup();
    OutputFile f;
    if (!f.open(path("plan.bin")).empty() || !f.write("half a plan", 11).empty())
      ::_exit(3);
    ::raise(SIGINT);  // Ctrl-C half way through
    ::_exit(4);       // not reached: the handler ends the process with SIGINT
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "exit status " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGINT);
  EXPECT_EQ(entries(), std::vector<std::string>{"plan.bin"}) << "a temporary file was left";
  EXPECT_EQ(read(path("plan.bin")), "the previous plan");
}

} // namespace
