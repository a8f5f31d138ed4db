//===- compile_oom_test.cpp - out of memory is a Status, not std::terminate ---===//
//
// A forked child limits its address space (setrlimit RLIMIT_AS) to a little more than it uses,
// then asks the driver to compile a model that needs more: a sparse 2.1 GB model file (no
// disk used) read into one buffer. The driver must return "out of memory while compiling the
// model"; before, std::bad_alloc escaped and the process aborted.
//
//===----------------------------------------------------------------------===//
#include "tfc/driver/Compiler.h"
#include "tfc/driver/OutOfMemory.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

/// The process's virtual size in bytes (/proc/self/statm, first field, in pages).
uint64_t virtualBytes() {
  std::ifstream in("/proc/self/statm");
  uint64_t pages = 0;
  in >> pages;
  return pages * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

TEST(CompileOutOfMemory, ABufferTooLargeForTheLimitIsAStatus) {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("tfc_oom_" + std::to_string(::getpid()) + ".fbs"))
                         .string();
  {
    std::ofstream create(path);
  }
  std::filesystem::resize_file(path, 2100000000);  // sparse

  // The child writes the driver's message to the pipe and exits 0 when it is the expected one.
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    mlir::MLIRContext context;  // created before the limit
    tfc::driver::prepareContext(context);
    rlimit limit{virtualBytes() + (uint64_t(256) << 20), RLIM_INFINITY};
    if (::setrlimit(RLIMIT_AS, &limit) != 0)
      ::_exit(3);
    tfc::driver::CompileResult result;
    auto s = tfc::driver::compileModel(context, path, {}, result);
    ssize_t n = ::write(fds[1], s.error.data(), s.error.size());
    (void)n;
    bool expected = s.error == path + ": out of memory while compiling the model (the size of "
                                      "the failed request is unknown)";
    ::_exit(expected ? 0 : 1);
  }
  ::close(fds[1]);
  std::string message;
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;)
    message.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  std::filesystem::remove(path);
  ASSERT_TRUE(WIFEXITED(status)) << "the child died of signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0) << message;
}

TEST(CompileOutOfMemory, MessageHasTheRecordedSize) {
  tfc::driver::noteFailedAllocation(123456789);
  EXPECT_EQ(tfc::driver::outOfMemoryMessage("building the plan"),
            "out of memory while building the plan: a request for 123456789 bytes failed");
  // Read once: the next message does not repeat an old size.
  EXPECT_EQ(tfc::driver::outOfMemoryMessage("building the plan"),
            "out of memory while building the plan (the size of the failed request is unknown)");
}

} // namespace
