//===- runtime_wait_policy_probe.cpp - what TFC_WAIT_POLICY did to libgomp, seen from outside -===//
//
//   runtime_wait_policy_probe [--max-idle-cpu-ms X]
//
// Run by ctest with TFC_WAIT_POLICY and OMP_DISPLAY_ENV=VERBOSE in its environment (see
// runtime.cmake): libgomp prints the OMP_WAIT_POLICY and GOMP_SPINCOUNT it read when it loaded,
// which the tests match against what the policy should have set, so they check libgomp's own
// report, not tfc's. Then it measures the effect: the process's CPU time while the main thread
// sleeps 100 ms after a 2-thread parallel region is what the idle worker burns spinning (about
// 4 ms with libgomp's default, 20+ ms with ACTIVE, ~0.05 ms when it sleeps soon). With
// --max-idle-cpu-ms the largest of five such measurements must stay below X.
// The probe itself uses OpenMP, so libgomp is in its own DT_NEEDED list before libtfc_runtime,
// as in an application that embeds tfc beside its own OpenMP code.
//
//===------------------------------------------------------------------------------------------===//
#include "tfc/tfc_runtime.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <omp.h>

namespace {

double processCpuMs() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) * 1e3 + double(t.tv_nsec) / 1e6;
}

} // namespace

int main(int argc, char **argv) {
  double maxIdle = -1;
  if (argc == 3 && std::strcmp(argv[1], "--max-idle-cpu-ms") == 0)
    maxIdle = std::atof(argv[2]);
  else if (argc != 1) {
    std::fprintf(stderr, "usage: runtime_wait_policy_probe [--max-idle-cpu-ms X]\n");
    return 2;
  }
  // Only libtfc_runtime is linked, as in an embedder (linking libtfc_wait_policy directly ahead
  // of libgomp would make the loader initialize libgomp first).
  std::printf("applied: %s\n", tfc_wait_policy());
  double worst = 0;
  for (int trial = 0; trial < 5; ++trial) {
    volatile int sink = 0;
#pragma omp parallel num_threads(2)
    { sink += omp_get_thread_num(); }
    double before = processCpuMs();
    timespec nap{0, 100 * 1000 * 1000};
    nanosleep(&nap, nullptr);
    double idle = processCpuMs() - before;
    std::printf("idle_cpu_ms=%.3f\n", idle);
    if (idle > worst)
      worst = idle;
  }
  if (maxIdle >= 0 && worst > maxIdle) {
    std::printf("FAIL: idle workers burnt %.3f ms of CPU in 100 ms (limit %.3f)\n", worst,
                maxIdle);
    return 1;
  }
  return 0;
}
