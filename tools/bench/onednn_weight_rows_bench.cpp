//===- onednn_weight_rows_bench.cpp - oneDNN matmul with plain vs padded weight rows ---------===//
//
// Why Linear pads the rows of its per-plan weight copy (runtime/src/cpu/Linear.cpp,
// kWeightRowPad): for each encoder GEMM shape, an exact-shape oneDNN f32 matmul reads the
// [K, N] weights row-major with a row stride of N floats (as the plan stores them), then of
// roundUp(N, 16) + 16 floats; the buffers are page-aligned. Prints, per shape and stride, the
// minimum and median time over ITERS runs, as process CPU time (robust to other processes on
// the machine when OMP_NUM_THREADS=1) and wall time, and the implementation oneDNN chose.
//
//   OMP_NUM_THREADS=1 onednn_weight_rows_bench [M] [ITERS]
//
//===----------------------------------------------------------------------------------------===//
#include <dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <vector>

namespace {

using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

double cpuMs() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

double wallMs() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// Page-aligned floats.
struct Buffer {
  float *p;
  explicit Buffer(size_t n) {
    p = static_cast<float *>(std::aligned_alloc(4096, (n * sizeof(float) + 4095) / 4096 * 4096));
  }
  ~Buffer() { std::free(p); }
};

void run(int64_t m, int64_t k, int64_t n, int64_t ld, int iters) {
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream strm(eng);
  dnnl::memory::desc a({m, k}, dt::f32, tag::ab), c({m, n}, dt::f32, tag::ab);
  dnnl::memory::desc w({k, n}, dt::f32, dnnl::memory::dims{ld, 1});
  dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, w, c), eng);
  dnnl::matmul prim(pd);
  Buffer A(size_t(m * k)), W(size_t(k * ld)), C(size_t(m * n));
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  for (int64_t i = 0; i < m * k; ++i)
    A.p[i] = dist(rng);
  for (int64_t i = 0; i < k * ld; ++i)
    W.p[i] = dist(rng);
  dnnl::memory ma(a, eng, A.p), mw(w, eng, W.p), mc(c, eng, C.p);
  std::vector<double> cpu, wall;
  for (int i = 0; i < iters + 5; ++i) {
    double c0 = cpuMs(), w0 = wallMs();
    prim.execute(strm, {{DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_DST, mc}});
    strm.wait();
    if (i >= 5)
      cpu.push_back(cpuMs() - c0), wall.push_back(wallMs() - w0);
  }
  std::sort(cpu.begin(), cpu.end());
  std::sort(wall.begin(), wall.end());
  double gflop = 2.0 * m * k * n / 1e9;
  std::printf("shape=%lldx%lldx%lld row_stride=%lld cpu_min_ms=%.3f gflops=%.1f cpu_median_ms=%.3f "
              "wall_min_ms=%.3f wall_median_ms=%.3f impl=%s\n",
              (long long)m, (long long)k, (long long)n, (long long)ld, cpu[0], gflop / cpu[0] * 1e3,
              cpu[cpu.size() / 2], wall[0], wall[wall.size() / 2], pd.impl_info_str());
}

} // namespace

int main(int argc, char **argv) {
  const int64_t m = argc > 1 ? std::atoll(argv[1]) : 128;
  const int iters = argc > 2 ? std::atoi(argv[2]) : 40;
  // MiniLM (384, FFN 1536) and BERT-base (768, FFN 3072) projections.
  const int64_t shapes[][2] = {{384, 384}, {384, 1536}, {1536, 384},
                               {768, 768}, {768, 3072}, {3072, 768}};
  for (const auto &s : shapes) {
    run(m, s[0], s[1], s[1], iters);
    run(m, s[0], s[1], (s[1] + 15) / 16 * 16 + 16, iters);
  }
  return 0;
}
