//===- FuseGelu.cpp - decomposed GELU formulas -> tfc.gelu ----------------===//
//
// Matches, anchored at the outermost tfc.mul, the product of the three
// factors `x`, `0.5` and `1 + f(x)` in any association and operand order
// (`(x * p) * 0.5`, `(x * 0.5) * p`, `x * (p * 0.5)`, ...), where
//   erf:  f(x) = erf(x / 1.41421)        or erf(x * 0.70710)
//   tanh: f(x) = tanh(0.79788 * (x + 0.044715 * x^3)), x^3 = pow(x, 3) or x*x*x
// Constants are splat tfc.constants, matched with a relative tolerance of
// 1e-3 (docs/PRIMITIVE_PATTERNS.md). Every intermediate value must have a
// single use and the product must have the type of `x`; otherwise the
// formula is left alone.
//
//===----------------------------------------------------------------------===//
#include "Passes.h"
#include "PatternUtils.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::tfc {
#define GEN_PASS_DEF_FUSEGELU
#include "Passes.h.inc"
} // namespace mlir::tfc

using namespace mlir;
using namespace mlir::tfc;

namespace {

constexpr float kInvSqrt2 = 0.70710678f, kSqrt2 = 1.41421356f;
constexpr float kSqrt2OverPi = 0.79788456f, kCubeCoeff = 0.044715f;

/// `v` is `c * u` (either order) with a single use: returns u.
Value scaledBy(Value v, float c) {
  auto mul = definedBy<MulOp>(v);
  return mul && hasSingleUse(v) ? operandBesideConstant(mul, c) : Value();
}

/// `v` is x^3: `pow(x, 3)` or `(x * x) * x` in any order.
bool isCubeOf(Value v, Value x) {
  if (!hasSingleUse(v))
    return false;
  if (auto pow = definedBy<PowOp>(v))
    return pow.getLhs() == x && matchConstantNear(pow.getRhs(), 3.0f);
  auto isSquare = [&](Value s) {
    auto sq = definedBy<MulOp>(s);
    return sq && hasSingleUse(s) && sq.getLhs() == x && sq.getRhs() == x;
  };
  auto mul = definedBy<MulOp>(v);
  return mul && findOperandOrder(mul, [&](Value a, Value b) { return a == x && isSquare(b); });
}

/// `arg` is `x / sqrt(2)` or `x * (1/sqrt(2))`: returns x.
Value matchErfArgument(Value arg) {
  if (!hasSingleUse(arg))
    return {};
  if (auto div = definedBy<DivOp>(arg))
    return matchConstantNear(div.getRhs(), kSqrt2) ? div.getLhs() : Value();
  return scaledBy(arg, kInvSqrt2);
}

/// `arg` is `0.79788 * (x + 0.044715 * x^3)`: returns x.
Value matchTanhArgument(Value arg) {
  Value sum = scaledBy(arg, kSqrt2OverPi);
  auto add = definedBy<AddOp>(sum);
  if (!add || !hasSingleUse(sum))
    return {};
  auto order = findOperandOrder(
      add, [](Value x, Value term) { return isCubeOf(scaledBy(term, kCubeCoeff), x); });
  return order ? order->first : Value();
}

/// `p` is `1 + erf(...)` or `1 + tanh(...)`: returns x and the formula.
std::optional<std::pair<Value, GeluApprox>> matchOnePlusBranch(Value p) {
  auto add = definedBy<AddOp>(p);
  if (!add || !hasSingleUse(p))
    return std::nullopt;
  Value f = operandBesideConstant(add, 1.0f);
  if (!hasSingleUse(f))
    return std::nullopt;
  if (auto erf = definedBy<ErfOp>(f))
    if (Value x = matchErfArgument(erf.getInput()))
      return std::pair(x, GeluApprox::erf);
  if (auto tanh = definedBy<TanhOp>(f))
    if (Value x = matchTanhArgument(tanh.getInput()))
      return std::pair(x, GeluApprox::tanh);
  return std::nullopt;
}

/// The ways to read `root = a * b` as a product of three factors: one of the
/// operands must itself be a single-use tfc.mul.
SmallVector<std::array<Value, 3>> threeFactorReadings(MulOp root) {
  SmallVector<std::array<Value, 3>> readings;
  Value a = root.getLhs(), b = root.getRhs();
  if (auto inner = definedBy<MulOp>(a); inner && hasSingleUse(a))
    readings.push_back({inner.getLhs(), inner.getRhs(), b});
  if (auto inner = definedBy<MulOp>(b); inner && hasSingleUse(b))
    readings.push_back({inner.getLhs(), inner.getRhs(), a});
  return readings;
}

/// {x, 0.5, 1 + f(x)} in any order: returns x and the formula.
std::optional<std::pair<Value, GeluApprox>> matchFactors(const std::array<Value, 3> &f) {
  for (int half = 0; half < 3; ++half) {
    if (!matchConstantNear(f[half], 0.5f))
      continue;
    for (int branch = 0; branch < 3; ++branch) {
      if (branch == half)
        continue;
      Value x = f[3 - half - branch];
      auto m = matchOnePlusBranch(f[branch]);
      if (m && m->first == x)
        return m;
    }
  }
  return std::nullopt;
}

struct FuseGeluPattern : OpRewritePattern<MulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MulOp root, PatternRewriter &rewriter) const override {
    for (const auto &factors : threeFactorReadings(root)) {
      auto match = matchFactors(factors);
      if (!match)
        continue;
      auto [x, approx] = *match;
      if (x.getType() != root.getType())
        return rewriter.notifyMatchFailure(root, "the product broadcasts x to another type");
      rewriter.replaceOpWithNewOp<GeluOp>(root, root.getType(), x, approx);
      return success();
    }
    return rewriter.notifyMatchFailure(root, "not 0.5 * x * (1 + erf|tanh(...))");
  }
};

struct FuseGeluPass : tfc::impl::FuseGeluBase<FuseGeluPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseGeluPattern>(&getContext());
    // Not converging within the iteration limit still leaves valid IR.
    (void)applyPatternsAndFoldGreedily(getOperation(), std::move(patterns));
  }
};

} // namespace
