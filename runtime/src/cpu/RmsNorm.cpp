//===- RmsNorm.cpp - RmsNorm (fused RMS norm over the last axis, optional residual) ----------===//
//
// See RmsNorm.h. One pass per row, rows split across threads; the sum of squares accumulates in
// double so that long rows and large activations keep full f32 accuracy.
//
//===----------------------------------------------------------------------------------------===//
#include "cpu/RmsNorm.h"

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

} // namespace tfc::rt
