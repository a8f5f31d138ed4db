//===- WeightPrecision.h - bf16 / int8 weights for a cpu plan (weight-only) ------*- C++ -*-===//
//
// `tfc compile --target cpu --precision bf16|int8`: the plan computes in f32 (the IR is not
// retyped) and the constant weights of its Linear and GatedLinear kernels (the projections,
// the feed-forward layers, the LM head: the bytes a decode step reads) are stored in the
// precision, which is what a memory-bound decode step gains from:
//   * bf16: each f32 rounded to nearest even (support/Float16.h; finite values beyond the range
//     saturated, with a warning naming the weight);
//   * int8: symmetric per output column (support/Int8Weights.h), the scale an f32 constant [N]
//     named "<weight>/scale", given to the kernel as its scale input (Linear input 4,
//     GatedLinear inputs 3 and 4; tfc::plan::weightInputsOf). A weight with a value that is not
//     finite is an error naming it.
// Embedding tables, norms, biases and every other constant stay f32, as does a weight that is
// not a plan constant (computed at run time) or not [K, N]. A constant read both as such a
// weight and by another kernel (or port) keeps its f32 copy for the others, and the converted
// copy is named "<name>@bf16" / "<name>@i8"; a constant no value reads any more is dropped.
// Each weight is converted once for all the plan's functions.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_LOWER_CPU_WEIGHTPRECISION_H
#define TFC_LOWER_CPU_WEIGHTPRECISION_H

#include "tfc/plan/PlanDesc.h"

#include <set>
#include <string>
#include <vector>

namespace tfc::lower {

struct WeightConversion {
  size_t weights = 0;         // constants converted
  uint64_t bytesBefore = 0;   // their f32 bytes
  uint64_t bytesAfter = 0;    // their converted bytes (int8: with the scales)
};

/// Converts the Linear / GatedLinear constant weights of every function of `plan` to `dtype`
/// (BF16 or I8; F32 leaves the plan as it is) and sets plan.weightPrecision. Warnings (bf16
/// saturation) go to `warnings` when given. Errors name the weight. The constants named in
/// `keepF32` (the accuracy check's fallback, tools/tfc/PrecisionCheck.h) stay f32.
planner::Status convertWeightPrecision(planner::Plan &plan, planner::fb::DType dtype,
                                       std::vector<std::string> *warnings,
                                       WeightConversion *stats = nullptr,
                                       const std::set<std::string> *keepF32 = nullptr);

} // namespace tfc::lower

#endif // TFC_LOWER_CPU_WEIGHTPRECISION_H
