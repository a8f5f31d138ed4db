//===- CudaGemmKernels.cu - element-wise epilogues and im2col of the CUDA GEMM kernels --------===//
//
// What cuBLASLt's epilogues cannot do exactly as the CPU does: Relu keeping NaN (v < 0 ? 0 : v),
// GELU with erf, a residual added after the activation or broadcast over rows, the gate of
// GatedLinear, the bias of Conv (one per output channel, i.e. per row of the row-major product).
// All compute in f32 with the precise libm functions (erff, tanhf, expf), as the CPU does.
//
//===----------------------------------------------------------------------------------------===//
#include "cuda/CudaCommon.cuh"
#include "cuda/CudaGemm.h"

namespace tfc::rt {
namespace {

using cuda::gridFor;
using cuda::launchCheck;
using cuda::load;
using cuda::store;

constexpr unsigned kThreads = 256;

__device__ __forceinline__ float activate(float v, EpilogueAct act) {
  switch (act) {
  case EpilogueAct::Relu: return v < 0.f ? 0.f : v; // NaN stays NaN (as the CPU)
  case EpilogueAct::GeluErf: return 0.5f * v * (1.f + erff(v * 0.70710678118654752f));
  case EpilogueAct::GeluTanh: {
    float u = 0.79788456080286536f * (v + 0.044715f * v * v * v);
    return 0.5f * v * (1.f + tanhf(u));
  }
  case EpilogueAct::Silu: return v / (1.f + expf(-v));
  case EpilogueAct::None: break;
  }
  return v;
}

struct Bcast {
  int rank = 0;
  int64_t dims[kMaxRank] = {};
  int64_t strides[kMaxRank] = {};
};

template <typename T>
__global__ void linearEpilogueKernel(T *y, int64_t n, EpilogueAct act, const T *r, Bcast b) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    float v = activate(load(y, i), act);
    if (r) {
      int64_t rem = i, off = 0;
      for (int k = b.rank - 1; k >= 0; --k) {
        off += (rem % b.dims[k]) * b.strides[k];
        rem /= b.dims[k];
      }
      v += load(r, off);
    }
    store(y, i, v);
  }
}

template <typename T>
__global__ void gatedKernel(const T *gate, T *y, int64_t n, EpilogueAct act) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x)
    store(y, i, activate(load(gate, i), act) * load(y, i));
}

template <typename T>
__global__ void channelBiasKernel(T *y, const T *bias, int64_t n, int64_t channels,
                                  int64_t spatial) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x)
    store(y, i, load(y, i) + load(bias, (i / spatial) % channels));
}

template <typename T>
__global__ void im2colKernel(const T *__restrict__ x, T *__restrict__ col, int64_t total,
                             Im2Col p) {
  const int64_t P = p.oh * p.ow;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += int64_t(gridDim.x) * blockDim.x) {
    // col[n][c][ky][kx][oy][ox]
    int64_t rem = i;
    int64_t pos = rem % P;
    rem /= P;
    int64_t kx = rem % p.kw;
    rem /= p.kw;
    int64_t ky = rem % p.kh;
    rem /= p.kh;
    int64_t c = rem % p.c, n = rem / p.c;
    int64_t oy = pos / p.ow, ox = pos % p.ow;
    int64_t iy = oy * p.strideH - p.padH + ky * p.dilH;
    int64_t ix = ox * p.strideW - p.padW + kx * p.dilW;
    bool inside = iy >= 0 && iy < p.h && ix >= 0 && ix < p.w;
    col[i] = inside ? x[((n * p.c + c) * p.h + iy) * p.w + ix] : T(0.f);
  }
}

template <typename F> void forFloat(const KernelContext &ctx, tfc_dtype dtype, F &&f) {
  if (!cuda::dispatchFloat(dtype, f))
    ctx.fail(TFC_UNSUPPORTED, "dtype %s", dtypeName(dtype));
}

} // namespace

void linearEpilogue(const KernelContext &ctx, tfc_dtype dtype, void *y, const Shape &out,
                    EpilogueAct act, const void *r, const int64_t *rStrides) {
  int64_t n = out.numel();
  if (n == 0)
    return;
  Bcast b;
  if (r) {
    b.rank = out.rank;
    for (int i = 0; i < out.rank; ++i) {
      b.dims[i] = out.d[i];
      b.strides[i] = rStrides[i];
    }
  }
  cudaStream_t s = cudaDevice(ctx).stream();
  forFloat(ctx, dtype, [&](auto tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    linearEpilogueKernel<T><<<gridFor(n, kThreads), kThreads, 0, s>>>(
        static_cast<T *>(y), n, act, static_cast<const T *>(r), b);
  });
  launchCheck(ctx, "Linear epilogue");
}

void gatedEpilogue(const KernelContext &ctx, tfc_dtype dtype, const void *gate, void *y,
                   int64_t n, EpilogueAct act) {
  if (n == 0)
    return;
  cudaStream_t s = cudaDevice(ctx).stream();
  forFloat(ctx, dtype, [&](auto tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    gatedKernel<T><<<gridFor(n, kThreads), kThreads, 0, s>>>(static_cast<const T *>(gate),
                                                             static_cast<T *>(y), n, act);
  });
  launchCheck(ctx, "GatedLinear gate");
}

void addChannelBias(const KernelContext &ctx, tfc_dtype dtype, void *y, const void *bias,
                    int64_t batch, int64_t channels, int64_t spatial) {
  int64_t n = batch * channels * spatial;
  if (n == 0)
    return;
  cudaStream_t s = cudaDevice(ctx).stream();
  forFloat(ctx, dtype, [&](auto tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    channelBiasKernel<T><<<gridFor(n, kThreads), kThreads, 0, s>>>(
        static_cast<T *>(y), static_cast<const T *>(bias), n, channels, spatial);
  });
  launchCheck(ctx, "Conv bias");
}

void im2col(const KernelContext &ctx, tfc_dtype dtype, const void *x, void *col, const Im2Col &p) {
  int64_t total = p.n * p.c * p.kh * p.kw * p.oh * p.ow;
  if (total == 0)
    return;
  cudaStream_t s = cudaDevice(ctx).stream();
  forFloat(ctx, dtype, [&](auto tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    im2colKernel<T><<<gridFor(total, kThreads), kThreads, 0, s>>>(static_cast<const T *>(x),
                                                                  static_cast<T *>(col), total, p);
  });
  launchCheck(ctx, "Conv im2col");
}

} // namespace tfc::rt
