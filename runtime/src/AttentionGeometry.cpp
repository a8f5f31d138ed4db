//===- AttentionGeometry.cpp - run-time shape checks of the attention kernels ----------------===//
#include "AttentionGeometry.h"

namespace tfc::rt {

using MaskKind = tfc::plan::MaskKind;
using tfc::plan::AttentionOptionsT;
using tfc::plan::CachedAttentionOptionsT;
using tfc::plan::CacheStoreOptionsT;

static bool isPadding(MaskKind kind) {
  return kind == MaskKind::Padding || kind == MaskKind::CausalPadding;
}

AttentionGeometry attentionGeometry(const KernelContext &ctx) {
  const Tensor &q = *ctx.in(0), &kk = *ctx.in(1), &v = *ctx.in(2);
  const Tensor *mask = ctx.in(3);
  const AttentionOptionsT &opts = options<AttentionOptionsT>(*ctx.k);
  AttentionGeometry g;
  g.H = opts.num_heads;
  g.scale = opts.scale;
  g.rule = attentionRule(opts);
  g.G = g.rule.kvHeads;
  g.B = q.shape.d[0], g.Sq = q.shape.d[1], g.D = q.shape.d[2], g.Sk = kk.shape.d[1];
  if (opts.head_dim > 0) {
    // Packed projections: the heads are column ranges of wider rows (checkAttention bounded
    // the options to non-negative 32-bit values, so these sums do not overflow).
    g.packed = true;
    g.dh = opts.head_dim;
    g.D = g.H * g.dh;
    g.Dk = g.G * g.dh;
    g.qStride = q.shape.d[2], g.kStride = kk.shape.d[2], g.vStride = v.shape.d[2];
    g.qCol = opts.q_column, g.kCol = opts.k_column, g.vCol = opts.v_column;
    if (kk.shape.d[0] != g.B || v.shape.d[0] != g.B || v.shape.d[1] != g.Sk)
      ctx.fail(TFC_INVALID_ARGUMENT, "q %s, k %s and v %s do not fit [B, Sq, .], [B, Sk, .]",
               q.shape.str().c_str(), kk.shape.str().c_str(), v.shape.str().c_str());
    const struct {
      const char *what;
      int64_t col, width, have;
    } ranges[] = {{"q", g.qCol, g.D, g.qStride}, {"k", g.kCol, g.Dk, g.kStride},
                  {"v", g.vCol, g.Dk, g.vStride}};
    for (const auto &r : ranges)
      if (r.col + r.width > r.have)
        ctx.fail(TFC_INVALID_ARGUMENT,
                 "%s '%s': its heads' columns [%lld, %lld) (head_dim %lld) exceed its width %lld",
                 r.what, ctx.inName(size_t(&r - ranges)).c_str(), (long long)r.col,
                 (long long)(r.col + r.width), (long long)g.dh, (long long)r.have);
    Shape out = q.shape;
    out.d[2] = g.D;
    ctx.expectOutputShape(0, out);
  } else {
    if (g.D % g.H != 0)
      ctx.fail(TFC_INVALID_ARGUMENT, "D = %lld is not a multiple of num_heads = %lld",
               (long long)g.D, (long long)g.H);
    g.dh = g.D / g.H;
    g.Dk = g.dh * g.G; // the K / V width
    if (kk.shape.d[0] != g.B || v.shape.d[0] != g.B || kk.shape.d[2] != g.Dk ||
        v.shape.d[1] != g.Sk || v.shape.d[2] != g.Dk)
      ctx.fail(TFC_INVALID_ARGUMENT,
               "q %s, k %s and v %s do not fit [B, Sq, D], [B, Sk, %lld] (%lld of %lld heads)",
               q.shape.str().c_str(), kk.shape.str().c_str(), v.shape.str().c_str(),
               (long long)g.Dk, (long long)g.G, (long long)g.H);
    g.qStride = g.D, g.kStride = g.Dk, g.vStride = g.Dk;
    ctx.expectOutputShape(0, q.shape);
  }
  if (mask && isPadding(opts.mask)) {
    Shape full;
    full.rank = 4;
    full.d[0] = g.B, full.d[1] = g.H, full.d[2] = g.Sq, full.d[3] = g.Sk;
    if (!broadcastsTo(mask->shape, full))
      ctx.fail(TFC_INVALID_ARGUMENT, "mask '%s' %s does not broadcast to [B, H, Sq, Sk] = %s",
               ctx.inName(3).c_str(), mask->shape.str().c_str(), full.str().c_str());
    g.mask = makeMaskView(*mask);
  }
  g.causal = opts.mask == MaskKind::Causal || opts.mask == MaskKind::CausalPadding;
  return g;
}

CachedAttentionGeometry cachedAttentionGeometry(const KernelContext &ctx) {
  KvCache *cache = ctx.cache;
  if (!cache)
    ctx.fail(TFC_INTERNAL, "run outside a function that uses the KV cache");
  const CachedAttentionOptionsT &opts = options<CachedAttentionOptionsT>(*ctx.k);
  CachedAttentionGeometry g;
  g.H = opts.num_heads;
  g.self = opts.cache_kind == CacheKind::Self;
  g.scale = opts.scale;
  g.rule = attentionRule(opts);
  g.G = g.rule.kvHeads;
  const int64_t slotIndex = opts.slot;
  if (slotIndex >= int64_t(cache->slots.size()))
    ctx.fail(TFC_INTERNAL, "cache slot %lld is not in the session's cache", (long long)slotIndex);
  g.slot = &cache->slots[size_t(slotIndex)];
  g.desc = g.slot->desc;
  const CacheSlotDesc &sd = *g.desc;
  const Tensor &q = *ctx.in(0);
  const Tensor *mask = ctx.in(3);
  g.B = q.shape.d[0], g.S = q.shape.d[1], g.D = q.shape.d[2];
  g.dh = sd.headDim, g.maxLength = sd.maxLength;
  if (g.D != g.H * g.dh || sd.numHeads != g.G)
    ctx.fail(TFC_INVALID_ARGUMENT,
             "q %s: D = %lld in %lld heads (%lld of them for keys and values), but cache slot "
             "'%s' holds %lld heads of %lld",
             q.shape.str().c_str(), (long long)g.D, (long long)g.H, (long long)g.G,
             sd.name.c_str(), (long long)sd.numHeads, (long long)g.dh);
  if (g.B != cache->rows)
    ctx.fail(TFC_INVALID_ARGUMENT, "q %s has batch %lld, but the KV cache has %lld rows",
             q.shape.str().c_str(), (long long)g.B, (long long)cache->rows);
  ctx.expectOutputShape(0, q.shape);
  if (g.self) {
    const Tensor &kk = *ctx.in(1), &v = *ctx.in(2);
    if (kk.shape != v.shape || kk.shape.rank != 3 || kk.shape.d[0] != g.B ||
        kk.shape.d[1] != g.S || kk.shape.d[2] != g.G * g.dh)
      ctx.fail(TFC_INVALID_ARGUMENT, "q %s, k %s and v %s must be [B, S, D] and [B, S, %lld]",
               q.shape.str().c_str(), kk.shape.str().c_str(), v.shape.str().c_str(),
               (long long)(g.G * g.dh));
    g.past = cache->past;
    if (g.past + g.S > g.maxLength)
      ctx.fail(TFC_OUT_OF_RANGE, "cache slot '%s' holds %lld positions; %lld + %lld exceeds it",
               sd.name.c_str(), (long long)g.maxLength, (long long)g.past, (long long)g.S);
    g.keys = g.past + g.S;
  } else {
    g.keys = g.slot->length;
    if (g.keys == 0)
      ctx.fail(TFC_INVALID_ARGUMENT, "cache slot '%s' (Cross) is empty (run encode first)",
               sd.name.c_str());
  }
  if (mask && isPadding(opts.mask)) {
    Shape full;
    full.rank = 4;
    full.d[0] = g.B, full.d[1] = g.H, full.d[2] = g.S, full.d[3] = g.keys;
    if (mask->shape.d[mask->shape.rank - 1] != g.keys)
      ctx.fail(TFC_INVALID_ARGUMENT,
               "mask '%s' %s has %lld keys in its last dim, but the attention has %lld keys "
               "(%s)", ctx.inName(3).c_str(), mask->shape.str().c_str(),
               (long long)mask->shape.d[mask->shape.rank - 1], (long long)g.keys,
               g.self ? format("%lld cached + %lld new", (long long)g.past, (long long)g.S).c_str()
                      : "the encoder's length");
    if (!broadcastsTo(mask->shape, full))
      ctx.fail(TFC_INVALID_ARGUMENT, "mask '%s' %s does not broadcast to [B, H, S, keys] = %s",
               ctx.inName(3).c_str(), mask->shape.str().c_str(), full.str().c_str());
    g.mask = makeMaskView(*mask);
  }
  return g;
}

CacheStoreGeometry cacheStoreGeometry(const KernelContext &ctx) {
  KvCache *cache = ctx.cache;
  if (!cache)
    ctx.fail(TFC_INTERNAL, "run outside a function that uses the KV cache");
  const int64_t slotIndex = options<CacheStoreOptionsT>(*ctx.k).slot;
  if (slotIndex >= int64_t(cache->slots.size()))
    ctx.fail(TFC_INTERNAL, "cache slot %lld is not in the session's cache", (long long)slotIndex);
  CacheStoreGeometry g;
  g.slot = &cache->slots[size_t(slotIndex)];
  g.desc = g.slot->desc;
  const CacheSlotDesc &sd = *g.desc;
  const Tensor &kk = *ctx.in(0), &v = *ctx.in(1);
  if (kk.shape != v.shape)
    ctx.fail(TFC_INVALID_ARGUMENT, "k %s and v %s must have the same shape [B, S, D]",
             kk.shape.str().c_str(), v.shape.str().c_str());
  g.B = kk.shape.d[0], g.S = kk.shape.d[1], g.D = kk.shape.d[2];
  if (g.B != cache->rows)
    ctx.fail(TFC_INVALID_ARGUMENT, "k %s has batch %lld, but the KV cache has %lld rows",
             kk.shape.str().c_str(), (long long)g.B, (long long)cache->rows);
  if (g.S > sd.maxLength)
    ctx.fail(TFC_OUT_OF_RANGE, "cache slot '%s' holds %lld positions; k has %lld",
             sd.name.c_str(), (long long)sd.maxLength, (long long)g.S);
  if (g.D != int64_t(sd.numHeads) * sd.headDim)
    ctx.fail(TFC_INVALID_ARGUMENT, "k %s: D = %lld, but cache slot '%s' holds %d heads of %d",
             kk.shape.str().c_str(), (long long)g.D, sd.name.c_str(), sd.numHeads, sd.headDim);
  return g;
}

} // namespace tfc::rt
