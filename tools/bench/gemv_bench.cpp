//===- gemv_bench.cpp - one decode step's matrix products: oneDNN f32 vs the packed GEMV kernels ===//
//
// The weights of one token of a GPT-2-small-geometry decoder (12 layers of QKV [768, 2304], out
// [768, 768], FFN [768, 3072] and [3072, 768], and the LM head [768, 50257]; 494 MB in f32, so
// that nothing stays in the caches between steps), multiplied by M rows in sequence, as a decode
// step does, by:
//   * onednn   oneDNN's exact-M f32 matmul with its prepacked (`any`) weights: Linear.cpp's path
//              for small M before the GEMV kernels (what the fp32 plans used);
//   * f32, bf16, int8: runtime/src/cpu/Gemv.h on weights packed for this CPU's instruction set
//              (int8: with its per-column scale in the epilogue).
// Each "step" is timed whole; the variants alternate within every round; medians over rounds.
// Prints per variant: ms per step, the weight bytes read per step and the rate (GB/s), the
// ratio to oneDNN f32, and the process CPU time per step (with one thread: the time it ran,
// which a busy machine's descheduling leaves out; with more, OpenMP's spinning counts).
//
//   gemv_bench [M] [THREADS] [ROUNDS] [ISA: scalar|avx2|avx512]
//
//===----------------------------------------------------------------------------------------===//
#include "cpu/Gemv.h"

#include "tfc/support/Float16.h"
#include "tfc/support/Int8Weights.h"

#include <dnnl.hpp>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <ctime>
#include <vector>

namespace {

using namespace tfc::rt::gemv;
using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

struct Layer {
  int64_t K, N;
};

std::vector<Layer> gpt2Step() {
  std::vector<Layer> v;
  for (int l = 0; l < 12; ++l) {
    v.push_back({768, 2304});
    v.push_back({768, 768});
    v.push_back({768, 3072});
    v.push_back({3072, 768});
  }
  v.push_back({768, 50257});
  return v;
}

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/// CPU time of the process (all threads): with one thread, the time it ran, what a busy machine
/// leaves out of the wall clock.
double cpuNow() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

} // namespace

int main(int argc, char **argv) {
  const int64_t M = argc > 1 ? std::atoll(argv[1]) : 1;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 2;
  const int rounds = argc > 3 ? std::atoi(argv[3]) : 7;
  Isa isa = defaultIsa();
  if (argc > 4)
    for (Isa i : {Isa::Scalar, Isa::Avx2, Isa::Avx512})
      if (std::string(argv[4]) == isaName(i))
        isa = i;
  if (!cpuSupports(isa)) {
    std::fprintf(stderr, "this CPU does not run %s\n", isaName(isa));
    return 1;
  }
  omp_set_num_threads(threads);
  const std::vector<Layer> step = gpt2Step();
  std::mt19937 rng(0);
  std::uniform_real_distribution<float> dist(-0.1f, 0.1f);

  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream strm(eng);
  struct Weights {
    std::vector<float> f32;
    PackedWeight pf32, pbf16, pi8;
    std::vector<float> scale;
    dnnl::matmul prim;
    dnnl::memory packed;
  };
  std::vector<Weights> ws(step.size());
  int64_t maxN = 0, maxK = 0;
  uint64_t f32Bytes = 0;
  for (size_t i = 0; i < step.size(); ++i) {
    const Layer &l = step[i];
    Weights &w = ws[i];
    w.f32.resize(size_t(l.K * l.N));
    for (float &v : w.f32)
      v = dist(rng);
    w.pf32 = pack(WeightType::F32, w.f32.data(), l.K, l.N, isa);
    std::vector<uint16_t> b(w.f32.size());
    tfc::support::convertFloats(w.f32.data(), w.f32.size(), true,
                                tfc::support::Overflow::Saturate, b.data());
    w.pbf16 = pack(WeightType::BF16, b.data(), l.K, l.N, isa);
    std::vector<int8_t> q(w.f32.size());
    w.scale.resize(size_t(l.N));
    tfc::support::quantizeColumns(w.f32.data(), l.K, l.N, q.data(), w.scale.data());
    w.pi8 = pack(WeightType::I8, q.data(), l.K, l.N, isa);
    // oneDNN exact-M, `any` weights, reordered once.
    dnnl::memory::desc src({M, l.K}, dt::f32, tag::ab), wei({l.K, l.N}, dt::f32, tag::any),
        dst({M, l.N}, dt::f32, tag::ab);
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src, wei, dst), eng);
    w.prim = dnnl::matmul(pd);
    w.packed = dnnl::memory(pd.weights_desc(), eng);
    dnnl::memory plain({{l.K, l.N}, dt::f32, tag::ab}, eng, w.f32.data());
    dnnl::reorder(plain, w.packed).execute(strm, plain, w.packed);
    strm.wait();
    w.f32.clear();
    w.f32.shrink_to_fit();
    maxN = std::max(maxN, l.N);
    maxK = std::max(maxK, l.K);
    f32Bytes += uint64_t(l.K * l.N) * 4;
  }
  std::vector<float> x(size_t(M * maxK)), y(size_t(M * maxN));
  for (float &v : x)
    v = dist(rng);

  auto runOnednn = [&] {
    for (size_t i = 0; i < step.size(); ++i) {
      const Layer &l = step[i];
      dnnl::memory src({{M, l.K}, dt::f32, tag::ab}, eng, x.data());
      dnnl::memory dst({{M, l.N}, dt::f32, tag::ab}, eng, y.data());
      ws[i].prim.execute(strm, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, ws[i].packed},
                                {DNNL_ARG_DST, dst}});
      strm.wait();
    }
  };
  auto runGemv = [&](int type) {
    for (size_t i = 0; i < step.size(); ++i) {
      const Layer &l = step[i];
      Epilogue e;
      const PackedWeight &p = type == 0 ? ws[i].pf32 : type == 1 ? ws[i].pbf16 : ws[i].pi8;
      if (type == 2)
        e.scale = ws[i].scale.data();
      multiply(p, x.data(), M, l.K, y.data(), l.N, e, threads);
    }
  };
  const char *names[] = {"onednn f32", "gemv f32", "gemv bf16", "gemv int8"};
  const double bytes[] = {double(f32Bytes), double(f32Bytes), double(f32Bytes) / 2,
                          double(f32Bytes) / 4};
  std::vector<double> times[4], cpu[4];
  for (int r = 0; r < rounds + 1; ++r)
    for (int v = 0; v < 4; ++v) {
      int which = (v + r) % 4; // rotate the order every round
      double t0 = now(), c0 = cpuNow();
      if (which == 0)
        runOnednn();
      else
        runGemv(which - 1);
      double t = now() - t0, c = cpuNow() - c0;
      if (r > 0) { // round 0 warms up
        times[which].push_back(t);
        cpu[which].push_back(c);
      }
    }
  std::printf("decode step of GPT-2 small geometry (49 products, %.0f MB of f32 weights), M=%lld, "
              "%d threads, isa %s, %d rounds\n",
              double(f32Bytes) / 1e6, (long long)M, threads, isaName(isa), rounds);
  double base = median(times[0]);
  for (int v = 0; v < 4; ++v) {
    double t = median(times[v]);
    std::printf("  %-11s %8.3f ms/step  %6.1f MB read  %5.1f GB/s  %5.2fx oneDNN f32  (best %.3f "
                "ms; cpu %.3f ms/step)\n",
                names[v], t * 1e3, bytes[v] / 1e6, bytes[v] / t / 1e9, base / t,
                *std::min_element(times[v].begin(), times[v].end()) * 1e3, median(cpu[v]) * 1e3);
  }
  return 0;
}
