//===- CudaAttention.cpp - Attention, CachedAttention and CacheStore on the CUDA backend -----===//
//
// The run functions: shape checks through AttentionGeometry.h (shared with the CPU kernels),
// then the kernels of AttentionKernels.cu. CachedAttention appends this run's keys/values to
// the slot (cache write kernel) and attends over [0, past + S): the split-K decode kernel for
// one query per row, the fused kernel over the slot's layout otherwise. Self-slot kernels read
// the cache's length from device memory (CudaDevice::stepPast, written by CudaDevice::execute
// before the function's kernels), so a captured decode step replays correctly as the cache
// grows. KV slots hold F32, F16 or BF16 (CudaBackend::supportsCacheDtype); q, k, v and the
// output are the plan's float dtype; masks F32 or BOOL (F16/BF16 read too).
//
//===----------------------------------------------------------------------------------------===//
#include "AttentionGeometry.h"
#include "cuda/AttentionKernels.h"
#include "cuda/CudaBackend.h"

#include <algorithm>

namespace tfc::rt {
namespace {

cuda::AttnMask toMask(const MaskView &m) {
  cuda::AttnMask a;
  a.data = m.data;
  a.dtype = m.dtype;
  for (int i = 0; i < 4; ++i)
    a.stride[i] = m.stride[i];
  return a;
}

cuda::AttnRule toRule(float scale, bool causal, const AttentionRule &r) {
  cuda::AttnRule a;
  a.scale = scale;
  a.causal = causal;
  a.window = r.window;
  a.hasHidden = r.hasHidden;
  a.hidden = r.hidden;
  return a;
}

/// The decode kernel's per-split partial states (device memory of this kernel and session).
struct DecodeState : KernelState {
  DeviceBuffer partials;
};

} // namespace

void cudaRunAttention(const KernelContext &ctx) {
  const AttentionGeometry g = attentionGeometry(ctx);
  if (g.packed) // the compiler packs q/k/v columns for the cpu target only
    ctx.fail(TFC_UNSUPPORTED, "attention over packed q/k/v columns (AttentionOptions.head_dim, "
                              "plan 2.5) is not supported by the cuda backend");
  Tensor &o = ctx.out(0);
  if (g.emptyOutput())
    return;
  if (g.Sk == 0) { // no keys: zeros, as on the CPU
    cudaDevice(ctx).fill(o.data, 0, o.bytes());
    return;
  }
  cuda::FusedAttentionParams p;
  p.q = ctx.in(0)->data;
  p.qDtype = ctx.in(0)->dtype;
  p.o = o.data;
  p.k = ctx.in(1)->data;
  p.v = ctx.in(2)->data;
  p.kvDtype = ctx.in(1)->dtype;
  if (ctx.in(2)->dtype != p.kvDtype || o.dtype != p.qDtype)
    ctx.fail(TFC_INTERNAL, "q, k, v and the output must share one float dtype");
  p.kvStrideB = g.Sk * g.Dk, p.kvStrideG = g.dh, p.kvStrideJ = g.Dk;
  p.B = g.B, p.Sq = g.Sq, p.H = g.H, p.G = g.G, p.dh = g.dh;
  p.skHost = g.Sk;
  p.rule = toRule(g.scale, g.causal, g.rule);
  p.mask = toMask(g.mask);
  cuda::launchFusedAttention(ctx, p);
}

void cudaRunCachedAttention(const KernelContext &ctx) {
  const CachedAttentionGeometry g = cachedAttentionGeometry(ctx);
  KvCache::Slot &slot = *g.slot;
  CudaDevice &dev = cudaDevice(ctx);
  const Tensor &q = *ctx.in(0);
  Tensor &o = ctx.out(0);
  // Self slots: keys = past + S with past read on the device (see the file comment).
  const int64_t *pastDev = g.self ? dev.stepPast() : nullptr;
  if (g.self) {
    for (size_t i : {1, 2}) {
      cuda::CacheWriteParams w;
      w.x = ctx.in(i)->data;
      w.xDtype = ctx.in(i)->dtype;
      w.cache = i == 1 ? slot.k : slot.v;
      w.cacheDtype = slot.dtype;
      w.B = g.B, w.S = g.S, w.G = g.G, w.dh = g.dh, w.maxLength = g.maxLength;
      w.posDev = pastDev;
      cuda::launchCacheWrite(ctx, w);
    }
  }
  if (g.emptyOutput())
    return;
  if (o.dtype != q.dtype)
    ctx.fail(TFC_INTERNAL, "q and the output must share one float dtype");
  const int64_t L = g.maxLength;
  // Slot layout [rows, G, maxLength, dh].
  const int64_t strideB = g.G * L * g.dh, strideG = L * g.dh, strideJ = g.dh;
  // Only Self slots have a causal rule (and a window).
  AttentionRule rule = g.rule;
  if (!g.self)
    rule.window = 0;
  if (g.S == 1) {
    cuda::DecodeAttentionParams p;
    p.q = q.data;
    p.qDtype = q.dtype;
    p.o = o.data;
    p.k = slot.k;
    p.v = slot.v;
    p.kvDtype = slot.dtype;
    p.kvStrideB = strideB, p.kvStrideG = strideG, p.kvStrideJ = strideJ;
    p.B = g.B, p.H = g.H, p.G = g.G, p.dh = g.dh;
    p.keysHost = g.keys;
    p.pastDev = pastDev;
    p.rule = toRule(g.scale, false, rule);
    p.mask = toMask(g.mask);
    p.splits = cuda::decodeSplits(g.B * g.H, L, dev.props().multiProcessorCount);
    const size_t bytes = size_t(g.B * g.H) * size_t(p.splits) * cuda::kDecodeWarps *
                         size_t(g.dh + 4) * sizeof(float);
    auto &st = ctx.stateAs<DecodeState>();
    if (st.partials.size() < bytes) {
      // Sized for every batch up to the plan's bound at once, so that it never grows between a
      // run and a capture of the same decode step.
      size_t most = 0;
      for (int64_t rows = 1; rows <= std::max<int64_t>(ctx.cache->maxRows, g.B); ++rows)
        most = std::max(most, size_t(rows * g.H) *
                                  size_t(cuda::decodeSplits(rows * g.H, L,
                                                            dev.props().multiProcessorCount)) *
                                  cuda::kDecodeWarps * size_t(g.dh + 4) * sizeof(float));
      st.partials = DeviceBuffer(dev, std::max(bytes, most));
    }
    p.partials = static_cast<float *>(st.partials.data());
    cuda::launchDecodeAttention(ctx, p);
    return;
  }
  cuda::FusedAttentionParams p;
  p.q = q.data;
  p.qDtype = q.dtype;
  p.o = o.data;
  p.k = slot.k;
  p.v = slot.v;
  p.kvDtype = slot.dtype;
  p.kvStrideB = strideB, p.kvStrideG = strideG, p.kvStrideJ = strideJ;
  p.B = g.B, p.Sq = g.S, p.H = g.H, p.G = g.G, p.dh = g.dh;
  p.skHost = g.keys;
  p.pastDev = pastDev;
  // Self: query i is at position past + i and sees keys j <= past + i: the causal rule of the
  // fused kernel with Sk = past + S. Cross: every key (no causal rule).
  p.rule = toRule(g.scale, g.self, rule);
  p.mask = toMask(g.mask);
  cuda::launchFusedAttention(ctx, p);
}

void cudaRunCacheStore(const KernelContext &ctx) {
  const CacheStoreGeometry g = cacheStoreGeometry(ctx);
  KvCache::Slot &slot = *g.slot;
  const CacheSlotDesc &sd = *g.desc;
  slot.length = 0;
  for (size_t i : {0, 1}) {
    cuda::CacheWriteParams w;
    w.x = ctx.in(i)->data;
    w.xDtype = ctx.in(i)->dtype;
    w.cache = i == 0 ? slot.k : slot.v;
    w.cacheDtype = slot.dtype;
    w.B = g.B, w.S = g.S, w.G = sd.numHeads, w.dh = sd.headDim, w.maxLength = sd.maxLength;
    w.posHost = 0;
    cuda::launchCacheWrite(ctx, w);
  }
  slot.length = g.S;
}

} // namespace tfc::rt
