//===- CudaMath.cuh - what the math, norm and index kernels share: broadcast offsets, dtype-generic loads, reductions -*- CUDA -*-===//
//
// * Broadcasting: the host computes BroadcastStrides (KernelShapes.h, shared with the CPU) and
//   passes them by value as BcastParams; a thread maps its output index to each operand's offset
//   with int64 arithmetic. Rank 1 (same-shape contiguous operands, or a scalar operand) skips the
//   index arithmetic.
// * Float operands whose dtype may differ from the output's (a norm's gamma kept in f32 in an
//   fp16 plan, a mask-only f32 softmax) are read through FloatRef: a pointer and its dtype, with
//   a warp-uniform switch per load. The kernels using it are memory-bound; the switch costs a
//   few instructions and spares 9 template instantiations per kernel.
// * Reductions: sums and maxima over a warp (shuffles) or a block (shared memory, one slot per
//   warp), always in f32.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_RUNTIME_CUDA_CUDAMATH_CUH
#define TFC_RUNTIME_CUDA_CUDAMATH_CUH

#include "KernelShapes.h"
#include "cuda/CudaCommon.cuh"

namespace tfc::rt::cuda {

/// Broadcast strides for N operands as a kernel argument.
template <int N> struct BcastParams {
  int rank;
  int64_t dims[kMaxRank];
  int64_t strides[N][kMaxRank];
};

template <int N> BcastParams<N> bcastParams(const Shape &out, const Shape *const (&ins)[N]) {
  BroadcastStrides<N> s(out, ins);
  BcastParams<N> p;
  p.rank = s.rank;
  for (int i = 0; i < kMaxRank; ++i) {
    p.dims[i] = i < s.rank ? s.dims[i] : 1;
    for (int k = 0; k < N; ++k)
      p.strides[k][i] = i < s.rank ? s.strides[k][i] : 0;
  }
  return p;
}

/// Offsets of output element i in each operand (Flat: rank 1).
template <int N, bool Flat>
__device__ __forceinline__ void bcastOffsets(const BcastParams<N> &p, int64_t i, int64_t (&off)[N]) {
  if constexpr (Flat) {
#pragma unroll
    for (int k = 0; k < N; ++k)
      off[k] = i * p.strides[k][0];
  } else {
#pragma unroll
    for (int k = 0; k < N; ++k)
      off[k] = 0;
    for (int d = p.rank - 1; d >= 0; --d) {
      int64_t idx = i % p.dims[d];
      i /= p.dims[d];
#pragma unroll
      for (int k = 0; k < N; ++k)
        off[k] += idx * p.strides[k][d];
    }
  }
}

/// A float operand of any float dtype.
struct FloatRef {
  const void *p = nullptr;
  tfc_dtype dtype = TFC_F32;
  __device__ __forceinline__ float operator[](int64_t i) const {
    switch (dtype) {
    case TFC_F16: return __half2float(static_cast<const __half *>(p)[i]);
    case TFC_BF16: return __bfloat162float(static_cast<const __nv_bfloat16 *>(p)[i]);
    default: return static_cast<const float *>(p)[i];
    }
  }
};
/// A float output of any float dtype (round to nearest even).
struct FloatOut {
  void *p = nullptr;
  tfc_dtype dtype = TFC_F32;
  __device__ __forceinline__ void set(int64_t i, float v) const {
    switch (dtype) {
    case TFC_F16: static_cast<__half *>(p)[i] = __float2half_rn(v); break;
    case TFC_BF16: static_cast<__nv_bfloat16 *>(p)[i] = __float2bfloat16_rn(v); break;
    default: static_cast<float *>(p)[i] = v; break;
    }
  }
};

inline FloatRef floatRef(const Tensor *t) {
  return t ? FloatRef{t->data, t->dtype} : FloatRef{};
}
inline FloatOut floatOut(const Tensor &t) { return FloatOut{t.data, t.dtype}; }
inline bool isFloat(tfc_dtype d) { return d == TFC_F32 || d == TFC_F16 || d == TFC_BF16; }

__device__ __forceinline__ float warpSum(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1)
    v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
/// The max skipping NaN (a NaN never wins a comparison), as the CPU's row max.
// fmaxf skips a NaN operand and is symmetric, so every lane of a butterfly ends with one value.
__device__ __forceinline__ float maxSkipNan(float a, float b) { return fmaxf(a, b); }
__device__ __forceinline__ float warpMax(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1)
    v = maxSkipNan(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

/// Sum (or NaN-skipping max) over a group of G threads: G == 32 is one warp (no shared memory);
/// G > 32 is the whole block (blockDim.x == G), through `slots` (G / 32 floats, shared). Every
/// thread of the group gets the result. Block groups synchronize: call uniformly.
template <int G, bool Max> __device__ __forceinline__ float groupReduce(float v, float *slots) {
  v = Max ? warpMax(v) : warpSum(v);
  if (G == 32)
    return v;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  __syncthreads(); // the slots may still be read from the previous reduction
  if (lane == 0)
    slots[warp] = v;
  __syncthreads();
  float r = lane < G / 32 ? slots[lane] : (Max ? -INFINITY : 0.f);
  return Max ? warpMax(r) : warpSum(r);
}

} // namespace tfc::rt::cuda

#endif // TFC_RUNTIME_CUDA_CUDAMATH_CUH
