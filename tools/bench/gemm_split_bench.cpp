//===- gemm_split_bench.cpp - two ways to cut an encoder's f32 product, against oneDNN's whole --===//
//
// For each encoder product shape (M rows x K x N, a constant weight prepacked in oneDNN's layout
// as Linear does), the median time of:
//   whole   one oneDNN matmul on all threads (Linear's matmul: where oneDNN reads plain rows,
//           its AVX2 gemm:jit, the weight's rows padded as Linear pads them);
//   conv1x1 the product as a 1x1 convolution on all threads, x an NHWC image of 1 x M pixels,
//           the weight prepacked in the convolution's layout (Linear's makeConv, on AVX2);
//   columns each of T threads runs a single-threaded matmul on its own N/T columns, with its own
//           packed copy of them, stream and scratchpad (Linear.cpp, runSplitColumns);
//   strassen one level of Strassen's algorithm: the 7 products of the [M/2, K/2] x [K/2, N/2]
//           blocks as one batched oneDNN matmul (the 7 weight combinations precomputed, as a
//           compiler could fold them), the 4 + 3 block sums of the input before it and the
//           combination of the 7 products into the output after it (OpenMP loops); 7/8 of the
//           multiply-adds. "products" is the batched matmul alone.
// Each variant's result is checked against the whole product (max |difference| is printed:
// Strassen's is a rounding difference, not an error). Prints one line per shape, `key=value`.
//
//   gemm_split_bench [ITERS]            (threads: OMP_NUM_THREADS)
//
//===----------------------------------------------------------------------===//
#include <dnnl.hpp>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

double nowMs() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

memory packed(dnnl::engine &eng, dnnl::stream &s, const memory::desc &want, const float *plain,
              const memory::desc &plainDesc) {
  memory out(want, eng);
  memory src(plainDesc, eng, const_cast<float *>(plain));
  dnnl::reorder(src, out).execute(s, src, out);
  s.wait();
  return out;
}

struct Shape {
  const char *name;
  int64_t M, K, N;
};

void run(const Shape &sh, int iters) {
  const int64_t M = sh.M, K = sh.K, N = sh.N, T = omp_get_max_threads();
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream s(eng);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::vector<float> A(size_t(M * K)), B(size_t(K * N)), C(size_t(M * N)), C2(size_t(M * N)),
      C3(size_t(M * N));
  for (float &x : A)
    x = dist(rng);
  for (float &x : B)
    x = dist(rng);

  // whole
  memory::desc a({M, K}, dt::f32, tag::ab), c({M, N}, dt::f32, tag::ab);
  dnnl::matmul::primitive_desc pd(
      dnnl::matmul::desc(a, memory::desc({K, N}, dt::f32, tag::any), c), eng);
  if (pd.weights_desc() == memory::desc({K, N}, dt::f32, tag::ab)) { // Linear's padded rows
    const memory::dims rowStride{(N + 15) / 16 * 16 + 16, 1};
    pd = dnnl::matmul::primitive_desc(
        dnnl::matmul::desc(a, memory::desc({K, N}, dt::f32, rowStride), c), eng);
  }
  dnnl::matmul whole(pd);
  memory wb = packed(eng, s, pd.weights_desc(), B.data(), memory::desc({K, N}, dt::f32, tag::ab));
  memory ma(a, eng, A.data()), mc(c, eng, C.data());
  auto runWhole = [&] {
    whole.execute(s, {{DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, wb}, {DNNL_ARG_DST, mc}});
    s.wait();
  };

  // conv1x1
  std::vector<float> C4(size_t(M * N));
  const memory::desc cs({1, K, 1, M}, dt::f32, tag::nhwc), cd({1, N, 1, M}, dt::f32, tag::nhwc);
  dnnl::convolution_forward::primitive_desc cpd(
      dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference,
                                      dnnl::algorithm::convolution_direct, cs,
                                      memory::desc({N, K, 1, 1}, dt::f32, tag::any), cd, {1, 1},
                                      {0, 0}, {0, 0}),
      eng);
  dnnl::convolution_forward conv(cpd);
  memory wconv = packed(eng, s, cpd.weights_desc(), B.data(),
                        memory::desc({N, K, 1, 1}, dt::f32, memory::dims{1, N, 1, 1}));
  memory csrc(cs, eng, A.data()), cdst(cd, eng, C4.data());
  auto runConv = [&] {
    conv.execute(s, {{DNNL_ARG_SRC, csrc}, {DNNL_ARG_WEIGHTS, wconv}, {DNNL_ARG_DST, cdst}});
    s.wait();
  };

  // columns
  const int64_t n = N / T;
  const memory::desc slice({M, n}, dt::f32, memory::dims{N, 1});
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  dnnl::matmul::primitive_desc pdc(
      dnnl::matmul::desc(a, memory::desc({K, n}, dt::f32, tag::any), slice), attr, eng);
  dnnl::matmul cols(pdc);
  std::vector<memory> parts;
  std::vector<dnnl::stream> streams;
  std::vector<std::vector<uint8_t>> pads;
  for (int64_t t = 0; t < T; ++t) {
    parts.push_back(packed(eng, s, pdc.weights_desc(), B.data() + t * n,
                           memory::desc({K, n}, dt::f32, memory::dims{N, 1})));
    streams.emplace_back(eng);
    pads.emplace_back(pdc.scratchpad_desc().get_size() + 64);
  }
  auto runColumns = [&] {
#pragma omp parallel num_threads(int(T))
    {
      const int t = omp_get_thread_num();
      uint8_t *pad = pads[size_t(t)].data();
      pad += (64 - reinterpret_cast<uintptr_t>(pad) % 64) % 64;
      cols.execute(streams[size_t(t)],
                   {{DNNL_ARG_SRC, memory(a, eng, A.data())},
                    {DNNL_ARG_WEIGHTS, parts[size_t(t)]},
                    {DNNL_ARG_DST, memory(slice, eng, C2.data() + t * n)},
                    {DNNL_ARG_SCRATCHPAD, memory(pdc.scratchpad_desc(), eng, pad)}});
      streams[size_t(t)].wait();
    }
  };

  // strassen
  const int64_t m = M / 2, k = K / 2, h = N / 2;
  std::vector<float> Bc(size_t(7 * k * h));
  for (int64_t r = 0; r < k; ++r)
    for (int64_t j = 0; j < h; ++j) {
      const float b11 = B[size_t(r * N + j)], b12 = B[size_t(r * N + h + j)],
                  b21 = B[size_t((k + r) * N + j)], b22 = B[size_t((k + r) * N + h + j)];
      const float combo[7] = {b11 + b22, b11, b12 - b22, b21 - b11, b22, b11 + b12, b21 + b22};
      for (int p = 0; p < 7; ++p)
        Bc[size_t((p * k + r) * h + j)] = combo[p];
    }
  memory::desc a7({7, m, k}, dt::f32, tag::abc), c7({7, m, h}, dt::f32, tag::abc);
  dnnl::matmul::primitive_desc pd7(
      dnnl::matmul::desc(a7, memory::desc({7, k, h}, dt::f32, tag::any), c7), eng);
  dnnl::matmul seven(pd7);
  memory w7 = packed(eng, s, pd7.weights_desc(), Bc.data(),
                     memory::desc({7, k, h}, dt::f32, tag::abc));
  std::vector<float> A7(size_t(7 * m * k)), P7(size_t(7 * m * h));
  memory ma7(a7, eng, A7.data()), mp7(c7, eng, P7.data());
  auto runProducts = [&] {
    seven.execute(s, {{DNNL_ARG_SRC, ma7}, {DNNL_ARG_WEIGHTS, w7}, {DNNL_ARG_DST, mp7}});
    s.wait();
  };
  auto runStrassen = [&] {
#pragma omp parallel for
    for (int64_t r = 0; r < m; ++r) {
      const float *x1 = A.data() + r * K, *x2 = A.data() + (r + m) * K;
      float *o[7];
      for (int p = 0; p < 7; ++p)
        o[p] = A7.data() + (p * m + r) * k;
#pragma omp simd
      for (int64_t j = 0; j < k; ++j) {
        const float a11 = x1[j], a12 = x1[k + j], a21 = x2[j], a22 = x2[k + j];
        o[0][j] = a11 + a22, o[1][j] = a21 + a22, o[2][j] = a11, o[3][j] = a22;
        o[4][j] = a11 + a12, o[5][j] = a21 - a11, o[6][j] = a12 - a22;
      }
    }
    runProducts();
#pragma omp parallel for
    for (int64_t r = 0; r < m; ++r) {
      const float *p[7];
      for (int q = 0; q < 7; ++q)
        p[q] = P7.data() + (q * m + r) * h;
      float *c1 = C3.data() + r * N, *c2 = C3.data() + (r + m) * N;
#pragma omp simd
      for (int64_t j = 0; j < h; ++j) {
        c1[j] = p[0][j] + p[3][j] - p[4][j] + p[6][j];
        c1[h + j] = p[2][j] + p[4][j];
        c2[j] = p[1][j] + p[3][j];
        c2[h + j] = p[0][j] - p[1][j] + p[2][j] + p[5][j];
      }
    }
  };

  runWhole();
  runColumns();
  runStrassen();
  double dCols = 0, dStrassen = 0, top = 0;
  for (size_t i = 0; i < C.size(); ++i) {
    dCols = std::max(dCols, double(std::fabs(C[i] - C2[i])));
    dStrassen = std::max(dStrassen, double(std::fabs(C[i] - C3[i])));
    top = std::max(top, double(std::fabs(C[i])));
  }
  std::vector<double> tw, tc, ts, tp, tv;
  for (int i = 0; i < iters + 5; ++i) { // interleaved, so that a slow spell hits every variant
    double t0 = nowMs();
    runWhole();
    double t1 = nowMs();
    runColumns();
    double t2 = nowMs();
    runStrassen();
    double t3 = nowMs();
    runProducts();
    double t4 = nowMs();
    runConv();
    double t5 = nowMs();
    if (i >= 5)
      tw.push_back(t1 - t0), tc.push_back(t2 - t1), ts.push_back(t3 - t2), tp.push_back(t4 - t3),
          tv.push_back(t5 - t4);
  }
  double dConv = 0;
  for (size_t i = 0; i < C.size(); ++i)
    dConv = std::max(dConv, double(std::fabs(C4[i] - C[i])));
  const double flops = 2.0 * double(M * K * N), w = median(tw);
  std::printf("shape=%s m=%lld k=%lld n=%lld threads=%lld whole_ms=%.3f gflops=%.1f "
              "columns_ms=%.3f columns_vs_whole=%.3f strassen_ms=%.3f strassen_vs_whole=%.3f "
              "products_ms=%.3f conv1x1_ms=%.3f conv1x1_vs_whole=%.3f max_abs=%.3g "
              "columns_diff=%.3g strassen_diff=%.3g conv1x1_diff=%.3g matmul=%s conv=%s\n",
              sh.name, (long long)M, (long long)K, (long long)N, (long long)T, w, flops / w / 1e6,
              median(tc), median(tc) / w, median(ts), median(ts) / w, median(tp), median(tv),
              median(tv) / w, top, dCols, dStrassen, dConv, pd.impl_info_str(),
              cpd.impl_info_str());
}

} // namespace

int main(int argc, char **argv) {
  const int iters = argc > 1 ? std::atoi(argv[1]) : 200;
  const Shape shapes[] = {
      {"minilm_qkv", 128, 384, 1152},  {"minilm_out", 128, 384, 384},
      {"minilm_up", 128, 384, 1536},   {"minilm_down", 128, 1536, 384},
      {"bert_qkv", 128, 768, 2304},    {"bert_out", 128, 768, 768},
      {"bert_up", 128, 768, 3072},     {"bert_down", 128, 3072, 768},
  };
  for (const Shape &s : shapes)
    run(s, iters);
  return 0;
}
