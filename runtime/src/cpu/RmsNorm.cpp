//===- RmsNorm.cpp - RmsNorm (fused RMS norm over the last axis, optional residual) ----------===//
//
// See RmsNorm.h. One pass per row, rows split across threads; the sum of squares accumulates in
// double so that long rows and large activations keep full f32 accuracy. The kernel: inputs x,
// weight (1-D, the last dim's size), residual (-1, or x's shape); RmsNormOptions epsilon and
// unit_offset.
//
//===----------------------------------------------------------------------------------------===//
#include "cpu/RmsNorm.h"

#include "cpu/Common.h"

#include <cmath>

namespace tfc::rt {

void rmsNormRows(const float *x, const float *r, float *y, int64_t rows, int64_t cols,
                 const float *w, bool unitOffset, float eps) {
  const float offset = unitOffset ? 1.0f : 0.0f;
#pragma omp parallel for schedule(static) if (rows * cols >= 16384)
  for (int64_t i = 0; i < rows; ++i) {
    const float *xr = x + i * cols;
    float *yr = y + i * cols;
    double sq = 0;
    if (r) {
      // The residual sum is written to y first and normalized in place.
      const float *rr = r + i * cols;
      for (int64_t j = 0; j < cols; ++j) {
        float v = xr[j] + rr[j];
        yr[j] = v;
        sq += double(v) * v;
      }
      xr = yr;
    } else {
      for (int64_t j = 0; j < cols; ++j)
        sq += double(xr[j]) * xr[j];
    }
    float inv = float(1.0 / std::sqrt(sq / double(cols) + double(eps)));
    for (int64_t j = 0; j < cols; ++j)
      yr[j] = xr[j] * inv * (w[j] + offset);
  }
}

std::string checkRmsNorm(const FunctionDesc &fn, const KernelDesc &k) {
  static const char *names[] = {"x", "weight", "residual"};
  for (size_t i = 0; i < k.inputs.size(); ++i) {
    std::string e = expectDtype(fn, k, i, names[i], {TFC_F32});
    if (!e.empty())
      return e;
  }
  float eps = options<tfc::plan::RmsNormOptionsT>(k).epsilon;
  if (!(eps > 0.0f) || !std::isfinite(eps))
    return format("epsilon %g is not finite and > 0", double(eps));
  return expectOutDtype(fn, k, 0, {TFC_F32});
}

void runRmsNorm(const KernelContext &ctx) {
  const NormGeometry g = rmsNormGeometry(ctx);
  if (g.cols == 0)
    return;
  const Tensor *r = ctx.in(2);
  rmsNormRows(ctx.in(0)->as<float>(), r ? r->as<float>() : nullptr, ctx.out(0).as<float>(),
              g.rows, g.cols, ctx.in(1)->as<float>(),
              options<tfc::plan::RmsNormOptionsT>(*ctx.k).unit_offset, g.eps);
}

} // namespace tfc::rt
