//===- AttentionKernels.h - the CUDA attention kernels' launch interface ---------------------===//
//
// Plain parameter blocks and launchers for the attention kernels of AttentionKernels.cu, used by
// the run functions of CudaAttention.cpp (which do the shape checks through AttentionGeometry.h).
// Every launcher enqueues on cudaDevice(ctx).stream() and checks its launches.
//
// K and V are addressed as element (b, g, j, d) at b*kvStrideB + g*kvStrideG + j*kvStrideJ + d,
// which covers both the Attention operands ([B, Sk, G*dh]: strides Sk*G*dh, dh, G*dh) and a KV
// cache slot ([rows, G, maxLength, dh]: strides G*L*dh, L*dh, dh). q and o are [B, S, H*dh].
//
// Per-token values for CUDA-graph replay: where `pastDev` is non-null the kernels read the
// cache's length before this run from device memory (CudaDevice::stepPast()) instead of taking
// it as a launch argument, so a captured decode step stays valid as the cache grows; their grids
// depend only on the batch, the heads, the slot's maxLength and the GPU.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_RUNTIME_CUDA_ATTENTIONKERNELS_H
#define TFC_RUNTIME_CUDA_ATTENTIONKERNELS_H

#include "cpu/Kernel.h"

#include <cuda_runtime_api.h>

#include <cstdint>

namespace tfc::rt::cuda {

/// An attention mask broadcast to [B, H, S, keys] (element strides, 0 where broadcast). dtype
/// F32/F16/BF16 (added to the score) or BOOL (keep where true); data null: no mask.
struct AttnMask {
  const void *data = nullptr;
  tfc_dtype dtype = TFC_F32;
  int64_t stride[4] = {};
};

/// The rule shared by both kernels (see AttentionRule in cpu/Common.h): key j is visible to the
/// query at position `last` (its own key position) when lo <= j <= last, lo = last + 1 - window
/// for window > 0 (else 0); `causal` false: every key visible. With `hasHidden` invisible keys
/// score `hidden` (+ mask) and stay in the softmax, else they are dropped.
struct AttnRule {
  float scale = 1.f;
  bool causal = false;
  int64_t window = 0;
  bool hasHidden = false;
  float hidden = 0.f;
};

struct FusedAttentionParams {
  const void *q = nullptr;
  tfc_dtype qDtype = TFC_F32; // q and o
  void *o = nullptr;
  const void *k = nullptr, *v = nullptr;
  tfc_dtype kvDtype = TFC_F32;
  int64_t kvStrideB = 0, kvStrideG = 0, kvStrideJ = 0;
  int64_t B = 0, Sq = 0, H = 0, G = 0, dh = 0;
  /// Keys: *pastDev + Sq when pastDev is set (a Self cache), else skHost.
  int64_t skHost = 0;
  const int64_t *pastDev = nullptr;
  AttnRule rule;
  AttnMask mask;
};

/// Flash-style attention for any Sq: one block per (batch, head) and 16 query rows, K/V tiles of
/// 32 keys through shared memory, online softmax in f32. Fails (TFC_UNSUPPORTED) for head_dim >
/// 256.
void launchFusedAttention(const KernelContext &ctx, const FusedAttentionParams &p);

struct DecodeAttentionParams {
  const void *q = nullptr;
  tfc_dtype qDtype = TFC_F32; // q and o: [B, 1, H*dh]
  void *o = nullptr;
  const void *k = nullptr, *v = nullptr;
  tfc_dtype kvDtype = TFC_F32;
  int64_t kvStrideB = 0, kvStrideG = 0, kvStrideJ = 0;
  int64_t B = 0, H = 0, G = 0, dh = 0;
  /// Keys: *pastDev + 1 when pastDev is set, else keysHost. The query is the last position, so
  /// the causal rule hides nothing; `rule.window` applies (Self slots only).
  int64_t keysHost = 0;
  const int64_t *pastDev = nullptr;
  AttnRule rule;
  AttnMask mask;
  /// Splits of the key range per (row, head) (decodeSplits); partials holds
  /// B*H*splits*kDecodeWarps*(dh + 4) floats.
  int splits = 1;
  float *partials = nullptr;
};

/// Warps per decode block: each keeps its own partial (max, sum, accumulator).
constexpr int kDecodeWarps = 4;

/// Key splits per (row, head) for decode: enough blocks to fill the GPU twice over, at most one
/// per 64 positions of the slot and 64 in all. Depends on no per-token value (CUDA graphs).
int decodeSplits(int64_t rowsTimesHeads, int64_t maxLength, int multiProcessors);

/// Split-K decode attention (flash-decoding): partial softmax states per split and warp, then a
/// combine kernel writes o.
void launchDecodeAttention(const KernelContext &ctx, const DecodeAttentionParams &p);

struct CacheWriteParams {
  const void *x = nullptr; // [B, S, G*dh]
  tfc_dtype xDtype = TFC_F32;
  void *cache = nullptr; // [rows, G, maxLength, dh]
  tfc_dtype cacheDtype = TFC_F32;
  int64_t B = 0, S = 0, G = 0, dh = 0, maxLength = 0;
  /// First position written: *posDev when set, else posHost. Positions >= maxLength are skipped
  /// (the host checks them; the guard keeps a replayed graph in bounds).
  int64_t posHost = 0;
  const int64_t *posDev = nullptr;
};

/// Copies x into the cache (converting to the slot's dtype).
void launchCacheWrite(const KernelContext &ctx, const CacheWriteParams &p);

/// *dst = value, on the stream (the per-token value a captured decode step reads).
void launchSetInt64(cudaStream_t stream, int64_t *dst, int64_t value);

} // namespace tfc::rt::cuda

#endif // TFC_RUNTIME_CUDA_ATTENTIONKERNELS_H
