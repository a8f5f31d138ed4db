//===- Canonicalize.cpp - tfc canonicalization patterns and pass ----------===//
//
// populateTfcCanonicalizationPatterns() adds a few local simplifications of
// tfc ops; tfc-canonicalize runs them together with every registered
// canonicalization pattern and the ops' folders (identity transpose, reshape
// and cast to the same static type, constants) in the greedy driver:
//   transpose(transpose(x, p1), p2)  -> transpose(x, p1[p2[i]])
//   reshape(reshape(x), s)           -> reshape(x, s)   (s without 0 / -1)
//   x * 1, 1 * x, x / 1, x + 0, 0 + x, x - 0 -> x       (splat constants, only
//                                                        when x has the result type)
// They live here rather than behind `hasCanonicalizer` so that the dialect
// library does not depend on the passes library.
//
//===----------------------------------------------------------------------===//
#include "Passes.h"
#include "PatternUtils.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Rewrite/FrozenRewritePatternSet.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::tfc {
#define GEN_PASS_DEF_TFCCANONICALIZE
#include "Passes.h.inc"
} // namespace mlir::tfc

using namespace mlir;
using namespace mlir::tfc;

namespace {

struct ComposeTransposes : OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(TransposeOp outer, PatternRewriter &rewriter) const override {
    auto inner = definedBy<TransposeOp>(outer.getInput());
    if (!inner)
      return rewriter.notifyMatchFailure(outer, "the input is not a transpose");
    SmallVector<int64_t> perm;
    for (int64_t p : outer.getPerm())
      perm.push_back(inner.getPerm()[p]);
    rewriter.replaceOpWithNewOp<TransposeOp>(outer, outer.getType(), inner.getInput(), perm);
    return success();
  }
};

struct ComposeStaticReshapes : OpRewritePattern<ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ReshapeOp outer, PatternRewriter &rewriter) const override {
    auto inner = definedBy<ReshapeOp>(outer.getInput());
    if (!inner)
      return rewriter.notifyMatchFailure(outer, "the input is not a reshape");
    if (llvm::any_of(outer.getShape(), [](int64_t d) { return d <= 0; }))
      return rewriter.notifyMatchFailure(outer, "the shape copies (0) or infers (-1) a dim");
    rewriter.replaceOpWithNewOp<ReshapeOp>(outer, outer.getType(), inner.getInput(),
                                           outer.getShape());
    return success();
  }
};

/// `x op c` -> `x` when `c` is the splat `neutral` element of `OpT` (either
/// side for commutative ops) and the op does not broadcast `x`.
template <typename OpT> struct DropNeutralOperand : OpRewritePattern<OpT> {
  DropNeutralOperand(MLIRContext *context, float neutral)
      : OpRewritePattern<OpT>(context), neutral(neutral) {}

  LogicalResult matchAndRewrite(OpT op, PatternRewriter &rewriter) const override {
    Value x = operandBesideConstant(op, neutral);
    if (!x || x.getType() != op.getType())
      return rewriter.notifyMatchFailure(op, "no neutral constant operand");
    rewriter.replaceOp(op, x);
    return success();
  }

  float neutral;
};

struct TfcCanonicalizePass : tfc::impl::TfcCanonicalizeBase<TfcCanonicalizePass> {
  LogicalResult initialize(MLIRContext *context) override {
    RewritePatternSet owned(context);
    for (Dialect *dialect : context->getLoadedDialects())
      dialect->getCanonicalizationPatterns(owned);
    for (RegisteredOperationName op : context->getRegisteredOperations())
      op.getCanonicalizationPatterns(owned, context);
    populateTfcCanonicalizationPatterns(owned);
    patterns = FrozenRewritePatternSet(std::move(owned));
    return success();
  }

  void runOnOperation() override {
    // Not converging within the iteration limit still leaves valid IR.
    (void)applyPatternsAndFoldGreedily(getOperation(), patterns);
  }

  FrozenRewritePatternSet patterns;
};

} // namespace

void mlir::tfc::populateTfcCanonicalizationPatterns(RewritePatternSet &patterns) {
  MLIRContext *context = patterns.getContext();
  patterns.add<ComposeTransposes, ComposeStaticReshapes>(context);
  patterns.add<DropNeutralOperand<MulOp>, DropNeutralOperand<DivOp>>(context, 1.0f);
  patterns.add<DropNeutralOperand<AddOp>, DropNeutralOperand<SubOp>>(context, 0.0f);
}
