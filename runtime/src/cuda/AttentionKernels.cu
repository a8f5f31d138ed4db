//===- AttentionKernels.cu - fused attention, split-K decode attention, KV-cache writes -*- CUDA -*-===//
//
// Fused attention (prefill, encoders, cross-attention): one block per (batch, head) and kBQ = 16
// query rows; 4 warps own 4 rows each. The block's Q rows sit in shared memory (f32); K and V go
// through shared memory 32 keys at a time (K rows padded by one float so that 32 lanes reading
// 32 different keys hit 32 banks). Per row and tile, lane j scores key j, the warp takes the
// tile's max and sum with shuffles (online softmax: running max and sum in f32), and P V is
// accumulated in registers with lane l owning output dims l, l + 32, ... The output is written
// once; no score matrix exists outside registers.
//
// Decode (one query per row and head, over the KV cache): the key range is split `splits` ways
// per (row, head) and within a block among 4 warps; each warp runs the online softmax over its
// keys (dot products with lanes over head dims, 4 keys at a time for independent shuffles) and
// writes its partial (max, sum, NaN flag, accumulator); a second kernel combines the partials.
//
// Semantics are the CPU kernels' (cpu/Attention.cpp, cpu/CachedAttention.cpp, attentionRow in
// cpu/Common.h): scores scale * q.k (+ mask); hidden keys dropped, or scored `hidden` with a
// hidden score; a NaN score makes its row NaN; a row with nothing visible gives zeros.
// Head dims are padded to 64, 128 or 256 (registers and shared memory); the padding is zeros.
//
//===----------------------------------------------------------------------------------------===//
#include "cuda/AttentionKernels.h"
#include "cuda/CudaCommon.cuh"

#include <cmath>

namespace tfc::rt::cuda {
namespace {

constexpr int kWarps = 4;       // per block (both kernels)
constexpr int kRowsPerWarp = 4; // fused kernel
constexpr int kBQ = kWarps * kRowsPerWarp;
constexpr int kBK = 32;         // keys per tile (one per lane)
constexpr unsigned kFull = 0xffffffffu;

__device__ __forceinline__ float warpMax(float v) {
  for (int o = 16; o > 0; o >>= 1)
    v = fmaxf(v, __shfl_xor_sync(kFull, v, o));
  return v;
}
__device__ __forceinline__ float warpSum(float v) {
  for (int o = 16; o > 0; o >>= 1)
    v += __shfl_xor_sync(kFull, v, o);
  return v;
}

/// The additive mask value of (b, h, i, j) (bool: 0 or -inf).
__device__ __forceinline__ float maskAt(const AttnMask &m, int64_t b, int64_t h, int64_t i,
                                        int64_t j) {
  const int64_t off = b * m.stride[0] + h * m.stride[1] + i * m.stride[2] + j * m.stride[3];
  switch (m.dtype) {
  case TFC_F32: return static_cast<const float *>(m.data)[off];
  case TFC_F16: return load(static_cast<const __half *>(m.data), off);
  case TFC_BF16: return load(static_cast<const __nv_bfloat16 *>(m.data), off);
  default: return static_cast<const uint8_t *>(m.data)[off] ? 0.f : -INFINITY;
  }
}

/// Visible keys [lo, n) of the query whose own key position is `last`, among `sk` keys.
__device__ __forceinline__ void visibleRange(const AttnRule &r, int64_t last, int64_t sk,
                                             int64_t &lo, int64_t &n) {
  n = r.causal ? min(max(last + 1, int64_t(0)), sk) : sk;
  lo = r.causal && r.window > 0 ? min(max(last + 1 - r.window, int64_t(0)), n) : 0;
}

// ---- fused attention -------------------------------------------------------------------------
template <int DHP> constexpr size_t fusedSmemBytes() {
  return sizeof(float) * (size_t(kBQ) * DHP + size_t(kBK) * (DHP + 1) + size_t(kBK) * DHP);
}

template <typename T, typename C, int DHP>
__global__ void __launch_bounds__(kWarps * 32) fusedAttentionKernel(FusedAttentionParams p) {
  constexpr int kPer = DHP / 32; // output dims per lane
  extern __shared__ float smem[];
  float *Qs = smem;                     // [kBQ][DHP]
  float *Ks = Qs + kBQ * DHP;           // [kBK][DHP + 1]
  float *Vs = Ks + kBK * (DHP + 1);     // [kBK][DHP]
  const int64_t bh = blockIdx.x;
  const int64_t b = bh / p.H, h = bh % p.H, g = h / (p.H / p.G);
  const int64_t q0 = int64_t(blockIdx.y) * kBQ;
  const int64_t Sq = p.Sq, dh = p.dh, D = p.H * dh;
  const int64_t Sk = p.pastDev ? *p.pastDev + Sq : p.skHost;
  const T *q = static_cast<const T *>(p.q);
  const C *kp = static_cast<const C *>(p.k);
  const C *vp = static_cast<const C *>(p.v);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;

  for (int e = threadIdx.x; e < kBQ * DHP; e += blockDim.x) {
    const int r = e / DHP, d = e % DHP;
    const int64_t i = q0 + r;
    Qs[e] = i < Sq && d < dh ? load(q, (b * Sq + i) * D + h * dh + d) : 0.f;
  }

  // The block's key range: rows' ranges grow with i, so the first row's lo and the last row's n.
  int64_t blockLo = 0, blockHi = Sk;
  if (!p.rule.hasHidden) {
    int64_t lo, n, lo2, n2;
    const int64_t iLast = min(q0 + kBQ, Sq) - 1;
    visibleRange(p.rule, q0 + Sk - Sq, Sk, lo, n);
    visibleRange(p.rule, iLast + Sk - Sq, Sk, lo2, n2);
    blockLo = lo, blockHi = n2;
  }

  float m[kRowsPerWarp], l[kRowsPerWarp], acc[kRowsPerWarp][kPer];
  bool nan[kRowsPerWarp];
#pragma unroll
  for (int r = 0; r < kRowsPerWarp; ++r) {
    m[r] = -INFINITY, l[r] = 0.f, nan[r] = false;
#pragma unroll
    for (int c = 0; c < kPer; ++c)
      acc[r][c] = 0.f;
  }
  const int64_t kvBase = b * p.kvStrideB + g * p.kvStrideG;
  for (int64_t kt0 = blockLo / kBK * kBK; kt0 < blockHi; kt0 += kBK) {
    __syncthreads(); // the previous tile is consumed (and, the first time, Qs is written)
    for (int e = threadIdx.x; e < kBK * DHP; e += blockDim.x) {
      const int j = e / DHP, d = e % DHP;
      const int64_t key = kt0 + j;
      const bool ok = key < Sk && d < dh;
      const int64_t at = kvBase + key * p.kvStrideJ + d;
      Ks[j * (DHP + 1) + d] = ok ? load(kp, at) : 0.f;
      Vs[j * DHP + d] = ok ? load(vp, at) : 0.f;
    }
    __syncthreads();
#pragma unroll
    for (int r = 0; r < kRowsPerWarp; ++r) {
      const int row = warp * kRowsPerWarp + r;
      const int64_t i = q0 + row;
      if (i >= Sq) // warp-uniform
        continue;
      int64_t lo, n;
      visibleRange(p.rule, i + Sk - Sq, Sk, lo, n);
      const int64_t key = kt0 + lane;
      const bool visible = key >= lo && key < n;
      const bool counted = p.rule.hasHidden ? key < Sk : visible;
      float s = -INFINITY;
      if (counted) {
        float base;
        if (visible) {
          float dot = 0.f;
          const float *qr = Qs + row * DHP;
          const float *kr = Ks + lane * (DHP + 1);
#pragma unroll 16
          for (int d = 0; d < DHP; ++d)
            dot = fmaf(qr[d], kr[d], dot);
          base = dot * p.rule.scale;
        } else {
          base = p.rule.hidden;
        }
        s = p.mask.data ? base + maskAt(p.mask, b, h, i, key) : base;
      }
      const bool isNan = counted && isnan(s);
      if (__any_sync(kFull, isNan))
        nan[r] = true;
      if (isNan)
        s = -INFINITY;
      const float mNew = fmaxf(m[r], warpMax(s));
      if (mNew == -INFINITY) // nothing visible so far: every p is 0
        continue;
      const float corr = expf(m[r] - mNew);
      const float pj = expf(s - mNew);
      l[r] = l[r] * corr + warpSum(pj);
#pragma unroll
      for (int c = 0; c < kPer; ++c)
        acc[r][c] *= corr;
      for (int jj = 0; jj < kBK; ++jj) {
        const float pw = __shfl_sync(kFull, pj, jj);
        if (pw == 0.f) // warp-uniform: hidden keys, and those the softmax rounds to 0
          continue;
        const float *vr = Vs + jj * DHP + lane;
#pragma unroll
        for (int c = 0; c < kPer; ++c)
          acc[r][c] = fmaf(pw, vr[c * 32], acc[r][c]);
      }
      m[r] = mNew;
    }
  }
  T *o = static_cast<T *>(p.o);
#pragma unroll
  for (int r = 0; r < kRowsPerWarp; ++r) {
    const int64_t i = q0 + warp * kRowsPerWarp + r;
    if (i >= Sq)
      continue;
    const float inv = l[r] > 0.f ? 1.f / l[r] : 0.f;
#pragma unroll
    for (int c = 0; c < kPer; ++c) {
      const int d = c * 32 + lane;
      if (d < dh)
        store(o, (b * Sq + i) * D + h * dh + d, nan[r] ? NAN : acc[r][c] * inv);
    }
  }
}

// ---- decode ---------------------------------------------------------------------------------
constexpr int kKeysPerStep = 4; // keys a warp scores at once (independent shuffle chains)

template <typename T, typename C, int DHP>
__global__ void __launch_bounds__(kWarps * 32) decodeAttentionKernel(DecodeAttentionParams p) {
  constexpr int kPer = DHP / 32;
  const int64_t bh = blockIdx.x;
  const int split = blockIdx.y;
  const int64_t b = bh / p.H, h = bh % p.H, g = h / (p.H / p.G);
  const int64_t dh = p.dh, D = p.H * dh;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t keys = p.pastDev ? *p.pastDev + 1 : p.keysHost;
  // The query is the last position: n = keys; the window keeps the last `window` keys.
  const int64_t lo = p.rule.window > 0 ? max(keys - p.rule.window, int64_t(0)) : 0;
  const int64_t rangeLo = p.rule.hasHidden ? 0 : lo;
  const int64_t per = (keys - rangeLo + p.splits - 1) / p.splits;
  const int64_t c0 = rangeLo + split * per, c1 = min(c0 + per, keys);

  const T *qp = static_cast<const T *>(p.q);
  const C *kp = static_cast<const C *>(p.k);
  const C *vp = static_cast<const C *>(p.v);
  float qr[kPer], acc[kPer];
#pragma unroll
  for (int c = 0; c < kPer; ++c) {
    const int d = c * 32 + lane;
    qr[c] = d < dh ? load(qp, b * D + h * dh + d) : 0.f;
    acc[c] = 0.f;
  }
  float m = -INFINITY, l = 0.f;
  bool nan = false;
  const int64_t kvBase = b * p.kvStrideB + g * p.kvStrideG;
  for (int64_t j0 = c0 + int64_t(warp) * kKeysPerStep; j0 < c1;
       j0 += int64_t(kWarps) * kKeysPerStep) {
    float s[kKeysPerStep];
#pragma unroll
    for (int u = 0; u < kKeysPerStep; ++u) {
      const int64_t j = j0 + u;
      float part = 0.f;
      if (j < c1 && j >= lo) {
#pragma unroll
        for (int c = 0; c < kPer; ++c) {
          const int d = c * 32 + lane;
          if (d < dh)
            part = fmaf(qr[c], load(kp, kvBase + j * p.kvStrideJ + d), part);
        }
      }
      s[u] = part;
    }
#pragma unroll
    for (int o = 16; o > 0; o >>= 1)
#pragma unroll
      for (int u = 0; u < kKeysPerStep; ++u)
        s[u] += __shfl_xor_sync(kFull, s[u], o);
    float tileMax = -INFINITY;
#pragma unroll
    for (int u = 0; u < kKeysPerStep; ++u) {
      const int64_t j = j0 + u;
      if (j >= c1) {
        s[u] = -INFINITY;
        continue;
      }
      float v = j >= lo ? s[u] * p.rule.scale : p.rule.hidden; // j < lo only with a hidden score
      if (p.mask.data)
        v += maskAt(p.mask, b, h, 0, j);
      if (isnan(v)) {
        nan = true;
        v = -INFINITY;
      }
      s[u] = v;
      tileMax = fmaxf(tileMax, v);
    }
    const float mNew = fmaxf(m, tileMax);
    if (mNew == -INFINITY)
      continue;
    const float corr = expf(m - mNew);
    l *= corr;
#pragma unroll
    for (int c = 0; c < kPer; ++c)
      acc[c] *= corr;
#pragma unroll
    for (int u = 0; u < kKeysPerStep; ++u) {
      const float pu = expf(s[u] - mNew);
      l += pu;
      if (pu == 0.f)
        continue;
      const int64_t j = j0 + u;
#pragma unroll
      for (int c = 0; c < kPer; ++c) {
        const int d = c * 32 + lane;
        if (d < dh)
          acc[c] = fmaf(pu, load(vp, kvBase + j * p.kvStrideJ + d), acc[c]);
      }
    }
    m = mNew;
  }
  // Partial [m, l, nan, pad, acc[dh]] of (bh, split, warp).
  float *part =
      p.partials + ((bh * p.splits + split) * kDecodeWarps + warp) * (dh + 4);
  if (lane == 0) {
    part[0] = m;
    part[1] = l;
    part[2] = nan ? 1.f : 0.f;
  }
#pragma unroll
  for (int c = 0; c < kPer; ++c) {
    const int d = c * 32 + lane;
    if (d < dh)
      part[4 + d] = acc[c];
  }
}

template <typename T>
__global__ void decodeCombineKernel(const float *partials, int parts, int64_t H, int64_t dh,
                                    void *out) {
  const int64_t bh = blockIdx.x;
  const int64_t b = bh / H, h = bh % H;
  const float *base = partials + bh * parts * (dh + 4);
  float M = -INFINITY;
  bool nan = false;
  for (int i = 0; i < parts; ++i) {
    M = fmaxf(M, base[i * (dh + 4)]);
    nan |= base[i * (dh + 4) + 2] != 0.f;
  }
  float L = 0.f;
  if (M != -INFINITY)
    for (int i = 0; i < parts; ++i)
      L += expf(base[i * (dh + 4)] - M) * base[i * (dh + 4) + 1];
  T *o = static_cast<T *>(out);
  for (int64_t d = threadIdx.x; d < dh; d += blockDim.x) {
    float v = 0.f;
    if (nan) {
      v = NAN;
    } else if (M != -INFINITY) {
      for (int i = 0; i < parts; ++i) {
        const float w = expf(base[i * (dh + 4)] - M);
        if (w != 0.f)
          v = fmaf(w, base[i * (dh + 4) + 4 + d], v);
      }
      v /= L;
    }
    store(o, b * H * dh + h * dh + d, v);
  }
}

// ---- cache writes ---------------------------------------------------------------------------
template <typename X, typename C> __global__ void cacheWriteKernel(CacheWriteParams p) {
  const int64_t pos0 = p.posDev ? *p.posDev : p.posHost;
  const int64_t Dk = p.G * p.dh, total = p.B * p.S * Dk;
  const X *x = static_cast<const X *>(p.x);
  C *cache = static_cast<C *>(p.cache);
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t d = e % p.dh, g = (e / p.dh) % p.G, s = (e / Dk) % p.S, b = e / (Dk * p.S);
    const int64_t pos = pos0 + s;
    if (pos < p.maxLength)
      store(cache, ((b * p.G + g) * p.maxLength + pos) * p.dh + d, load(x, e));
  }
}

__global__ void setInt64Kernel(int64_t *dst, int64_t value) { *dst = value; }

/// Calls f(C *) for the KV dtype, then the DHP the head dim pads to; false for dh > 256.
template <typename F> bool dispatchHeadDim(int64_t dh, F &&f) {
  if (dh <= 64)
    f(std::integral_constant<int, 64>());
  else if (dh <= 128)
    f(std::integral_constant<int, 128>());
  else if (dh <= 256)
    f(std::integral_constant<int, 256>());
  else
    return false;
  return true;
}

} // namespace

void launchFusedAttention(const KernelContext &ctx, const FusedAttentionParams &p) {
  const int64_t tiles = (p.Sq + kBQ - 1) / kBQ;
  if (tiles > 65535)
    ctx.fail(TFC_UNSUPPORTED, "%lld queries are above the %d the CUDA attention kernel takes",
             (long long)p.Sq, 65535 * kBQ);
  const cudaStream_t stream = cudaDevice(ctx).stream();
  bool dtypes = dispatchFloat(p.qDtype, [&](auto qTag) {
    using T = std::remove_pointer_t<decltype(qTag)>;
    bool kv = dispatchFloat(p.kvDtype, [&](auto kvTag) {
      using C = std::remove_pointer_t<decltype(kvTag)>;
      bool dims = dispatchHeadDim(p.dh, [&](auto dhp) {
        constexpr int DHP = decltype(dhp)::value;
        auto kernel = fusedAttentionKernel<T, C, DHP>;
        constexpr size_t smem = fusedSmemBytes<DHP>();
        if (smem > 48 * 1024)
          cudaCheck(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                         int(smem)),
                    "cudaFuncSetAttribute (attention shared memory)");
        kernel<<<dim3(unsigned(p.B * p.H), unsigned(tiles)), kWarps * 32, smem, stream>>>(p);
        launchCheck(ctx, "fusedAttentionKernel");
      });
      if (!dims)
        ctx.fail(TFC_UNSUPPORTED, "head_dim %lld is above the 256 the CUDA attention kernel takes",
                 (long long)p.dh);
    });
    if (!kv)
      ctx.fail(TFC_INTERNAL, "keys/values of dtype %s", dtypeName(p.kvDtype));
  });
  if (!dtypes)
    ctx.fail(TFC_INTERNAL, "q of dtype %s", dtypeName(p.qDtype));
}

int decodeSplits(int64_t rowsTimesHeads, int64_t maxLength, int multiProcessors) {
  const int64_t want = (2 * int64_t(multiProcessors) + rowsTimesHeads - 1) /
                       std::max<int64_t>(rowsTimesHeads, 1);
  const int64_t byLength = std::max<int64_t>((maxLength + 63) / 64, 1);
  return int(std::max<int64_t>(1, std::min<int64_t>({want, byLength, 64})));
}

void launchDecodeAttention(const KernelContext &ctx, const DecodeAttentionParams &p) {
  const cudaStream_t stream = cudaDevice(ctx).stream();
  bool dtypes = dispatchFloat(p.qDtype, [&](auto qTag) {
    using T = std::remove_pointer_t<decltype(qTag)>;
    bool kv = dispatchFloat(p.kvDtype, [&](auto kvTag) {
      using C = std::remove_pointer_t<decltype(kvTag)>;
      bool dims = dispatchHeadDim(p.dh, [&](auto dhp) {
        constexpr int DHP = decltype(dhp)::value;
        decodeAttentionKernel<T, C, DHP>
            <<<dim3(unsigned(p.B * p.H), unsigned(p.splits)), kWarps * 32, 0, stream>>>(p);
        launchCheck(ctx, "decodeAttentionKernel");
      });
      if (!dims)
        ctx.fail(TFC_UNSUPPORTED, "head_dim %lld is above the 256 the CUDA attention kernel takes",
                 (long long)p.dh);
    });
    if (!kv)
      ctx.fail(TFC_INTERNAL, "keys/values of dtype %s", dtypeName(p.kvDtype));
    decodeCombineKernel<T><<<unsigned(p.B * p.H), 128, 0, stream>>>(
        p.partials, p.splits * kDecodeWarps, p.H, p.dh, p.o);
    launchCheck(ctx, "decodeCombineKernel");
  });
  if (!dtypes)
    ctx.fail(TFC_INTERNAL, "q of dtype %s", dtypeName(p.qDtype));
}

void launchCacheWrite(const KernelContext &ctx, const CacheWriteParams &p) {
  const int64_t total = p.B * p.S * p.G * p.dh;
  if (total == 0)
    return;
  const cudaStream_t stream = cudaDevice(ctx).stream();
  bool ok = dispatchFloat(p.xDtype, [&](auto xTag) {
    using X = std::remove_pointer_t<decltype(xTag)>;
    bool c = dispatchFloat(p.cacheDtype, [&](auto cTag) {
      using C = std::remove_pointer_t<decltype(cTag)>;
      cacheWriteKernel<X, C><<<gridFor(total, 256), 256, 0, stream>>>(p);
      launchCheck(ctx, "cacheWriteKernel");
    });
    if (!c)
      ctx.fail(TFC_INTERNAL, "a KV cache slot of dtype %s", dtypeName(p.cacheDtype));
  });
  if (!ok)
    ctx.fail(TFC_INTERNAL, "keys/values of dtype %s", dtypeName(p.xDtype));
}

void launchSetInt64(cudaStream_t stream, int64_t *dst, int64_t value) {
  setInt64Kernel<<<1, 1, 0, stream>>>(dst, value);
  cudaCheck(cudaGetLastError(), "launch of setInt64Kernel");
}

} // namespace tfc::rt::cuda
