//===- Target.cpp - the capability table of each target ---------------------===//
#include "tfc/target/Target.h"

namespace tfc::target {

namespace {

/// Every kernel kind, running `dtypes`.
std::array<DTypeSet, kNumKernelKinds> everyKind(DTypeSet dtypes) {
  std::array<DTypeSet, kNumKernelKinds> kinds;
  kinds.fill(dtypes);
  return kinds;
}

/// The table. A row's kernels list every KernelKind the target's runtime backend has a kernel
/// for, with the float dtypes that kernel runs. Changing what a backend runs changes its row.
const Capabilities &row(Target target) {
  // The kinds with weight inputs (tfc::plan::weightInputsOf), reading them in `dtypes`.
  auto weightKinds = [](DTypeSet dtypes) {
    std::array<DTypeSet, kNumKernelKinds> kinds{};
    for (size_t k = 0; k < kNumKernelKinds; ++k)
      if (fb::weightInputsOf(fb::KernelKind(k)).count > 0)
        kinds[k] = dtypes;
    return kinds;
  };
  static const Capabilities cpu{Target::Cpu,
                                {DType::F32, DType::BF16, DType::I8},
                                /*weightOnly=*/true,
                                everyKind({DType::F32}),
                                weightKinds({DType::F32, DType::BF16, DType::I8}),
                                {DType::F32}};
  static const Capabilities cuda{Target::Cuda,
                                 {DType::F32, DType::F16, DType::BF16},
                                 /*weightOnly=*/false,
                                 everyKind({DType::F32, DType::F16, DType::BF16}),
                                 weightKinds({DType::F32, DType::F16, DType::BF16}),
                                 {DType::F32, DType::F16, DType::BF16}};
  return target == Target::Cuda ? cuda : cpu;
}

constexpr Target kTargets[] = {Target::Cpu, Target::Cuda};
constexpr DType kPrecisions[] = {DType::F32, DType::F16, DType::BF16, DType::I8};

} // namespace

std::string DTypeSet::str() const {
  std::string out;
  for (uint32_t d = 0; d <= uint32_t(DType::MAX); ++d)
    if (contains(DType(d)))
      out += (out.empty() ? "" : ", ") + std::string(planner::dtypeName(DType(d)));
  return out;
}

const Capabilities &capabilities(Target target) { return row(target); }

std::optional<Target> parseTarget(std::string_view name) {
  for (Target t : kTargets)
    if (name == targetName(t))
      return t;
  return std::nullopt;
}

const char *targetName(Target target) { return target == Target::Cuda ? "cuda" : "cpu"; }

std::string targetNames() {
  std::string out;
  for (Target t : kTargets)
    out += (out.empty() ? "" : ", ") + std::string(targetName(t));
  return out;
}

std::optional<DType> parsePrecision(std::string_view name) {
  for (DType d : kPrecisions)
    if (name == precisionName(d))
      return d;
  return std::nullopt;
}

const char *precisionName(DType precision) {
  switch (precision) {
  case DType::F32: return "fp32";
  case DType::F16: return "fp16";
  case DType::BF16: return "bf16";
  case DType::I8: return "int8";
  default: return "?";
  }
}

std::string precisionNames() {
  std::string out;
  for (DType d : kPrecisions)
    out += (out.empty() ? "" : ", ") + std::string(precisionName(d));
  return out;
}

std::string checkPrecision(Target target, DType precision) {
  const Capabilities &c = capabilities(target);
  if (c.precisions.contains(precision))
    return "";
  std::string runs, others;
  for (DType d : kPrecisions)
    if (c.precisions.contains(d))
      runs += (runs.empty() ? "" : ", ") + std::string(precisionName(d));
  for (Target t : kTargets)
    if (t != target && capabilities(t).precisions.contains(precision))
      others += (others.empty() ? "" : ", ") + std::string(targetName(t));
  std::string out = std::string("the ") + targetName(target) + " target runs " + runs +
                    " plans only, not " + precisionName(precision);
  if (!others.empty())
    out += std::string(" (") + precisionName(precision) + " plans: --target " + others + ")";
  return out;
}

PlanPrecisions planPrecisions(Target target, DType precision) {
  if (capabilities(target).weightOnly)
    return {DType::F32, precision};
  return {precision, DType::F32};
}

std::string checkPlanPrecisions(Target target, DType activations, DType weights) {
  const Capabilities &c = capabilities(target);
  // The pairs planPrecisions() makes of the target's precisions.
  for (size_t i = 0; i < sizeof kPrecisions / sizeof kPrecisions[0]; ++i) {
    if (!c.precisions.contains(kPrecisions[i]))
      continue;
    PlanPrecisions p = planPrecisions(target, kPrecisions[i]);
    if (p.activations == activations && p.weights == weights)
      return "";
  }
  return std::string("a ") + targetName(target) + " plan cannot have precision " +
         planner::dtypeName(activations) + " with weight precision " +
         planner::dtypeName(weights) +
         (c.weightOnly ? " (its activations are f32; its weights f32, bf16 or i8)"
                       : " (its weights follow its precision)");
}

std::string checkKernel(Target target, fb::KernelKind kind, DTypeSet floats) {
  const Capabilities &c = capabilities(target);
  size_t k = size_t(kind);
  if (k >= kNumKernelKinds || c.kernels[k].empty())
    return std::string("the ") + targetName(target) + " target has no " +
           (k < kNumKernelKinds ? fb::EnumNameKernelKind(kind) : "such") + " kernel";
  DTypeSet missing = floats.minus(c.kernels[k]);
  if (missing.empty())
    return "";
  return std::string("the ") + targetName(target) + " target runs " +
         fb::EnumNameKernelKind(kind) + " kernels in " + c.kernels[k].str() + " only, not " +
         missing.str();
}

std::string checkWeight(Target target, fb::KernelKind kind, DType dtype) {
  const Capabilities &c = capabilities(target);
  size_t k = size_t(kind);
  if (k < kNumKernelKinds && c.weights[k].contains(dtype))
    return "";
  return std::string("the ") + targetName(target) + " target reads " +
         (k < kNumKernelKinds ? fb::EnumNameKernelKind(kind) : "such") + " weights in " +
         (k < kNumKernelKinds && !c.weights[k].empty() ? c.weights[k].str() : "no dtype") +
         " only, not " + planner::dtypeName(dtype);
}

std::string checkCacheDtype(Target target, DType dtype) {
  const Capabilities &c = capabilities(target);
  if (c.cacheDtypes.contains(dtype))
    return "";
  return std::string("the ") + targetName(target) + " target keeps KV cache slots in " +
         c.cacheDtypes.str() + " only, not " + planner::dtypeName(dtype);
}

DTypeSet floatDtypesOf(const planner::Function &fn, const planner::Kernel &kernel) {
  DTypeSet out;
  for (const std::vector<int32_t> *list : {&kernel.inputs, &kernel.outputs})
    for (size_t i = 0; i < list->size(); ++i) {
      int32_t v = (*list)[i];
      if (list == &kernel.inputs && fb::isWeightOrScaleInput(kernel.kind, int64_t(i)))
        continue;
      if (v >= 0 && size_t(v) < fn.values.size() && isFloat(fn.values[size_t(v)].dtype))
        out.insert(fn.values[size_t(v)].dtype);
    }
  return out;
}

std::string checkKernelOf(Target target, const planner::Function &fn,
                          const planner::Kernel &kernel) {
  if (std::string e = checkKernel(target, kernel.kind, floatDtypesOf(fn, kernel)); !e.empty())
    return e;
  fb::WeightInputs w = fb::weightInputsOf(kernel.kind);
  for (int j = 0; j < w.count; ++j) {
    size_t i = size_t(w.list[j].weight);
    if (i < kernel.inputs.size() && kernel.inputs[i] >= 0 &&
        size_t(kernel.inputs[i]) < fn.values.size())
      if (std::string e = checkWeight(target, kernel.kind, fn.values[size_t(kernel.inputs[i])].dtype);
          !e.empty())
        return e;
  }
  return "";
}

} // namespace tfc::target
