//===- PlanKernels.h - which options table each kernel kind carries -------------*- C++ -*-===//
//
// Shared by the compiler's plan writer and the runtime's loader, with plan.fbs: the writer
// refuses to write, and the loader to load, a kernel whose `options` are not its kind's table.
// Header-only; it needs the generated plan_generated.h (FlatBuffers only, no MLIR).
//
//===----------------------------------------------------------------------===//
#ifndef TFC_SCHEMA_PLANKERNELS_H
#define TFC_SCHEMA_PLANKERNELS_H

#include "tfc/schema/plan_generated.h"

namespace tfc::plan {

/// The KernelOptions member a kernel of `kind` carries; NONE for a kind without attributes
/// (and for an unknown kind, which the callers refuse first). A new kind adds its case here
/// (-Wswitch names a missing one).
constexpr KernelOptions kernelOptionsOf(KernelKind kind) {
  switch (kind) {
  case KernelKind::Binary: return KernelOptions::BinaryOptions;
  case KernelKind::Unary: return KernelOptions::UnaryOptions;
  case KernelKind::Reduce: return KernelOptions::ReduceOptions;
  case KernelKind::Softmax: return KernelOptions::SoftmaxOptions;
  case KernelKind::LayerNormalization: return KernelOptions::LayerNormalizationOptions;
  case KernelKind::Gather: return KernelOptions::GatherOptions;
  case KernelKind::Transpose: return KernelOptions::TransposeOptions;
  case KernelKind::Concat: return KernelOptions::ConcatOptions;
  case KernelKind::Slice: return KernelOptions::SliceOptions;
  case KernelKind::LayerNorm: return KernelOptions::LayerNormOptions;
  case KernelKind::Attention: return KernelOptions::AttentionOptions;
  case KernelKind::Linear: return KernelOptions::LinearOptions;
  case KernelKind::Embedding: return KernelOptions::EmbeddingOptions;
  case KernelKind::CachedAttention: return KernelOptions::CachedAttentionOptions;
  case KernelKind::CacheStore: return KernelOptions::CacheStoreOptions;
  case KernelKind::Rotary: return KernelOptions::RotaryOptions;
  case KernelKind::RmsNorm: return KernelOptions::RmsNormOptions;
  case KernelKind::GatedLinear: return KernelOptions::GatedLinearOptions;
  case KernelKind::Compare: return KernelOptions::CompareOptions;
  case KernelKind::CumSum: return KernelOptions::CumSumOptions;
  case KernelKind::Tile: return KernelOptions::TileOptions;
  case KernelKind::GatherElements: return KernelOptions::GatherElementsOptions;
  case KernelKind::ArgMax: return KernelOptions::ArgMaxOptions;
  case KernelKind::Trilu: return KernelOptions::TriluOptions;
  case KernelKind::Conv: return KernelOptions::ConvOptions;
  case KernelKind::MatMul:
  case KernelKind::Reshape:
  case KernelKind::Shape:
  case KernelKind::Expand:
  case KernelKind::Where:
  case KernelKind::Cast:
    return KernelOptions::NONE;
  }
  return KernelOptions::NONE;
}

/// A weight input of a kernel, which a plan may hold in its weight precision (plan.fbs
/// Plan.weight_precision, 2.2), and the input of its scale (present for an I8 weight only).
struct WeightInput {
  int32_t weight;
  int32_t scale;
};
struct WeightInputs {
  WeightInput list[2];
  int count;
};

/// The weight inputs of a kernel of `kind`: Linear (weight 1, scale 4), GatedLinear (1 with 3,
/// 2 with 4); none for the other kinds.
constexpr WeightInputs weightInputsOf(KernelKind kind) {
  switch (kind) {
  case KernelKind::Linear: return {{{1, 4}, {-1, -1}}, 1};
  case KernelKind::GatedLinear: return {{{1, 3}, {2, 4}}, 2};
  default: return {{{-1, -1}, {-1, -1}}, 0};
  }
}

/// Whether input `i` of a kernel of `kind` is a weight (weightInputsOf) or a weight's scale.
constexpr bool isWeightOrScaleInput(KernelKind kind, int64_t i) {
  WeightInputs w = weightInputsOf(kind);
  for (int j = 0; j < w.count; ++j)
    if (w.list[j].weight == i || w.list[j].scale == i)
      return true;
  return false;
}

/// Whether `value` is one of the schema enum's values (FlatBuffers does not verify enum
/// fields: a plan may hold any 32-bit number there).
template <typename E> constexpr bool isKnownEnumValue(E value) {
  return static_cast<int64_t>(value) >= static_cast<int64_t>(E::MIN) &&
         static_cast<int64_t>(value) <= static_cast<int64_t>(E::MAX);
}

/// "BinaryOptions", ..., "NONE"; "unknown" for a number outside the union.
inline const char *kernelOptionsName(KernelOptions type) {
  return isKnownEnumValue(type) ? EnumNameKernelOptions(type) : "unknown";
}

} // namespace tfc::plan

#endif // TFC_SCHEMA_PLANKERNELS_H
