//===- Int8Gemm.cpp - int8 x int8 products: scalar, AVX2 (vpmaddwd), AVX-512 VNNI (vpdpbusd) ===//
//
// See Int8Gemm.h. The AVX2 and AVX-512 functions are compiled in TFC_TARGET_BEGIN(...) regions
// (the runtime itself is built for plain x86-64) and only called when the CPU has them; the
// OpenMP regions live in the generic code.
//
//===----------------------------------------------------------------------------------------===//
#include "cpu/Int8Gemm.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include "cpu/TargetRegion.h"

#include <immintrin.h>
#include <new>
#include <string>

namespace tfc::rt::int8gemm {
namespace {

constexpr int kPairInts = 2 * kPanel; // int16 per pair of rows in a panel

/// Rows of x per block that the threads share the panels over: about 256 KiB of quantized
/// activations, so that a block stays in a core's L2 while the panels go by.
int64_t rowsPerBlock(int64_t K) {
  int64_t rows = (256 * 1024) / std::max<int64_t>(2 * K, 1);
  return std::max<int64_t>(kTileRows, rows / kTileRows * kTileRows);
}

// ---- scalar -----------------------------------------------------------------------------------

bool rowIsFinite(const float *x, int64_t K) {
  for (int64_t k = 0; k < K; ++k)
    if (!std::isfinite(x[k]))
      return false;
  return true;
}

/// One block of n <= kBlock values (the rest of the block's kBlock int16 set to 0).
void quantizeBlockScalar(const float *x, int64_t n, int16_t *q, float &scale) {
  float amax = 0.f;
  for (int64_t k = 0; k < n; ++k)
    amax = std::max(amax, std::fabs(x[k]));
  scale = amax / 127.f;
  const float inv = amax > 0.f ? 127.f / amax : 0.f;
  for (int64_t k = 0; k < n; ++k) {
    float v = std::nearbyint(x[k] * inv);
    q[k] = int16_t(std::min(127.f, std::max(-127.f, v)));
  }
  std::fill(q + n, q + kBlock, int16_t(0));
}

/// Rows [m0, m0 + rows) of the tile on one panel: f32 sums of the blocks' scaled int32 sums.
void tileScalar(const QuantizedRows &x, int64_t m0, int64_t rows, const int16_t *b,
                float f[kTileRows][kPanel]) {
  for (int64_t r = 0; r < rows; ++r)
    for (int c = 0; c < kPanel; ++c)
      f[r][c] = 0.f;
  for (int64_t blk = 0; blk < x.blocks; ++blk) {
    for (int64_t r = 0; r < rows; ++r) {
      const int16_t *a = x.q.data() + (m0 + r) * x.stride + blk * kBlock;
      int32_t acc[kPanel] = {};
      for (int64_t j = 0; j < kBlock / 2; ++j) {
        const int16_t *bp = b + (blk * kBlock / 2 + j) * kPairInts;
        const int32_t a0 = a[2 * j], a1 = a[2 * j + 1];
        for (int c = 0; c < kPanel; ++c)
          acc[c] += a0 * bp[2 * c] + a1 * bp[2 * c + 1];
      }
      const float xs = x.scale[size_t((m0 + r) * x.blocks + blk)];
      for (int c = 0; c < kPanel; ++c)
        f[r][c] = std::fma(float(acc[c]), xs, f[r][c]);
    }
  }
}

/// y rows [m0, m0 + rows), columns [n0, n0 + cols) from the tile's sums.
void storeTile(const float f[kTileRows][kPanel], int64_t m0, int64_t rows, int64_t n0,
               int64_t cols, const QuantizedRows &x, float *y, int64_t ldy, const Epilogue &e) {
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t m = m0 + r;
    if (!x.finite[size_t(m)])
      continue;
    for (int64_t c = 0; c < cols; ++c) {
      const int64_t n = n0 + c;
      float v = f[r][c] * e.weightScale[n];
      if (e.bias)
        v += e.bias[n];
      if (e.residual)
        v += e.residual[m * e.residualStride + n];
      y[m * ldy + n] = v;
    }
  }
}

// ---- AVX2 -------------------------------------------------------------------------------------

TFC_TARGET_BEGIN("avx2,fma")

bool rowIsFiniteAvx2(const float *x, int64_t K) {
  const __m256 signMask = _mm256_set1_ps(-0.f), inf = _mm256_set1_ps(INFINITY);
  __m256 bad = _mm256_setzero_ps();
  int64_t k = 0;
  for (; k + 8 <= K; k += 8) // |x| >= inf, or unordered (NaN)
    bad = _mm256_or_ps(bad, _mm256_cmp_ps(_mm256_andnot_ps(signMask, _mm256_loadu_ps(x + k)),
                                          inf, _CMP_NLT_UQ));
  if (_mm256_movemask_ps(bad))
    return false;
  return rowIsFinite(x + k, K - k);
}

void quantizeBlockAvx2(const float *x, int64_t n, int16_t *q, float &scale) {
  const __m256 signMask = _mm256_set1_ps(-0.f);
  __m256 vmax = _mm256_setzero_ps();
  int64_t k = 0;
  for (; k + 8 <= n; k += 8)
    vmax = _mm256_max_ps(vmax, _mm256_andnot_ps(signMask, _mm256_loadu_ps(x + k)));
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, vmax);
  float amax = 0.f;
  for (float l : lanes)
    amax = std::max(amax, l);
  for (; k < n; ++k)
    amax = std::max(amax, std::fabs(x[k]));
  scale = amax / 127.f;
  const float inv = amax > 0.f ? 127.f / amax : 0.f;
  const __m256 vinv = _mm256_set1_ps(inv);
  const __m256i lo = _mm256_set1_epi32(-127), hi = _mm256_set1_epi32(127);
  k = 0;
  for (; k + 16 <= n; k += 16) {
    // cvtps rounds to nearest even (the default MXCSR mode), as nearbyint does.
    __m256i a = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + k), vinv));
    __m256i b = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + k + 8), vinv));
    a = _mm256_min_epi32(_mm256_max_epi32(a, lo), hi);
    b = _mm256_min_epi32(_mm256_max_epi32(b, lo), hi);
    __m256i packed = _mm256_permute4x64_epi64(_mm256_packs_epi32(a, b), 0xd8);
    _mm256_storeu_si256(reinterpret_cast<__m256i *>(q + k), packed);
  }
  for (; k < n; ++k) {
    float v = std::nearbyint(x[k] * inv);
    q[k] = int16_t(std::min(127.f, std::max(-127.f, v)));
  }
  std::fill(q + n, q + kBlock, int16_t(0));
}

/// The 6 x 16 (or fewer rows) tile: per block, 2 ymm of 8 int32 columns per row, folded into
/// the f32 sums `f` (in L1) with the rows' block scales.
template <int R>
inline void tileAvx2(const QuantizedRows &x, int64_t m0, const int16_t *b,
                     float f[kTileRows][kPanel]) {
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r) {
    _mm256_store_ps(f[r], _mm256_setzero_ps());
    _mm256_store_ps(f[r] + 8, _mm256_setzero_ps());
  }
  const int16_t *a = x.q.data() + m0 * x.stride;
  const int64_t lda = x.stride;
  for (int64_t blk = 0; blk < x.blocks; ++blk) {
    __m256i c[R][2];
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r)
      c[r][0] = c[r][1] = _mm256_setzero_si256();
    const int64_t j0 = blk * (kBlock / 2);
    for (int64_t j = j0; j < j0 + kBlock / 2; ++j) {
      const __m256i b0 = _mm256_load_si256(reinterpret_cast<const __m256i *>(b + j * kPairInts));
      const __m256i b1 =
          _mm256_load_si256(reinterpret_cast<const __m256i *>(b + j * kPairInts + kPanel));
#pragma GCC unroll 6
      for (int r = 0; r < R; ++r) {
        int32_t pair;
        std::memcpy(&pair, a + r * lda + 2 * j, sizeof pair);
        const __m256i av = _mm256_set1_epi32(pair);
        c[r][0] = _mm256_add_epi32(c[r][0], _mm256_madd_epi16(av, b0));
        c[r][1] = _mm256_add_epi32(c[r][1], _mm256_madd_epi16(av, b1));
      }
    }
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r) {
      const __m256 xs = _mm256_set1_ps(x.scale[size_t((m0 + r) * x.blocks + blk)]);
      _mm256_store_ps(f[r], _mm256_fmadd_ps(_mm256_cvtepi32_ps(c[r][0]), xs, _mm256_load_ps(f[r])));
      _mm256_store_ps(f[r] + 8,
                      _mm256_fmadd_ps(_mm256_cvtepi32_ps(c[r][1]), xs, _mm256_load_ps(f[r] + 8)));
    }
  }
}

/// The int32 sums of one block (kBlock / 2 pairs) of the full 6 x 16 tile into acc (12 ymm:
/// row r's columns 0-7 at acc + 16 r, 8-15 at acc + 16 r + 8). Written in assembly: the 12
/// accumulators, the 2 weight vectors, a broadcast pair and a product take all 16 ymm
/// registers, and GCC 12 spills the accumulators of the same loop written with intrinsics to
/// the stack (a load and a store per product), which halves the speed.
inline void blockSums6x16(const int16_t *a, int64_t lda, const int16_t *b, int32_t *acc) {
  const int16_t *a3 = a + 3 * lda;
  const int64_t ldaBytes = lda * int64_t(sizeof(int16_t));
  int64_t n = kBlock / 2;
  asm volatile(
      "vpxor %%xmm0, %%xmm0, %%xmm0\n\t"
      "vpxor %%xmm1, %%xmm1, %%xmm1\n\t"
      "vpxor %%xmm2, %%xmm2, %%xmm2\n\t"
      "vpxor %%xmm3, %%xmm3, %%xmm3\n\t"
      "vpxor %%xmm4, %%xmm4, %%xmm4\n\t"
      "vpxor %%xmm5, %%xmm5, %%xmm5\n\t"
      "vpxor %%xmm6, %%xmm6, %%xmm6\n\t"
      "vpxor %%xmm7, %%xmm7, %%xmm7\n\t"
      "vpxor %%xmm8, %%xmm8, %%xmm8\n\t"
      "vpxor %%xmm9, %%xmm9, %%xmm9\n\t"
      "vpxor %%xmm10, %%xmm10, %%xmm10\n\t"
      "vpxor %%xmm11, %%xmm11, %%xmm11\n\t"
      "1:\n\t"
      "vmovdqa (%[b]), %%ymm12\n\t"
      "vmovdqa 32(%[b]), %%ymm13\n\t"
#define TFC_ROW(src, lo, hi)                                                                   \
      "vpbroadcastd " src ", %%ymm14\n\t"                                                      \
      "vpmaddwd %%ymm12, %%ymm14, %%ymm15\n\t"                                                 \
      "vpaddd %%ymm15, %%" lo ", %%" lo "\n\t"                                                 \
      "vpmaddwd %%ymm13, %%ymm14, %%ymm15\n\t"                                                 \
      "vpaddd %%ymm15, %%" hi ", %%" hi "\n\t"
      TFC_ROW("(%[a])", "ymm0", "ymm1")
      TFC_ROW("(%[a],%[l],1)", "ymm2", "ymm3")
      TFC_ROW("(%[a],%[l],2)", "ymm4", "ymm5")
      TFC_ROW("(%[a3])", "ymm6", "ymm7")
      TFC_ROW("(%[a3],%[l],1)", "ymm8", "ymm9")
      TFC_ROW("(%[a3],%[l],2)", "ymm10", "ymm11")
#undef TFC_ROW
      "add $64, %[b]\n\t"
      "add $4, %[a]\n\t"
      "add $4, %[a3]\n\t"
      "dec %[n]\n\t"
      "jnz 1b\n\t"
      "vmovdqu %%ymm0, (%[acc])\n\t"
      "vmovdqu %%ymm1, 32(%[acc])\n\t"
      "vmovdqu %%ymm2, 64(%[acc])\n\t"
      "vmovdqu %%ymm3, 96(%[acc])\n\t"
      "vmovdqu %%ymm4, 128(%[acc])\n\t"
      "vmovdqu %%ymm5, 160(%[acc])\n\t"
      "vmovdqu %%ymm6, 192(%[acc])\n\t"
      "vmovdqu %%ymm7, 224(%[acc])\n\t"
      "vmovdqu %%ymm8, 256(%[acc])\n\t"
      "vmovdqu %%ymm9, 288(%[acc])\n\t"
      "vmovdqu %%ymm10, 320(%[acc])\n\t"
      "vmovdqu %%ymm11, 352(%[acc])\n\t"
      : [a] "+r"(a), [a3] "+r"(a3), [b] "+r"(b), [n] "+r"(n)
      : [l] "r"(ldaBytes), [acc] "r"(acc)
      : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
        "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "memory", "cc");
}

/// The full 6 x 16 tile: the same sums as tileAvx2<6>, each block's int32 sums from
/// blockSums6x16.
void tileAvx2Full(const QuantizedRows &x, int64_t m0, const int16_t *b,
                  float f[kTileRows][kPanel]) {
  for (int r = 0; r < kTileRows; ++r) {
    _mm256_store_ps(f[r], _mm256_setzero_ps());
    _mm256_store_ps(f[r] + 8, _mm256_setzero_ps());
  }
  alignas(32) int32_t acc[kTileRows * kPanel];
  const int16_t *a = x.q.data() + m0 * x.stride;
  for (int64_t blk = 0; blk < x.blocks; ++blk) {
    blockSums6x16(a + blk * kBlock, x.stride, b + blk * (kBlock / 2) * kPairInts, acc);
    for (int r = 0; r < kTileRows; ++r) {
      const __m256 xs = _mm256_set1_ps(x.scale[size_t((m0 + r) * x.blocks + blk)]);
      const __m256i *c = reinterpret_cast<const __m256i *>(acc + r * kPanel);
      _mm256_store_ps(f[r], _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_load_si256(c)), xs,
                                            _mm256_load_ps(f[r])));
      _mm256_store_ps(f[r] + 8, _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_load_si256(c + 1)),
                                                xs, _mm256_load_ps(f[r] + 8)));
    }
  }
}

/// y rows [m0, m0 + rows) of a full panel (16 columns from n0) from the tile's sums.
void storeFullAvx2(const float f[kTileRows][kPanel], int64_t m0, int64_t rows, int64_t n0,
                   const QuantizedRows &x, float *y, int64_t ldy, const Epilogue &e) {
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t m = m0 + r;
    if (!x.finite[size_t(m)])
      continue;
    for (int h = 0; h < 2; ++h) {
      const int64_t n = n0 + 8 * h;
      __m256 v = _mm256_mul_ps(_mm256_load_ps(f[r] + 8 * h), _mm256_loadu_ps(e.weightScale + n));
      if (e.bias)
        v = _mm256_add_ps(v, _mm256_loadu_ps(e.bias + n));
      if (e.residual)
        v = _mm256_add_ps(v, _mm256_loadu_ps(e.residual + m * e.residualStride + n));
      _mm256_storeu_ps(y + m * ldy + n, v);
    }
  }
}

void panelRowsAvx2(const int16_t *b, int64_t n0, int64_t cols, const QuantizedRows &x,
                   int64_t m0, int64_t m1, float *y, int64_t ldy, const Epilogue &e) {
  alignas(32) float f[kTileRows][kPanel];
  for (int64_t m = m0; m < m1; m += kTileRows) {
    const int64_t rows = std::min<int64_t>(kTileRows, m1 - m);
    switch (rows) {
    case 1: tileAvx2<1>(x, m, b, f); break;
    case 2: tileAvx2<2>(x, m, b, f); break;
    case 3: tileAvx2<3>(x, m, b, f); break;
    case 4: tileAvx2<4>(x, m, b, f); break;
    case 5: tileAvx2<5>(x, m, b, f); break;
    default: tileAvx2Full(x, m, b, f); break;
    }
    if (cols == kPanel)
      storeFullAvx2(f, m, rows, n0, x, y, ldy, e);
    else
      storeTile(f, m, rows, n0, cols, x, y, ldy, e);
  }
}

TFC_TARGET_END()

// ---- AVX-512 VNNI -----------------------------------------------------------------------------

TFC_TARGET_BEGIN("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma")

constexpr int kQuadBytes = 4 * kPanel;        // one quad of rows of a panel: 64 bytes
constexpr int kBlockQuads = kBlock / 4;       // quads per activation block
constexpr int kBlockBytes = kBlock * kPanel;  // one block of a panel

bool rowIsFiniteAvx512(const float *x, int64_t K) {
  const __m512 inf = _mm512_set1_ps(INFINITY);
  __mmask16 bad = 0;
  int64_t k = 0;
  for (; k + 16 <= K; k += 16) // |x| >= inf, or unordered (NaN)
    bad |= _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_loadu_ps(x + k)), inf, _CMP_NLT_UQ);
  if (bad)
    return false;
  return rowIsFinite(x + k, K - k);
}

/// One block of n <= kBlock values as bytes q + 128 (the rest of the block's bytes 128: zero).
void quantizeBlockVnni(const float *x, int64_t n, uint8_t *u, float &scale) {
  __m512 vmax = _mm512_setzero_ps();
  int64_t k = 0;
  for (; k + 16 <= n; k += 16)
    vmax = _mm512_max_ps(vmax, _mm512_abs_ps(_mm512_loadu_ps(x + k)));
  float amax = _mm512_reduce_max_ps(vmax);
  for (; k < n; ++k)
    amax = std::max(amax, std::fabs(x[k]));
  scale = amax / 127.f;
  const float inv = amax > 0.f ? 127.f / amax : 0.f;
  const __m512 vinv = _mm512_set1_ps(inv);
  const __m512i lo = _mm512_set1_epi32(-127), hi = _mm512_set1_epi32(127),
                bias = _mm512_set1_epi32(128);
  k = 0;
  for (; k + 16 <= n; k += 16) {
    // cvtps rounds to nearest even (the default MXCSR mode), as nearbyint does.
    __m512i a = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x + k), vinv));
    a = _mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(a, lo), hi), bias);
    _mm_storeu_si128(reinterpret_cast<__m128i *>(u + k), _mm512_cvtepi32_epi8(a));
  }
  for (; k < n; ++k) {
    float v = std::nearbyint(x[k] * inv);
    u[k] = uint8_t(int(std::min(127.f, std::max(-127.f, v))) + 128);
  }
  std::fill(u + n, u + kBlock, uint8_t(128));
}

/// R rows x NP panels (16 columns each) of sums: per block, vpdpbusd into int32, less the
/// block's column sums times 128, scaled by the rows' block scales into the f32 sums.
template <int R, int NP>
inline void tileVnni(const QuantizedRows &x, int64_t m0, const int8_t *const b[2],
                     const int32_t *const comp[2], float f[kTileRows][2 * kPanel]) {
  __m512 acc[R][NP];
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 2
    for (int p = 0; p < NP; ++p)
      acc[r][p] = _mm512_setzero_ps();
  const uint8_t *a = x.u.data() + m0 * x.stride;
  const int64_t lda = x.stride;
  const float *scales = x.scale.data() + m0 * x.blocks;
  for (int64_t blk = 0; blk < x.blocks; ++blk) {
    __m512i s[R][NP];
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 2
      for (int p = 0; p < NP; ++p)
        s[r][p] = _mm512_setzero_si512();
    const int8_t *w0 = b[0] + blk * kBlockBytes;
    const int8_t *w1 = NP > 1 ? b[1] + blk * kBlockBytes : w0;
    const uint8_t *ab = a + blk * kBlock;
#pragma GCC unroll 16
    for (int j = 0; j < kBlockQuads; ++j) {
      const __m512i v0 = _mm512_load_si512(w0 + j * kQuadBytes);
      const __m512i v1 = NP > 1 ? _mm512_load_si512(w1 + j * kQuadBytes) : v0;
#pragma GCC unroll 6
      for (int r = 0; r < R; ++r) {
        int32_t quad;
        std::memcpy(&quad, ab + r * lda + 4 * j, sizeof quad);
        const __m512i av = _mm512_set1_epi32(quad);
        s[r][0] = _mm512_dpbusd_epi32(s[r][0], av, v0);
        if (NP > 1)
          s[r][NP - 1] = _mm512_dpbusd_epi32(s[r][NP - 1], av, v1);
      }
    }
    __m512i k[NP];
#pragma GCC unroll 2
    for (int p = 0; p < NP; ++p)
      k[p] = _mm512_loadu_si512(comp[p] + blk * kPanel);
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r) {
      const __m512 xs = _mm512_set1_ps(scales[r * x.blocks + blk]);
#pragma GCC unroll 2
      for (int p = 0; p < NP; ++p)
        acc[r][p] =
            _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(s[r][p], k[p])), xs, acc[r][p]);
    }
  }
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 2
    for (int p = 0; p < NP; ++p)
      _mm512_store_ps(f[r] + p * kPanel, acc[r][p]);
}

/// y rows [m0, m0 + rows), columns [n0, n0 + cols) (cols <= 32) from the tile's sums.
void storeVnni(const float f[kTileRows][2 * kPanel], int64_t m0, int64_t rows, int64_t n0,
               int64_t cols, const QuantizedRows &x, float *y, int64_t ldy, const Epilogue &e) {
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t m = m0 + r;
    if (!x.finite[size_t(m)])
      continue;
    for (int64_t c0 = 0; c0 < cols; c0 += kPanel) {
      const int64_t n = n0 + c0, left = std::min<int64_t>(kPanel, cols - c0);
      const __mmask16 mask = __mmask16((1u << left) - 1u);
      __m512 v = _mm512_mul_ps(_mm512_load_ps(f[r] + c0), _mm512_maskz_loadu_ps(mask, e.weightScale + n));
      if (e.bias)
        v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, e.bias + n));
      if (e.residual)
        v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, e.residual + m * e.residualStride + n));
      _mm512_mask_storeu_ps(y + m * ldy + n, mask, v);
    }
  }
}

/// Panels [p, p + np) (np <= 2) over the row block [m0, m1).
void panelRowsVnni(const PackedWeight &pw, int64_t p, int np, const QuantizedRows &x, int64_t m0,
                   int64_t m1, float *y, int64_t ldy, const Epilogue &e) {
  alignas(64) float f[kTileRows][2 * kPanel];
  const int8_t *b[2] = {pw.quadPanel(p), pw.quadPanel(p + np - 1)};
  const int32_t *comp[2] = {pw.compPanel(p), pw.compPanel(p + np - 1)};
  const int64_t n0 = p * kPanel, cols = std::min<int64_t>(np * kPanel, pw.N - n0);
  for (int64_t m = m0; m < m1; m += kTileRows) {
    const int64_t rows = std::min<int64_t>(kTileRows, m1 - m);
#define TFC_TILE(R)                                                                            \
  case R:                                                                                      \
    if (np == 2)                                                                               \
      tileVnni<R, 2>(x, m, b, comp, f);                                                        \
    else                                                                                       \
      tileVnni<R, 1>(x, m, b, comp, f);                                                        \
    break;
    switch (rows) {
      TFC_TILE(1)
      TFC_TILE(2)
      TFC_TILE(3)
      TFC_TILE(4)
      TFC_TILE(5)
      TFC_TILE(6)
    }
#undef TFC_TILE
    storeVnni(f, m, rows, n0, cols, x, y, ldy, e);
  }
}

TFC_TARGET_END()

/// One panel over the row block [m0, m1).
void panelRows(const PackedWeight &pw, int64_t p, const QuantizedRows &x, int64_t m0, int64_t m1,
               float *y, int64_t ldy, const Epilogue &e, Isa isa) {
  const int16_t *b = pw.panel(p);
  const int64_t n0 = p * kPanel, cols = std::min<int64_t>(kPanel, pw.N - n0);
  if (isa == Isa::Avx2) {
    panelRowsAvx2(b, n0, cols, x, m0, m1, y, ldy, e);
    return;
  }
  float f[kTileRows][kPanel];
  for (int64_t m = m0; m < m1; m += kTileRows) {
    const int64_t rows = std::min<int64_t>(kTileRows, m1 - m);
    tileScalar(x, m, rows, b, f);
    storeTile(f, m, rows, n0, cols, x, y, ldy, e);
  }
}

/// A row with a value that is not finite: f32 sums over the dequantized weight.
void floatRow(const float *x, int64_t K, int64_t N, const int8_t *w, float *y,
              const Epilogue &e, int64_t m) {
  for (int64_t n = 0; n < N; ++n) {
    float s = 0.f;
    for (int64_t k = 0; k < K; ++k)
      s += x[k] * (float(w[k * N + n]) * e.weightScale[n]);
    if (e.bias)
      s += e.bias[n];
    if (e.residual)
      s += e.residual[m * e.residualStride + n];
    y[n] = s;
  }
}

} // namespace

bool cpuSupports(Isa isa) {
  switch (isa) {
  case Isa::Scalar: return true;
  case Isa::Avx2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  case Isa::Avx512Vnni:
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx2") &&
           __builtin_cpu_supports("fma");
  }
  return false;
}

Isa defaultIsa() {
  static const Isa isa = [] {
    const char *e = std::getenv("TFC_INT8GEMM_ISA");
    const std::string want = e ? e : "";
    if (want == "scalar")
      return Isa::Scalar;
    if (want != "avx2" && cpuSupports(Isa::Avx512Vnni))
      return Isa::Avx512Vnni;
    return cpuSupports(Isa::Avx2) ? Isa::Avx2 : Isa::Scalar;
  }();
  return isa;
}

const char *isaName(Isa isa) {
  switch (isa) {
  case Isa::Scalar: return "scalar";
  case Isa::Avx2: return "avx2";
  case Isa::Avx512Vnni: return "avx512vnni";
  }
  return "?";
}

namespace {

void *alignedBytes(size_t bytes) {
  void *raw = std::aligned_alloc(64, std::max<size_t>((bytes + 63) / 64 * 64, 64));
  if (!raw)
    throw std::bad_alloc();
  return raw;
}

/// The quads layout and its column sums (see the banner).
void packQuads(const int8_t *w, PackedWeight &pw) {
  const int64_t K = pw.K, N = pw.N, quads = pw.pairs / 2, blocks = 2 * pw.pairs / kBlock;
  const size_t bytes = size_t(pw.panels * quads * kQuadBytes);
  pw.quads.reset(static_cast<int8_t *>(alignedBytes(bytes)), [](int8_t *p) { std::free(p); });
  const size_t sums = size_t(pw.panels * blocks * kPanel);
  pw.comp.reset(static_cast<int32_t *>(alignedBytes(sums * sizeof(int32_t))),
                [](int32_t *p) { std::free(p); });
  int8_t *d = pw.quads.get();
  int32_t *comp = pw.comp.get();
  // Row by row within each block (the weight is read along its rows: column walks of a [K, N]
  // weight took most of a first prompt's time on GPT-2's LM head).
  for (int64_t p = 0; p < pw.panels; ++p) {
    const int64_t n0 = p * kPanel, nv = std::min<int64_t>(kPanel, N - n0);
    for (int64_t blk = 0; blk < blocks; ++blk) {
      int32_t sum[kPanel] = {};
      for (int64_t k = blk * kBlock; k < (blk + 1) * kBlock; k += 4) {
        int8_t *dst = d + (p * quads + k / 4) * kQuadBytes;
        const int8_t *row = w + k * N + n0;
        if (nv == kPanel && k + 4 <= K) {
          // Four whole rows of 16: interleave bytes, then pairs (SSE2), into 4 x 16 bytes.
          const __m128i r0 = _mm_loadu_si128(reinterpret_cast<const __m128i *>(row));
          const __m128i r1 = _mm_loadu_si128(reinterpret_cast<const __m128i *>(row + N));
          const __m128i r2 = _mm_loadu_si128(reinterpret_cast<const __m128i *>(row + 2 * N));
          const __m128i r3 = _mm_loadu_si128(reinterpret_cast<const __m128i *>(row + 3 * N));
          const __m128i t0 = _mm_unpacklo_epi8(r0, r1), t1 = _mm_unpackhi_epi8(r0, r1);
          const __m128i t2 = _mm_unpacklo_epi8(r2, r3), t3 = _mm_unpackhi_epi8(r2, r3);
          auto *out = reinterpret_cast<__m128i *>(dst);
          _mm_storeu_si128(out + 0, _mm_unpacklo_epi16(t0, t2));
          _mm_storeu_si128(out + 1, _mm_unpackhi_epi16(t0, t2));
          _mm_storeu_si128(out + 2, _mm_unpacklo_epi16(t1, t3));
          _mm_storeu_si128(out + 3, _mm_unpackhi_epi16(t1, t3));
          for (int q = 0; q < 4; ++q)
            for (int c = 0; c < kPanel; ++c)
              sum[c] += row[q * N + c];
          continue;
        }
        for (int q = 0; q < 4; ++q)
          for (int64_t c = 0; c < kPanel; ++c) {
            const int8_t v = c < nv && k + q < K ? row[q * N + c] : int8_t(0);
            dst[4 * c + q] = v;
            sum[c] += v;
          }
      }
      for (int c = 0; c < kPanel; ++c)
        comp[(p * blocks + blk) * kPanel + c] = 128 * sum[c];
    }
  }
}

} // namespace

PackedWeight pack(const int8_t *w, int64_t K, int64_t N, Isa isa) {
  PackedWeight pw;
  pw.isa = isa;
  pw.K = K;
  pw.N = N;
  pw.pairs = (K + kBlock - 1) / kBlock * kBlock / 2;
  pw.panels = (N + kPanel - 1) / kPanel;
  if (isa == Isa::Avx512Vnni) {
    packQuads(w, pw);
    return pw;
  }
  const size_t count = size_t(pw.panels * pw.pairs * kPairInts);
  const size_t bytes = (count * sizeof(int16_t) + 63) / 64 * 64;
  void *raw = std::aligned_alloc(64, std::max<size_t>(bytes, 64));
  if (!raw)
    throw std::bad_alloc();
  pw.data.reset(static_cast<int16_t *>(raw), [](int16_t *p) { std::free(p); });
  int16_t *d = pw.data.get();
  std::memset(d, 0, bytes);
  for (int64_t p = 0; p < pw.panels; ++p)
    for (int64_t j = 0; j < pw.pairs; ++j)
      for (int c = 0; c < kPanel; ++c) {
        const int64_t n = p * kPanel + c;
        if (n >= N)
          continue;
        int16_t *slot = d + (p * pw.pairs + j) * kPairInts + 2 * c;
        slot[0] = 2 * j < K ? w[(2 * j) * N + n] : 0;
        slot[1] = 2 * j + 1 < K ? w[(2 * j + 1) * N + n] : 0;
      }
  return pw;
}

void quantizeRows(const float *x, int64_t M, int64_t K, int64_t ldx, QuantizedRows &out, Isa isa,
                  int threads) {
  out.M = M;
  out.K = K;
  out.blocks = (K + kBlock - 1) / kBlock;
  out.stride = out.blocks * kBlock;
  if (out.q.size() < size_t(M * out.stride))
    out.q.resize(size_t(M * out.stride));
  out.scale.resize(size_t(M * out.blocks));
  out.finite.resize(size_t(M));
  if (isa == Isa::Avx512Vnni && out.u.size() < size_t(M * out.stride))
    out.u.resize(size_t(M * out.stride));
#pragma omp parallel for num_threads(threads) schedule(static) if (M * K >= 16384)
  for (int64_t m = 0; m < M; ++m) {
    const float *row = x + m * ldx;
    int16_t *q = out.q.data() + m * out.stride;
    float *scale = out.scale.data() + m * out.blocks;
    const bool ok = isa == Isa::Avx512Vnni ? rowIsFiniteAvx512(row, K)
                    : isa == Isa::Avx2     ? rowIsFiniteAvx2(row, K)
                                           : rowIsFinite(row, K);
    out.finite[size_t(m)] = ok;
    if (isa == Isa::Avx512Vnni) {
      uint8_t *u = out.u.data() + m * out.stride;
      for (int64_t blk = 0; blk < out.blocks; ++blk) {
        const int64_t k0 = blk * kBlock, n = std::min<int64_t>(kBlock, K - k0);
        if (!ok) { // 128 is zero; the row is computed in f32 (floatRow)
          std::fill(u + k0, u + k0 + kBlock, uint8_t(128));
          scale[blk] = 0.f;
        } else {
          quantizeBlockVnni(row + k0, n, u + k0, scale[blk]);
        }
      }
      continue;
    }
    for (int64_t blk = 0; blk < out.blocks; ++blk) {
      const int64_t k0 = blk * kBlock, n = std::min<int64_t>(kBlock, K - k0);
      if (!ok) { // not used by the integer product: zeros keep the tile's sums defined
        std::fill(q + k0, q + k0 + kBlock, int16_t(0));
        scale[blk] = 0.f;
      } else if (isa == Isa::Avx2) {
        quantizeBlockAvx2(row + k0, n, q + k0, scale[blk]);
      } else {
        quantizeBlockScalar(row + k0, n, q + k0, scale[blk]);
      }
    }
  }
}

void multiply(const PackedWeight &pw, const QuantizedRows &x, const float *xf, int64_t ldx,
              const int8_t *w, float *y, int64_t ldy, const Epilogue &e, Isa isa, int threads) {
  const int64_t M = x.M, block = rowsPerBlock(pw.K);
  const int64_t blocks = (M + block - 1) / block;
  if (isa == Isa::Avx512Vnni) { // pairs of panels
    const int64_t pairs = (pw.panels + 1) / 2, items = blocks * pairs;
#pragma omp parallel for num_threads(threads) schedule(static) if (items > 1)
    for (int64_t i = 0; i < items; ++i) {
      const int64_t b = i / pairs, p = 2 * (i % pairs);
      panelRowsVnni(pw, p, p + 1 < pw.panels ? 2 : 1, x, b * block,
                    std::min(M, (b + 1) * block), y, ldy, e);
    }
  } else {
    const int64_t items = blocks * pw.panels;
#pragma omp parallel for num_threads(threads) schedule(static) if (items > 1)
    for (int64_t i = 0; i < items; ++i) {
      const int64_t b = i / pw.panels, p = i % pw.panels;
      panelRows(pw, p, x, b * block, std::min(M, (b + 1) * block), y, ldy, e, isa);
    }
  }
  for (int64_t m = 0; m < M; ++m)
    if (!x.finite[size_t(m)])
      floatRow(xf + m * ldx, pw.K, pw.N, w, y + m * ldy, e, m);
}

} // namespace tfc::rt::int8gemm
