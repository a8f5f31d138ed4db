//===- FuseAttention.cpp - multi-head attention -> tfc.attention ----------===//
//
// Rewrites what AttentionMatcher.cpp finds, anchored at each tfc.softmax:
// the head-merge reshape is replaced by
//   tfc.attention %q, %k, %v[, %mask] {num_heads, scale, mask_kind}
// with the type of the reshape. An additive mask that the matcher found
// before some scale factors is multiplied by them (a tfc.mul inserted on the
// mask operand). The rest of the block becomes dead and is erased by the
// greedy driver.
//
//===----------------------------------------------------------------------===//
#include "Matchers.h"
#include "Passes.h"
#include "PatternUtils.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::tfc {
#define GEN_PASS_DEF_FUSEATTENTION
#include "Passes.h.inc"
} // namespace mlir::tfc

using namespace mlir;
using namespace mlir::tfc;

namespace {

/// `mask * factor` (a no-op when the factor is 1 or the mask is i1).
Value scaleMask(PatternRewriter &rewriter, Location loc, Value mask, float factor) {
  auto type = cast<RankedTensorType>(mask.getType());
  if (factor == 1.0f || !isa<FloatType>(type.getElementType()))
    return mask;
  Value c =
      createSplatConstant(rewriter, loc, RankedTensorType::get({}, type.getElementType()), factor);
  return rewriter.create<MulOp>(loc, mask, c);
}

struct FuseAttentionPattern : OpRewritePattern<SoftmaxOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(SoftmaxOp softmax, PatternRewriter &rewriter) const override {
    std::string why;
    FailureOr<AttentionMatch> m = matchAttention(softmax, &why);
    if (failed(m))
      return rewriter.notifyMatchFailure(softmax, why);
    Location loc = fusedLocation(rewriter, m->matched);
    rewriter.setInsertionPoint(m->root);
    Value mask = m->mask ? scaleMask(rewriter, loc, m->mask, m->maskScale) : Value();
    rewriter.replaceOpWithNewOp<AttentionOp>(
        m->root, m->root->getResult(0).getType(), m->query, m->key, m->value, mask,
        rewriter.getI64IntegerAttr(m->numHeads), rewriter.getF32FloatAttr(m->scale),
        MaskKindAttr::get(rewriter.getContext(), m->maskKind));
    return success();
  }
};

struct FuseAttentionPass : tfc::impl::FuseAttentionBase<FuseAttentionPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseAttentionPattern>(&getContext());
    // Not converging within the iteration limit still leaves valid IR.
    (void)applyPatternsAndFoldGreedily(getOperation(), std::move(patterns));
  }
};

} // namespace
