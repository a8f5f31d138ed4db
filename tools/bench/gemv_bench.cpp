//===- gemv_bench.cpp - one decode step's matrix products: oneDNN f32 vs the packed GEMV kernels ===//
//
// The weights of one token of a GPT-2-small-geometry decoder (12 layers of QKV [768, 2304], out
// [768, 768], FFN [768, 3072] and [3072, 768], and the LM head [768, 50257]; 494 MB in f32, so
// that nothing stays in the caches between steps), multiplied by M rows in sequence, as a decode
// step does, by:
//   * onednn   oneDNN's exact-M f32 matmul with its prepacked (`any`) weights: Linear.cpp's path
//              for small M before the GEMV kernels (what the fp32 plans used);
//   * f32, bf16, int8: runtime/src/cpu/Gemv.h on weights packed for this CPU's instruction set
//              (int8: with its per-column scale in the epilogue);
//   * int8 dyn-x (M = 1, AVX2; for measurement only, not in the runtime): the other int8 design,
//              x quantized per row to int8 and integer dot products (vpmaddubsw + vpmaddwd, the
//              AVX2 analogue of VNNI's vpdpbusd); its largest deviation from the dequantizing
//              kernel is printed.
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
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <ctime>
#include <memory>
#include <sys/mman.h>
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

// ---- For measurement only: the other int8 kernel, x quantized per row to int8 and integer dot
// products (AVX2: vpmaddubsw on |x| and the weights with x's sign, then vpmaddwd: the AVX2
// analogue of AVX-512 VNNI's vpdpbusd). M = 1. Its weights: [panel of 32 columns][K/4][32][4].
struct DynI8 {
  int64_t K = 0, N = 0, Kp = 0, panels = 0;
  std::shared_ptr<int8_t> q; // 2 MB-aligned, transparent huge pages asked for (as Gemv.cpp's)
};

DynI8 packDyn(const int8_t *q, int64_t K, int64_t N) {
  DynI8 d;
  d.K = K;
  d.N = N;
  d.Kp = (K + 3) / 4 * 4;
  d.panels = (N + 31) / 32;
  const size_t bytes = size_t(d.panels * d.Kp * 32), huge = size_t(2) << 20;
  void *raw = nullptr;
  if (posix_memalign(&raw, huge, bytes) != 0)
    std::abort();
  madvise(raw, bytes / huge * huge, MADV_HUGEPAGE);
  d.q.reset(static_cast<int8_t *>(raw), [](int8_t *p) { std::free(p); });
  std::memset(raw, 0, bytes);
  for (int64_t p = 0; p < d.panels; ++p)
    for (int64_t k = 0; k < K; ++k)
      for (int64_t j = 0; j < 32 && p * 32 + j < N; ++j)
        d.q.get()[((p * d.Kp / 4 + k / 4) * 32 + j) * 4 + k % 4] = q[k * N + p * 32 + j];
  return d;
}

__attribute__((target("avx2,fma"))) void dynMultiply(const DynI8 &w, const float *scaleW,
                                                      const float *x, float *y,
                                                      std::vector<int8_t> &xq, int threads) {
  float mx = 0.f;
  for (int64_t k = 0; k < w.K; ++k)
    mx = std::max(mx, std::fabs(x[k]));
  const float sx = mx > 0.f ? mx / 127.f : 1.f;
  xq.assign(size_t(w.Kp), 0);
  for (int64_t k = 0; k < w.K; ++k)
    xq[size_t(k)] = int8_t(std::nearbyint(x[k] / sx));
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int64_t p = 0; p < w.panels; ++p) {
    const int8_t *panel = w.q.get() + p * w.Kp * 32;
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i acc[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(),
                      _mm256_setzero_si256()};
    for (int64_t g = 0; g < w.Kp / 4; ++g) {
      int32_t four;
      std::memcpy(&four, xq.data() + 4 * g, 4);
      const __m256i xv = _mm256_set1_epi32(four), ax = _mm256_abs_epi8(xv);
      for (int j = 0; j < 4; ++j) {
        __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(panel + (g * 32 + j * 8) * 4));
        __m256i p16 = _mm256_maddubs_epi16(ax, _mm256_sign_epi8(wv, xv));
        acc[j] = _mm256_add_epi32(acc[j], _mm256_madd_epi16(p16, ones));
      }
    }
    alignas(32) int32_t sums[32];
    for (int j = 0; j < 4; ++j)
      _mm256_store_si256(reinterpret_cast<__m256i *>(sums + 8 * j), acc[j]);
    for (int64_t j = 0; j < 32 && p * 32 + j < w.N; ++j)
      y[p * 32 + j] = float(sums[j]) * sx * scaleW[p * 32 + j];
  }
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
    DynI8 dyn;
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
    w.dyn = packDyn(q.data(), l.K, l.N);
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
  // The dynamic-x int8 kernel (M = 1, AVX2): timed alongside, its output compared with the
  // dequantizing kernel's on every product of the step.
  const bool dyn = M == 1 && cpuSupports(Isa::Avx2);
  std::vector<int8_t> xq;
  double dynErr = 0;
  auto runDyn = [&](bool check) {
    std::vector<float> ref;
    for (size_t i = 0; i < step.size(); ++i) {
      const Layer &l = step[i];
      if (check) {
        Epilogue e;
        e.scale = ws[i].scale.data();
        ref.resize(size_t(l.N));
        multiply(ws[i].pi8, x.data(), 1, l.K, ref.data(), l.N, e, threads);
      }
      dynMultiply(ws[i].dyn, ws[i].scale.data(), x.data(), y.data(), xq, threads);
      if (check) {
        double mx = 0, d = 0;
        for (int64_t n = 0; n < l.N; ++n) {
          mx = std::max(mx, std::fabs(double(ref[size_t(n)])));
          d = std::max(d, std::fabs(double(ref[size_t(n)]) - y[size_t(n)]));
        }
        dynErr = std::max(dynErr, d / mx);
      }
    }
  };
  if (dyn)
    runDyn(true);
  const int variants = dyn ? 5 : 4;
  const char *names[] = {"onednn f32", "gemv f32", "gemv bf16", "gemv int8", "int8 dyn-x"};
  const double bytes[] = {double(f32Bytes), double(f32Bytes), double(f32Bytes) / 2,
                          double(f32Bytes) / 4, double(f32Bytes) / 4};
  std::vector<double> times[5], cpu[5];
  for (int r = 0; r < rounds + 1; ++r)
    for (int v = 0; v < variants; ++v) {
      int which = (v + r) % variants; // rotate the order every round
      double t0 = now(), c0 = cpuNow();
      if (which == 0)
        runOnednn();
      else if (which == 4)
        runDyn(false);
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
  for (int v = 0; v < variants; ++v) {
    double t = median(times[v]);
    std::printf("  %-11s %8.3f ms/step  %6.1f MB read  %5.1f GB/s  %5.2fx oneDNN f32  (best %.3f "
                "ms; cpu %.3f ms/step)\n",
                names[v], t * 1e3, bytes[v] / 1e6, bytes[v] / t / 1e9, base / t,
                *std::min_element(times[v].begin(), times[v].end()) * 1e3, median(cpu[v]) * 1e3);
  }
  if (dyn)
    std::printf("  int8 dyn-x: x quantized per row to int8 (vpmaddubsw); its outputs differ from "
                "the dequantizing int8 kernel's by up to %.2e of their largest magnitude\n",
                dynErr);
  return 0;
}
