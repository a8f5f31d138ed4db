//===- FuseGatedLinear.cpp - SwiGLU / GeGLU -> tfc.gated_linear -----------===//
//
// Rewrites what GatedLinearMatcher.cpp finds, anchored at the gating tfc.mul:
// `act(x @ Wg) * (x @ Wu)` with act SiLU or GELU becomes
// `tfc.gated_linear %x, %Wg, %Wu {activation}`. Runs after tfc-fuse-gelu
// (GeGLU's GELU is a tfc.gelu by then) and before tfc-fuse-linear (which
// would otherwise take the two matmuls as separate tfc.linear ops).
//
//===----------------------------------------------------------------------===//
#include "Matchers.h"
#include "Passes.h"
#include "PatternUtils.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::tfc {
#define GEN_PASS_DEF_FUSEGATEDLINEAR
#include "Passes.h.inc"
} // namespace mlir::tfc

using namespace mlir;
using namespace mlir::tfc;

namespace {

struct FuseGatedLinearPattern : OpRewritePattern<MulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MulOp mul, PatternRewriter &rewriter) const override {
    std::string why;
    FailureOr<GatedLinearMatch> m = matchGatedLinear(mul, &why);
    if (failed(m))
      return rewriter.notifyMatchFailure(mul, why);
    Location loc = fusedLocation(rewriter, m->matched);
    auto fused = rewriter.create<GatedLinearOp>(
        loc, mul.getType(), m->input, m->gateWeight, m->upWeight,
        GateActivationAttr::get(rewriter.getContext(), m->activation));
    rewriter.replaceOp(mul, fused.getResult());
    return success();
  }
};

struct FuseGatedLinearPass : tfc::impl::FuseGatedLinearBase<FuseGatedLinearPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseGatedLinearPattern>(&getContext());
    // Not converging within the iteration limit still leaves valid IR.
    (void)applyPatternsAndFoldGreedily(getOperation(), std::move(patterns));
  }
};

} // namespace
