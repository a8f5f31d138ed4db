//===- Target.h - the devices the compiler targets and what each runs -*- C++ -*-===//
//
// `tfc compile --target cpu|cuda --precision fp32|fp16|bf16|int8`. A plan's kernels are the
// same for every target (plan.fbs KernelKind; the ops' CpuKernelLoweringOpInterface picks
// them); what differs is which kernel kinds, in which float dtypes, a target's runtime backend
// runs. That is the capability table here, one row per target:
//
//   target  precisions              kernel kinds  float dtypes  weights (*)    KV cache slots
//   cpu     fp32, bf16, int8 (w)    every kind    f32           f32 bf16 i8    f32
//   cuda    fp32, fp16, bf16        every kind    f32 f16 bf16  f32 f16 bf16   f32 f16 bf16
//
// (*) The weight inputs of Linear and GatedLinear (tfc::plan::weightInputsOf); the other
// operands of a kernel are its float dtypes. (w): on the cpu a precision other than fp32 is a
// WEIGHT precision: the plan computes in f32 (Plan.precision F32) and holds the Linear /
// GatedLinear constant weights in bf16 or int8 (Plan.weight_precision; planPrecisions()).
// On cuda the precision is the activations' and the weights' (Plan.precision).
// Lowering checks every kernel against it, so an op the
// target cannot run is a compile error naming the op and its location, never a silent fallback
// to another device; the driver's plan verifier checks the written plan against it too.
// Integer and bool operands are not part of the table: what each kind takes of them is the
// kind's own rule (docs/PLAN_FORMAT.md), the same on every target.
//
// No MLIR here (the plan verifier uses it on a plan file).
//
//===----------------------------------------------------------------------===//
#ifndef TFC_TARGET_TARGET_H
#define TFC_TARGET_TARGET_H

#include "tfc/plan/PlanDesc.h"
#include "tfc/schema/PlanKernels.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tfc::target {

namespace fb = ::tfc::plan;
using Target = fb::Target;
using DType = fb::DType;

/// A set of plan dtypes (bit i: DType i).
class DTypeSet {
public:
  constexpr DTypeSet() = default;
  constexpr DTypeSet(std::initializer_list<DType> dtypes) {
    for (DType d : dtypes)
      bits_ |= bit(d);
  }
  constexpr bool contains(DType d) const { return (bits_ & bit(d)) != 0; }
  constexpr bool empty() const { return bits_ == 0; }
  constexpr void insert(DType d) { bits_ |= bit(d); }
  /// The dtypes of this set not in `other`.
  constexpr DTypeSet minus(DTypeSet other) const { return DTypeSet(bits_ & ~other.bits_); }
  /// "f32, f16" (plan dtype names, in DType order).
  std::string str() const;
  constexpr bool operator==(DTypeSet o) const { return bits_ == o.bits_; }

private:
  constexpr explicit DTypeSet(uint32_t bits) : bits_(bits) {}
  static constexpr uint32_t bit(DType d) { return uint32_t(1) << uint32_t(d); }
  uint32_t bits_ = 0;
};

inline constexpr size_t kNumKernelKinds = size_t(fb::KernelKind::MAX) + 1;

/// What one target runs.
struct Capabilities {
  Target target;
  DTypeSet precisions;                             // --precision values (F32, F16, BF16, I8)
  bool weightOnly;                                 // a precision but fp32 is the weights' only
  std::array<DTypeSet, kNumKernelKinds> kernels;   // per KernelKind: the float dtypes its
                                                   // kernels run (empty: no such kernel),
                                                   // weight inputs apart
  std::array<DTypeSet, kNumKernelKinds> weights;   // per KernelKind: the dtypes of its weight
                                                   // inputs (weightInputsOf; empty: none)
  DTypeSet cacheDtypes;                            // KV cache slot dtypes
};

/// What a plan of a target and --precision records (Plan.precision, Plan.weight_precision).
struct PlanPrecisions {
  DType activations = DType::F32; // Plan.precision
  DType weights = DType::F32;     // Plan.weight_precision (2.2; cpu only)
};

/// The row of `target` (every Target has one).
const Capabilities &capabilities(Target target);

/// "cpu" -> Cpu, "cuda" -> Cuda; nullopt otherwise.
std::optional<Target> parseTarget(std::string_view name);
/// "cpu", "cuda".
const char *targetName(Target target);
/// "cpu, cuda": the accepted --target values.
std::string targetNames();

/// "fp32" -> F32, "fp16" -> F16, "bf16" -> BF16, "int8" -> I8; nullopt otherwise.
std::optional<DType> parsePrecision(std::string_view name);
/// "fp32", "fp16", "bf16", "int8" ("?" for a dtype that is no precision).
const char *precisionName(DType precision);
/// "fp32, fp16, bf16, int8": the accepted --precision values.
std::string precisionNames();

/// "" when `target` compiles plans of `precision`, else why not: "the cpu target runs fp32,
/// bf16, int8 plans only, not fp16 (fp16 plans: --target cuda)".
std::string checkPrecision(Target target, DType precision);

/// What a plan of `target` compiled with `precision` (one checkPrecision accepts) records.
PlanPrecisions planPrecisions(Target target, DType precision);

/// "" when a plan of `target` may record Plan.precision `activations` and Plan.weight_precision
/// `weights` (the plan verifier's check), else why not.
std::string checkPlanPrecisions(Target target, DType activations, DType weights);

/// "" when `target` runs kernels of `kind` touching the float dtypes `floats`, else why not:
/// "the cpu target runs Binary kernels in f32 only, not f16", "the cuda target has no Conv
/// kernel".
std::string checkKernel(Target target, fb::KernelKind kind, DTypeSet floats);

/// "" when `target` reads the weight inputs of kernels of `kind` in `dtype`, else why not:
/// "the cpu target reads Linear weights in f32, bf16, i8 only, not f16".
std::string checkWeight(Target target, fb::KernelKind kind, DType dtype);

/// "" when `target` keeps KV cache slots of `dtype`, else why not.
std::string checkCacheDtype(Target target, DType dtype);

/// The float dtypes (F32, F16, BF16) of the values a kernel of `fn` reads and writes, its
/// weight inputs (weightInputsOf) apart.
DTypeSet floatDtypesOf(const planner::Function &fn, const planner::Kernel &kernel);

/// "" when `target` runs `kernel` of `fn`: checkKernel on its float dtypes, checkWeight on each
/// weight input; else the first problem.
std::string checkKernelOf(Target target, const planner::Function &fn,
                          const planner::Kernel &kernel);

/// Whether `d` is a float dtype (F32, F16, BF16).
constexpr bool isFloat(DType d) { return d == DType::F32 || d == DType::F16 || d == DType::BF16; }

} // namespace tfc::target

#endif // TFC_TARGET_TARGET_H
