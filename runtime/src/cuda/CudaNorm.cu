//===- CudaNorm.cu - LayerNorm (fused, residual), LayerNormalization, RmsNorm on the GPU ------===//
//
// The semantics of cpu/LayerNorm.cpp and cpu/RmsNorm.cpp with the geometry of KernelShapes.h:
// rows of `cols` elements, v = x (+ residual), y = (v - mean) / sqrt(var + eps) * gamma + beta
// (biased variance) or y = v / sqrt(mean(v^2) + eps) * (w [+ 1]). The fused kernels have one
// output: the residual sum is not an output (the CPU only stages it in y).
//
// One warp per row up to 1024 columns, else a block of 256 (512 from 4096) threads per row.
// Two passes for the statistics (the mean, then the sum of squared deviations: no cancellation
// on rows with a large mean) and one to write, in f32; v is recomputed in each pass rather than
// stored, so y may alias x. gamma/beta may have a dtype other than x's (FloatRef).
//
//===----------------------------------------------------------------------------------------===//
#include "cuda/CudaMath.cuh"

namespace tfc::rt {
namespace cuda {
namespace {

struct NormArgs {
  FloatRef x, r, gamma, beta; // r.p / beta.p null when absent
  FloatOut y;
  NormGeometry g;
  bool rms = false;
  float offset = 0.f; // RmsNorm's unit offset (Gemma: (1 + w))
};

template <int G> __global__ void normKernel(NormArgs a) {
  __shared__ float slots[G / 32];
  const int lane = threadIdx.x % G;
  const int64_t cols = a.g.cols;
  for (int64_t row = int64_t(blockIdx.x) * (blockDim.x / G) + threadIdx.x / G; row < a.g.rows;
       row += int64_t(gridDim.x) * (blockDim.x / G)) {
    const int64_t base = row * cols;
    auto v = [&](int64_t j) { return a.r.p ? a.x[base + j] + a.r[base + j] : a.x[base + j]; };
    float mean = 0.f, inv;
    if (a.rms) {
      float sq = 0.f;
      for (int64_t j = lane; j < cols; j += G) {
        float t = v(j);
        sq += t * t;
      }
      sq = groupReduce<G, false>(sq, slots);
      inv = 1.f / sqrtf(sq / float(cols) + a.g.eps);
    } else {
      float sum = 0.f;
      for (int64_t j = lane; j < cols; j += G)
        sum += v(j);
      mean = groupReduce<G, false>(sum, slots) / float(cols);
      float sq = 0.f;
      for (int64_t j = lane; j < cols; j += G) {
        float d = v(j) - mean;
        sq += d * d;
      }
      sq = groupReduce<G, false>(sq, slots);
      inv = 1.f / sqrtf(sq / float(cols) + a.g.eps);
    }
    // Each element is read and written by the same thread: y may alias x.
    for (int64_t j = lane; j < cols; j += G) {
      float t = (v(j) - mean) * inv * (a.gamma[j * a.g.gammaStride] + a.offset);
      if (a.beta.p)
        t += a.beta[j * a.g.betaStride];
      a.y.set(base + j, t);
    }
  }
}

void launchNorm(const KernelContext &ctx, const NormArgs &a) {
  if (a.g.rows == 0 || a.g.cols == 0)
    return;
  cudaStream_t s = cudaDevice(ctx).stream();
  if (a.g.cols <= 1024)
    normKernel<32><<<gridFor(a.g.rows, 256 / 32), 256, 0, s>>>(a);
  else if (a.g.cols < 4096)
    normKernel<256><<<gridFor(a.g.rows, 1), 256, 0, s>>>(a);
  else
    normKernel<512><<<gridFor(a.g.rows, 1), 512, 0, s>>>(a);
  launchCheck(ctx, "normKernel");
}

} // namespace
} // namespace cuda

using namespace cuda;

void cudaRunLayerNorm(const KernelContext &ctx) {
  NormArgs a;
  a.g = layerNormGeometry(ctx);
  a.x = floatRef(ctx.in(0)), a.gamma = floatRef(ctx.in(1)), a.beta = floatRef(ctx.in(2));
  a.r = floatRef(ctx.in(3));
  a.y = floatOut(ctx.out(0));
  launchNorm(ctx, a);
}

void cudaRunLayerNormalization(const KernelContext &ctx) {
  NormArgs a;
  a.g = layerNormalizationGeometry(ctx);
  a.x = floatRef(ctx.in(0)), a.gamma = floatRef(ctx.in(1)), a.beta = floatRef(ctx.in(2));
  a.y = floatOut(ctx.out(0));
  launchNorm(ctx, a);
}

void cudaRunRmsNorm(const KernelContext &ctx) {
  NormArgs a;
  a.g = rmsNormGeometry(ctx);
  a.x = floatRef(ctx.in(0)), a.gamma = floatRef(ctx.in(1)), a.r = floatRef(ctx.in(2));
  a.y = floatOut(ctx.out(0));
  a.rms = true;
  a.offset = options<tfc::plan::RmsNormOptionsT>(*ctx.k).unit_offset ? 1.f : 0.f;
  launchNorm(ctx, a);
}

} // namespace tfc::rt
