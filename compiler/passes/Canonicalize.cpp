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
//   op(splat constants) -> splat constant                (add sub mul div pow max,
//                                                        sqrt neg, cast to float)
//   reshape(constant) -> constant                        (static result type)
// The constant folds turn the shape arithmetic exporters leave in the graph
// (GPT-2's `1 / Pow(Cast(Shape(v)[-1]), 0.5)`, torch 2 SDPA's
// `Sqrt(1 / Sqrt(Cast(dh)))`) into the constants the fusion matchers expect.
// They live here rather than behind `hasCanonicalizer` so that the dialect
// library does not depend on the passes library.
//
//===----------------------------------------------------------------------===//
#include "Passes.h"
#include "PatternUtils.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Rewrite/FrozenRewritePatternSet.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <algorithm>
#include <cmath>
#include <optional>

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

/// The value of a splat int or float constant as a double.
std::optional<double> splatValue(Value v) {
  DenseElementsAttr attr;
  if (!v || !matchPattern(v, m_Constant(&attr)) || !attr.isSplat())
    return std::nullopt;
  Type type = attr.getElementType();
  if (isa<FloatType>(type))
    return attr.getSplatValue<APFloat>().convertToDouble();
  if (type.isInteger(1))
    return attr.getSplatValue<bool>() ? 1.0 : 0.0;
  if (isa<IntegerType>(type))
    return static_cast<double>(attr.getSplatValue<APInt>().getSExtValue());
  return std::nullopt;
}

std::optional<double> evaluate(Operation *op, ArrayRef<double> x) {
  if (isa<CastOp>(op))
    return x[0];
  if (isa<SqrtOp>(op))
    return std::sqrt(x[0]);
  if (isa<NegOp>(op))
    return -x[0];
  if (isa<AddOp>(op))
    return x[0] + x[1];
  if (isa<SubOp>(op))
    return x[0] - x[1];
  if (isa<MulOp>(op))
    return x[0] * x[1];
  if (isa<DivOp>(op))
    return x[0] / x[1];
  if (isa<PowOp>(op))
    return std::pow(x[0], x[1]);
  if (isa<MaxOp>(op))
    return std::max(x[0], x[1]);
  return std::nullopt;
}

/// An elementwise op (or a cast) whose operands are all splat constants and
/// whose result is a statically shaped float tensor -> a splat constant.
struct FoldSplatConstants : RewritePattern {
  FoldSplatConstants(MLIRContext *context)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, context) {}

  LogicalResult matchAndRewrite(Operation *op, PatternRewriter &rewriter) const override {
    if (!isa<CastOp, SqrtOp, NegOp, AddOp, SubOp, MulOp, DivOp, PowOp, MaxOp>(op))
      return failure();
    auto type = dyn_cast<RankedTensorType>(op->getResult(0).getType());
    if (!type || !type.hasStaticShape() || !isa<FloatType>(type.getElementType()))
      return rewriter.notifyMatchFailure(op, "the result is not a static float tensor");
    SmallVector<double> operands;
    for (Value v : op->getOperands()) {
      std::optional<double> x = splatValue(v);
      if (!x)
        return rewriter.notifyMatchFailure(op, "an operand is not a splat constant");
      operands.push_back(*x);
    }
    std::optional<double> result = evaluate(op, operands);
    if (!result)
      return failure();
    rewriter.replaceOp(op, createSplatConstant(rewriter, op->getLoc(), type,
                                               static_cast<float>(*result)));
    return success();
  }
};

/// reshape(constant) -> the constant with the reshape's (static) type.
struct FoldConstantReshape : OpRewritePattern<ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ReshapeOp op, PatternRewriter &rewriter) const override {
    DenseElementsAttr attr;
    if (!matchPattern(op.getInput(), m_Constant(&attr)) || !op.getType().hasStaticShape())
      return rewriter.notifyMatchFailure(op, "not a static reshape of a constant");
    auto folded = attr.reshape(op.getType());
    rewriter.replaceOpWithNewOp<ConstantOp>(op, op.getType(), cast<ElementsAttr>(folded));
    return success();
  }
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
  patterns.add<FoldSplatConstants, FoldConstantReshape>(context);
  patterns.add<DropNeutralOperand<MulOp>, DropNeutralOperand<DivOp>>(context, 1.0f);
  patterns.add<DropNeutralOperand<AddOp>, DropNeutralOperand<SubOp>>(context, 0.0f);
}
