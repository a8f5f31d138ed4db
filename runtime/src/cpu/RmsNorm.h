//===- RmsNorm.h - the math of the RmsNorm kernel (for the kernel and its tests) -------------===//
//
// y = v / sqrt(mean(v^2) + eps) * w over the last axis, v = x (+ r): LLaMA's, Mistral's,
// Qwen2's and T5's norm; with `unitOffset` the weight is applied as (1 + w) (Gemma). No mean is
// subtracted and there is no bias.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_RUNTIME_CPU_RMSNORM_H
#define TFC_RUNTIME_CPU_RMSNORM_H

#include <cstdint>

namespace tfc::rt {

/// Normalizes `rows` rows of `cols` floats of `x` (plus `r`, same layout, when non-null) into
/// `y` (which may alias `x`); `w` has `cols` elements.
void rmsNormRows(const float *x, const float *r, float *y, int64_t rows, int64_t cols,
                 const float *w, bool unitOffset, float eps);

} // namespace tfc::rt

#endif // TFC_RUNTIME_CPU_RMSNORM_H
