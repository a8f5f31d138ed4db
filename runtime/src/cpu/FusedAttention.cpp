//===- FusedAttention.cpp - blocked attention with an online softmax (FusedAttention.h) -------===//
//
// One parallel region per call. First each (batch, key head) gets K transposed into
// [dh, SkP] (SkP = Sk rounded up to the vector width W, zero columns after Sk), and V copied
// into rows of dhP floats when dh is not a multiple of W (else V is read in place). Then the
// tasks, one per (batch, head, block of up to kQueryRows query rows), run on the threads
// (dynamic schedule: causal blocks differ in cost). A task walks the keys its rows may see in
// blocks of up to kKeyBlock:
//   S = Q_blk K_blk^T                       register tiles of R rows x (1 or 2) W-vectors
//   per row: S = S * scale + mask (visible keys; hidden ones dropped or scored `hidden`),
//            m' = max(m, max S), alpha = exp(m - m'), P = exp(S - m'), l = l alpha + sum P,
//            O *= alpha                     (Softmax.cpp's row primitives)
//            (rows that share their mask and see every key, an encoder's: the score tiles
//            apply the scale and mask and keep the rows' maxima as they store S, which saves
//            a pass over S; ScaledScores)
//   O += P V_blk                            register tiles of R rows x (1 to 4) W-vectors
// and finally writes O / l (zeros for a row whose every key is hidden, NaN when l is NaN).
// A batch row's padding tail (FusedAttention.h) is cut from its tasks' keys when the packing
// pass's checks (tailChecks: the keys' largest norm, the tail's values finite) and the task's
// queries' largest norm show that every weight there would be exactly 0.
// The tiles are GCC vector-extension code, instantiated for W = 16 (AVX-512), 8 (AVX2 + FMA)
// and 4 (baseline SSE2) inside functions compiled for that instruction set, and picked by the
// CPU's features.
//
//===----------------------------------------------------------------------------------------===//
#include "cpu/FusedAttention.h"

#include "cpu/TargetRegion.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <immintrin.h>
#include <limits>
#include <omp.h>
#include <string_view>

namespace tfc::rt {
namespace {

constexpr int64_t kQueryRows = 48; // query rows per task (a multiple of every tile's rows)
constexpr int64_t kKeyBlock = 512; // keys per block (a multiple of 2 W for every W)
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

#define TFC_INLINE [[gnu::always_inline]] inline

template <int W> struct VectorOf;
template <> struct VectorOf<16> { typedef float type __attribute__((vector_size(64))); };
template <> struct VectorOf<8> { typedef float type __attribute__((vector_size(32))); };
template <> struct VectorOf<4> { typedef float type __attribute__((vector_size(16))); };

template <typename V> TFC_INLINE void load(V &v, const float *p) { std::memcpy(&v, p, sizeof(V)); }
template <typename V> TFC_INLINE void store(float *p, const V &v) { std::memcpy(p, &v, sizeof(V)); }

int64_t roundUp(int64_t n, int64_t m) { return (n + m - 1) / m * m; }

/// Register-tile rows per vector width: the accumulators of a tile (rows x vectors) fill at
/// most 24 of AVX-512's 32 vector registers, 12 of the 16 below it. The value tiles take at
/// most 4 vectors a row with AVX-512, 2 below (a wider head runs in chunks).
template <int W> struct Tiles {
  static constexpr int kScoreRows = W == 16 ? 12 : 6; // S tile: rows x 2 vectors of keys
  static constexpr int kValueVectors = W == 16 ? 4 : 2;
  static constexpr int valueRows(int vectors) { return (W == 16 ? 24 : 12) / vectors; }
};

/// What the tasks share: the problem and the packed keys / values.
struct Packed {
  const float *keys = nullptr;   // [B, G, dh, SkP]
  const float *values = nullptr; // [B, G, Sk, dhP], or null: V read in place
  int64_t SkP = 0, dhP = 0;
  // bf16 products (FusedAttentionProblem::bf16), instead of keys / values: the keys' bf16 pairs
  // along dh, [B, G, dh2, SkP] (dh2 = dh rounded up to pairs), and the values' pairs along the
  // keys, [B, G, ceil(Sk / 2), dhP]: one 32-bit lane holds (even, odd) as vdpbf16ps reads it.
  const uint32_t *keysB = nullptr, *valuesB = nullptr;
  int64_t dh2 = 0;
  // Padding tails (FusedAttention.h), when the problem may have them: per batch row the first
  // key of its tail (Sk: none) and its gap (the last kept key's mask less the tail's largest);
  // per (batch row, key head) keyNorms and tailFinite (FusedAttentionScratch).
  const int64_t *tailStart = nullptr;
  const float *tailGap = nullptr;
  const float *keyNorms = nullptr;
  const uint8_t *tailFinite = nullptr; // the tail's values are finite (keys: keyNorms)
};

/// The largest Euclidean norm of `rows` rows of n floats, `stride` apart (a task's queries).
inline float largestNorm(const float *x, int64_t rows, int64_t n, int64_t stride) {
  float most = 0.f;
  for (int64_t r = 0; r < rows; ++r) {
    float ss = 0.f;
    for (int64_t d = 0; d < n; ++d)
      ss += x[r * stride + d] * x[r * stride + d];
    if (!(ss <= std::numeric_limits<float>::max())) // NaN or inf
      return std::numeric_limits<float>::infinity();
    most = std::max(most, ss);
  }
  return std::sqrt(most);
}

// ---- register tiles --------------------------------------------------------------------------
/// The score epilogue of rows that share their mask and see every key (no causal rule, no hidden
/// score): s = s * scale + add[column], and max[r][0, W) = the lane-wise max of row r's scores so
/// far over the entries that are not NaN. `add` covers the block's columns rounded up to W, -inf
/// past its keys, so that the padding columns never win a max.
struct ScaledScores {
  float scale;
  const float *add; // [columns rounded up to W]
  float *max;       // [rows][W], -inf at the block's start
};

template <int W, int R, int C>
TFC_INLINE void storeScores(const typename VectorOf<W>::type (&acc)[R][C], float *s, int64_t ss,
                            const ScaledScores *scaled);

/// s[r][c W + x] = sum_d q[r qs + d] kt[d ks + c W + x] for r < R, c < C (then the epilogue of
/// `scaled`, when given).
template <int W, int R, int C>
TFC_INLINE void scoreTile(const float *q, int64_t qs, const float *kt, int64_t ks, int64_t dh,
                          float *s, int64_t ss, const ScaledScores *scaled) {
  using V = typename VectorOf<W>::type;
  V acc[R][C];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 2
    for (int c = 0; c < C; ++c)
      acc[r][c] = V{};
  for (int64_t d = 0; d < dh; ++d) {
    V kv[C];
#pragma GCC unroll 2
    for (int c = 0; c < C; ++c)
      load(kv[c], kt + d * ks + c * W);
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const float a = q[r * qs + d];
#pragma GCC unroll 2
      for (int c = 0; c < C; ++c)
        acc[r][c] += a * kv[c];
    }
  }
  storeScores<W, R, C>(acc, s, ss, scaled);
}

/// Stores a score tile's sums (then the epilogue of `scaled`, when given).
template <int W, int R, int C>
TFC_INLINE void storeScores(const typename VectorOf<W>::type (&acc)[R][C], float *s, int64_t ss,
                            const ScaledScores *scaled) {
  using V = typename VectorOf<W>::type;
  if (!scaled) {
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 2
      for (int c = 0; c < C; ++c)
        store(s + r * ss + c * W, acc[r][c]);
    return;
  }
  // s = s * scale + add (the rows' shared additive mask), and the rows' running maxima.
  V a[C];
#pragma GCC unroll 2
  for (int c = 0; c < C; ++c)
    load(a[c], scaled->add + c * W);
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
    V mx;
    load(mx, scaled->max + r * W);
#pragma GCC unroll 2
    for (int c = 0; c < C; ++c) {
      const V x = acc[r][c] * scaled->scale + a[c];
      store(s + r * ss + c * W, x);
      mx = x > mx ? x : mx; // NaN is never greater
    }
    store(scaled->max + r * W, mx);
  }
}

/// o[r][c W + x] += sum_{j < n} p[r ps + j] v[j vs + c W + x] for r < R, c < C.
template <int W, int R, int C>
TFC_INLINE void valueTile(const float *p, int64_t ps, const float *v, int64_t vs, int64_t n,
                          float *o, int64_t os) {
  using V = typename VectorOf<W>::type;
  V acc[R][C];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c)
      load(acc[r][c], o + r * os + c * W);
  for (int64_t j = 0; j < n; ++j) {
    V vv[C];
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c)
      load(vv[c], v + j * vs + c * W);
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const float a = p[r * ps + j];
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c)
        acc[r][c] += a * vv[c];
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c)
      store(o + r * os + c * W, acc[r][c]);
}

/// S[rows, cols] = Q[rows, dh] K^T[dh, cols] (cols a multiple of W; Q rows qs apart, K^T rows
/// ks apart, S rows ss apart), in tiles of R rows, the rows left over in tiles of R/2, R/4 ...
template <int W, int R>
TFC_INLINE void blockScores(const float *q, int64_t qs, int64_t rows, const float *kt, int64_t ks,
                            int64_t dh, int64_t cols, float *s, int64_t ss,
                            const ScaledScores *scaled) {
  int64_t r = 0;
  for (; r + R <= rows; r += R) {
    ScaledScores tile, *t = nullptr;
    if (scaled)
      tile = {scaled->scale, scaled->add, scaled->max + r * W}, t = &tile;
    int64_t c = 0;
    for (; c + 2 * W <= cols; c += 2 * W) {
      if (t)
        tile.add = scaled->add + c;
      scoreTile<W, R, 2>(q + r * qs, qs, kt + c, ks, dh, s + r * ss + c, ss, t);
    }
    if (c < cols) {
      if (t)
        tile.add = scaled->add + c;
      scoreTile<W, R, 1>(q + r * qs, qs, kt + c, ks, dh, s + r * ss + c, ss, t);
    }
  }
  if constexpr (R > 1)
    if (r < rows) {
      ScaledScores rest, *t = nullptr;
      if (scaled)
        rest = {scaled->scale, scaled->add, scaled->max + r * W}, t = &rest;
      blockScores<W, R / 2>(q + r * qs, qs, rows - r, kt, ks, dh, cols, s + r * ss, ss, t);
    }
}

/// O[rows, C W columns] += P[rows, n] V[n, C W columns], in tiles of R rows, the rows left over
/// in tiles of R/2, R/4 ...
template <int W, int C, int R>
TFC_INLINE void valueRows(const float *p, int64_t ps, int64_t rows, const float *v, int64_t vs,
                          int64_t n, float *o, int64_t os) {
  int64_t r = 0;
  for (; r + R <= rows; r += R)
    valueTile<W, R, C>(p + r * ps, ps, v, vs, n, o + r * os, os);
  if constexpr (R > 1)
    if (r < rows)
      valueRows<W, C, R / 2>(p + r * ps, ps, rows - r, v, vs, n, o + r * os, os);
}

template <int W, int C>
TFC_INLINE void valueChunk(const float *p, int64_t ps, int64_t rows, const float *v, int64_t vs,
                           int64_t n, float *o, int64_t os) {
  valueRows<W, C, Tiles<W>::valueRows(C)>(p, ps, rows, v, vs, n, o, os);
}

/// O[rows, dhP] += P[rows, n] V[n, dhP] (dhP a multiple of W), in column chunks of up to
/// Tiles<W>::kValueVectors vectors.
template <int W>
TFC_INLINE void blockValues(const float *p, int64_t ps, int64_t rows, const float *v, int64_t vs,
                            int64_t n, int64_t dhP, float *o, int64_t os) {
  constexpr int kMax = Tiles<W>::kValueVectors; // 4 or 2
  for (int64_t c = 0; c < dhP;) {
    const int64_t left = (dhP - c) / W;
    if (left >= kMax) {
      valueChunk<W, kMax>(p, ps, rows, v + c, vs, n, o + c, os);
      c += kMax * W;
    } else if (left == 3) {
      valueChunk<W, 3>(p, ps, rows, v + c, vs, n, o + c, os);
      c += 3 * W;
    } else if (left == 2) {
      valueChunk<W, 2>(p, ps, rows, v + c, vs, n, o + c, os);
      c += 2 * W;
    } else {
      valueChunk<W, 1>(p, ps, rows, v + c, vs, n, o + c, os);
      c += W;
    }
  }
}

// ---- bf16 products (FusedAttentionProblem::bf16) ---------------------------------------------
// Compiled for AVX-512 with BF16 and called (not inlined: they are called once per block of
// keys or per row) only where the CPU has it. vdpbf16ps multiplies the two bf16 of each 32-bit
// lane of its operands and adds both products to that lane's f32 sum: twice the products of a
// f32 FMA per instruction.
TFC_TARGET_BEGIN("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,avx2,fma")

/// out[i] = (bf16(x[2i]), bf16(x[2i + 1])) for i < ceil(n / 2) (the low half holding the even
/// one; past n, zeros): 16 floats at a time, rounded to nearest even.
void bf16Pairs(const float *x, int64_t n, uint32_t *out) {
  const int64_t count = (n + 1) / 2 * 2; // bf16 values written
  for (int64_t k = 0; k < count; k += 16) {
    const int64_t valid = std::min<int64_t>(16, n - k), left = std::min<int64_t>(16, count - k);
    const __mmask16 load = valid >= 16 ? __mmask16(0xffff) : __mmask16((1u << valid) - 1u);
    const __mmask16 keep = left >= 16 ? __mmask16(0xffff) : __mmask16((1u << left) - 1u);
    const __m256bh h = _mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(load, x + k));
    _mm256_mask_storeu_epi16(reinterpret_cast<uint16_t *>(out) + k, keep,
                             reinterpret_cast<const __m256i &>(h));
  }
}

/// ktb[d][j] = the pair of bf16 (k[j][2d], k[j][2d + 1]) for j < Sk, zeros for j in [Sk, SkP).
void packKeysBf16(const FusedAttentionProblem &p, int64_t b, int64_t g, int64_t SkP,
                  uint32_t *ktb) {
  const float *k = p.k + b * p.kBatchStride + g * p.kHeadStride;
  const int64_t dh2 = (p.dh + 1) / 2;
  alignas(64) uint32_t row[512];
  for (int64_t j = 0; j < p.Sk; ++j) {
    for (int64_t d0 = 0; d0 < dh2; d0 += 256) { // heads wider than 512 in chunks
      const int64_t m = std::min<int64_t>(256, dh2 - d0);
      bf16Pairs(k + j * p.ks + 2 * d0, std::min<int64_t>(2 * m, p.dh - 2 * d0), row);
      for (int64_t d = 0; d < m; ++d)
        ktb[(d0 + d) * SkP + j] = row[d];
    }
  }
  for (int64_t d = 0; d < dh2; ++d)
    std::fill(ktb + d * SkP + p.Sk, ktb + (d + 1) * SkP, 0u);
}

/// vb[j][c] = the pair of bf16 (v[2j][c], v[2j + 1][c]) for j < ceil(Sk / 2) (a missing odd key
/// 0), zeros for c in [dh, dhP).
void packValuesBf16(const FusedAttentionProblem &p, int64_t b, int64_t g, int64_t dhP,
                    uint32_t *vb) {
  const float *v = p.v + b * p.vBatchStride + g * p.vHeadStride;
  for (int64_t j = 0; 2 * j < p.Sk; ++j) {
    const float *even = v + 2 * j * p.vs, *odd = 2 * j + 1 < p.Sk ? even + p.vs : nullptr;
    for (int64_t c = 0; c < dhP; c += 16) {
      const int64_t valid = std::clamp<int64_t>(p.dh - c, 0, 16);
      const __mmask16 m = valid >= 16 ? __mmask16(0xffff) : __mmask16((1u << valid) - 1u);
      const __m256bh e = _mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, even + c));
      const __m256bh o =
          _mm512_cvtneps_pbh(odd ? _mm512_maskz_loadu_ps(m, odd + c) : _mm512_setzero_ps());
      const __m512i lo = _mm512_cvtepu16_epi32(reinterpret_cast<const __m256i &>(e));
      const __m512i hi = _mm512_cvtepu16_epi32(reinterpret_cast<const __m256i &>(o));
      _mm512_store_si512(vb + j * dhP + c, _mm512_or_si512(lo, _mm512_slli_epi32(hi, 16)));
    }
  }
}

/// One pair-row of a bf16 tile: acc[r][c] += a[r as] . b[c 16 + x] (each a pair of bf16, the
/// products summed into the f32 lanes) for r < R, c < C.
template <int R, int C>
inline void pairStep(typename VectorOf<16>::type (&acc)[R][C], const uint32_t *a, int64_t as,
                     const uint32_t *b) {
  __m512bh bv[C];
#pragma GCC unroll 4
  for (int c = 0; c < C; ++c)
    bv[c] = reinterpret_cast<__m512bh>(_mm512_load_si512(b + c * 16));
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
    const __m512bh av = reinterpret_cast<__m512bh>(_mm512_set1_epi32(int(a[r * as])));
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c)
      acc[r][c] = _mm512_dpbf16_ps(acc[r][c], av, bv[c]);
  }
}

/// s[r][c 16 + x] = sum_d qb[r qs + d] . ktb[d ks + c 16 + x] (each a pair) for r < R, c < C.
template <int R, int C>
inline void scoreTileBf16(const uint32_t *qb, int64_t qs, const uint32_t *ktb, int64_t ks,
                          int64_t dh2, float *s, int64_t ss, const ScaledScores *scaled) {
  typename VectorOf<16>::type acc[R][C];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 2
    for (int c = 0; c < C; ++c)
      acc[r][c] = typename VectorOf<16>::type{};
  for (int64_t d = 0; d < dh2; ++d)
    pairStep<R, C>(acc, qb + d, qs, ktb + d * ks);
  storeScores<16, R, C>(acc, s, ss, scaled);
}

template <int R>
inline void blockScoresBf16(const uint32_t *qb, int64_t qs, int64_t rows, const uint32_t *ktb,
                            int64_t ks, int64_t dh2, int64_t cols, float *s, int64_t ss,
                            const ScaledScores *scaled) {
  int64_t r = 0;
  for (; r + R <= rows; r += R) {
    ScaledScores tile, *t = nullptr;
    if (scaled)
      tile = {scaled->scale, scaled->add, scaled->max + r * 16}, t = &tile;
    int64_t c = 0;
    for (; c + 32 <= cols; c += 32) {
      if (t)
        tile.add = scaled->add + c;
      scoreTileBf16<R, 2>(qb + r * qs, qs, ktb + c, ks, dh2, s + r * ss + c, ss, t);
    }
    if (c < cols) {
      if (t)
        tile.add = scaled->add + c;
      scoreTileBf16<R, 1>(qb + r * qs, qs, ktb + c, ks, dh2, s + r * ss + c, ss, t);
    }
  }
  if constexpr (R > 1)
    if (r < rows) {
      ScaledScores rest, *t = nullptr;
      if (scaled)
        rest = {scaled->scale, scaled->add, scaled->max + r * 16}, t = &rest;
      blockScoresBf16<R / 2>(qb + r * qs, qs, rows - r, ktb, ks, dh2, cols, s + r * ss, ss, t);
    }
}

/// S[rows, cols] = Qb Ktb (blockScores in bf16 pairs: qb rows qs pairs apart, ktb [dh2][ks]).
void scoresBf16(const uint32_t *qb, int64_t qs, int64_t rows, const uint32_t *ktb, int64_t ks,
                int64_t dh2, int64_t cols, float *s, int64_t ss, const ScaledScores *scaled) {
  blockScoresBf16<Tiles<16>::kScoreRows>(qb, qs, rows, ktb, ks, dh2, cols, s, ss, scaled);
}

/// o[r][c 16 + x] += sum_{j < n2} pb[r ps + j] . vb[j vs + c 16 + x] for r < R, c < C.
template <int R, int C>
inline void valueTileBf16(const uint32_t *pb, int64_t ps, const uint32_t *vb, int64_t vs,
                          int64_t n2, float *o, int64_t os) {
  typename VectorOf<16>::type acc[R][C];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c)
      acc[r][c] = _mm512_loadu_ps(o + r * os + c * 16);
  for (int64_t j = 0; j < n2; ++j)
    pairStep<R, C>(acc, pb + j, ps, vb + j * vs);
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c)
      _mm512_storeu_ps(o + r * os + c * 16, acc[r][c]);
}

template <int C, int R>
inline void valueRowsBf16(const uint32_t *pb, int64_t ps, int64_t rows, const uint32_t *vb,
                          int64_t vs, int64_t n2, float *o, int64_t os) {
  int64_t r = 0;
  for (; r + R <= rows; r += R)
    valueTileBf16<R, C>(pb + r * ps, ps, vb, vs, n2, o + r * os, os);
  if constexpr (R > 1)
    if (r < rows)
      valueRowsBf16<C, R / 2>(pb + r * ps, ps, rows - r, vb, vs, n2, o + r * os, os);
}

/// O[rows, dhP] += Pb Vb (blockValues in bf16 pairs: pb rows ps pairs apart, n2 pairs of keys,
/// vb [n2][vs]), in column chunks of up to 4 vectors.
void valuesBf16(const uint32_t *pb, int64_t ps, int64_t rows, const uint32_t *vb, int64_t vs,
                int64_t n2, int64_t dhP, float *o, int64_t os) {
  for (int64_t c = 0; c < dhP;) {
    const int64_t left = (dhP - c) / 16;
    if (left >= 4) {
      valueRowsBf16<4, Tiles<16>::valueRows(4)>(pb, ps, rows, vb + c, vs, n2, o + c, os);
      c += 64;
    } else if (left == 3) {
      valueRowsBf16<3, Tiles<16>::valueRows(3)>(pb, ps, rows, vb + c, vs, n2, o + c, os);
      c += 48;
    } else if (left == 2) {
      valueRowsBf16<2, Tiles<16>::valueRows(2)>(pb, ps, rows, vb + c, vs, n2, o + c, os);
      c += 32;
    } else {
      valueRowsBf16<1, Tiles<16>::valueRows(1)>(pb, ps, rows, vb + c, vs, n2, o + c, os);
      c += 16;
    }
  }
}

TFC_TARGET_END()

// ---- the softmax of one score row ------------------------------------------------------------
template <int W> struct IntVectorOf;
template <> struct IntVectorOf<16> { typedef int32_t type __attribute__((vector_size(64))); };
template <> struct IntVectorOf<8> { typedef int32_t type __attribute__((vector_size(32))); };
template <> struct IntVectorOf<4> { typedef int32_t type __attribute__((vector_size(16))); };

/// fastExp (Common.h) on a vector in place, lane by lane the same arithmetic (fastExpReduce):
/// exp(x) is 0 below kFastExpLow (-inf included), NaN stays NaN. Inlined into the kernel's
/// instruction set, with its constants in registers across a row (the out-of-line rowExpSum
/// reloads them per call).
template <int W> TFC_INLINE void expVector(typename VectorOf<W>::type &x) {
  using V = typename VectorOf<W>::type;
  using VI = typename IntVectorOf<W>::type;
  const V lo = V{} + kFastExpLow, hi = V{} + kFastExpHigh;
  V xc = x < lo ? lo : x; // NaN fails both comparisons and stays NaN
  xc = xc > hi ? hi : xc;
  V fn, p;
  fastExpReduce(xc, fn, p);
  fn = fn == fn ? fn : V{}; // a NaN lane converts 0 (its result is NaN through p)
  const VI n = __builtin_convertvector(fn, VI);
  const V y = p * (V)((n + 127) << 23); // 2^n: the exponent bits
  x = x < lo ? V{} : y;
}

/// The two halves of a vector (W > 4) as vectors of W / 2.
template <int W>
TFC_INLINE void halves(const typename VectorOf<W>::type &v, typename VectorOf<W / 2>::type &lo,
                       typename VectorOf<W / 2>::type &hi) {
  if constexpr (W == 16) {
    lo = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7);
    hi = __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
  } else {
    lo = __builtin_shufflevector(v, v, 0, 1, 2, 3);
    hi = __builtin_shufflevector(v, v, 4, 5, 6, 7);
  }
}

/// The lanes of `v` summed (pairwise, halving the vector: no chain of W dependent adds).
template <int W> TFC_INLINE float laneSum(const typename VectorOf<W>::type &v) {
  if constexpr (W > 4) {
    typename VectorOf<W / 2>::type lo, hi;
    halves<W>(v, lo, hi);
    return laneSum<W / 2>(lo + hi);
  } else {
    return (v[0] + v[2]) + (v[1] + v[3]);
  }
}

/// The largest lane of `v`, none of which is NaN (pairwise, as laneSum).
template <int W> TFC_INLINE float laneMax(const typename VectorOf<W>::type &v) {
  if constexpr (W > 4) {
    typename VectorOf<W / 2>::type lo, hi;
    halves<W>(v, lo, hi);
    return laneMax<W / 2>(lo > hi ? lo : hi);
  } else {
    const float a = v[0] > v[2] ? v[0] : v[2], b = v[1] > v[3] ? v[1] : v[3];
    return a > b ? a : b;
  }
}

/// rowScaleAddMax (Softmax.cpp) in the kernel's vectors: s[j] = s[j] * scale (+ add[j]);
/// returns the max over the entries that are not NaN (-inf when there are none).
template <int W>
TFC_INLINE float scaleAddMax(float *s, int64_t n, float scale, const float *add) {
  using V = typename VectorOf<W>::type;
  V mx = V{} - std::numeric_limits<float>::infinity();
  int64_t j = 0;
  for (; j + W <= n; j += W) {
    V x, a = V{};
    load(x, s + j);
    if (add)
      load(a, add + j);
    x = x * scale + a;
    store(s + j, x);
    mx = x > mx ? x : mx; // NaN is never greater
  }
  float m = laneMax<W>(mx);
  for (; j < n; ++j) {
    const float x = s[j] * scale + (add ? add[j] : 0.f);
    s[j] = x;
    m = x > m ? x : m;
  }
  return m;
}

/// rowExpSum (Softmax.cpp) in the kernel's vectors: s[j] = exp(s[j] - m); returns their sum.
template <int W> TFC_INLINE float expSum(float *s, int64_t n, float m) {
  using V = typename VectorOf<W>::type;
  V acc = V{};
  int64_t j = 0;
  for (; j + W <= n; j += W) {
    V x;
    load(x, s + j);
    x -= m;
    expVector<W>(x);
    store(s + j, x);
    acc += x;
  }
  float sum = laneSum<W>(acc);
  for (; j < n; ++j) {
    const float e = fastExp(s[j] - m);
    s[j] = e;
    sum += e;
  }
  return sum;
}

/// Turns one row of block scores s[0, n) into weights in place and updates the row's running
/// softmax (mRun: the max so far over non-NaN scores, -inf at first; lRun: the sum of
/// exp(score - mRun) so far, 0 at first). Keys [lo, hi) are visible, the others hidden
/// (dropped, or scored rule.hidden + mask); `add` is the mask for the block's keys (null:
/// none). With `scaledMax` (W lanes) the row is already scaled and masked and that is its max
/// (ScaledScores; no hidden keys). Returns the factor the row's accumulator must be multiplied
/// by before this block's weights are added.
template <int W>
TFC_INLINE float updateRow(float *s, int64_t n, int64_t lo, int64_t hi, float scale, const float *add,
                       const AttentionRule &rule, float &mRun, float &lRun,
                       const float *scaledMax) {
  int64_t from = lo, to = hi; // the keys that take part
  float mb;
  if (scaledMax) { // scaled and masked by the score tiles (ScaledScores): lo = 0, hi = n
    typename VectorOf<W>::type mx;
    load(mx, scaledMax);
    mb = laneMax<W>(mx);
  } else if (!rule.hasHidden) {
    mb = scaleAddMax<W>(s + lo, hi - lo, scale, add ? add + lo : nullptr);
  } else {
    from = 0, to = n;
    for (int64_t j = 0; j < n; ++j) {
      float a = add ? add[j] : 0.f;
      s[j] = j >= lo && j < hi ? s[j] * scale + a : rule.hidden + a;
    }
    mb = scaleAddMax<W>(s, n, 1.f, nullptr);
  }
  const float m = std::max(mRun, mb);
  float alpha = 1.f, sum = 0.f;
  if (m == kNegInf) {
    // No finite score yet: the weights are 0, or NaN for a NaN score (which then spreads).
    for (int64_t j = from; j < to; ++j) {
      s[j] = std::isnan(s[j]) ? s[j] : 0.f;
      sum += s[j];
    }
  } else {
    alpha = mRun == m ? 1.f : fastExp(mRun - m);
    sum = expSum<W>(s + from, to - from, m);
  }
  std::fill(s, s + from, 0.f);
  std::fill(s + to, s + n, 0.f);
  lRun = lRun * alpha + sum;
  mRun = m;
  return alpha;
}

/// The mask view moved to start at key j0 (keys are its last dim).
MaskView maskFrom(const MaskView &mask, int64_t j0) {
  MaskView shifted = mask;
  size_t size = mask.dtype == TFC_F32 ? sizeof(float) : 1;
  shifted.data = static_cast<const char *>(mask.data) + size_t(j0 * mask.stride[3]) * size;
  return shifted;
}

/// Keys [lo, n) that query row i sees under the causal and window rules (Attention.cpp).
inline void visibleKeys(const FusedAttentionProblem &p, int64_t i, int64_t &lo, int64_t &n) {
  const int64_t last = i + (p.Sk - p.Sq); // the query's own key position
  n = p.causal ? std::clamp<int64_t>(last + 1, 0, p.Sk) : p.Sk;
  lo = p.causal && p.rule.window > 0 ? std::clamp<int64_t>(last + 1 - p.rule.window, 0, n) : 0;
}

// ---- one task --------------------------------------------------------------------------------
/// Per-thread scratch of a task, in floats.
int64_t taskScratch(int64_t dhP) {
  return kQueryRows * kKeyBlock + kQueryRows * dhP + 2 * kQueryRows + (kKeyBlock + 16) +
         kQueryRows * 16 + kQueryRows * (dhP / 2 + 1) + kQueryRows * (kKeyBlock / 2 + 16) + 64;
}

/// Query rows [i0, i0 + rows) of head h of batch b.
template <int W, bool Bf16>
TFC_INLINE void attendRows(const FusedAttentionProblem &p, const Packed &pk, int64_t b, int64_t h,
                           int64_t i0, int64_t rows, float *scratch) {
  const int64_t dh = p.dh, D = p.H * dh, g = h / (p.H / p.G);
  const int64_t dhP = pk.dhP;
  float *S = scratch;                     // [kQueryRows, kKeyBlock]
  float *O = S + kQueryRows * kKeyBlock;  // [kQueryRows, dhP]
  float *M = O + kQueryRows * dhP;        // [kQueryRows]: running max
  float *L = M + kQueryRows;              // [kQueryRows]: running sum
  float *tmp = L + kQueryRows;            // [kKeyBlock + W]: a mask row
  float *rowMax = tmp + kKeyBlock + 16;   // [kQueryRows][W]: ScaledScores::max
  const float *q = p.q + (b * p.Sq + i0) * p.qs + h * dh;
  const float *kt = Bf16 ? nullptr : pk.keys + (b * p.G + g) * dh * pk.SkP;
  const float *v = Bf16        ? nullptr
                   : pk.values ? pk.values + (b * p.G + g) * p.Sk * dhP
                               : p.v + b * p.vBatchStride + g * p.vHeadStride;
  const int64_t vs = pk.values ? dhP : p.vs;
  // bf16 products: the block's queries and each block's weights as bf16 pairs.
  const int64_t dh2 = pk.dh2, pbs = kKeyBlock / 2 + 16;
  uint32_t *qb = reinterpret_cast<uint32_t *>(rowMax + kQueryRows * 16); // [kQueryRows][dh2]
  uint32_t *pb = qb + kQueryRows * dh2;                                   // [kQueryRows][pbs]
  const uint32_t *ktb = Bf16 ? pk.keysB + (b * p.G + g) * dh2 * pk.SkP : nullptr;
  const uint32_t *vb = Bf16 ? pk.valuesB + (b * p.G + g) * ((p.Sk + 1) / 2) * dhP : nullptr;
  if constexpr (Bf16)
    for (int64_t r = 0; r < rows; ++r)
      bf16Pairs(q + r * p.qs, dh, qb + r * dh2);

  // The keys any row of the block takes part with: [kLo, kHi).
  int64_t kLo = 0, kHi = p.Sk, unused;
  if (!p.rule.hasHidden) {
    visibleKeys(p, i0, kLo, unused);
    visibleKeys(p, i0 + rows - 1, unused, kHi);
  }
  if (pk.tailStart) { // a padding tail whose weights are all exactly 0: skipped
    const int64_t t = pk.tailStart[b], bg = b * p.G + g;
    if (t > 0 && t < kHi && pk.tailFinite[bg]) {
      const float qn = largestNorm(q, rows, dh, p.qs);
      // |score| <= |q| |k|: every tail key scores at least gap - 2 |scale| |q| |k| below the
      // last kept key (slack for the rounding of the dot products and of the sums at the
      // mask's magnitude).
      if (2.05f * std::fabs(p.scale) * qn * pk.keyNorms[bg] < pk.tailGap[b] - 1000.f)
        kHi = t;
    }
  }
  std::fill(O, O + rows * dhP, 0.f);
  std::fill(M, M + rows, kNegInf);
  std::fill(L, L + rows, 0.f);
  const bool rowsShareMask = p.mask.data && p.mask.stride[2] == 0;
  // Rows that share their mask and see every key: the score tiles scale, mask and take the
  // rows' maxima as they store (ScaledScores), which saves updateRow a pass over the scores.
  const bool scaleInTiles = !p.causal && !p.rule.hasHidden && (!p.mask.data || rowsShareMask);
  using V = typename VectorOf<W>::type;
  for (int64_t j0 = kLo / W * W; j0 < kHi; j0 += kKeyBlock) {
    const int64_t n = std::min(kKeyBlock, kHi - j0);
    const int64_t ss = roundUp(n, W); // S's row stride: the block's rows stay together
    const MaskView mask = p.mask.data ? maskFrom(p.mask, j0) : p.mask;
    const float *shared = rowsShareMask ? maskRow(mask, b, h, 0, n, tmp) : nullptr;
    ScaledScores scaled{p.scale, nullptr, rowMax};
    if (scaleInTiles) {
      if (shared != tmp) // the mask row, or zeros, in tmp; -inf for the padding columns
        for (int64_t j = 0; j < n; ++j)
          tmp[j] = shared ? shared[j] : 0.f;
      std::fill(tmp + n, tmp + ss, kNegInf);
      scaled.add = tmp;
      for (int64_t r = 0; r < rows; ++r)
        store(rowMax + r * W, V{} + kNegInf);
    }
    if constexpr (Bf16)
      scoresBf16(qb, dh2, rows, ktb + j0, pk.SkP, dh2, ss, S, ss, scaleInTiles ? &scaled : nullptr);
    else
      blockScores<W, Tiles<W>::kScoreRows>(q, p.qs, rows, kt + j0, pk.SkP, dh, ss, S, ss,
                                           scaleInTiles ? &scaled : nullptr);
    for (int64_t r = 0; r < rows; ++r) {
      int64_t lo, hi;
      visibleKeys(p, i0 + r, lo, hi);
      lo = std::clamp<int64_t>(lo - j0, 0, n);
      hi = std::clamp<int64_t>(hi - j0, lo, n);
      const float *add = shared ? shared : maskRow(mask, b, h, i0 + r, n, tmp);
      const bool untouched = M[r] == kNegInf; // O's row holds only this block's weights' sums
      const float alpha = updateRow<W>(S + r * ss, n, lo, hi, p.scale, add, p.rule, M[r], L[r],
                                       scaleInTiles ? rowMax + r * W : nullptr);
      // A row with no finite score yet has only zeros (or NaN, which any factor keeps) in O.
      if (alpha != 1.f && !untouched)
        for (float *x = O + r * dhP, *e = x + dhP; x != e; x += W) {
          V v;
          load(v, x);
          store(x, v * alpha);
        }
    }
    if constexpr (Bf16) { // j0 is even (a multiple of W): the block starts a pair of keys
      for (int64_t r = 0; r < rows; ++r)
        bf16Pairs(S + r * ss, n, pb + r * pbs); // an odd last key paired with a 0 weight
      valuesBf16(pb, pbs, rows, vb + j0 / 2 * dhP, dhP, (n + 1) / 2, dhP, O, dhP);
    } else {
      blockValues<W>(S, ss, rows, v + j0 * vs, vs, n, dhP, O, dhP);
    }
  }
  constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
  for (int64_t r = 0; r < rows; ++r) {
    float *out = p.o + (b * p.Sq + i0 + r) * D + h * dh;
    const float *acc = O + r * dhP;
    if (std::isnan(L[r]))
      std::fill(out, out + dh, kNaN);
    else if (M[r] == kNegInf)
      std::fill(out, out + dh, 0.f); // every key hidden
    else {
      int64_t d = 0;
      for (; d + W <= dh; d += W) {
        V v;
        load(v, acc + d);
        store(out + d, v / L[r]);
      }
      for (; d < dh; ++d)
        out[d] = acc[d] / L[r];
    }
  }
}

// ---- packing the keys --------------------------------------------------------------------------
/// The 8 x 8 block of `src` (rows `ss` apart) transposed into `dst` (rows `ds` apart).
TFC_INLINE void transpose8x8(const float *src, int64_t ss, float *dst, int64_t ds) {
  using V = typename VectorOf<8>::type;
  V r[8], t[8], u[8];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i)
    load(r[i], src + i * ss);
#pragma GCC unroll 4
  for (int i = 0; i < 8; i += 2) { // interleave row pairs
    t[i] = __builtin_shufflevector(r[i], r[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
    t[i + 1] = __builtin_shufflevector(r[i], r[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
  }
#pragma GCC unroll 2
  for (int i = 0; i < 8; i += 4) { // pairs of pairs: columns c and c + 4 of four rows
    u[i] = __builtin_shufflevector(t[i], t[i + 2], 0, 1, 8, 9, 4, 5, 12, 13);
    u[i + 1] = __builtin_shufflevector(t[i], t[i + 2], 2, 3, 10, 11, 6, 7, 14, 15);
    u[i + 2] = __builtin_shufflevector(t[i + 1], t[i + 3], 0, 1, 8, 9, 4, 5, 12, 13);
    u[i + 3] = __builtin_shufflevector(t[i + 1], t[i + 3], 2, 3, 10, 11, 6, 7, 14, 15);
  }
#pragma GCC unroll 4
  for (int c = 0; c < 4; ++c) { // rows 0-3 and 4-7 of columns c and c + 4
    V lo = __builtin_shufflevector(u[c], u[c + 4], 0, 1, 2, 3, 8, 9, 10, 11);
    V hi = __builtin_shufflevector(u[c], u[c + 4], 4, 5, 6, 7, 12, 13, 14, 15);
    store(dst + c * ds, lo);
    store(dst + (c + 4) * ds, hi);
  }
}

/// kt[d, j] = K[b, j, g dh + d] for j < Sk, 0 for j in [Sk, SkP): 8 x 8 blocks transposed in
/// vector registers where the ISA has 8-float vectors, single floats for the edges.
template <int W>
TFC_INLINE void packKeys(const FusedAttentionProblem &p, int64_t b, int64_t g, int64_t SkP,
                         float *kt) {
  const int64_t Dk = p.ks, dh = p.dh; // K's row stride
  const float *k = p.k + b * p.kBatchStride + g * p.kHeadStride;
  int64_t j0 = 0;
  if constexpr (W >= 8) {
    for (; j0 + 8 <= p.Sk; j0 += 8) {
      int64_t d0 = 0;
      for (; d0 + 8 <= dh; d0 += 8)
        transpose8x8(k + j0 * Dk + d0, Dk, kt + d0 * SkP + j0, SkP);
      for (; d0 < dh; ++d0)
        for (int64_t j = j0; j < j0 + 8; ++j)
          kt[d0 * SkP + j] = k[j * Dk + d0];
    }
  }
  for (int64_t d = 0; d < dh; ++d)
    for (int64_t j = j0; j < p.Sk; ++j)
      kt[d * SkP + j] = k[j * Dk + d];
  for (int64_t d = 0; d < dh; ++d)
    std::fill(kt + d * SkP + p.Sk, kt + (d + 1) * SkP, 0.f);
}

/// Whether the values of keys [t, Sk) of batch row b, key head g are all finite.
template <int W>
TFC_INLINE bool valuesFinite(const FusedAttentionProblem &p, int64_t b, int64_t g, int64_t t) {
  using V = typename VectorOf<W>::type;
  const float *v = p.v + b * p.vBatchStride + g * p.vHeadStride;
  V bad = V{};
  float rest = 0.f;
  for (int64_t j = t; j < p.Sk; ++j) {
    const float *row = v + j * p.vs;
    int64_t d = 0;
    for (; d + W <= p.dh; d += W) {
      V x;
      load(x, row + d);
      bad += x * 0.f; // 0, or NaN for a value that is not finite
    }
    for (; d < p.dh; ++d)
      rest += row[d] * 0.f;
  }
  return laneSum<W>(bad) == 0.f && rest == 0.f;
}

/// For a padding tail starting at key t: the largest norm of the keys (from the packed kt
/// [dh][SkP]; +inf when one is not finite) and whether the values of keys [t, Sk) are finite.
template <int W>
TFC_INLINE void tailChecks(const FusedAttentionProblem &p, int64_t b, int64_t g, int64_t SkP,
                           const float *kt, int64_t t, float &keyNorm, uint8_t &finite) {
  using V = typename VectorOf<W>::type;
  V most = V{}, bad = V{};
  for (int64_t j = 0; j < SkP; j += W) {
    V ss = V{};
    for (int64_t d = 0; d < p.dh; ++d) {
      V x;
      load(x, kt + d * SkP + j);
      ss += x * x;
    }
    bad += ss * 0.f; // NaN where a square sum is NaN or inf
    most = ss > most ? ss : most;
  }
  keyNorm = laneSum<W>(bad) == 0.f ? std::sqrt(laneMax<W>(most))
                                   : std::numeric_limits<float>::infinity();
  finite = valuesFinite<W>(p, b, g, t);
}

// ---- the instruction sets ----------------------------------------------------------------------
using RowsFn = void (*)(const FusedAttentionProblem &, const Packed &, int64_t, int64_t, int64_t,
                        int64_t, float *);
using KeysFn = void (*)(const FusedAttentionProblem &, int64_t, int64_t, int64_t, float *);
using TailFn = void (*)(const FusedAttentionProblem &, int64_t, int64_t, int64_t, const float *,
                        int64_t, float &, uint8_t &);

#define TFC_ISA_VARIANT(NAME, TARGET, W)                                                           \
  TARGET void attendRows##NAME(const FusedAttentionProblem &p, const Packed &pk, int64_t b,       \
                               int64_t h, int64_t i0, int64_t rows, float *scratch) {             \
    attendRows<W, false>(p, pk, b, h, i0, rows, scratch);                                         \
  }                                                                                                \
  TARGET void packKeys##NAME(const FusedAttentionProblem &p, int64_t b, int64_t g, int64_t SkP,   \
                             float *kt) {                                                          \
    packKeys<W>(p, b, g, SkP, kt);                                                                 \
  }                                                                                                \
  TARGET void tailChecks##NAME(const FusedAttentionProblem &p, int64_t b, int64_t g, int64_t SkP, \
                               const float *kt, int64_t t, float &keyNorm, uint8_t &finite) {     \
    tailChecks<W>(p, b, g, SkP, kt, t, keyNorm, finite);                                          \
  }
TFC_ISA_VARIANT(Avx512, __attribute__((target("avx512f,avx2,fma"))), 16)
TFC_ISA_VARIANT(Avx2, __attribute__((target("avx2,fma"))), 8)
TFC_ISA_VARIANT(Baseline, , 4)
#undef TFC_ISA_VARIANT

/// For a padding tail starting at key t, from K's rows (the bf16 variant has no f32 copy of the
/// keys): tailChecks' figures.
template <int W>
TFC_INLINE void tailChecksRows(const FusedAttentionProblem &p, int64_t b, int64_t g, int64_t t,
                               float &keyNorm, uint8_t &finite) {
  using V = typename VectorOf<W>::type;
  const float *k = p.k + b * p.kBatchStride + g * p.kHeadStride;
  float most = 0.f;
  bool ok = true;
  for (int64_t j = 0; j < p.Sk && ok; ++j) {
    const float *row = k + j * p.ks;
    V acc = V{};
    float ss = 0.f;
    int64_t d = 0;
    for (; d + W <= p.dh; d += W) {
      V x;
      load(x, row + d);
      acc += x * x;
    }
    for (; d < p.dh; ++d)
      ss += row[d] * row[d];
    ss += laneSum<W>(acc);
    ok = ss <= std::numeric_limits<float>::max(); // not NaN, not inf
    most = std::max(most, ss);
  }
  keyNorm = ok ? std::sqrt(most) : std::numeric_limits<float>::infinity();
  finite = valuesFinite<W>(p, b, g, t);
}

// bf16 products: AVX-512 with BF16, 16 lanes.
#define TFC_BF16_TARGET                                                                            \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,avx2,fma")))
TFC_BF16_TARGET void attendRowsBf16(const FusedAttentionProblem &p, const Packed &pk, int64_t b,
                                    int64_t h, int64_t i0, int64_t rows, float *scratch) {
  attendRows<16, true>(p, pk, b, h, i0, rows, scratch);
}
TFC_BF16_TARGET void packKeysBf16Fn(const FusedAttentionProblem &p, int64_t b, int64_t g,
                                    int64_t SkP, float *kt) {
  packKeysBf16(p, b, g, SkP, reinterpret_cast<uint32_t *>(kt));
}
TFC_BF16_TARGET void tailChecksBf16(const FusedAttentionProblem &p, int64_t b, int64_t g,
                                    int64_t, const float *, int64_t t, float &keyNorm,
                                    uint8_t &finite) {
  tailChecksRows<16>(p, b, g, t, keyNorm, finite);
}
#undef TFC_BF16_TARGET

struct Variant {
  int width;
  RowsFn rows;
  KeysFn keys;
  TailFn tails;
};

Variant variantFor(FusedAttentionIsa isa) {
  if (isa == FusedAttentionIsa::Best)
    isa = fusedAttentionIsaAvailable(FusedAttentionIsa::Avx512) ? FusedAttentionIsa::Avx512
          : fusedAttentionIsaAvailable(FusedAttentionIsa::Avx2) ? FusedAttentionIsa::Avx2
                                                                 : FusedAttentionIsa::Baseline;
  switch (isa) {
  case FusedAttentionIsa::Avx512: return {16, attendRowsAvx512, packKeysAvx512, tailChecksAvx512};
  case FusedAttentionIsa::Avx2: return {8, attendRowsAvx2, packKeysAvx2, tailChecksAvx2};
  default: return {4, attendRowsBaseline, packKeysBaseline, tailChecksBaseline};
  }
}

// ---- packing ---------------------------------------------------------------------------------
/// vp[j, d] = V[b, j, g dh + d] for d < dh, 0 for d in [dh, dhP).
void packValues(const FusedAttentionProblem &p, int64_t b, int64_t g, int64_t dhP, float *vp) {
  const int64_t Dk = p.vs; // V's row stride
  const float *v = p.v + b * p.vBatchStride + g * p.vHeadStride;
  for (int64_t j = 0; j < p.Sk; ++j) {
    std::memcpy(vp + j * dhP, v + j * Dk, size_t(p.dh) * sizeof(float));
    std::fill(vp + j * dhP + p.dh, vp + (j + 1) * dhP, 0.f);
  }
}

/// `v` resized to hold at least n floats from a 64-byte aligned start, which it returns.
float *alignedFloats(std::vector<float> &v, int64_t n) {
  if (int64_t(v.size()) < n + 16)
    v.resize(size_t(n + 16));
  uintptr_t a = reinterpret_cast<uintptr_t>(v.data());
  return reinterpret_cast<float *>((a + 63) / 64 * 64);
}

} // namespace

bool fusedAttentionBf16Available() {
  static const bool available = [] {
    const char *e = std::getenv("TFC_ATTENTION_BF16");
    if (e && std::string_view(e) == "0")
      return false;
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx2") &&
           __builtin_cpu_supports("fma");
  }();
  return available;
}

bool fusedAttentionIsaAvailable(FusedAttentionIsa isa) {
  switch (isa) {
  case FusedAttentionIsa::Avx512: return __builtin_cpu_supports("avx512f");
  case FusedAttentionIsa::Avx2:
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  default: return true;
  }
}

void runFusedAttention(const FusedAttentionProblem &problem, FusedAttentionScratch &scratch,
                       int threads, FusedAttentionIsa isa) {
  FusedAttentionProblem p = problem; // with the row strides resolved
  if (p.qs == 0)
    p.qs = p.H * p.dh;
  if (p.ks == 0)
    p.ks = p.G * p.dh;
  if (p.vs == 0)
    p.vs = p.G * p.dh;
  if (p.kHeadStride == 0)
    p.kHeadStride = p.dh;
  if (p.vHeadStride == 0)
    p.vHeadStride = p.dh;
  if (p.kBatchStride == 0)
    p.kBatchStride = p.Sk * p.ks;
  if (p.vBatchStride == 0)
    p.vBatchStride = p.Sk * p.vs;
  const bool bf16 = p.bf16 && fusedAttentionBf16Available() &&
                    (isa == FusedAttentionIsa::Best || isa == FusedAttentionIsa::Avx512);
  const Variant variant =
      bf16 ? Variant{16, attendRowsBf16, packKeysBf16Fn, tailChecksBf16} : variantFor(isa);
  const int64_t W = variant.width;
  Packed pk;
  pk.SkP = roundUp(p.Sk, W);
  pk.dhP = roundUp(p.dh, W);
  pk.dh2 = (p.dh + 1) / 2;
  const int64_t Sk2 = (p.Sk + 1) / 2;
  const bool copyValues = !bf16 && pk.dhP != p.dh;
  const int64_t keyRows = bf16 ? pk.dh2 : p.dh; // rows of a (batch row, key head)'s packed keys
  float *keys = alignedFloats(scratch.keys, p.B * p.G * p.dh * pk.SkP);
  float *values = copyValues ? alignedFloats(scratch.values, p.B * p.G * p.Sk * pk.dhP)
                  : bf16     ? alignedFloats(scratch.values, p.B * p.G * Sk2 * pk.dhP)
                             : nullptr;
  if (bf16) {
    pk.keysB = reinterpret_cast<const uint32_t *>(keys);
    pk.valuesB = reinterpret_cast<const uint32_t *>(values);
  } else {
    pk.keys = keys, pk.values = values;
  }
  const int64_t perThread = roundUp(taskScratch(pk.dhP), 16);
  float *tiles = alignedFloats(scratch.threads, perThread * threads);

  // Padding tails (FusedAttention.h): a mask shared by each batch row's heads and queries.
  const bool tails = p.mask.data && p.mask.stride[1] == 0 && p.mask.stride[2] == 0 &&
                     !p.rule.hasHidden && !(p.causal && p.rule.window > 0);
  std::vector<int64_t> &tailStart = scratch.tailStart;
  if (tails) {
    constexpr float kTailMask = -1e4f; // a tail's keys are masked by at least this much
    tailStart.assign(size_t(p.B), p.Sk);
    scratch.tailGap.assign(size_t(p.B), 0.f);
    scratch.maskRow.resize(size_t(p.Sk));
    for (int64_t b = 0; b < p.B; ++b) {
      const float *add = maskRow(p.mask, b, 0, 0, p.Sk, scratch.maskRow.data());
      int64_t t = p.Sk;
      float most = kNegInf;
      while (t > 0 && add[t - 1] <= kTailMask) // NaN ends the tail
        most = std::max(most, add[--t]);
      tailStart[size_t(b)] = t;
      if (t > 0 && t < p.Sk) // +inf for a bool mask's or -inf's tail
        scratch.tailGap[size_t(b)] = add[t - 1] - most;
    }
    scratch.keyNorms.resize(size_t(p.B * p.G));
    scratch.tailFinite.resize(size_t(p.B * p.G));
    pk.tailStart = tailStart.data(), pk.tailGap = scratch.tailGap.data();
    pk.keyNorms = scratch.keyNorms.data(), pk.tailFinite = scratch.tailFinite.data();
  }

  const int64_t blocks = (p.Sq + kQueryRows - 1) / kQueryRows;
  const int64_t tasks = p.B * p.H * blocks;
  // Below about a few hundred thousand multiply-adds the threads cost more than they save.
  const bool parallel = threads > 1 && tasks > 1 && p.Sq * p.Sk * p.H * p.dh * p.B >= 65536;
#pragma omp parallel num_threads(threads) if (parallel)
  {
#pragma omp for schedule(static)
    for (int64_t bg = 0; bg < p.B * p.G; ++bg) {
      const int64_t b = bg / p.G, g = bg % p.G;
      variant.keys(p, b, g, pk.SkP, keys + bg * keyRows * pk.SkP);
      if (bf16)
        packValuesBf16(p, b, g, pk.dhP, reinterpret_cast<uint32_t *>(values) + bg * Sk2 * pk.dhP);
      else if (copyValues)
        packValues(p, b, g, pk.dhP, values + bg * p.Sk * pk.dhP);
      if (tails && tailStart[size_t(b)] > 0 && tailStart[size_t(b)] < p.Sk)
        variant.tails(p, b, g, pk.SkP, keys + bg * keyRows * pk.SkP, tailStart[size_t(b)],
                      scratch.keyNorms[size_t(bg)], scratch.tailFinite[size_t(bg)]);
    }
    float *mine = tiles + perThread * omp_get_thread_num();
#pragma omp for schedule(dynamic, 1)
    for (int64_t t = 0; t < tasks; ++t) {
      const int64_t blk = t % blocks, bh = t / blocks;
      const int64_t i0 = blk * kQueryRows;
      variant.rows(p, pk, bh / p.H, bh % p.H, i0, std::min(kQueryRows, p.Sq - i0), mine);
    }
  }
}

} // namespace tfc::rt
