//===- FuseLayerNorm.cpp - layer norms -> tfc.layer_norm ------------------===//
//
// Rewrites what LayerNormMatcher.cpp finds: the decomposed layer norm over the
// last axis (anchored at its first reduce_mean) and `tfc.layer_normalization`
// over the last axis. Assumes nothing else: a missing gamma / beta becomes a
// splat constant of 1 / 0 sized by the (static) last dim; the fused op takes
// the type of the value it replaces.
//
//===----------------------------------------------------------------------===//
#include "Matchers.h"
#include "Passes.h"
#include "PatternUtils.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::tfc {
#define GEN_PASS_DEF_FUSELAYERNORM
#include "Passes.h.inc"
} // namespace mlir::tfc

using namespace mlir;
using namespace mlir::tfc;

namespace {

/// Replaces `m.root` with the fused tfc.layer_norm.
void replaceWithLayerNorm(PatternRewriter &rewriter, const LayerNormMatch &m) {
  Location loc = fusedLocation(rewriter, m.matched);
  auto inputType = cast<RankedTensorType>(m.input.getType());
  auto vectorType =
      RankedTensorType::get({inputType.getShape().back()}, inputType.getElementType());
  rewriter.setInsertionPoint(m.root);
  Value gamma = m.gamma ? m.gamma : createSplatConstant(rewriter, loc, vectorType, 1.0f);
  Value beta = m.beta ? m.beta : createSplatConstant(rewriter, loc, vectorType, 0.0f);
  rewriter.replaceOpWithNewOp<LayerNormOp>(m.root, m.root->getResult(0).getType(), m.input, gamma,
                                           beta, /*residual=*/Value(),
                                           rewriter.getF32FloatAttr(m.epsilon));
}

struct FuseDecomposedLayerNorm : OpRewritePattern<ReduceMeanOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ReduceMeanOp mean, PatternRewriter &rewriter) const override {
    std::string why;
    FailureOr<LayerNormMatch> m = matchDecomposedLayerNorm(mean, &why);
    if (failed(m))
      return rewriter.notifyMatchFailure(mean, why);
    replaceWithLayerNorm(rewriter, *m);
    return success();
  }
};

struct FuseLayerNormalization : OpRewritePattern<LayerNormalizationOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LayerNormalizationOp op, PatternRewriter &rewriter) const override {
    std::string why;
    FailureOr<LayerNormMatch> m = matchLayerNormalization(op, &why);
    if (failed(m))
      return rewriter.notifyMatchFailure(op, why);
    replaceWithLayerNorm(rewriter, *m);
    return success();
  }
};

struct FuseLayerNormPass : tfc::impl::FuseLayerNormBase<FuseLayerNormPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseDecomposedLayerNorm, FuseLayerNormalization>(&getContext());
    // Not converging within the iteration limit still leaves valid IR.
    (void)applyPatternsAndFoldGreedily(getOperation(), std::move(patterns));
  }
};

} // namespace
