//===- onednn_matmul_bench.cpp - oneDNN's standalone f32 matmul rate on the shapes of an encoder ===//
//
// The bar for whole-model efficiency: for each GEMM shape of one encoder layer (Q/K/V/O
// projections, FFN up/down, and the per-head attention matmuls), an exact-shape oneDNN matmul
// with prepacked (`any`) weights is timed alone. Prints one line per shape and the aggregate rate
// of one layer (sum of FLOPs / sum of median times), as `key=value` pairs for scripts.
//
//   onednn_matmul_bench SEQ D_MODEL HEADS D_FF [BATCH] [ITERS]
//
//===----------------------------------------------------------------------===//
#include <dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

namespace {

struct Shape {
  std::string name;
  int64_t batch, m, k, n;  // batch x ([m,k] x [k,n])
  int64_t count;           // how many of these per layer
};

double medianMs(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double timeMatmul(dnnl::engine &eng, dnnl::stream &strm, const Shape &s, int iters) {
  using tag = dnnl::memory::format_tag;
  using dt = dnnl::memory::data_type;
  dnnl::memory::desc a({s.batch, s.m, s.k}, dt::f32, tag::abc);
  dnnl::memory::desc bAny({s.batch, s.k, s.n}, dt::f32, tag::any);
  dnnl::memory::desc bPlain({s.batch, s.k, s.n}, dt::f32, tag::abc);
  dnnl::memory::desc c({s.batch, s.m, s.n}, dt::f32, tag::abc);
  dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, bAny, c), eng);
  dnnl::matmul prim(pd);

  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-1, 1);
  dnnl::memory ma(a, eng), mbPlain(bPlain, eng), mc(c, eng);
  for (auto *m : {&ma, &mbPlain}) {
    float *p = static_cast<float *>(m->get_data_handle());
    size_t n = m->get_desc().get_size() / sizeof(float);
    for (size_t i = 0; i < n; ++i)
      p[i] = dist(rng);
  }
  dnnl::memory mb(pd.weights_desc(), eng);
  dnnl::reorder(mbPlain, mb).execute(strm, mbPlain, mb);  // prepack, as a compiler would
  strm.wait();

  std::vector<double> times;
  for (int i = 0; i < iters + 5; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    prim.execute(strm, {{DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DST, mc}});
    strm.wait();
    auto t1 = std::chrono::steady_clock::now();
    if (i >= 5)
      times.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  return medianMs(times);
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s SEQ D_MODEL HEADS D_FF [BATCH] [ITERS]\n", argv[0]);
    return 2;
  }
  int64_t seq = std::atoll(argv[1]), d = std::atoll(argv[2]), heads = std::atoll(argv[3]),
          ff = std::atoll(argv[4]);
  int64_t batch = argc > 5 ? std::atoll(argv[5]) : 1;
  int iters = argc > 6 ? std::atoi(argv[6]) : 200;
  int64_t dh = d / heads, m = batch * seq;
  std::vector<Shape> shapes = {
      {"qkvo_proj", 1, m, d, d, 4},
      {"ffn_up", 1, m, d, ff, 1},
      {"ffn_down", 1, m, ff, d, 1},
      {"attn_qk", batch * heads, seq, dh, seq, 1},
      {"attn_pv", batch * heads, seq, seq, dh, 1},
  };
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream strm(eng);
  double totalFlops = 0, totalMs = 0;
  for (const auto &s : shapes) {
    double ms = timeMatmul(eng, strm, s, iters);
    double flops = 2.0 * s.batch * s.m * s.k * s.n;
    std::printf("shape=%s batch=%lld m=%lld k=%lld n=%lld median_ms=%.4f gflops=%.1f\n",
                s.name.c_str(), (long long)s.batch, (long long)s.m, (long long)s.k,
                (long long)s.n, ms, flops / ms / 1e6);
    totalFlops += flops * s.count;
    totalMs += ms * s.count;
  }
  std::printf("layer_flops=%.0f layer_matmul_ms=%.4f aggregate_gflops=%.1f\n", totalFlops, totalMs,
              totalFlops / totalMs / 1e6);
  return 0;
}
