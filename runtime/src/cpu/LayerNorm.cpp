//===- LayerNorm.cpp - LayerNorm (fused, last axis, residual) and LayerNormalization (ONNX) ----===//
//
// Both normalize rows: y = (x - mean) / sqrt(var + eps) * gamma + beta with the biased variance.
// LayerNorm normalizes the last axis of x (+ residual, added first; same shape as x) with 1-D
// gamma/beta; LayerNormalization normalizes the dims from `axis` to the end with scale (and
// optional bias) holding that many elements (or one). Per row: the sum, then the squared
// deviations from the mean (both accumulated in float vector lanes), then the scaling;
// rows split across threads.
//
//===----------------------------------------------------------------------------------------===//
#include "cpu/Common.h"

#include <cmath>

namespace tfc::rt {
namespace {

/// One row: y = LN(x (+ r)) * g + b (see normalizeRows). Two passes in float vector lanes (the
/// mean, then the squared deviations from it; as PyTorch's CPU kernel, in float): each lane sums
/// cols / W values, and the second pass never subtracts two large sums (TFC_CPU_CLONES).
TFC_CPU_CLONES void normalizeRow(const float *xr, const float *rr, float *yr, int64_t cols,
                                 const float *g, int64_t gStride, const float *b,
                                 int64_t bStride, float eps) {
  float sum = 0, sq = 0;
  if (rr) {
#pragma omp simd reduction(+ : sum)
    for (int64_t j = 0; j < cols; ++j) {
      float v = xr[j] + rr[j];
      yr[j] = v;
      sum += v;
    }
    xr = yr;
  } else {
#pragma omp simd reduction(+ : sum)
    for (int64_t j = 0; j < cols; ++j)
      sum += xr[j];
  }
  const float mean = sum / float(cols);
#pragma omp simd reduction(+ : sq)
  for (int64_t j = 0; j < cols; ++j) {
    float d = xr[j] - mean;
    sq += d * d;
  }
  const float inv = 1.f / std::sqrt(sq / float(cols) + eps);
  const float m = mean;
  if (gStride == 1 && b && bStride == 1) {
#pragma omp simd
    for (int64_t j = 0; j < cols; ++j)
      yr[j] = (xr[j] - m) * inv * g[j] + b[j];
    return;
  }
  for (int64_t j = 0; j < cols; ++j) {
    float v = (xr[j] - m) * inv * g[j * gStride];
    yr[j] = b ? v + b[j * bStride] : v;
  }
}

/// Normalizes `rows` rows of `cols`: y = LN(x (+ r)) * g + b; g/b have `cols` elements, or 1
/// (gStride/bStride 0); b may be null.
void normalizeRows(const float *x, const float *r, float *y, int64_t rows, int64_t cols,
                   const float *g, int64_t gStride, const float *b, int64_t bStride, float eps) {
#pragma omp parallel for schedule(static) if (rows * cols >= 16384)
  for (int64_t i = 0; i < rows; ++i)
    normalizeRow(x + i * cols, r ? r + i * cols : nullptr, y + i * cols, cols, g, gStride, b,
                 bStride, eps);
}

} // namespace

std::string checkLayerNorm(const FunctionDesc &fn, const KernelDesc &k) {
  static const char *names[] = {"x", "gamma", "beta", "residual"};
  for (size_t i = 0; i < k.inputs.size(); ++i) {
    std::string e = expectDtype(fn, k, i, names[i], {TFC_F32});
    if (!e.empty())
      return e;
  }
  return expectOutDtype(fn, k, 0, {TFC_F32});
}

void runLayerNorm(const KernelContext &ctx) {
  const NormGeometry g = layerNormGeometry(ctx);
  if (g.cols == 0)
    return;
  const Tensor *r = ctx.in(3);
  normalizeRows(ctx.in(0)->as<float>(), r ? r->as<float>() : nullptr, ctx.out(0).as<float>(),
                g.rows, g.cols, ctx.in(1)->as<float>(), 1, ctx.in(2)->as<float>(), 1, g.eps);
}

std::string checkLayerNormalization(const FunctionDesc &fn, const KernelDesc &k) {
  static const char *names[] = {"x", "scale", "bias"};
  for (size_t i = 0; i < k.inputs.size(); ++i) {
    std::string e = expectDtype(fn, k, i, names[i], {TFC_F32});
    if (!e.empty())
      return e;
  }
  const int32_t given = options<tfc::plan::LayerNormalizationOptionsT>(k).axis;
  int64_t axis = given;
  if (!normalizeAxis(axis, fn.values[k.inputs[0]].rank))
    return format("axis %d is out of range for rank %d", given, fn.values[k.inputs[0]].rank);
  return expectOutDtype(fn, k, 0, {TFC_F32});
}

void runLayerNormalization(const KernelContext &ctx) {
  const NormGeometry g = layerNormalizationGeometry(ctx);
  if (g.cols == 0 || g.rows == 0)
    return;
  const Tensor *b = ctx.in(2);
  normalizeRows(ctx.in(0)->as<float>(), nullptr, ctx.out(0).as<float>(), g.rows, g.cols,
                ctx.in(1)->as<float>(), g.gammaStride, b ? b->as<float>() : nullptr, g.betaStride,
                g.eps);
}

} // namespace tfc::rt
