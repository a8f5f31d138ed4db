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
#include <string>
#include <unistd.h>

namespace {

/// OpenMP reads its wait policy once, when its library loads, and libtfc_runtime translates
/// TFC_WAIT_POLICY just before that (runtime/src/waitpolicy/WaitPolicy.h); so --wait-policy
/// re-executes tfrun with TFC_WAIT_POLICY set, unless it already holds that value.
void applyWaitPolicy(const std::string &policy, char **argv) {
  const char *current = std::getenv("TFC_WAIT_POLICY");
  if (current && policy == current)
    return;
  setenv("TFC_WAIT_POLICY", policy.c_str(), 1);
  execv("/proc/self/exe", argv);
  std::fprintf(stderr, "tfrun: warning: could not re-execute for --wait-policy %s; the policy "
                       "stays as it was\n", policy.c_str());
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
                   s.error.c_str());
      return 2;
    }
    if (options.help) {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (!options.waitPolicy.empty())
      applyWaitPolicy(options.waitPolicy, argv);
    if (Status s = runTool(options, stdout); !s.ok()) {
      std::fflush(stdout);
      std::fprintf(stderr, "tfrun: error: %s\n", s.error.c_str());
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
