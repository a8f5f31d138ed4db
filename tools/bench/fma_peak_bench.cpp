//===- fma_peak_bench.cpp - the f32 multiply-add roof of this CPU, per thread count ----------===//
//
// What an f32 matrix product can reach at most here: independent chains of fused multiply-adds
// (12 accumulators, enough to cover the instruction's latency) on every thread, counted as
// 2 flops per lane. AVX-512 (16 lanes) where the CPU has it, else AVX2 + FMA (8 lanes); the
// instruction set a CPU's GEMM kernels use. Prints GFLOP/s for 1..T threads (T: the argument,
// default the OpenMP default), the best of 5 runs of about 0.2 s each.
// docs/BENCHMARKS.md, "The f32 roof", divides model flops by it.
//
//   fma_peak_bench [THREADS]
//
//===----------------------------------------------------------------------------------------===//
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace {

constexpr long kIterations = 20'000'000;

// 12 independent accumulators, kept in registers (the empty asm stops the compiler from
// folding or reordering the chains away).
#define TFC_FMA_CHAINS(V, FMA, SET, REDUCE)                                                       \
  V a0 = SET(0.f), a1 = SET(1e-3f), a2 = SET(2e-3f), a3 = SET(3e-3f), a4 = SET(4e-3f),            \
    a5 = SET(5e-3f), a6 = SET(6e-3f), a7 = SET(7e-3f), a8 = SET(8e-3f), a9 = SET(9e-3f),          \
    a10 = SET(1e-2f), a11 = SET(1.1e-2f);                                                         \
  const V b = SET(0.9999f), c = SET(1e-4f);                                                       \
  for (long k = 0; k < kIterations; ++k) {                                                        \
    a0 = FMA(a0, b, c), a1 = FMA(a1, b, c), a2 = FMA(a2, b, c), a3 = FMA(a3, b, c);               \
    a4 = FMA(a4, b, c), a5 = FMA(a5, b, c), a6 = FMA(a6, b, c), a7 = FMA(a7, b, c);               \
    a8 = FMA(a8, b, c), a9 = FMA(a9, b, c), a10 = FMA(a10, b, c), a11 = FMA(a11, b, c);           \
    __asm__ volatile("" : "+v"(a0), "+v"(a1), "+v"(a2), "+v"(a3), "+v"(a4), "+v"(a5));           \
    __asm__ volatile("" : "+v"(a6), "+v"(a7), "+v"(a8), "+v"(a9), "+v"(a10), "+v"(a11));         \
  }                                                                                               \
  return REDUCE(a0) + REDUCE(a1) + REDUCE(a2) + REDUCE(a3) + REDUCE(a4) + REDUCE(a5) +            \
         REDUCE(a6) + REDUCE(a7) + REDUCE(a8) + REDUCE(a9) + REDUCE(a10) + REDUCE(a11);

__attribute__((target("avx512f"))) float run512() {
  TFC_FMA_CHAINS(__m512, _mm512_fmadd_ps, _mm512_set1_ps, _mm512_reduce_add_ps)
}

__attribute__((target("avx2,fma"))) inline float first256(__m256 v) { return _mm256_cvtss_f32(v); }
__attribute__((target("avx2,fma"))) float run256() {
  TFC_FMA_CHAINS(__m256, _mm256_fmadd_ps, _mm256_set1_ps, first256)
}

} // namespace

int main(int argc, char **argv) {
  const int maxThreads = argc > 1 ? std::atoi(argv[1]) : omp_get_max_threads();
  const bool avx512 = __builtin_cpu_supports("avx512f");
  if (!avx512 && !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) {
    std::printf("neither AVX-512 nor AVX2 + FMA: nothing to measure\n");
    return 1;
  }
  const int lanes = avx512 ? 16 : 8;
  std::printf("f32 FMA roof, %s (%d lanes), 12 chains per thread, best of 5\n",
              avx512 ? "AVX-512" : "AVX2 + FMA", lanes);
  for (int t = 1; t <= std::max(1, maxThreads); ++t) {
    double best = 0;
    for (int rep = 0; rep < 5; ++rep) {
      volatile float sink = 0;
      const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel num_threads(t)
      {
        float r = avx512 ? run512() : run256();
#pragma omp atomic
        sink += r;
      }
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      best = std::max(best, double(t) * kIterations * 12 * lanes * 2 / s / 1e9);
    }
    std::printf("  %d thread(s): %.1f GFLOP/s (%.1f per thread)\n", t, best, best / t);
  }
  return 0;
}
