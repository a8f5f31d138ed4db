//===- CachedAttention.cpp - attention over the session's KV cache, and CacheStore ------------===//
//
// CachedAttention (CachedAttentionOptions {num_heads, mask, scale, slot, cache_kind, num_kv_heads,
// window, hidden_score}, see AttentionRule): q [B, S, D]
// attends the keys/values of cache slot `slot`, laid out [row][head][pos][head_dim] (Kernel.h,
// the slot holding num_kv_heads heads: query head h reads slot head h / (H / num_kv_heads)),
// KvCache). Self slots: the kernel first writes this run's k, v [B, S, D] at positions
// [past, past + S), then query i attends keys j in [0, past + S) with j <= past + i. Cross
// slots: keys [0, length) written by CacheStore in `encode`. The mask follows the Attention
// kernel (bool: keep where true; f32: added; NumPy-broadcast to [B, H, S, keys]) but its last
// dim must be the number of keys. Heads are interleaved in D (head h is columns h*dh..) for q
// and the output. A row with every key hidden gives zeros.
//
// A prompt of a Self slot (more than one query) runs the Attention kernel's blocked math on the
// cache's keys and values (FusedAttention.h). Otherwise: one task per (row, head, query):
// contiguous K rows (dot products of head_dim floats) for the scores, the shared softmax row
// primitives, then a weighted sum of contiguous V rows. For
// decode (S = 1) the tasks are the B*H (row, head) pairs. With the session capturing attention
// weights (AttentionCapture.h) each task also copies its probability row out.
//
// CacheStore (CacheStoreOptions {slot}): k, v [B, Ssrc, D] into a Cross slot; its length
// becomes Ssrc.
//
//===----------------------------------------------------------------------------------------===//
#include "AttentionCapture.h"
#include "AttentionGeometry.h"
#include "cpu/Common.h"
#include "cpu/CpuBackend.h"
#include "cpu/FusedAttention.h"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <omp.h>
#include <string>

namespace tfc::rt {
namespace {

using MaskKind = tfc::plan::MaskKind;
using tfc::plan::CachedAttentionOptionsT;
using tfc::plan::CacheStoreOptionsT;

struct CachedAttentionState : KernelState {
  std::vector<float> scratch; // per thread: scores (keys) + mask row (keys)
  FusedAttentionScratch fused; // a prompt's blocked kernel
};

/// TFC_CACHED_PROMPT=rows: a prompt runs the per-query loop as a decode step does (for
/// measurements); unset, the blocked kernel (see runCachedAttention).
bool promptBlocked() {
  static const bool on = [] {
    const char *e = std::getenv("TFC_CACHED_PROMPT");
    return !(e && std::string(e) == "rows");
  }();
  return on;
}

/// Writes x [B, S, D] (heads interleaved in D) into cache rows [0, B) at positions
/// [pos0, pos0 + S) of a [maxRows, H, maxLength, dh] buffer.
void writeRows(float *cache, const float *x, int64_t B, int64_t S, int64_t H, int64_t dh,
               int64_t maxLength, int64_t pos0) {
  int64_t D = H * dh;
#pragma omp parallel for collapse(2) schedule(static) if (B * S * D >= 32768)
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h) {
      float *dst = cache + ((b * H + h) * maxLength + pos0) * dh;
      const float *src = x + b * S * D + h * dh;
      for (int64_t s = 0; s < S; ++s)
        std::memcpy(dst + s * dh, src + s * D, size_t(dh) * sizeof(float));
    }
}

/// row[j] = q . K[j] for keys j in [0, n) (K rows of dh contiguous floats).
TFC_CPU_CLONES void dotRows(const float *q, const float *k, int64_t n, int64_t dh, float *row) {
  int64_t j = 0;
  for (; j + 4 <= n; j += 4) { // four keys at a time: q is loaded once, four independent sums
    const float *k0 = k + j * dh, *k1 = k0 + dh, *k2 = k1 + dh, *k3 = k2 + dh;
    float a0 = 0.f, a1 = 0.f, a2 = 0.f, a3 = 0.f;
#pragma omp simd reduction(+ : a0, a1, a2, a3)
    for (int64_t d = 0; d < dh; ++d) {
      a0 += q[d] * k0[d];
      a1 += q[d] * k1[d];
      a2 += q[d] * k2[d];
      a3 += q[d] * k3[d];
    }
    row[j] = a0, row[j + 1] = a1, row[j + 2] = a2, row[j + 3] = a3;
  }
  for (; j < n; ++j) {
    const float *kj = k + j * dh;
    float acc = 0.f;
#pragma omp simd reduction(+ : acc)
    for (int64_t d = 0; d < dh; ++d)
      acc += q[d] * kj[d];
    row[j] = acc;
  }
}

/// Prefetches the cache lines of [p, p + count) floats into the L2 cache.
inline void prefetchRows(const float *p, int64_t count) {
  const char *c = reinterpret_cast<const char *>(p);
  const char *end = reinterpret_cast<const char *>(p + count);
  for (; c < end; c += 64)
    __builtin_prefetch(c, 0, 1);
}

/// o[0, dh) = sum_j p[j] V[j] over keys [0, n).
TFC_CPU_CLONES void weightedRows(const float *p, const float *v, int64_t n, int64_t dh, float *o) {
  for (int64_t d = 0; d < dh; ++d)
    o[d] = 0.f;
  for (int64_t j = 0; j < n; ++j) {
    const float pj = p[j];
    if (pj == 0.f)
      continue;
    const float *vj = v + j * dh;
#pragma omp simd
    for (int64_t d = 0; d < dh; ++d)
      o[d] += pj * vj[d];
  }
}

/// The mask as a view broadcast to [B, H, S, keys] (element strides; 0 where broadcast).
std::string checkSlotOperand(const FunctionDesc &fn, const KernelDesc &k, size_t i,
                             const char *what) {
  std::string e = expectDtype(fn, k, i, what, {TFC_F32});
  if (!e.empty())
    return e;
  const ValueDesc &v = fn.values[k.inputs[i]];
  if (v.rank != 3)
    return format("input '%s' (%s) has rank %d, expected 3 ([B, S, D])", v.name.c_str(), what,
                  v.rank);
  return "";
}

} // namespace

// ---- CachedAttention ------------------------------------------------------------------------
std::string unsupportedCachedAttention(const FunctionDesc &, const KernelDesc &k) {
  return unsupportedAttentionFeatures(k, options<CachedAttentionOptionsT>(k));
}

std::string checkCachedAttention(const FunctionDesc &fn, const KernelDesc &k) {
  const CachedAttentionOptionsT &o = options<CachedAttentionOptionsT>(k);
  if (o.num_heads <= 0)
    return format("num_heads is %d", o.num_heads);
  if (!isKnownEnumValue(o.mask))
    return format("unknown MaskKind %d", int(o.mask));
  if (o.slot < 0)
    return format("cache slot %d is negative", o.slot);
  if (!isKnownEnumValue(o.cache_kind))
    return format("unknown CacheKind %d", int(o.cache_kind));
  if (std::string e = checkAttentionRule(o.num_heads, o.num_kv_heads, o.window); !e.empty())
    return e;
  if (!hasInput(k, 0))
    return "input q is absent";
  std::string e = checkSlotOperand(fn, k, 0, "q");
  if (!e.empty())
    return e;
  const MaskKind mk = o.mask;
  if (o.cache_kind == CacheKind::Self) {
    if (!hasInput(k, 1) || !hasInput(k, 2))
      return "a Self-cache attention needs inputs k and v";
    for (size_t i : {1, 2})
      if (!(e = checkSlotOperand(fn, k, i, i == 1 ? "k" : "v")).empty())
        return e;
    if (mk != MaskKind::Causal && mk != MaskKind::CausalPadding)
      return format("a Self-cache attention must be causal (MaskKind Causal or CausalPadding), "
                    "got MaskKind %s", tfc::plan::EnumNameMaskKind(mk));
  } else {
    if (hasInput(k, 1) || hasInput(k, 2))
      return "a Cross-cache attention reads k and v from the cache: inputs k and v must be "
             "absent (-1)";
    if (mk != MaskKind::None && mk != MaskKind::Padding)
      return format("a Cross-cache attention takes MaskKind None or Padding, got MaskKind %s",
                    tfc::plan::EnumNameMaskKind(mk));
  }
  bool padding = mk == MaskKind::Padding || mk == MaskKind::CausalPadding;
  if (padding && !hasInput(k, 3))
    return "mask kind padding needs a mask input";
  if (hasInput(k, 3)) {
    if (!(e = expectDtype(fn, k, 3, "mask", {TFC_F32, TFC_BOOL})).empty())
      return e;
    const ValueDesc &m = fn.values[k.inputs[3]];
    if (m.rank < 1 || m.rank > 4)
      return format("mask '%s' has rank %d, expected 1 to 4", m.name.c_str(), m.rank);
  }
  if (!(e = expectOutDtype(fn, k, 0, {TFC_F32})).empty())
    return e;
  if (fn.values[k.outputs[0]].rank != 3)
    return format("output '%s' has rank %d, expected 3", fn.values[k.outputs[0]].name.c_str(),
                  fn.values[k.outputs[0]].rank);
  return "";
}

void runCachedAttention(const KernelContext &ctx) {
  const CachedAttentionGeometry geo = cachedAttentionGeometry(ctx);
  KvCache::Slot &slot = *geo.slot;
  if (slot.dtype != TFC_F32) // the loader refuses such plans for the CPU backend
    ctx.fail(TFC_INTERNAL, "cache slot '%s' holds %s keys/values; the CPU kernels take f32",
             geo.desc->name.c_str(), dtypeName(slot.dtype));
  const Tensor &q = *ctx.in(0);
  const int64_t H = geo.H, G = geo.G, B = geo.B, S = geo.S, D = geo.D, dh = geo.dh;
  const int64_t L = geo.maxLength, past = geo.past, keys = geo.keys;
  const bool self = geo.self;
  const float scale = geo.scale;
  const AttentionRule &rule = geo.rule;
  const MaskView &mv = geo.mask;
  if (self) {
    const Tensor &kk = *ctx.in(1), &v = *ctx.in(2);
    writeRows(static_cast<float *>(slot.k), kk.as<float>(), B, S, G, dh, L, past);
    writeRows(static_cast<float *>(slot.v), v.as<float>(), B, S, G, dh, L, past);
  }
  float *o = ctx.out(0).as<float>();
  // On request, each task's probability row is kept too ([B, H, S, keys]; AttentionCapture.h).
  float *weights = ctx.attention ? ctx.attention->add(ctx.k->name, B, H, S, keys) : nullptr;
  if (geo.emptyOutput())
    return;

  auto &st = ctx.stateAs<CachedAttentionState>();
  // A prompt (more than one query of a Self slot, whether or not it continues a cache) runs
  // the Attention kernel's blocked QK^T, online softmax and PV (FusedAttention.h) over the
  // cache's keys and values [0, past + S), read in place in its [row][head][pos][dh] layout,
  // with the same causal, window, mask and hidden-score rules (query i sees keys j <= past + i:
  // the kernel's causal offset Sk - Sq). A Llama-style prefill of 128 tokens (8 layers, 16
  // heads of 64, 4 KV heads) spent 11.5 ms per run in the per-query loop below (47 GFLOP/s on
  // two Zen 4 cores). Decode steps, Cross slots and runs that capture the attention weights
  // keep the loop.
  if (self && S > 1 && !weights && promptBlocked()) {
    FusedAttentionProblem p;
    p.q = q.as<float>(), p.o = o;
    p.k = static_cast<const float *>(slot.k), p.v = static_cast<const float *>(slot.v);
    p.B = B, p.Sq = S, p.Sk = keys, p.H = H, p.G = G, p.dh = dh;
    p.qs = D, p.ks = dh, p.vs = dh;
    p.kHeadStride = p.vHeadStride = L * dh;
    p.kBatchStride = p.vBatchStride = G * L * dh;
    p.scale = scale, p.causal = true, p.rule = rule, p.mask = mv;
    p.bf16 = lowPrecisionPlan(ctx);
    runFusedAttention(p, st.fused, cpuDevice(ctx).threads());
    return;
  }
  const int nthreads = std::max(cpuDevice(ctx).threads(), omp_get_max_threads());
  const size_t per = size_t(2 * keys + 16);
  if (st.scratch.size() < per * size_t(nthreads))
    st.scratch.resize(per * size_t(nthreads));
  float *scratch = st.scratch.data();
  const float *pq = q.as<float>();
  const float *pk = static_cast<const float *>(slot.k);
  const float *pv = static_cast<const float *>(slot.v);
  const int64_t tasks = B * H * S;
#pragma omp parallel for schedule(static) if (tasks > 1 && tasks * keys * dh >= 8192)
  for (int64_t t = 0; t < tasks; ++t) {
    const int64_t b = t / (H * S), h = (t / S) % H, i = t % S;
    float *row = scratch + per * size_t(omp_get_thread_num());
    float *tmp = row + keys;
    const int64_t g = h / (H / G);
    const float *qi = pq + (b * S + i) * D + h * dh;
    const float *kb = pk + (b * G + g) * L * dh;
    const float *vb = pv + (b * G + g) * L * dh;
    float *oi = o + (b * S + i) * D + h * dh;
    // Visible keys [lo, n): the causal and window rules for Self.
    const int64_t n = self ? past + i + 1 : keys;
    const int64_t lo = self && rule.window > 0 ? std::max<int64_t>(n - rule.window, 0) : 0;
    // A decode step finds this head's keys and values in memory, not in the caches (the step
    // streamed the weights since): ask for them all now, so that their lines arrive in parallel
    // while the dot products start, rather than one stream of misses per 4 KB page. GPT-2 small,
    // 64 new tokens, one thread: 53 -> 40 us per layer and step.
    prefetchRows(kb + lo * dh, (n - lo) * dh);
    prefetchRows(vb + lo * dh, (n - lo) * dh);
    dotRows(qi, kb + lo * dh, n - lo, dh, row + lo);
    const float *add = maskRow(mv, b, h, i, rule.hasHidden ? keys : n, tmp);
    attentionRow(row, keys, lo, n, scale, add, rule);
    if (weights) // attentionRow wrote all `keys` entries (zeros outside [lo, n))
      std::memcpy(weights + t * keys, row, size_t(keys) * sizeof(float));
    // Without a hidden score only [lo, n) can be nonzero.
    if (rule.hasHidden)
      weightedRows(row, vb, keys, dh, oi);
    else
      weightedRows(row + lo, vb + lo * dh, n - lo, dh, oi);
  }
}

// ---- CacheStore -----------------------------------------------------------------------------
std::string checkCacheStore(const FunctionDesc &fn, const KernelDesc &k) {
  if (options<CacheStoreOptionsT>(k).slot < 0)
    return format("cache slot %d is negative", options<CacheStoreOptionsT>(k).slot);
  std::string e = checkSlotOperand(fn, k, 0, "k");
  if (e.empty())
    e = checkSlotOperand(fn, k, 1, "v");
  return e;
}

void runCacheStore(const KernelContext &ctx) {
  const CacheStoreGeometry geo = cacheStoreGeometry(ctx);
  KvCache::Slot &slot = *geo.slot;
  const CacheSlotDesc &sd = *geo.desc;
  if (slot.dtype != TFC_F32) // the loader refuses such plans for the CPU backend
    ctx.fail(TFC_INTERNAL, "cache slot '%s' holds %s keys/values; the CPU kernels take f32",
             sd.name.c_str(), dtypeName(slot.dtype));
  const Tensor &kk = *ctx.in(0), &v = *ctx.in(1);
  const int64_t B = geo.B, S = geo.S;
  slot.length = 0;
  writeRows(static_cast<float *>(slot.k), kk.as<float>(), B, S, sd.numHeads, sd.headDim,
            sd.maxLength, 0);
  writeRows(static_cast<float *>(slot.v), v.as<float>(), B, S, sd.numHeads, sd.headDim,
            sd.maxLength, 0);
  slot.length = S;
}

} // namespace tfc::rt
