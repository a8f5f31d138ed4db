//===- Gemv.cpp - skinny matrix products on packed weights: packing, dispatch, the kernels ----===//
//
// See Gemv.h. The panel kernel is written once (GemvKernels.inc) and compiled here for AVX2 + FMA
// and for AVX-512 under `#pragma GCC target`, each copy in its own namespace with the few
// operations of its instruction set (struct Vec); the scalar code is a plain loop over the same
// layout (any panel width), used where neither set is there and by the tests as a third variant.
// The OpenMP region lives in the generic code, outside the target regions.
//
//===----------------------------------------------------------------------------------------===//
#include "cpu/Gemv.h"

#include "cpu/ActivationMath.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>
#include <sys/mman.h>

namespace tfc::rt::gemv {

// ---------------------------------------------------------------------------- AVX2 + FMA

#if defined(__clang__) // clang has no `#pragma GCC target`
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif
namespace avx2 {

struct Vec {
  using V = __m256;
  static constexpr int L = 8;
  static V zero() { return _mm256_setzero_ps(); }
  static V load(const float *p) { return _mm256_loadu_ps(p); }
  static V load(const uint16_t *p) { // bf16 -> f32: the bits, 16 places up
    __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  }
  static V load(const int8_t *p) {
    __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i *>(p));
    return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(b));
  }
  static V bcast(const float *p) { return _mm256_broadcast_ss(p); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static void store(float *p, V v) { _mm256_storeu_ps(p, v); }
};

// 16 vector registers: 3 rows take 3 + 1 + 12.
#define TFC_GEMV_MAX_ROWS 3
#include "cpu/GemvKernels.inc"
#undef TFC_GEMV_MAX_ROWS

} // namespace avx2
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

// ---------------------------------------------------------------------------- AVX-512

#if defined(__clang__) // clang has no `#pragma GCC target`
#pragma clang attribute push(__attribute__((target("avx512f,avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma")
#endif
// GCC 12's avx512fintrin.h trips -Wmaybe-uninitialized on its own _mm512_undefined_epi32().
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
namespace avx512 {

struct Vec {
  using V = __m512;
  static constexpr int L = 16;
  static V zero() { return _mm512_setzero_ps(); }
  static V load(const float *p) { return _mm512_loadu_ps(p); }
  static V load(const uint16_t *p) {
    __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(p));
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
  static V load(const int8_t *p) {
    __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p));
    return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(b));
  }
  static V bcast(const float *p) { return _mm512_set1_ps(*p); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static void store(float *p, V v) { _mm512_storeu_ps(p, v); }
};

// 32 vector registers: 6 rows take 6 + 1 + 24.
#define TFC_GEMV_MAX_ROWS 6
#include "cpu/GemvKernels.inc"
#undef TFC_GEMV_MAX_ROWS

} // namespace avx512
#pragma GCC diagnostic pop
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

// ---------------------------------------------------------------------------- scalar

namespace scalar {

inline float value(float v) { return v; }
inline float value(uint16_t bf16) {
  uint32_t bits = uint32_t(bf16) << 16;
  float v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}
inline float value(int8_t q) { return float(q); }

/// The plain loops: for each panel, row and k, acc[j] += x[m, k] * W[k, n0 + j].
template <typename T>
void runPanelsOf(const PackedWeight &w, int64_t p0, int64_t p1, const float *x, int64_t M,
                 int64_t ldx, float *y, int64_t ldy, const Epilogue &e) {
  const int P = w.P;
  float acc[64];
  for (int64_t p = p0; p < p1; ++p) {
    const T *panel = static_cast<const T *>(w.panel(p));
    const int64_t n0 = p * P, nv = std::min<int64_t>(P, w.N - n0);
    for (int64_t m = 0; m < M; ++m) {
      std::fill(acc, acc + P, 0.f);
      for (int64_t k = 0; k < w.K; ++k) {
        const float xv = x[m * ldx + k];
        for (int j = 0; j < P; ++j)
          acc[j] += xv * value(panel[k * P + j]);
      }
      float *yr = y + m * ldy + n0;
      const float *res = e.residual ? e.residual + m * e.residualStride + n0 : nullptr;
      const float *mul = e.mul ? e.mul + m * e.mulStride + n0 : nullptr;
      for (int64_t j = 0; j < nv; ++j) {
        float v = acc[j];
        if (e.scale)
          v *= e.scale[n0 + j];
        if (e.bias)
          v += e.bias[n0 + j];
        switch (e.act) {
        case Act::None: break;
        case Act::Relu: v = reluOf(v); break;
        case Act::GeluErf: v = geluErfOf(v); break;
        case Act::GeluTanh: v = geluTanhOf(v); break;
        case Act::Silu: v = siluOf(v); break;
        }
        if (mul)
          v *= mul[j];
        if (res)
          v += res[j];
        yr[j] = v;
      }
    }
  }
}

void runPanels(const PackedWeight &w, int64_t p0, int64_t p1, const float *x, int64_t M,
               int64_t ldx, float *y, int64_t ldy, const Epilogue &e) {
  switch (w.type) {
  case WeightType::F32: runPanelsOf<float>(w, p0, p1, x, M, ldx, y, ldy, e); break;
  case WeightType::BF16: runPanelsOf<uint16_t>(w, p0, p1, x, M, ldx, y, ldy, e); break;
  case WeightType::I8: runPanelsOf<int8_t>(w, p0, p1, x, M, ldx, y, ldy, e); break;
  }
}

} // namespace scalar

// ---------------------------------------------------------------------------- dispatch

namespace {

using PanelsFn = void (*)(const PackedWeight &, int64_t, int64_t, const float *, int64_t,
                          int64_t, float *, int64_t, const Epilogue &);

/// The kernel for `w`'s layout: its instruction set's when this CPU runs it, else the scalar
/// loops (which read any panel width).
PanelsFn panelsFor(const PackedWeight &w) {
  if (w.isa == Isa::Avx512 && w.P == 4 * avx512::Vec::L && cpuSupports(Isa::Avx512))
    return avx512::runPanels;
  if (w.isa == Isa::Avx2 && w.P == 4 * avx2::Vec::L && cpuSupports(Isa::Avx2))
    return avx2::runPanels;
  return scalar::runPanels;
}

size_t elementSize(WeightType type) {
  return type == WeightType::F32 ? 4 : type == WeightType::BF16 ? 2 : 1;
}

template <typename T>
void packAs(const T *src, const PackedWeight &w, uint8_t *dst) {
  const int64_t P = w.P;
#pragma omp parallel for schedule(static) if (w.K * w.N >= (int64_t(1) << 20))
  for (int64_t p = 0; p < w.panels; ++p) {
    uint8_t *bytes = dst + p * w.panelBytes;
    std::memset(bytes, 0, size_t(w.panelBytes));
    T *d = reinterpret_cast<T *>(bytes);
    const int64_t n0 = p * P, nv = std::min<int64_t>(P, w.N - n0);
    for (int64_t k = 0; k < w.K; ++k)
      std::memcpy(d + k * P, src + k * w.N + n0, size_t(nv) * sizeof(T));
  }
}

/// Below this many multiply-adds a product runs on one thread (a parallel region costs a few
/// microseconds).
constexpr int64_t kSerialWork = 1 << 15;

} // namespace

bool cpuSupports(Isa isa) {
  switch (isa) {
  case Isa::Scalar: return true;
  case Isa::Avx2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  case Isa::Avx512:
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") &&
           __builtin_cpu_supports("fma");
  }
  return false;
}

Isa defaultIsa() {
  static const Isa isa = [] {
    Isa best = cpuSupports(Isa::Avx512) ? Isa::Avx512
               : cpuSupports(Isa::Avx2) ? Isa::Avx2
                                        : Isa::Scalar;
    const char *e = std::getenv("TFC_GEMV_ISA");
    if (!e)
      return best;
    std::string_view want(e);
    for (Isa i : {Isa::Scalar, Isa::Avx2, Isa::Avx512})
      if (want == isaName(i) && i < best)
        return i;
    return best; // an unknown value or one above this CPU: the best
  }();
  return isa;
}

const char *isaName(Isa isa) {
  switch (isa) {
  case Isa::Scalar: return "scalar";
  case Isa::Avx2: return "avx2";
  case Isa::Avx512: return "avx512";
  }
  return "?";
}

int panelWidth(Isa isa) {
  switch (isa) {
  case Isa::Avx2: return 4 * avx2::Vec::L;
  case Isa::Avx512: return 4 * avx512::Vec::L;
  case Isa::Scalar: break;
  }
  return 16;
}

PackedWeight pack(WeightType type, const void *w, int64_t K, int64_t N, Isa isa) {
  PackedWeight p;
  p.type = type;
  p.isa = isa;
  p.K = K;
  p.N = N;
  p.P = panelWidth(isa);
  p.panels = (N + p.P - 1) / p.P;
  p.panelBytes = (K * p.P * int64_t(elementSize(type)) + 63) / 64 * 64;
  const size_t bytes = size_t(std::max<int64_t>(p.panels * p.panelBytes, 64));
  // A weight of 2 MB or more starts on a 2 MB boundary and asks for transparent huge pages for
  // its whole 2 MB stretches (the tail stays in 4 KB pages: no memory is added). Streaming the
  // weights then misses the TLB 512 times less often: 7-10% less CPU time per decode step on
  // this machine (gemv_bench, one thread, alternating builds). Where THP is off or refused,
  // madvise fails and nothing changes.
  constexpr size_t kHuge = size_t(2) << 20;
  void *raw = nullptr;
  if (posix_memalign(&raw, bytes >= kHuge ? kHuge : 64, bytes) != 0 || !raw)
    throw std::bad_alloc();
  if (bytes >= kHuge)
    (void)madvise(raw, bytes / kHuge * kHuge, MADV_HUGEPAGE);
  p.bytes.reset(static_cast<uint8_t *>(raw), [](uint8_t *q) { std::free(q); });
  switch (type) {
  case WeightType::F32: packAs(static_cast<const float *>(w), p, p.bytes.get()); break;
  case WeightType::BF16: packAs(static_cast<const uint16_t *>(w), p, p.bytes.get()); break;
  case WeightType::I8: packAs(static_cast<const int8_t *>(w), p, p.bytes.get()); break;
  }
  return p;
}

void multiply(const PackedWeight &w, const float *x, int64_t M, int64_t ldx, float *y,
              int64_t ldy, const Epilogue &e, int threads) {
  if (M <= 0 || w.N <= 0)
    return;
  const PanelsFn run = panelsFor(w);
  int64_t n = std::clamp<int64_t>(threads, 1, w.panels);
  if (M * w.K * w.N < kSerialWork)
    n = 1;
  if (n == 1) {
    run(w, 0, w.panels, x, M, ldx, y, ldy, e);
    return;
  }
  // Chunks of whole panels handed out in order (each a contiguous stretch of the packed
  // weight), about 8 per thread: a thread that is slowed down (a busy machine) takes fewer.
  const int64_t chunk = std::max<int64_t>(1, w.panels / (n * 8));
  const int64_t chunks = (w.panels + chunk - 1) / chunk;
  std::atomic<int64_t> next{0};
#pragma omp parallel num_threads(int(n))
  for (int64_t c = next.fetch_add(1); c < chunks; c = next.fetch_add(1))
    run(w, c * chunk, std::min(w.panels, (c + 1) * chunk), x, M, ldx, y, ldy, e);
}

} // namespace tfc::rt::gemv
