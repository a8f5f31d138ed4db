//===- FuseRmsNorm.cpp - RMS norms -> tfc.rms_norm ------------------------===//
//
// Rewrites what RmsNormMatcher.cpp finds, anchored at the reduce_mean of the
// squares: `x * rsqrt(mean(x^2) + eps) (* w | * (1 + w))` over the last axis.
// A missing weight becomes a splat constant of 1 sized by the (static) last
// dim; the fused op takes the type of the value it replaces.
//
//===----------------------------------------------------------------------===//
#include "Matchers.h"
#include "Passes.h"
#include "PatternUtils.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::tfc {
#define GEN_PASS_DEF_FUSERMSNORM
#include "Passes.h.inc"
} // namespace mlir::tfc

using namespace mlir;
using namespace mlir::tfc;

namespace {

struct FuseRmsNormPattern : OpRewritePattern<ReduceMeanOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ReduceMeanOp mean, PatternRewriter &rewriter) const override {
    std::string why;
    FailureOr<RmsNormMatch> m = matchRmsNorm(mean, &why);
    if (failed(m))
      return rewriter.notifyMatchFailure(mean, why);
    Location loc = fusedLocation(rewriter, m->matched);
    auto inputType = cast<RankedTensorType>(m->input.getType());
    rewriter.setInsertionPoint(m->root);
    Value weight = m->weight;
    if (!weight)
      weight = createSplatConstant(
          rewriter, loc,
          RankedTensorType::get({inputType.getShape().back()}, inputType.getElementType()),
          1.0f);
    rewriter.replaceOpWithNewOp<RmsNormOp>(m->root, m->root->getResult(0).getType(), m->input,
                                           weight, /*residual=*/Value(),
                                           rewriter.getF32FloatAttr(m->epsilon),
                                           rewriter.getBoolAttr(m->unitOffset));
    return success();
  }
};

struct FuseRmsNormPass : tfc::impl::FuseRmsNormBase<FuseRmsNormPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseRmsNormPattern>(&getContext());
    // Not converging within the iteration limit still leaves valid IR.
    (void)applyPatternsAndFoldGreedily(getOperation(), std::move(patterns));
  }
};

} // namespace
