//===- tfrun.cpp - the `tfrun` command line: thin over Run.h ---------------===//
//
//   tfrun PLAN [--input NAME=FILE.npy]... [--output-dir DIR] [--describe] ...
//
// main() only parses flags, calls runTool and reports its status as
// "tfrun: error: <message>" with a nonzero exit (2: usage, 1: anything else).
//
//===----------------------------------------------------------------------===//
#include "Args.h"
#include "Run.h"

#include "tfc/support/OutputFile.h"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <new>
#include <unistd.h>

namespace {

/// OpenMP reads its wait policy once, when the runtime library loads, so --no-spin re-executes
/// tfrun with OMP_WAIT_POLICY=PASSIVE unless the environment already chooses a policy.
void applyNoSpin(char **argv) {
  if (std::getenv("OMP_WAIT_POLICY"))
    return;
  setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
  execv("/proc/self/exe", argv);
  std::fprintf(stderr, "tfrun: warning: could not re-execute for --no-spin; threads may spin\n");
}

} // namespace

int main(int argc, char **argv) {
  using namespace tfc::tfrun;
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  // Ctrl-C while an output is written leaves no temporary file behind.
  tfc::support::installTempFileCleanup();
  try {
    Options options;
    if (Status s = parseArgs(argc, argv, options); !s.ok()) {
      std::fprintf(stderr, "tfrun: error: %s\n(run 'tfrun --help' for usage)\n",
                   s.message.c_str());
      return 2;
    }
    if (options.help) {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (options.noSpin)
      applyNoSpin(argv);
    if (Status s = runTool(options, stdout); !s.ok()) {
      std::fflush(stdout);
      std::fprintf(stderr, "tfrun: error: %s\n", s.message.c_str());
      return 1;
    }
    return 0;
  } catch (const std::bad_alloc &) {
    std::fprintf(stderr, "tfrun: error: out of memory\n");
  } catch (const std::exception &e) {
    std::fprintf(stderr, "tfrun: error: %s\n", e.what());
  }
  return 1;
}
