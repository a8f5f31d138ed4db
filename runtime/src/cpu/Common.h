//===- Common.h - broadcasting and parallel-loop helpers for the CPU kernels -----------------===//
//
// NumPy broadcasting as strided iteration: shapes are right-aligned to the output's rank, a
// broadcast dim gets stride 0, adjacent dims that stay contiguous for every operand are merged,
// and the callback gets one inner run at a time (`n` elements, per-operand inner stride 0 or 1),
// so elementwise kernels keep a tight inner loop. Outer runs are split across OpenMP threads.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_RUNTIME_CPU_COMMON_H
#define TFC_RUNTIME_CPU_COMMON_H

#include "KernelShapes.h"
#include "cpu/Kernel.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace tfc::rt {

/// Strided iteration over `out` with up to 3 broadcast operands (each must broadcast to out);
/// the strides are KernelShapes.h's, shared with the other backends.
template <int N> struct BroadcastLoop : BroadcastStrides<N> {
  using BroadcastStrides<N>::BroadcastStrides;
  using BroadcastStrides<N>::rank;
  using BroadcastStrides<N>::dims;
  using BroadcastStrides<N>::strides;

  /// Calls f(outOffset, inOffsets[N], n, innerStrides[N]) for every inner run, in parallel.
  template <typename F> void run(F &&f) const {
    int64_t inner = dims[rank - 1];
    int64_t outer = 1;
    for (int i = 0; i < rank - 1; ++i)
      outer *= dims[i];
    int64_t innerStrides[N];
    for (int k = 0; k < N; ++k)
      innerStrides[k] = strides[k][rank - 1];
    bool parallel = outer * inner >= 32768 && outer > 1;
#pragma omp parallel for schedule(static) if (parallel)
    for (int64_t o = 0; o < outer; ++o) {
      int64_t off[N] = {};
      int64_t rem = o;
      for (int i = rank - 2; i >= 0; --i) {
        int64_t idx = rem % dims[i];
        rem /= dims[i];
        for (int k = 0; k < N; ++k)
          off[k] += idx * strides[k][i];
      }
      f(o * inner, off, inner, innerStrides);
    }
  }
};

/// Copies `in` broadcast to `out` (element size `es`).
inline void broadcastCopy(const void *in, const Shape &inShape, void *out, const Shape &outShape,
                          size_t es) {
  const Shape *ins[1] = {&inShape};
  BroadcastLoop<1> loop(outShape, ins);
  const char *src = static_cast<const char *>(in);
  char *dst = static_cast<char *>(out);
  loop.run([&](int64_t o, const int64_t *off, int64_t n, const int64_t *st) {
    if (st[0] == 1) {
      std::memcpy(dst + o * es, src + off[0] * es, size_t(n) * es);
    } else {
      for (int64_t i = 0; i < n; ++i)
        std::memcpy(dst + (o + i) * es, src + off[0] * es, es);
    }
  });
}

/// Calls f(T()) with T the unsigned integer type of `size` bytes (1, 2, 4 or 8).
template <typename F> void withElementType(size_t size, F &&f) {
  switch (size) {
  case 1: f(uint8_t()); break;
  case 2: f(uint16_t()); break;
  case 4: f(uint32_t()); break;
  default: f(uint64_t()); break;
  }
}

/// fastExp's clamp: below kFastExpLow exp is 0 (-inf included), above kFastExpHigh it is the
/// value at the bound.
inline constexpr float kFastExpLow = -87.33654475f, kFastExpHigh = 88.f;

/// fastExp's arithmetic after the clamp, for a float or a GCC vector of floats (one copy of the
/// constants for fastExp and the kernels' vector versions, FusedAttention.cpp's expVector):
/// fn = xc log2 e rounded to nearest (the 1.5*2^23 trick) and the polynomial p of exp(r) on
/// r = xc - fn ln 2 in [-ln2/2, ln2/2], so that exp(xc) = p * 2^fn. (References, not values:
/// a vector passed or returned by value would warn of an ABI that inlining never uses.)
template <typename T>
[[gnu::always_inline]] inline void fastExpReduce(const T &xc, T &fn, T &p) {
  fn = (xc * 1.44269504088896341f + 12582912.f) - 12582912.f;
  const T r = xc - fn * 0.693359375f + fn * 2.12194440e-4f;
  p = T{} + 1.9875691500E-4f;
  p = p * r + 1.3981999507E-3f;
  p = p * r + 8.3334519073E-3f;
  p = p * r + 4.1665795894E-2f;
  p = p * r + 1.6666665459E-1f;
  p = p * r + 5.0000001201E-1f;
  p = p * r * r + r + 1.f;
}

/// exp(x) for softmax: Cephes-style range reduction and polynomial (relative error ~2e-7),
/// written so that the compiler vectorizes loops calling it. exp(-inf) is 0.
inline float fastExp(float x) {
  // Branch-free so that loops calling it vectorize: clamp, round to nearest with the 1.5*2^23
  // trick, polynomial on [-ln2/2, ln2/2], scale by 2^n through the exponent bits.
  const float xc = std::min(std::max(x, kFastExpLow), kFastExpHigh);
  float fn, p;
  fastExpReduce(xc, fn, p);
  // NaN passes the clamp (and gives NaN in p); converting it to int is undefined behaviour
  // (UBSan: "nan is outside the range of representable values of type 'int'"), so convert 0.
  const int32_t n = int32_t(fn == fn ? fn : 0.f);
  const float y = p * __builtin_bit_cast(float, (n + 127) << 23);
  return x < kFastExpLow ? 0.f : y;
}

/// An attention mask (bool: keep where true; f32: added to the scores) seen as [B, H, Sq, Sk]
/// through broadcast strides (0 along broadcast dims). Shared by Attention and CachedAttention.
struct MaskView {
  const void *data = nullptr;
  tfc_dtype dtype = TFC_F32;
  int64_t stride[4] = {};
};

/// The view of `mask` (which must broadcast to rank 4) for the attention kernels.
inline MaskView makeMaskView(const Tensor &mask) {
  MaskView mv;
  mv.data = mask.data;
  mv.dtype = mask.dtype;
  int64_t stride = 1;
  for (int i = 3; i >= 0; --i) {
    int j = i - (4 - mask.shape.rank);
    int64_t d = j >= 0 ? mask.shape.d[j] : 1;
    mv.stride[i] = d == 1 ? 0 : stride;
    stride *= d;
  }
  return mv;
}

/// Keys [0, n) of the mask row of (batch b, head h, query i) in additive form: the mask's own
/// floats when they are contiguous, else converted into `tmp` (n floats; bool -> 0 / -inf);
/// nullptr when there is no mask.
inline const float *maskRow(const MaskView &mask, int64_t b, int64_t h, int64_t i, int64_t n,
                            float *tmp) {
  if (!mask.data || n <= 0)
    return nullptr;
  constexpr float ninf = -std::numeric_limits<float>::infinity();
  int64_t base = b * mask.stride[0] + h * mask.stride[1] + i * mask.stride[2];
  int64_t st = mask.stride[3];
  if (mask.dtype == TFC_F32) {
    const float *m = static_cast<const float *>(mask.data) + base;
    if (st == 1)
      return m;
    for (int64_t j = 0; j < n; ++j)
      tmp[j] = m[j * st];
    return tmp;
  }
  const uint8_t *m = static_cast<const uint8_t *>(mask.data) + base;
  for (int64_t j = 0; j < n; ++j)
    tmp[j] = m[j * st] ? 0.f : ninf;
  return tmp;
}

/// Compiles a function for x86-64-v4 (AVX-512), x86-64-v3 (AVX2 with FMA) and baseline x86-64,
/// the version picked at load time by the CPU's features (GCC target_clones). (A plain "avx2"
/// clone would leave out FMA: the multiply-adds of fastExp and the dot products then run as
/// separate multiplies and adds.)
/// Not under clang: the sanitizer builds (tools/sanitize.sh, clang 14 with lld) crashed while
/// loading libtfc_runtime.so, in the ifunc resolvers of these clones (run during relocation,
/// before the sanitizer runtimes are ready); there the baseline version runs.
#if defined(__clang__)
#define TFC_CPU_CLONES
#else
#define TFC_CPU_CLONES                                                                             \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif

// Row primitives of softmax (Softmax.cpp), compiled with TFC_CPU_CLONES, shared with Attention.
/// row[j] = row[j] * scale (+ add[j] when add is non-null); returns the max over the entries
/// that are not NaN (-inf if there are none, or n == 0).
float rowScaleAddMax(float *row, int64_t n, float scale, const float *add);
/// row[j] = exp(row[j] - mx) / sum: all NaN when the row holds a NaN; a row whose max is -inf
/// (every key hidden) becomes zeros, or NaN if it holds a NaN.
void rowExpNormalize(float *row, int64_t n, float mx);
/// row[j] = exp(row[j] - mx) for a finite or +inf mx; returns the sum (NaN when a NaN or a
/// +inf - +inf entered it). The blocked attention's online softmax (FusedAttention.cpp).
float rowExpSum(float *row, int64_t n, float mx);

/// What Attention and CachedAttention read from a kernel's options beyond num_heads, the
/// MaskKind and the scale (entries a plan may omit; see Attention.cpp).
struct AttentionRule {
  int64_t kvHeads = 0;     // K/V heads (grouped-query attention); query head h reads h / (H / kvHeads)
  int64_t window = 0;      // > 0: a causal query sees only its `window` most recent keys
  bool hasHidden = false;  // hidden keys score `hidden` (+ mask) instead of being dropped
  float hidden = 0.f;
};

/// One score row of attention, in place: keys [lo, n) are visible (the causal / window rule),
/// the others hidden; `add` (the mask row in additive form, null for none) covers keys [0, n),
/// or [0, len) with a hidden score. Without a hidden score: row[lo, n) = softmax(row * scale +
/// add), every other key 0 (a row with nothing visible is zeros). With one (F): key j scores
/// row[j] * scale + add[j] when visible, F + add[j] when hidden, and the softmax is over all
/// `len` keys: what a graph that fills hidden keys with F before adding its mask computes, so
/// a window that holds only padding gives the exporter's answer.
inline void attentionRow(float *row, int64_t len, int64_t lo, int64_t n, float scale,
                         const float *add, const AttentionRule &rule) {
  lo = std::clamp<int64_t>(lo, 0, len);
  n = std::clamp<int64_t>(n, lo, len);
  if (!rule.hasHidden) {
    rowExpNormalize(row + lo, n - lo, rowScaleAddMax(row + lo, n - lo, scale, add ? add + lo : nullptr));
    for (int64_t j = 0; j < lo; ++j)
      row[j] = 0.f;
    for (int64_t j = n; j < len; ++j)
      row[j] = 0.f;
    return;
  }
  for (int64_t j = 0; j < len; ++j) {
    float m = add ? add[j] : 0.f;
    row[j] = j >= lo && j < n ? row[j] * scale + m : rule.hidden + m;
  }
  rowExpNormalize(row, len, rowScaleAddMax(row, len, 1.f, nullptr));
}

/// The rule of AttentionOptions / CachedAttentionOptions beyond num_heads, mask and scale.
template <typename Options> AttentionRule attentionRule(const Options &o) {
  AttentionRule rule;
  rule.kvHeads = o.num_kv_heads > 0 ? o.num_kv_heads : o.num_heads;
  rule.window = o.window;
  rule.hasHidden = !std::isnan(o.hidden_score);
  rule.hidden = rule.hasHidden ? o.hidden_score : 0.f;
  return rule;
}

inline std::string checkAttentionRule(int numHeads, int numKvHeads, int window) {
  if (numKvHeads < 0 || (numKvHeads > 0 && numHeads % numKvHeads))
    return format("num_kv_heads %d does not divide num_heads %d", numKvHeads, numHeads);
  if (window < 0)
    return format("window is %d", window);
  return "";
}

} // namespace tfc::rt

#endif // TFC_RUNTIME_CPU_COMMON_H
