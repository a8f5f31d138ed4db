//===- int8_gemm_bench.cpp - the int8 x int8 product against oneDNN f32 and the int8 GEMV ------===//
//
// Kernel-level rates behind `--precision int8` on the cpu (docs/BENCHMARKS.md, "CPU precision"):
// for each product shape [M, K] x [K, N], alternating, the median and best time of
//   * f32:      oneDNN f32 matmul, exact M, plain `ab` weights (what the Linear kernel runs);
//   * int8:     tfc's int8 x int8 product (cpu/Int8Gemm.h): quantize x per row and block, then
//               the packed product with its epilogue (bias);
//   * gemv-i8:  the packed-weight path of int8 weights with f32 x (cpu/Gemv.h), for the rows
//               where the Linear kernel chooses between the two (kInt8GemmMinRows);
//   * onednn-u8s8: oneDNN's own int8 matmul (u8 x s8 -> s32, runtime output scales), for
//               reference: on a CPU without VNNI it is its AVX2 gemm (vpmaddubsw, which can
//               saturate).
// Prints `key=value` lines; GOP/s count 2 M K N.
//
//   int8_gemm_bench [THREADS] [ITERATIONS]
//
//===----------------------------------------------------------------------------------------===//
#include "cpu/Gemv.h"
#include "cpu/Int8Gemm.h"

#include "tfc/support/Int8Weights.h"

#include <dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <omp.h>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace tfc::rt;
using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

struct Timing {
  std::vector<double> ms;
  double median() const {
    std::vector<double> v = ms;
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  }
  double best() const { return *std::min_element(ms.begin(), ms.end()); }
};

double now() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::vector<float> randomFloats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  std::vector<float> v(n);
  for (float &x : v)
    x = d(rng);
  return v;
}

struct Case {
  int64_t M, K, N;
};

void runCase(const Case &c, int threads, int iterations, dnnl::engine &eng, dnnl::stream &strm) {
  const int64_t M = c.M, K = c.K, N = c.N;
  std::vector<float> x = randomFloats(size_t(M * K), 1), w = randomFloats(size_t(K * N), 2),
                     b = randomFloats(size_t(N), 3), y(size_t(M * N));
  std::vector<int8_t> q(static_cast<size_t>(K * N));
  std::vector<float> scale(static_cast<size_t>(N));
  tfc::support::quantizeColumns(w.data(), K, N, q.data(), scale.data());

  // oneDNN f32, as the Linear kernel makes it.
  dnnl::memory::desc src({M, K}, dt::f32, tag::ab), wei({K, N}, dt::f32, tag::ab),
      bias({1, N}, dt::f32, tag::ab), dst({M, N}, dt::f32, tag::ab);
  dnnl::matmul::primitive_desc fpd(dnnl::matmul::desc(src, wei, bias, dst), eng);
  dnnl::matmul f32(fpd);
  dnnl::memory ms(src, eng, x.data()), mw(wei, eng, w.data()), mb(bias, eng, b.data()),
      md(dst, eng, y.data());
  auto runF32 = [&] {
    f32.execute(strm, {{DNNL_ARG_SRC, ms}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_BIAS, mb},
                       {DNNL_ARG_DST, md}});
    strm.wait();
  };

  // tfc int8 x int8.
  int8gemm::PackedWeight pw = int8gemm::pack(q.data(), K, N, int8gemm::defaultIsa());
  int8gemm::QuantizedRows rows;
  const int8gemm::Isa isa = int8gemm::defaultIsa();
  int8gemm::Epilogue e;
  e.weightScale = scale.data();
  e.bias = b.data();
  auto runInt8 = [&] {
    int8gemm::quantizeRows(x.data(), M, K, K, rows, isa, threads);
    int8gemm::multiply(pw, rows, x.data(), K, q.data(), y.data(), N, e, isa, threads);
  };

  // The packed-weight GEMV path with int8 weights.
  gemv::PackedWeight gw = gemv::pack(gemv::WeightType::I8, q.data(), K, N, gemv::defaultIsa());
  gemv::Epilogue ge;
  ge.scale = scale.data();
  ge.bias = b.data();
  auto runGemv = [&] { gemv::multiply(gw, x.data(), M, K, y.data(), N, ge, threads); };

  // oneDNN u8 x s8 -> s32 with runtime output scales (x shifted to u8 beforehand: not timed).
  dnnl::memory::desc usrc({M, K}, dt::u8, tag::ab), swei({K, N}, dt::s8, tag::any),
      sdst({M, N}, dt::s32, tag::ab);
  dnnl::primitive_attr attr;
  attr.set_output_scales(2, {DNNL_RUNTIME_F32_VAL});
  dnnl::matmul::primitive_desc upd(dnnl::matmul::desc(usrc, swei, sdst), attr, eng);
  dnnl::matmul u8s8(upd);
  std::vector<uint8_t> xu(size_t(M * K), 130);
  std::vector<int32_t> yi(size_t(M * N));
  dnnl::memory mus(usrc, eng, xu.data()), muw(upd.weights_desc(), eng), mud(sdst, eng, yi.data()),
      msc({{N}, dt::f32, tag::a}, eng, scale.data());
  {
    dnnl::memory plain({{K, N}, dt::s8, tag::ab}, eng, q.data());
    dnnl::reorder(plain, muw).execute(strm, plain, muw);
    strm.wait();
  }
  auto runU8s8 = [&] {
    u8s8.execute(strm, {{DNNL_ARG_SRC, mus}, {DNNL_ARG_WEIGHTS, muw}, {DNNL_ARG_DST, mud},
                        {DNNL_ARG_ATTR_OUTPUT_SCALES, msc}});
    strm.wait();
  };

  std::vector<std::pair<std::string, std::function<void()>>> paths = {
      {"f32", runF32}, {"int8", runInt8}, {"gemv-i8", runGemv}, {"onednn-u8s8", runU8s8}};
  std::vector<Timing> t(paths.size());
  for (auto &p : paths) // warm up (packing, JIT)
    for (int i = 0; i < 3; ++i)
      p.second();
  for (int i = 0; i < iterations; ++i)
    for (size_t p = 0; p < paths.size(); ++p) {
      double t0 = now();
      paths[p].second();
      t[p].ms.push_back(now() - t0);
    }
  const double gop = 2.0 * double(M) * double(K) * double(N) / 1e9;
  std::printf("shape=%lldx%lldx%lld", (long long)M, (long long)K, (long long)N);
  for (size_t p = 0; p < paths.size(); ++p)
    std::printf(" %s_ms=%.4f %s_best_ms=%.4f %s_gops=%.1f", paths[p].first.c_str(),
                t[p].median(), paths[p].first.c_str(), t[p].best(), paths[p].first.c_str(),
                gop / (t[p].median() / 1e3));
  std::printf(" int8_vs_f32=%.2f int8_vs_gemv=%.2f f32_impl=%s u8s8_impl=%s\n",
              t[0].median() / t[1].median(), t[2].median() / t[1].median(),
              fpd.impl_info_str(),
              upd.impl_info_str());
  std::fflush(stdout);
}

} // namespace

int main(int argc, char **argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  const int iterations = argc > 2 ? std::atoi(argv[2]) : 30;
  omp_set_num_threads(threads);
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream strm(eng);
  std::printf("threads=%d iterations=%d int8_isa=%s gemv_isa=%s\n", threads, iterations,
              int8gemm::isaName(int8gemm::defaultIsa()), gemv::isaName(gemv::defaultIsa()));
  // all-MiniLM-L6-v2's products (d 384, FFN 1536) at batch 1 x seq 128 and 10 x 128, and the
  // rows around the GEMV/int8 switch.
  std::vector<Case> cases;
  for (int64_t M : {128, 1280})
    for (auto kn : {std::pair<int64_t, int64_t>{384, 384}, {384, 1536}, {1536, 384}})
      cases.push_back({M, kn.first, kn.second});
  for (int64_t M : {4, 8, 12, 16, 24, 32, 48, 64})
    cases.push_back({M, 384, 1536});
  for (const Case &c : cases)
    runCase(c, threads, iterations, eng, strm);
  return 0;
}
