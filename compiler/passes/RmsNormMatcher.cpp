//===- RmsNormMatcher.cpp - find RMS norms over the last axis -------------===//
//
// Matches, walking down from the reduce_mean of the squares,
//   sq  = pow(x, 2) | mul(x, x)
//   ms  = reduce_mean(sq) {axes = [-1] | [rank-1], keepdims}
//   ve  = add(ms, eps)                        (eps a scalar constant, either order)
//   n   = mul(x, div(1, sqrt(ve)))            (torch.rsqrt, ONNX Reciprocal(Sqrt))
//       | div(x, sqrt(ve))
//       | mul(x, pow(ve, -0.5))               (either order for every mul)
//   [y  = mul(n, w) | mul(n, add(1, w))]      (w 1-D of the last dim; the second
//                                              form is Gemma's (1 + w))
// which is LLaMA's, Mistral's, Qwen2's, T5's and Gemma's norm as torch
// exports it. Every intermediate must have a single use (x itself is usually
// also the residual stream and may have any number). Not an RMS norm, and
// left alone: the mean over another axis, eps added after sqrt, eps that is
// not a scalar constant, the reciprocal RMS scaling another tensor than the
// squared one. A weight that is not 1-D of the last dim is not absorbed: the
// norm fuses without it and the multiply stays.
//
//===----------------------------------------------------------------------===//
#include "Matchers.h"
#include "PatternUtils.h"

#include "tfc/IR/ShapeUtils.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tfc;

namespace {

/// The base of `sq` when it is pow(x, 2) or x * x.
Value squareBase(Value sq) {
  if (auto pow = definedBy<PowOp>(sq))
    return matchConstantNear(pow.getRhs(), 2.0f) ? pow.getLhs() : Value();
  auto mul = definedBy<MulOp>(sq);
  return mul && mul.getLhs() == mul.getRhs() ? mul.getLhs() : Value();
}

/// True when `v` is a layer norm's centered value `a - reduce_mean(a)`.
bool isCenteredByMean(Value v) {
  auto sub = definedBy<SubOp>(v);
  auto mean = sub ? definedBy<ReduceMeanOp>(sub.getRhs()) : ReduceMeanOp();
  return mean && mean.getInput() == sub.getLhs();
}

/// True when `w` is 1-D of the last dim's size `c` with `x`'s element type.
bool isLastAxisVector(Value w, Value x, int64_t c) {
  auto t = cast<RankedTensorType>(w.getType());
  return t.getRank() == 1 && dimsCompatible(t.getDimSize(0), c) &&
         t.getElementType() == cast<RankedTensorType>(x.getType()).getElementType();
}

/// From the mean of squares to `mean + eps` (returns the add).
FailureOr<AddOp> matchEpsilon(ReduceMeanOp mean, float &epsilon, std::string *why) {
  if (!hasSingleUse(mean.getResult()))
    return reject(why, "the mean of squares has more than one use");
  Operation *next = singleUser(mean.getResult());
  if (isa<SqrtOp>(next))
    return reject(why, "epsilon is added after sqrt, not to the mean of squares");
  auto add = dyn_cast<AddOp>(next);
  if (!add)
    return reject(why, "the mean of squares is not followed by + epsilon");
  if (!findOperandOrder(add, [&](Value a, Value c) {
        return a == mean.getResult() && matchScalarConstant(c, epsilon);
      }))
    return reject(why, "epsilon is not a scalar constant");
  if (!(epsilon > 0.0f) || !std::isfinite(epsilon))
    return reject(why, "epsilon is not a finite positive constant");
  if (!hasSingleUse(add.getResult()))
    return reject(why, "mean(x^2) + epsilon has more than one use");
  return add;
}

/// From `ve = mean + eps` to the op computing `v * rsqrt(ve)` or `v / sqrt(ve)`;
/// `scaled` is set to v.
FailureOr<Operation *> matchNormalization(AddOp ve, Value &scaled,
                                          SmallVectorImpl<Operation *> &matched,
                                          std::string *why) {
  Operation *user = singleUser(ve.getResult());
  Value rsqrt;  // the reciprocal RMS, when the form multiplies by it
  if (auto pow = dyn_cast_or_null<PowOp>(user);
      pow && pow.getLhs() == ve.getResult() && matchConstantNear(pow.getRhs(), -0.5f)) {
    matched.push_back(pow);
    rsqrt = pow.getResult();
  } else if (auto sqrt = dyn_cast_or_null<SqrtOp>(user)) {
    matched.push_back(sqrt);
    if (!hasSingleUse(sqrt.getResult()))
      return reject(why, "sqrt(mean(x^2) + epsilon) has more than one use");
    auto div = singleUserAs<DivOp>(sqrt.getResult());
    if (!div || div.getRhs() != sqrt.getResult())
      return reject(why, "sqrt(mean(x^2) + epsilon) is not a divisor");
    if (!matchConstantNear(div.getLhs(), 1.0f)) {
      scaled = div.getLhs();  // v / sqrt(ve)
      return div.getOperation();
    }
    matched.push_back(div);
    rsqrt = div.getResult();
  } else {
    return reject(why, "mean(x^2) + epsilon is not followed by sqrt or pow(., -0.5)");
  }
  if (!hasSingleUse(rsqrt))
    return reject(why, "the reciprocal RMS has more than one use");
  auto mul = singleUserAs<MulOp>(rsqrt);
  if (!mul)
    return reject(why, "the reciprocal RMS does not multiply a tensor");
  scaled = mul.getLhs() == rsqrt ? mul.getRhs() : mul.getLhs();
  return mul.getOperation();
}

/// Extends the match from the normalized value through `* w` or `* (1 + w)`.
void matchWeight(RmsNormMatch &m, int64_t c) {
  Value n = m.root->getResult(0);
  auto mul = singleUserAs<MulOp>(n);
  if (!mul || mul.getType() != m.input.getType())
    return;
  Value other = mul.getLhs() == n ? mul.getRhs() : mul.getLhs();
  if (auto add = definedBy<AddOp>(other); add && hasSingleUse(other)) {
    Value w = operandBesideConstant(add, 1.0f);
    if (w && isLastAxisVector(w, m.input, c) && isLastAxisVector(other, m.input, c)) {
      m.weight = w;
      m.unitOffset = true;
      m.matched.append({add, mul});
      m.root = mul;
      return;
    }
  }
  if (isLastAxisVector(other, m.input, c)) {
    m.weight = other;
    m.matched.push_back(mul);
    m.root = mul;
  }
}

} // namespace

bool mlir::tfc::isRmsNormCandidate(ReduceMeanOp mean) {
  Value base = squareBase(mean.getInput());
  return base && !isCenteredByMean(base);
}

FailureOr<RmsNormMatch> mlir::tfc::matchRmsNorm(ReduceMeanOp mean, std::string *why) {
  Value sq = mean.getInput();
  Value x = squareBase(sq);
  if (!x)
    return reject(why, "the mean is not of a square (pow(x, 2) or x * x)");
  if (isCenteredByMean(x))
    return reject(why, "the squared value is x - mean(x): a layer norm, not an RMS norm");
  int64_t rank = mean.getInput().getType().getRank();
  if (!isLastAxisOnly(mean.getAxes(), rank))
    return reject(why, "the mean of squares is over axes " + arrayToString(mean.getAxes()) +
                           ", not the last axis");
  if (!mean.getKeepdims())
    return reject(why, "the mean of squares does not keep the reduced dim");
  if (!hasSingleUse(sq))
    return reject(why, "the square x^2 has more than one use");
  RmsNormMatch m;
  m.input = x;
  m.matched = {sq.getDefiningOp(), mean};
  FailureOr<AddOp> ve = matchEpsilon(mean, m.epsilon, why);
  if (failed(ve))
    return failure();
  m.matched.push_back(*ve);
  Value scaled;
  FailureOr<Operation *> normalize = matchNormalization(*ve, scaled, m.matched, why);
  if (failed(normalize))
    return failure();
  if (scaled != x)
    return reject(why, "the reciprocal RMS scales another tensor than the squared one");
  m.matched.push_back(*normalize);
  m.root = *normalize;
  if (m.root->getResult(0).getType() != x.getType())
    return reject(why, "the normalized value does not have the input's type");
  int64_t c = cast<RankedTensorType>(x.getType()).getShape().back();
  matchWeight(m, c);
  if (!m.weight && ShapedType::isDynamic(c))
    return reject(why, "the last dim is dynamic, so the missing weight cannot be built");
  if (m.root->getResult(0).getType() != x.getType())
    return reject(why, "the weighted value does not have the input's type");
  return m;
}
