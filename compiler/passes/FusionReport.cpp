//===- FusionReport.cpp - fused-op counts and unfused candidates ----------===//
//
// See FusionReport.h. The reasons come from the matchers the fusion patterns
// use, so the report cannot disagree with the passes. A candidate that the
// matcher accepts (the pipeline ran without fusion) says so.
//
//===----------------------------------------------------------------------===//
#include "FusionReport.h"
#include "Matchers.h"
#include "Passes.h"
#include "PatternUtils.h"

using namespace mlir;
using namespace mlir::tfc;

namespace {

constexpr const char *kMatchesButUnfused =
    "the pattern matches but was not fused (fusion disabled)";

std::string describeOp(Operation *op) {
  std::string where = describeLocation(op->getLoc());
  std::string name = op->getName().getStringRef().str();
  return where.empty() ? name : name + " at " + where;
}

template <typename OpT, typename MatchResult>
UnfusedCandidate candidate(const char *pattern, OpT op,
                           MatchResult (*matcher)(OpT, std::string *)) {
  std::string why;
  bool matches = succeeded(matcher(op, &why));
  return {pattern, describeOp(op), matches ? kMatchesButUnfused : why};
}

} // namespace

FusionCounts mlir::tfc::countFusedOps(ModuleOp module) {
  FusionCounts counts;
  if (auto folded = module->getAttrOfType<IntegerAttr>(kFoldedLayerNormsAttr))
    counts.foldedLayerNorm = folded.getInt();
  module.walk([&](Operation *op) {
    if (isa<AttentionOp>(op))
      ++counts.attention;
    else if (isa<RotaryOp>(op))
      ++counts.rotary;
    else if (isa<LayerNormOp>(op))
      ++counts.layerNorm;
    else if (isa<GeluOp>(op))
      ++counts.gelu;
    else if (isa<RmsNormOp>(op))
      ++counts.rmsNorm;
    else if (isa<GatedLinearOp>(op))
      ++counts.gatedLinear;
    else if (auto linear = dyn_cast<LinearOp>(op)) {
      // A product of sibling projections (tfc-fuse-sibling-linears) counts each of them.
      auto merged = linear->getAttrOfType<IntegerAttr>(kMergedLinearsAttr);
      const int64_t n = merged ? merged.getInt() : 1;
      counts.linear += n;
      if (linear.getActivation() == Activation::gelu_erf ||
          linear.getActivation() == Activation::gelu_tanh)
        counts.gelu += n;
    }
  });
  return counts;
}

void mlir::tfc::forEachUnfusedCandidate(
    ModuleOp module, llvm::function_ref<void(Operation *, const UnfusedCandidate &)> callback) {
  module.walk([&](Operation *op) {
    if (auto softmax = dyn_cast<SoftmaxOp>(op)) {
      if (reachesActivationMatmul(softmax.getInput()))
        callback(op, candidate("attention", softmax, &matchAttention));
    } else if (auto mean = dyn_cast<ReduceMeanOp>(op)) {
      if (isLayerNormCandidate(mean))
        callback(op, candidate("layer_norm", mean, &matchDecomposedLayerNorm));
      else if (isRmsNormCandidate(mean))
        callback(op, candidate("rms_norm", mean, &matchRmsNorm));
    } else if (auto ln = dyn_cast<LayerNormalizationOp>(op)) {
      callback(op, candidate("layer_norm", ln, &matchLayerNormalization));
    } else if (auto mul = dyn_cast<MulOp>(op)) {
      if (isGatedLinearCandidate(mul))
        callback(op, candidate("gated_linear", mul, &matchGatedLinear));
    } else if (isRotaryCandidate(op)) {
      // A partial rotary's root is the concat that uses this add.
      Operation *root = op;
      if (auto c = singleUserAs<ConcatOp>(op->getResult(0)))
        root = c;
      callback(op, candidate("rotary", root, &matchRotary));
    }
  });
}

std::vector<UnfusedCandidate> mlir::tfc::findUnfusedCandidates(ModuleOp module) {
  std::vector<UnfusedCandidate> out;
  forEachUnfusedCandidate(module,
                          [&](Operation *, const UnfusedCandidate &c) { out.push_back(c); });
  return out;
}
