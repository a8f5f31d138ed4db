//===- CudaCommon.cuh - what the CUDA kernels share: dtype access, launch checks, indexing -*- CUDA -*-===//
//
// Device code reads and writes f32, f16 and bf16 through load<T>/store<T> and computes in f32
// (fp16/bf16 plans accumulate in f32 everywhere). Launches go through launchCheck so a bad
// configuration is an Error naming the kernel, not a silent no-op.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_RUNTIME_CUDA_CUDACOMMON_CUH
#define TFC_RUNTIME_CUDA_CUDACOMMON_CUH

#include "cuda/CudaBackend.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

namespace tfc::rt::cuda {

template <typename T> __device__ __forceinline__ float load(const T *p, int64_t i) {
  return float(p[i]);
}
template <> __device__ __forceinline__ float load<__half>(const __half *p, int64_t i) {
  return __half2float(p[i]);
}
template <> __device__ __forceinline__ float load<__nv_bfloat16>(const __nv_bfloat16 *p,
                                                                 int64_t i) {
  return __bfloat162float(p[i]);
}
template <typename T> __device__ __forceinline__ void store(T *p, int64_t i, float v) {
  p[i] = T(v);
}
template <> __device__ __forceinline__ void store<__half>(__half *p, int64_t i, float v) {
  p[i] = __float2half_rn(v);
}
template <> __device__ __forceinline__ void store<__nv_bfloat16>(__nv_bfloat16 *p, int64_t i,
                                                               float v) {
  p[i] = __float2bfloat16_rn(v);
}

/// Calls f((T *)nullptr) with T the C++ type of a float dtype (float, __half, __nv_bfloat16);
/// returns false for any other dtype. In f: `using T = std::remove_pointer_t<decltype(tag)>;`.
template <typename F> bool dispatchFloat(tfc_dtype dtype, F &&f) {
  switch (dtype) {
  case TFC_F32: f(static_cast<float *>(nullptr)); return true;
  case TFC_F16: f(static_cast<__half *>(nullptr)); return true;
  case TFC_BF16: f(static_cast<__nv_bfloat16 *>(nullptr)); return true;
  default: return false;
  }
}

/// Blocks of `threads` covering n elements (grid-stride loops cap the grid at 65535*8 blocks).
inline unsigned gridFor(int64_t n, unsigned threads) {
  int64_t b = (n + threads - 1) / threads;
  if (b < 1)
    b = 1;
  if (b > 65535LL * 8)
    b = 65535LL * 8;
  return unsigned(b);
}

/// Checks the launch just made (configuration errors) and fails the kernel naming it.
inline void launchCheck(const KernelContext &ctx, const char *what) {
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess)
    ctx.fail(TFC_INTERNAL, "CUDA launch of %s failed: %s", what, cudaGetErrorString(e));
}

} // namespace tfc::rt::cuda

#endif // TFC_RUNTIME_CUDA_CUDACOMMON_CUH
