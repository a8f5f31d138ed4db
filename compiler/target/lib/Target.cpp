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
  static const Capabilities cpu{Target::Cpu, {DType::F32}, everyKind({DType::F32}),
                                {DType::F32}};
  static const Capabilities cuda{Target::Cuda,
                                 {DType::F32, DType::F16, DType::BF16},
                                 everyKind({DType::F32, DType::F16, DType::BF16}),
                                 {DType::F32, DType::F16, DType::BF16}};
  return target == Target::Cuda ? cuda : cpu;
}

constexpr Target kTargets[] = {Target::Cpu, Target::Cuda};
constexpr DType kPrecisions[] = {DType::F32, DType::F16, DType::BF16};

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
    for (int32_t v : *list)
      if (v >= 0 && size_t(v) < fn.values.size() && isFloat(fn.values[size_t(v)].dtype))
        out.insert(fn.values[size_t(v)].dtype);
  return out;
}

} // namespace tfc::target
