//===- Gemv.cpp - skinny matrix products on packed weights: packing, dispatch, the kernels ----===//
//
// See Gemv.h. The panel kernel is written once (GemvKernels.inc) and compiled here for AVX2 + FMA
// and for AVX-512 in TFC_TARGET_BEGIN regions (cpu/TargetRegion.h), each copy in its own
// namespace with the few operations of its instruction set (struct Vec); the scalar code is a
// plain loop over the same layout (any panel width), used where neither set is there and by the
// tests as a third variant.
// The OpenMP region lives in the generic code, outside the target regions.
//
//===----------------------------------------------------------------------------------------===//
#include "cpu/Gemv.h"

#include "cpu/ActivationMath.h"

#include "cpu/TargetRegion.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>
#include <sys/mman.h>
#include <vector>

namespace tfc::rt::gemv {

// ---------------------------------------------------------------------------- AVX2 + FMA

TFC_TARGET_BEGIN("avx2,fma")
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
TFC_TARGET_END()

// ---------------------------------------------------------------------------- AVX-512

TFC_TARGET_BEGIN("avx512f,avx2,fma")
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
TFC_TARGET_END()

// ---------------------------------------------------------------------------- AVX-512 dot products
//
// Isa::Avx512Dot: bf16 and int8 weights multiplied by dot-product instructions instead of being
// widened to f32 one vector at a time (Gemv.h's banner, "Avx512Dot"). The panel holds the rows
// of W in pairs: pair-row j of a panel is, for each of its 64 columns, (W[2j, c], W[2j + 1, c])
// side by side, so that one 32-bit lane of a vector holds a column's two values and one
// instruction sums both products into that column:
//   * bf16: vdpbf16ps with x split into two bf16 parts, x = hi + lo (+ at most 2^-17 |x|):
//     two instructions per 32 products, each product exact in f32, instead of 3 per 16;
//   * int8: x quantized to int16 per block of 64 k (scale amax / 32767: at most 2^-16 of the
//     block's largest |x| per value, 128 times finer than the int8 weight's own rounding), the
//     weight widened to int16 on load (vpmovsxbw), vpdpwssd summing pairs into int32 lanes
//     exactly per block, each block's sum times its scale into f32.
// Rows of x with a value that is not finite are computed by plain loops over the same layout.

TFC_TARGET_BEGIN("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,avx512vnni,avx2,fma")
namespace avx512dot {

constexpr int kP = 64;         // columns per panel
constexpr int kBlockPairs = 32; // pair-rows per int16 activation block (64 k)

/// x rows prepared for the kernels: pairs of bf16 (hi, lo) or of int16 with block scales.
struct Prepared {
  int64_t pairs = 0;              // ceil(K / 2)
  int64_t blocks = 0;             // ceil(pairs / kBlockPairs)
  std::vector<uint32_t> hi, lo;   // bf16: [M][pairs] each; int8: hi = int16 pairs
  std::vector<float> scale;       // int8: [M][blocks]
  std::vector<uint8_t> finite;    // [M]
};

inline bool rowFinite(const float *x, int64_t K) {
  const __m512 inf = _mm512_set1_ps(INFINITY);
  __mmask16 bad = 0;
  int64_t k = 0;
  for (; k + 16 <= K; k += 16)
    bad |= _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_loadu_ps(x + k)), inf, _CMP_NLT_UQ);
  if (K - k) {
    const __mmask16 m = __mmask16((1u << (K - k)) - 1u);
    bad |= _mm512_mask_cmp_ps_mask(m, _mm512_abs_ps(_mm512_maskz_loadu_ps(m, x + k)), inf,
                                   _CMP_NLT_UQ);
  }
  return !bad;
}

/// hi = bf16(x) and lo = bf16(x - hi) (round to nearest even), 16 at a time; zeros past K.
void prepareBf16Row(const float *x, int64_t K, uint16_t *hi, uint16_t *lo, int64_t pairs) {
  for (int64_t k = 0; k < 2 * pairs; k += 16) {
    const int64_t n = std::min<int64_t>(16, K - k);
    const __mmask16 m = n >= 16 ? __mmask16(0xffff) : n <= 0 ? 0 : __mmask16((1u << n) - 1u);
    const __m512 v = _mm512_maskz_loadu_ps(m, x + k);
    const __m256bh h = _mm512_cvtneps_pbh(v);
    const __m512 hf = _mm512_castsi512_ps(
        _mm512_slli_epi32(_mm512_cvtepu16_epi32(reinterpret_cast<const __m256i &>(h)), 16));
    const __m256bh l = _mm512_cvtneps_pbh(_mm512_sub_ps(v, hf));
    const int64_t left = std::min<int64_t>(16, 2 * pairs - k);
    const __mmask16 sm = left >= 16 ? __mmask16(0xffff) : __mmask16((1u << left) - 1u);
    _mm256_mask_storeu_epi16(hi + k, sm, reinterpret_cast<const __m256i &>(h));
    _mm256_mask_storeu_epi16(lo + k, sm, reinterpret_cast<const __m256i &>(l));
  }
}

/// int16 values of x per block of 64 k, zeros past K. The scale is a power of two, 2^(e - 15)
/// for amax in [2^(e-1), 2^e): x * 2^(15 - e) is exact, so only the rounding to an integer
/// (nearest even) loses anything, at most 2^-15 of amax, and values on the grid (small
/// integers, short fractions) stay exact. Blocks whose amax is below 2^-112 (where 2^(15 - e)
/// would not fit in f32) become zeros.
void prepareInt16Row(const float *x, int64_t K, int16_t *q, float *scale, int64_t blocks) {
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t k0 = b * 2 * kBlockPairs;
    __m512 vmax = _mm512_setzero_ps();
    __m512 v[4];
    for (int i = 0; i < 4; ++i) {
      const int64_t n = std::min<int64_t>(16, K - (k0 + 16 * i));
      const __mmask16 m = n >= 16 ? __mmask16(0xffff) : n <= 0 ? 0 : __mmask16((1u << n) - 1u);
      v[i] = _mm512_maskz_loadu_ps(m, x + k0 + 16 * i);
      vmax = _mm512_max_ps(vmax, _mm512_abs_ps(v[i]));
    }
    const float amax = _mm512_reduce_max_ps(vmax);
    int e = 0;
    std::frexp(amax, &e);
    if (!(amax >= 0x1p-112f)) { // zero, or too small to scale in f32
      scale[b] = 0.f;
      std::memset(q + k0, 0, 2 * kBlockPairs * sizeof(int16_t));
      continue;
    }
    scale[b] = std::ldexp(1.f, e - 15);
    const __m512 inv = _mm512_set1_ps(std::ldexp(1.f, 15 - e)); // at most 2^126
    const __m512i lim = _mm512_set1_epi32(32767);
    for (int i = 0; i < 4; ++i) {
      __m512i t = _mm512_cvtps_epi32(_mm512_mul_ps(v[i], inv));
      t = _mm512_max_epi32(_mm512_min_epi32(t, lim), _mm512_sub_epi32(_mm512_setzero_si512(), lim));
      _mm256_storeu_si256(reinterpret_cast<__m256i *>(q + k0 + 16 * i), _mm512_cvtepi32_epi16(t));
    }
  }
}

/// bf16: R rows of one panel, pair-rows [0, pairs). Split: each row's hi and lo products in
/// separate sums (one row, decode: more independent chains while the loads wait on memory);
/// else in the same accumulators, 4R of the 32 registers (4 more for the weights, 2 for x), so
/// that prompts and batches reuse each weight vector over up to 6 rows.
template <int R, bool Split>
inline void bf16Rows(const uint16_t *panel, int64_t pairs, const uint32_t *hi, const uint32_t *lo,
                     int64_t ld, float *out) {
  __m512 h[R][4], l[Split ? R : 1][4];
  for (int r = 0; r < R; ++r)
    for (int i = 0; i < 4; ++i)
      h[r][i] = l[Split ? r : 0][i] = _mm512_setzero_ps();
  for (int64_t j = 0; j < pairs; ++j) {
    const uint16_t *w = panel + j * 2 * kP;
    __m512bh wv[4];
    for (int i = 0; i < 4; ++i)
      wv[i] = reinterpret_cast<__m512bh>(_mm512_load_si512(w + 32 * i));
    for (int r = 0; r < R; ++r) {
      const __m512bh a = reinterpret_cast<__m512bh>(_mm512_set1_epi32(int(hi[r * ld + j])));
      const __m512bh b = reinterpret_cast<__m512bh>(_mm512_set1_epi32(int(lo[r * ld + j])));
      for (int i = 0; i < 4; ++i) {
        h[r][i] = _mm512_dpbf16_ps(h[r][i], a, wv[i]);
        if constexpr (Split)
          l[r][i] = _mm512_dpbf16_ps(l[r][i], b, wv[i]);
        else
          h[r][i] = _mm512_dpbf16_ps(h[r][i], b, wv[i]);
      }
    }
  }
  for (int r = 0; r < R; ++r)
    for (int i = 0; i < 4; ++i)
      _mm512_store_ps(out + r * kP + 16 * i,
                      Split ? _mm512_add_ps(h[r][i], l[Split ? r : 0][i]) : h[r][i]);
}

/// int8: R rows (R <= 3) of one panel: per block of 32 pair-rows, int32 sums, then scaled.
template <int R>
inline void int8Rows(const int8_t *panel, int64_t pairs, const uint32_t *q, const float *scale,
                     int64_t ld, int64_t lds, float *out) {
  __m512 f[R][4];
  for (int r = 0; r < R; ++r)
    for (int i = 0; i < 4; ++i)
      f[r][i] = _mm512_setzero_ps();
  for (int64_t j0 = 0, b = 0; j0 < pairs; j0 += kBlockPairs, ++b) {
    const int64_t j1 = std::min<int64_t>(pairs, j0 + kBlockPairs);
    __m512i s[R][4];
    for (int r = 0; r < R; ++r)
      for (int i = 0; i < 4; ++i)
        s[r][i] = _mm512_setzero_si512();
    for (int64_t j = j0; j < j1; ++j) {
      const int8_t *w = panel + j * 2 * kP;
      __m512i wv[4];
      for (int i = 0; i < 4; ++i)
        wv[i] = _mm512_cvtepi8_epi16(_mm256_load_si256(reinterpret_cast<const __m256i *>(w + 32 * i)));
      for (int r = 0; r < R; ++r) {
        const __m512i a = _mm512_set1_epi32(int(q[r * ld + j]));
        for (int i = 0; i < 4; ++i)
          s[r][i] = _mm512_dpwssd_epi32(s[r][i], a, wv[i]);
      }
    }
    for (int r = 0; r < R; ++r) {
      const __m512 sc = _mm512_set1_ps(scale[r * lds + b]);
      for (int i = 0; i < 4; ++i)
        f[r][i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[r][i]), sc, f[r][i]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int i = 0; i < 4; ++i)
      _mm512_store_ps(out + r * kP + 16 * i, f[r][i]);
}

inline float bf16Value(uint16_t v) {
  uint32_t bits = uint32_t(v) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

/// A row of x that holds a value that is not finite: plain f32 loops over the pairs layout.
void plainRow(const PackedWeight &w, const void *panel, const float *x, float *out) {
  for (int c = 0; c < kP; ++c) {
    float s = 0.f;
    for (int64_t k = 0; k < w.K; ++k) {
      const int64_t i = (k / 2) * 2 * kP + 2 * c + k % 2;
      const float v = w.type == WeightType::BF16
                          ? bf16Value(static_cast<const uint16_t *>(panel)[i])
                          : float(static_cast<const int8_t *>(panel)[i]);
      s += x[k] * v;
    }
    out[c] = s;
  }
}

void runPanels(const PackedWeight &w, int64_t p0, int64_t p1, const Prepared &px,
               const float *x, int64_t M, int64_t ldx, float *y, int64_t ldy, const Epilogue &e) {
  alignas(64) float out[6 * kP];
  const int64_t ld = px.pairs;
  // Rows per pass over a panel: bf16 up to 6 (bf16Rows), int8 up to 3.
  const int64_t group = w.type == WeightType::BF16 ? 6 : 3;
  for (int64_t p = p0; p < p1; ++p) {
    const void *panel = w.panel(p);
    const int64_t n0 = p * kP, nv = std::min<int64_t>(kP, w.N - n0);
    const float *scale = e.scale ? e.scale + n0 : nullptr;
    const float *bias = e.bias ? e.bias + n0 : nullptr;
    for (int64_t m0 = 0; m0 < M; m0 += group) {
      const int rows = int(std::min<int64_t>(group, M - m0));
      if (w.type == WeightType::BF16) {
        const auto *pp = static_cast<const uint16_t *>(panel);
        const uint32_t *hi = px.hi.data() + m0 * ld, *lo = px.lo.data() + m0 * ld;
        switch (rows) {
        case 1: bf16Rows<1, true>(pp, px.pairs, hi, lo, ld, out); break;
        case 2: bf16Rows<2, false>(pp, px.pairs, hi, lo, ld, out); break;
        case 3: bf16Rows<3, false>(pp, px.pairs, hi, lo, ld, out); break;
        case 4: bf16Rows<4, false>(pp, px.pairs, hi, lo, ld, out); break;
        case 5: bf16Rows<5, false>(pp, px.pairs, hi, lo, ld, out); break;
        default: bf16Rows<6, false>(pp, px.pairs, hi, lo, ld, out); break;
        }
      } else {
        const auto *pp = static_cast<const int8_t *>(panel);
        const uint32_t *q = px.hi.data() + m0 * ld;
        const float *sc = px.scale.data() + m0 * px.blocks;
        switch (rows) {
        case 1: int8Rows<1>(pp, px.pairs, q, sc, ld, px.blocks, out); break;
        case 2: int8Rows<2>(pp, px.pairs, q, sc, ld, px.blocks, out); break;
        default: int8Rows<3>(pp, px.pairs, q, sc, ld, px.blocks, out); break;
        }
      }
      for (int r = 0; r < rows; ++r) {
        const int64_t m = m0 + r;
        if (!px.finite[size_t(m)])
          plainRow(w, panel, x + m * ldx, out + r * kP);
        avx512::finishRow(e.act, out + r * kP, nv, scale, bias,
                          e.mul ? e.mul + m * e.mulStride + n0 : nullptr,
                          e.residual ? e.residual + m * e.residualStride + n0 : nullptr,
                          y + m * ldy + n0);
      }
    }
  }
}

/// Prepares the M rows of x for w's type (see Prepared).
void prepare(const PackedWeight &w, const float *x, int64_t M, int64_t ldx, Prepared &px) {
  px.pairs = (w.K + 1) / 2;
  px.blocks = (px.pairs + kBlockPairs - 1) / kBlockPairs;
  px.finite.resize(size_t(M));
  px.hi.resize(size_t(M * px.pairs));
  if (w.type == WeightType::BF16)
    px.lo.resize(size_t(M * px.pairs));
  else
    px.scale.resize(size_t(M * px.blocks));
  for (int64_t m = 0; m < M; ++m) {
    const float *row = x + m * ldx;
    const bool ok = rowFinite(row, w.K);
    px.finite[size_t(m)] = ok;
    uint32_t *hi = px.hi.data() + m * px.pairs;
    if (!ok) { // computed by plainRow; zeros keep the kernel's sums defined
      std::fill(hi, hi + px.pairs, 0u);
      if (w.type == WeightType::BF16)
        std::fill(px.lo.begin() + m * px.pairs, px.lo.begin() + (m + 1) * px.pairs, 0u);
      else
        std::fill(px.scale.begin() + m * px.blocks, px.scale.begin() + (m + 1) * px.blocks, 0.f);
      continue;
    }
    if (w.type == WeightType::BF16) {
      prepareBf16Row(row, w.K, reinterpret_cast<uint16_t *>(hi),
                     reinterpret_cast<uint16_t *>(px.lo.data() + m * px.pairs), px.pairs);
    } else {
      // The int16 blocks cover 64 k; the pairs array may end inside the last block.
      alignas(64) int16_t tmp[2 * kBlockPairs];
      int16_t *q = reinterpret_cast<int16_t *>(hi);
      for (int64_t b = 0; b < px.blocks; ++b) {
        const int64_t k0 = b * 2 * kBlockPairs;
        prepareInt16Row(row + k0, w.K - k0, tmp, px.scale.data() + m * px.blocks + b, 1);
        std::memcpy(q + k0, tmp, size_t(std::min<int64_t>(2 * kBlockPairs, 2 * px.pairs - k0)) * 2);
      }
    }
  }
}

} // namespace avx512dot
TFC_TARGET_END()

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
  if ((w.isa == Isa::Avx512 || w.isa == Isa::Avx512Dot) && !w.pairs &&
      w.P == 4 * avx512::Vec::L && cpuSupports(Isa::Avx512))
    return avx512::runPanels;
  if (w.isa == Isa::Avx2 && w.P == 4 * avx2::Vec::L && cpuSupports(Isa::Avx2))
    return avx2::runPanels;
  return scalar::runPanels;
}

size_t elementSize(WeightType type) {
  return type == WeightType::F32 ? 4 : type == WeightType::BF16 ? 2 : 1;
}

/// The panels of `w`'s layout: [K][P] per panel, or, for the dot kernels (w.pairs), pair-row j
/// holding per column c W[2j, pP + c] and W[2j + 1, pP + c] side by side; zeros past K and N.
template <typename T>
void packAs(const T *src, const PackedWeight &w, uint8_t *dst) {
  const int64_t P = w.P;
#pragma omp parallel for schedule(static) if (w.K * w.N >= (int64_t(1) << 20))
  for (int64_t p = 0; p < w.panels; ++p) {
    uint8_t *bytes = dst + p * w.panelBytes;
    std::memset(bytes, 0, size_t(w.panelBytes));
    T *d = reinterpret_cast<T *>(bytes);
    const int64_t n0 = p * P, nv = std::min<int64_t>(P, w.N - n0);
    if (!w.pairs) {
      for (int64_t k = 0; k < w.K; ++k)
        std::memcpy(d + k * P, src + k * w.N + n0, size_t(nv) * sizeof(T));
      continue;
    }
    // Pair-row j interleaves rows 2j and 2j + 1 column by column (an odd K's last pair holds
    // zeros for its second row: the memset above).
    for (int64_t k = 0; k < w.K; k += 2) {
      T *out = d + (k / 2) * 2 * P;
      const T *a = src + k * w.N + n0;
      if (k + 1 < w.K) {
        const T *b = a + w.N;
        for (int64_t c = 0; c < nv; ++c) {
          out[2 * c] = a[c];
          out[2 * c + 1] = b[c];
        }
      } else {
        for (int64_t c = 0; c < nv; ++c)
          out[2 * c] = a[c];
      }
    }
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
  case Isa::Avx512Dot:
    return cpuSupports(Isa::Avx512) && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512vnni");
  }
  return false;
}

Isa defaultIsa() {
  static const Isa isa = [] {
    Isa best = cpuSupports(Isa::Avx512Dot) ? Isa::Avx512Dot
               : cpuSupports(Isa::Avx512)  ? Isa::Avx512
               : cpuSupports(Isa::Avx2)    ? Isa::Avx2
                                           : Isa::Scalar;
    const char *e = std::getenv("TFC_GEMV_ISA");
    if (!e)
      return best;
    std::string_view want(e);
    for (Isa i : {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Avx512Dot})
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
  case Isa::Avx512Dot: return "avx512dot";
  }
  return "?";
}

int panelWidth(Isa isa) {
  switch (isa) {
  case Isa::Avx2: return 4 * avx2::Vec::L;
  case Isa::Avx512:
  case Isa::Avx512Dot: return 4 * avx512::Vec::L;
  case Isa::Scalar: break;
  }
  return 16;
}

PackedWeight layout(WeightType type, int64_t K, int64_t N, Isa isa) {
  PackedWeight p;
  p.type = type;
  p.isa = isa;
  p.K = K;
  p.N = N;
  p.P = panelWidth(isa);
  p.panels = (N + p.P - 1) / p.P;
  // The dot kernels' pairs layout, for bf16 and int8 where this CPU runs them (a layout packed
  // for them elsewhere would have nothing to run it: it becomes AVX-512's).
  if (isa == Isa::Avx512Dot && !cpuSupports(Isa::Avx512Dot))
    p.isa = Isa::Avx512;
  p.pairs = p.isa == Isa::Avx512Dot && type != WeightType::F32;
  const int64_t rows = p.pairs ? (K + 1) / 2 * 2 : K;
  p.panelBytes = (rows * p.P * int64_t(elementSize(type)) + 63) / 64 * 64;
  return p;
}

size_t packedBytes(const PackedWeight &layout) {
  return size_t(std::max<int64_t>(layout.panels * layout.panelBytes, 64));
}

void packInto(PackedWeight &p, const void *w, std::shared_ptr<uint8_t> bytes) {
  p.bytes = std::move(bytes);
  switch (p.type) {
  case WeightType::F32: packAs(static_cast<const float *>(w), p, p.bytes.get()); break;
  case WeightType::BF16: packAs(static_cast<const uint16_t *>(w), p, p.bytes.get()); break;
  case WeightType::I8: packAs(static_cast<const int8_t *>(w), p, p.bytes.get()); break;
  }
}

std::shared_ptr<uint8_t> allocateHuge(size_t bytes) {
  // 2 MB or more starts on a 2 MB boundary and asks for transparent huge pages for its whole
  // 2 MB stretches (the tail stays in 4 KB pages: no memory is added). Streaming the weights
  // then misses the TLB 512 times less often, and the hardware prefetcher, which stops at 4 KB
  // page boundaries, is not restarted every 4 KB: 7-10% less CPU time per decode step
  // (gemv_bench, one thread, alternating builds). Where THP is off or refused, madvise fails and
  // nothing changes.
  constexpr size_t kHuge = size_t(2) << 20;
  bytes = std::max<size_t>(bytes, 64);
  void *raw = nullptr;
  if (posix_memalign(&raw, bytes >= kHuge ? kHuge : 64, bytes) != 0 || !raw)
    throw std::bad_alloc();
  if (bytes >= kHuge)
    (void)madvise(raw, bytes / kHuge * kHuge, MADV_HUGEPAGE);
  return std::shared_ptr<uint8_t>(static_cast<uint8_t *>(raw), [](uint8_t *q) { std::free(q); });
}

PackedWeight pack(WeightType type, const void *w, int64_t K, int64_t N, Isa isa) {
  PackedWeight p = layout(type, K, N, isa);
  packInto(p, w, allocateHuge(packedBytes(p)));
  return p;
}

void multiply(const PackedWeight &w, const float *x, int64_t M, int64_t ldx, float *y,
              int64_t ldy, const Epilogue &e, int threads) {
  if (M <= 0 || w.N <= 0)
    return;
  int64_t n = std::clamp<int64_t>(threads, 1, w.panels);
  if (M * w.K * w.N < kSerialWork)
    n = 1;
  // The dot kernels' x, prepared once by the calling thread and read by all.
  thread_local avx512dot::Prepared px;
  if (w.pairs)
    avx512dot::prepare(w, x, M, ldx, px);
  const avx512dot::Prepared &prepared = px;
  const PanelsFn run = panelsFor(w);
  auto panels = [&](int64_t p0, int64_t p1) {
    if (w.pairs)
      avx512dot::runPanels(w, p0, p1, prepared, x, M, ldx, y, ldy, e);
    else
      run(w, p0, p1, x, M, ldx, y, ldy, e);
  };
  if (n == 1) {
    panels(0, w.panels);
    return;
  }
  // Chunks of whole panels handed out in order (each a contiguous stretch of the packed
  // weight), about 8 per thread: a thread that is slowed down (a busy machine) takes fewer.
  const int64_t chunk = std::max<int64_t>(1, w.panels / (n * 8));
  const int64_t chunks = (w.panels + chunk - 1) / chunk;
  std::atomic<int64_t> next{0};
#pragma omp parallel num_threads(int(n))
  for (int64_t c = next.fetch_add(1); c < chunks; c = next.fetch_add(1))
    panels(c * chunk, std::min(w.panels, (c + 1) * chunk));
}

} // namespace tfc::rt::gemv
