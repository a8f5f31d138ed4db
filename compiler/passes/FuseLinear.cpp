//===- FuseLinear.cpp - matmul + bias + activation + residual -> tfc.linear -===//
//
// Anchored at a tfc.matmul whose rhs is rank 2 (a tfc.weight, a transpose of
// one, or any other [K, N] value), walks down single uses:
//   %y = tfc.matmul %x, %W
//   [%z = tfc.add %y, %b]            %b 1-D of size N (either operand order)
//   [%a = tfc.relu %z | tfc.gelu %z] activation
//   [%r = tfc.add %a, %res]          %res broadcasting to the value (either order)
// and replaces the last op taken with
//   tfc.linear %x, %W bias(%b) residual(%res) {activation}.
// Each value of the chain has a single use, so the residual cannot be
// computed from the chain itself. Runs after tfc-fuse-gelu (the activation
// is a tfc.gelu) and tfc-fuse-attention (whose matmuls have rank-4 rhs).
//
//===----------------------------------------------------------------------===//
#include "Passes.h"
#include "PatternUtils.h"

#include "tfc/IR/ShapeUtils.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::tfc {
#define GEN_PASS_DEF_FUSELINEAR
#include "Passes.h.inc"
} // namespace mlir::tfc

using namespace mlir;
using namespace mlir::tfc;

namespace {

struct LinearMatch {
  Value bias, residual;
  Activation activation = Activation::none;
  Operation *root = nullptr;
  SmallVector<Operation *> matched;
};

/// The operand of `add` beside `v` when `accept(operand)`.
Value otherOperand(AddOp add, Value v, llvm::function_ref<bool(RankedTensorType)> accept) {
  auto order = findOperandOrder(
      add, [&](Value a, Value o) { return a == v && accept(cast<RankedTensorType>(o.getType())); });
  return order ? order->second : Value();
}

/// Extends `m` by `op` (the single user of the current value).
Value take(LinearMatch &m, Operation *op) {
  m.root = op;
  m.matched.push_back(op);
  return op->getResult(0);
}

Activation activationOf(Operation *op) {
  if (isa<ReluOp>(op))
    return Activation::relu;
  return cast<GeluOp>(op).getApproximate() == GeluApprox::tanh ? Activation::gelu_tanh
                                                               : Activation::gelu_erf;
}

FailureOr<LinearMatch> matchLinear(MatMulOp matmul) {
  auto weightType = matmul.getRhs().getType();
  if (weightType.getRank() != 2)
    return failure();
  auto elementType = weightType.getElementType();
  int64_t n = weightType.getDimSize(1);
  LinearMatch m;
  Value cur = take(m, matmul);

  if (auto add = singleUserAs<AddOp>(cur)) {
    m.bias = otherOperand(add, cur, [&](RankedTensorType t) {
      return t.getRank() == 1 && dimsCompatible(t.getDimSize(0), n) &&
             t.getElementType() == elementType;
    });
    if (m.bias)
      cur = take(m, add);
  }
  if (Operation *act = singleUser(cur); isa_and_nonnull<ReluOp, GeluOp>(act)) {
    m.activation = activationOf(act);
    cur = take(m, act);
  }
  if (auto add = singleUserAs<AddOp>(cur)) {
    auto curType = cast<RankedTensorType>(cur.getType());
    m.residual = otherOperand(add, cur, [&](RankedTensorType t) {
      return t.getElementType() == elementType && broadcastsTo(t.getShape(), curType.getShape());
    });
    if (m.residual && add.getType() == curType)
      take(m, add);
    else
      m.residual = Value();
  }
  return m;
}

struct FuseLinearPattern : OpRewritePattern<MatMulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MatMulOp matmul, PatternRewriter &rewriter) const override {
    FailureOr<LinearMatch> m = matchLinear(matmul);
    if (failed(m))
      return rewriter.notifyMatchFailure(matmul, "the rhs is not a rank-2 weight");
    Location loc = fusedLocation(rewriter, m->matched);
    rewriter.setInsertionPoint(m->root);
    auto linear = rewriter.create<LinearOp>(loc, m->root->getResult(0).getType(), matmul.getLhs(),
                                            matmul.getRhs(), m->bias, m->residual, m->activation);
    rewriter.replaceOp(m->root, linear);
    return success();
  }
};

struct FuseLinearPass : tfc::impl::FuseLinearBase<FuseLinearPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseLinearPattern>(&getContext());
    // Not converging within the iteration limit still leaves valid IR.
    (void)applyPatternsAndFoldGreedily(getOperation(), std::move(patterns));
  }
};

} // namespace
