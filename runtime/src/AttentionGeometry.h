//===- AttentionGeometry.h - run-time shape checks of the attention kernels, for every backend -===//
//
// Attention, CachedAttention and CacheStore check their bound shapes, the mask and the cache
// slot the same way on every backend; these functions do it once (with the kernels' messages,
// through ctx.fail / ctx.expectOutputShape) and hand back the geometry the kernels then run on.
// They read shapes and the session's cache bookkeeping only, never tensor data, so the CPU and
// CUDA kernels share them. Semantics: see cpu/Attention.cpp and cpu/CachedAttention.cpp.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_RUNTIME_ATTENTIONGEOMETRY_H
#define TFC_RUNTIME_ATTENTIONGEOMETRY_H

#include "cpu/Common.h"

namespace tfc::rt {

/// What one run of Attention computes: q [B, Sq, D], k / v [B, Sk, Dk] (Dk = G * dh), output
/// [B, Sq, D]. `mask` is empty (data null) unless the kind is Padding/CausalPadding and a mask
/// input is given (a mask with another kind is ignored, as on the CPU). With packed projections
/// (AttentionOptions.head_dim > 0) the inputs are wider: q's heads start at column qCol of rows
/// qStride floats apart, k's at kCol of kStride, v's at vCol of vStride; otherwise the columns
/// are 0 and the strides D, Dk, Dk.
struct AttentionGeometry {
  int64_t B = 0, Sq = 0, Sk = 0, D = 0, H = 0, G = 0, dh = 0, Dk = 0;
  int64_t qStride = 0, kStride = 0, vStride = 0, qCol = 0, kCol = 0, vCol = 0;
  bool packed = false;
  bool causal = false;
  float scale = 1.f;
  AttentionRule rule;
  MaskView mask;
  /// Nothing to compute: B, Sq or D is 0 (the output is empty).
  bool emptyOutput() const { return B == 0 || Sq == 0 || D == 0; }
};

/// Checks an Attention kernel's bound shapes and mask (failing through ctx) and returns them.
AttentionGeometry attentionGeometry(const KernelContext &ctx);

/// What one run of CachedAttention computes: q [B, S, D] against cache slot `slot` (Self: this
/// run's k, v [B, S, G * dh] go to positions [past, past + S) first; keys = past + S, query i sees
/// keys j <= past + i. Cross: keys = the slot's length, no causal rule).
struct CachedAttentionGeometry {
  KvCache::Slot *slot = nullptr;
  const CacheSlotDesc *desc = nullptr;
  bool self = true;
  int64_t B = 0, S = 0, D = 0, H = 0, G = 0, dh = 0, maxLength = 0;
  int64_t past = 0, keys = 0;
  float scale = 1.f;
  AttentionRule rule;
  MaskView mask;
  bool emptyOutput() const { return B == 0 || S == 0 || D == 0; }
};

/// Checks a CachedAttention kernel's operands against the session's cache (failing through ctx).
CachedAttentionGeometry cachedAttentionGeometry(const KernelContext &ctx);

/// What one run of CacheStore writes: k, v [B, S, D] into Cross slot `slot` at positions [0, S).
struct CacheStoreGeometry {
  KvCache::Slot *slot = nullptr;
  const CacheSlotDesc *desc = nullptr;
  int64_t B = 0, S = 0, D = 0;
};

/// Checks a CacheStore kernel's operands against the session's cache (failing through ctx).
CacheStoreGeometry cacheStoreGeometry(const KernelContext &ctx);

} // namespace tfc::rt

#endif // TFC_RUNTIME_ATTENTIONGEOMETRY_H
