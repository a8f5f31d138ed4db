//===- plan_open_bench.cpp - time and memory of opening a plan, and of checking its weights ===//
//
// What `tfrun --describe` costs without the process's own start (which, in a build with the
// CUDA backend, is dominated by loading the CUDA libraries): tfc_plan_open plus the signature
// queries, timed in-process over RUNS opens, and the resident memory it adds (VmRSS from
// /proc/self/status, before and after the first open). Then tfc_plan_verify on a fresh open:
// the read of every weight that open no longer does. Prints `key=value` pairs for scripts.
//
//   plan_open_bench PLAN [RUNS] [--open-only]
//
// --open-only skips tfc_plan_verify, so that the same binary also measures an older runtime
// library that has none (LD_LIBRARY_PATH=OLD/lib; the symbol is bound lazily, on first call).
//
//===----------------------------------------------------------------------===//
#include "tfc/tfc_runtime.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

/// The process's resident set, KiB (0 when /proc is unreadable).
long rssKb() {
  std::FILE *f = std::fopen("/proc/self/status", "r");
  if (!f)
    return 0;
  char line[256];
  long kb = 0;
  while (std::fgets(line, sizeof line, f))
    if (std::strncmp(line, "VmRSS:", 6) == 0)
      kb = std::strtol(line + 6, nullptr, 10);
  std::fclose(f);
  return kb;
}

double nowMs() {
  using namespace std::chrono;
  return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

/// Opens `path` as tfrun does (any_target) and reads the signature as --describe does.
tfc_plan *openAndDescribe(const char *path) {
  tfc_plan_options o;
  tfc_plan_options_init(&o);
  o.any_target = 1;
  tfc_plan *plan = nullptr;
  if (tfc_status *s = tfc_plan_open(path, &o, &plan)) {
    std::fprintf(stderr, "plan_open_bench: %s\n", tfc_status_message(s));
    std::exit(1);
  }
  tfc_plan_info info;
  tfc_plan_get_info(plan, &info);
  for (size_t i = 0, n = tfc_plan_num_functions(plan); i < n; ++i) {
    const char *fn = tfc_plan_function_name(plan, i);
    size_t ni = 0, no = 0;
    tfc_status_free(tfc_plan_num_ports(plan, fn, &ni, &no));
    tfc_port_info port;
    for (size_t j = 0; j < ni; ++j)
      tfc_status_free(tfc_plan_input_info(plan, fn, j, &port));
    for (size_t j = 0; j < no; ++j)
      tfc_status_free(tfc_plan_output_info(plan, fn, j, &port));
  }
  return plan;
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: plan_open_bench PLAN [RUNS] [--open-only]\n");
    return 2;
  }
  const char *path = argv[1];
  const int runs = argc > 2 ? std::max(1, std::atoi(argv[2])) : 5;
  const bool openOnly = argc > 3 && std::strcmp(argv[3], "--open-only") == 0;

  const long rss0 = rssKb();
  std::vector<double> ms;
  long openRssKb = 0;
  for (int r = 0; r < runs; ++r) {
    double t0 = nowMs();
    tfc_plan *plan = openAndDescribe(path);
    ms.push_back(nowMs() - t0);
    if (r == 0)
      openRssKb = rssKb() - rss0;
    tfc_plan_release(plan);
  }
  std::sort(ms.begin(), ms.end());
  if (openOnly) {
    std::printf("plan=%s runs=%d open_ms_median=%.2f open_ms_min=%.2f open_rss_kb=%ld\n", path,
                runs, ms[ms.size() / 2], ms[0], openRssKb);
    return 0;
  }

  tfc_plan *plan = openAndDescribe(path);
  const long rss1 = rssKb();
  double t0 = nowMs();
  tfc_status *s = tfc_plan_verify(plan);
  const double verifyMs = nowMs() - t0;
  const long verifyRssKb = rssKb() - rss1;
  tfc_plan_info info;
  tfc_plan_get_info(plan, &info);
  std::printf("plan=%s weights_bytes=%llu runs=%d open_ms_median=%.2f open_ms_min=%.2f "
              "open_rss_kb=%ld verify_ms=%.1f verify_rss_kb=%ld verify=%s\n",
              path, (unsigned long long)info.weights_bytes, runs, ms[ms.size() / 2], ms[0],
              openRssKb, verifyMs, verifyRssKb, s ? tfc_status_message(s) : "ok");
  tfc_status_free(s);
  tfc_plan_release(plan);
  return 0;
}
