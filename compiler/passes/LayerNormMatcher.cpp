//===- LayerNormMatcher.cpp - find layer norms over the last axis ---------===//
//
// Matches, walking down from the first reduce_mean,
//   mean = reduce_mean(x) {axes = [-1] | [rank-1], keepdims}
//   d    = sub(x, mean)                       (x: the mean's own input)
//   sq   = pow(d, 2) | mul(d, d)
//   var  = reduce_mean(sq) over the last axis, keepdims
//   std  = sqrt(add(var, eps))                (eps a constant, either order)
//   n    = div(d, std) | mul(d, div(1, std))
//   [g   = mul(n, gamma)]  [y = add(g, beta)] (1-D of the last dim, either order)
// and `tfc.layer_normalization` over the last axis. Every intermediate must
// have a single use (d: exactly the square and the normalization). Not a
// layer norm, and left alone: eps added after sqrt, a reduction over another
// axis, a mean subtracted from another tensor.
//
//===----------------------------------------------------------------------===//
#include "Matchers.h"
#include "PatternUtils.h"

#include "tfc/IR/ShapeUtils.h"

#include "llvm/ADT/SetVector.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tfc;

namespace {

LogicalResult checkLastAxisMean(ReduceMeanOp op, const char *what, std::string *why) {
  if (!isLastAxisOnly(op.getAxes(), op.getInput().getType().getRank()))
    return reject(why, llvm::Twine(what) + " is over axes " + arrayToString(op.getAxes()) +
                           ", not the last axis");
  if (!op.getKeepdims())
    return reject(why, llvm::Twine(what) + " does not keep the reduced dim");
  return success();
}

bool isSquareOf(Operation *op, Value d) {
  if (auto pow = dyn_cast<PowOp>(op))
    return pow.getLhs() == d && matchConstantNear(pow.getRhs(), 2.0f);
  auto mul = dyn_cast<MulOp>(op);
  return mul && mul.getLhs() == d && mul.getRhs() == d;
}

/// `op` computes `d / std` or `d * (1 / std)`.
bool isNormalization(Operation *op, Value d, Value stdDev) {
  if (auto div = dyn_cast_or_null<DivOp>(op))
    return div.getLhs() == d && div.getRhs() == stdDev;
  auto mul = dyn_cast_or_null<MulOp>(op);
  if (!mul)
    return false;
  return bool(findOperandOrder(mul, [&](Value a, Value recip) {
    auto div = definedBy<DivOp>(recip);
    return a == d && div && hasSingleUse(recip) && matchConstantNear(div.getLhs(), 1.0f) &&
           div.getRhs() == stdDev;
  }));
}

/// For an elementwise `op` taking `v`: its other operand when that is 1-D of
/// the last dim's size `c` (gamma or beta).
Value affineOperand(Operation *op, Value v, int64_t c) {
  auto order = findOperandOrder(op, [&](Value a, Value p) {
    auto t = cast<RankedTensorType>(p.getType());
    return a == v && t.getRank() == 1 && dimsCompatible(t.getDimSize(0), c) &&
           t.getElementType() == cast<RankedTensorType>(v.getType()).getElementType();
  });
  return order ? order->second : Value();
}

/// Splits the users of `d = x - mean` into the square and the normalization.
LogicalResult splitCenteredUsers(Value d, Operation *&square, Operation *&normalize,
                                 std::string *why) {
  llvm::SmallSetVector<Operation *, 2> users(d.getUsers().begin(), d.getUsers().end());
  if (users.size() != 2)
    return reject(why, "x - mean has " + llvm::Twine(users.size()) +
                           " users; expected the square and the normalization");
  square = isSquareOf(users[0], d) ? users[0] : users[1];
  normalize = square == users[0] ? users[1] : users[0];
  if (!isSquareOf(square, d))
    return reject(why, "x - mean is not squared by pow(d, 2) or d * d");
  return success();
}

/// From the square `sq` down to sqrt(var + eps): returns the sqrt's value.
FailureOr<Value> matchStdDev(Value sq, float &epsilon, std::string *why) {
  auto var = singleUserAs<ReduceMeanOp>(sq);
  if (!var || var.getInput() != sq)
    return reject(why, "the square is not averaged by a single reduce_mean");
  if (failed(checkLastAxisMean(var, "the variance", why)))
    return failure();
  Operation *next = singleUser(var);
  if (isa_and_nonnull<SqrtOp>(next))
    return reject(why, "epsilon is added after sqrt, not to the variance");
  auto add = dyn_cast_or_null<AddOp>(next);
  if (!add || !findOperandOrder(add, [&](Value a, Value c) {
        return a == var.getResult() && matchScalarConstant(c, epsilon);
      }))
    return reject(why, "the variance is not followed by + epsilon");
  if (!(epsilon > 0.0f) || !std::isfinite(epsilon))
    return reject(why, "epsilon is not a finite positive constant");
  auto sqrt = singleUserAs<SqrtOp>(add);
  if (!sqrt)
    return reject(why, "variance + epsilon is not followed by sqrt");
  if (!hasSingleUse(sqrt))
    return reject(why, "sqrt(variance + epsilon) has more than one use");
  return sqrt.getResult();
}

/// Extends the match from the normalized value through `* gamma` and `+ beta`.
void matchAffine(LayerNormMatch &m, int64_t c) {
  Value cur = m.root->getResult(0);
  if (Operation *user = singleUser(cur); isa_and_nonnull<MulOp>(user)) {
    if ((m.gamma = affineOperand(user, cur, c))) {
      m.root = user;
      m.matched.push_back(user);
      cur = user->getResult(0);
    }
  }
  if (Operation *user = singleUser(cur); isa_and_nonnull<AddOp>(user)) {
    if ((m.beta = affineOperand(user, cur, c))) {
      m.root = user;
      m.matched.push_back(user);
    }
  }
}

} // namespace

bool mlir::tfc::isLayerNormCandidate(ReduceMeanOp mean) {
  if (!isLastAxisOnly(mean.getAxes(), mean.getInput().getType().getRank()))
    return false;
  return llvm::any_of(mean->getUsers(), [&](Operation *user) {
    auto sub = dyn_cast<SubOp>(user);
    return sub && sub.getLhs() == mean.getInput() && sub.getRhs() == mean.getResult();
  });
}

FailureOr<LayerNormMatch> mlir::tfc::matchDecomposedLayerNorm(ReduceMeanOp mean, std::string *why) {
  LayerNormMatch m;
  m.input = mean.getInput();
  if (failed(checkLastAxisMean(mean, "the mean", why)))
    return failure();
  auto sub = singleUserAs<SubOp>(mean);
  if (!sub || sub.getLhs() != m.input || sub.getRhs() != mean.getResult())
    return reject(why, "the mean is not subtracted (only) from its own input");
  Operation *square, *normalize;
  if (failed(splitCenteredUsers(sub, square, normalize, why)))
    return failure();
  FailureOr<Value> stdDev = matchStdDev(square->getResult(0), m.epsilon, why);
  if (failed(stdDev))
    return failure();
  if (!isNormalization(normalize, sub, *stdDev))
    return reject(why, "x - mean is not divided by sqrt(variance + epsilon)");
  m.root = normalize;
  m.matched = {mean, sub, square, normalize};
  int64_t c = cast<RankedTensorType>(m.input.getType()).getShape().back();
  matchAffine(m, c);
  if ((!m.gamma || !m.beta) && ShapedType::isDynamic(c))
    return reject(why, "the last dim is dynamic, so the missing gamma/beta cannot be built");
  if (m.root->getResult(0).getType() != m.input.getType())
    return reject(why, "the normalized value does not have the input's type");
  return m;
}

FailureOr<LayerNormMatch> mlir::tfc::matchLayerNormalization(LayerNormalizationOp op,
                                                             std::string *why) {
  auto type = cast<RankedTensorType>(op.getInput().getType());
  int64_t rank = type.getRank(), c = type.getShape().back();
  auto axis = static_cast<int64_t>(op.getAxis());  // I64Attr reads as uint64_t
  if (axis != -1 && axis != rank - 1)
    return reject(why, "layer_normalization normalizes from axis " + llvm::Twine(axis) +
                           ", not only the last axis");
  auto isVector = [&](Value v) {
    auto t = cast<RankedTensorType>(v.getType());
    return t.getRank() == 1 && dimsCompatible(t.getDimSize(0), c);
  };
  if (!isVector(op.getScale()))
    return reject(why, "the scale is not 1-D of the last dim's size");
  if (op.getBias() && !isVector(op.getBias()))
    return reject(why, "the bias is not 1-D of the last dim's size");
  if (!op.getBias() && ShapedType::isDynamic(c))
    return reject(why, "the last dim is dynamic, so the missing bias cannot be built");
  LayerNormMatch m;
  m.input = op.getInput();
  m.gamma = op.getScale();
  m.beta = op.getBias();
  m.epsilon = op.getEpsilon().convertToFloat();
  m.root = op;
  m.matched = {op};
  return m;
}
