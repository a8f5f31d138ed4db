//===- GatedLinearMatcher.cpp - find gated feed-forward projections -------===//
//
// Matches, anchored at the gating tfc.mul (operands in either order),
//   g = matmul(x, Wg)                      Wg rank 2
//   u = matmul(x, Wu)                      Wu rank 2, the same x
//   a = act(g)                             the activation, one of
//         SiLU:  mul(g, sigmoid(g))                        (torch's F.silu, either order)
//                div(g, add(1, exp(neg(g) | mul(g, -1))))  (SiLU written without sigmoid)
//         GELU:  tfc.gelu(g)                               (after tfc-fuse-gelu)
//   y = mul(a, u)
// which is LLaMA's / Mistral's / Qwen2's SwiGLU and T5 v1.1's / Gemma's GeGLU
// as torch exports them. g is used only by the activation, every other
// intermediate (u included) by one op, and the product has the matmuls' type.
// Not fused, and left alone: projections with a bias, projections of
// different inputs, a gate or up value used elsewhere, a broadcasting product.
//
//===----------------------------------------------------------------------===//
#include "Matchers.h"
#include "PatternUtils.h"

using namespace mlir;
using namespace mlir::tfc;

namespace {

/// The recognised activation of a gate pre-activation.
struct Activated {
  Value gate;                       // g
  GateActivation activation = GateActivation::silu;
  unsigned gateUses = 0;            // uses of g the activation accounts for
  SmallVector<Operation *> ops;     // the activation's ops, the outermost last
};

/// `t` is -g: neg(g) or g * -1.
bool isNegationOf(Value t, Value g) {
  if (auto neg = definedBy<NegOp>(t))
    return neg.getInput() == g;
  auto mul = definedBy<MulOp>(t);
  return mul && findOperandOrder(mul, [&](Value a, Value c) {
           return a == g && matchConstantNear(c, -1.0f);
         });
}

/// Recognises `a` as SiLU or GELU of some value (structure only, no use counts).
std::optional<Activated> activationOf(Value a) {
  Activated r;
  if (auto gelu = definedBy<GeluOp>(a)) {
    r.gate = gelu.getInput();
    r.activation = gelu.getApproximate() == GeluApprox::tanh ? GateActivation::gelu_tanh
                                                             : GateActivation::gelu_erf;
    r.gateUses = 1;
    r.ops = {gelu};
    return r;
  }
  if (auto mul = definedBy<MulOp>(a)) {  // g * sigmoid(g)
    auto order = findOperandOrder(mul, [](Value g, Value s) {
      auto sigmoid = definedBy<SigmoidOp>(s);
      return sigmoid && sigmoid.getInput() == g;
    });
    if (!order)
      return std::nullopt;
    r.gate = order->first;
    r.gateUses = 2;
    r.ops = {order->second.getDefiningOp(), mul};
    return r;
  }
  if (auto div = definedBy<DivOp>(a)) {  // g / (1 + exp(-g))
    Value g = div.getLhs();
    auto add = definedBy<AddOp>(div.getRhs());
    Value e = add ? operandBesideConstant(add, 1.0f) : Value();
    auto exp = definedBy<ExpOp>(e);
    if (!exp || !isNegationOf(exp.getInput(), g))
      return std::nullopt;
    r.gate = g;
    r.gateUses = 2;
    r.ops = {exp.getInput().getDefiningOp(), exp, add, div};
    return r;
  }
  return std::nullopt;
}

/// A projection `matmul(x, W)`, possibly followed by a bias add.
struct Projection {
  MatMulOp matmul;
  bool biased = false;
};

Projection projectionOf(Value v) {
  if (auto mm = definedBy<MatMulOp>(v))
    return {mm, false};
  if (auto add = definedBy<AddOp>(v)) {
    if (auto mm = definedBy<MatMulOp>(add.getLhs()))
      return {mm, true};
    if (auto mm = definedBy<MatMulOp>(add.getRhs()))
      return {mm, true};
  }
  return {};
}

/// The operand order {activated gate, up} of `mul`, when one operand is an activation.
std::optional<std::pair<Value, Value>> gateAndUp(MulOp mul) {
  return findOperandOrder(mul, [](Value a, Value) { return activationOf(a).has_value(); });
}

} // namespace

bool mlir::tfc::isGatedLinearCandidate(MulOp mul) {
  return bool(findOperandOrder(mul, [](Value a, Value) {
    auto act = activationOf(a);
    return act && projectionOf(act->gate).matmul;
  }));
}

FailureOr<GatedLinearMatch> mlir::tfc::matchGatedLinear(MulOp mul, std::string *why) {
  auto operands = gateAndUp(mul);
  if (!operands)
    return reject(why, "neither factor is SiLU or GELU of a value");
  auto [a, u] = *operands;
  Activated act = *activationOf(a);
  Projection gate = projectionOf(act.gate), up = projectionOf(u);
  if (!gate.matmul)
    return reject(why, "the activation's input is not a matmul (the gate projection)");
  if (gate.biased)
    return reject(why, "the gate projection adds a bias");
  if (cast<RankedTensorType>(gate.matmul.getRhs().getType()).getRank() != 2)
    return reject(why, "the gate projection's weight is not 2-D");
  if (!llvm::hasNItems(act.gate.getUses(), act.gateUses))
    return reject(why, "the gate projection has other uses than its activation");
  for (Operation *op : llvm::ArrayRef(act.ops).drop_back())
    if (!op->getResult(0).hasOneUse())
      return reject(why, "a value inside the activation has other uses");
  if (!hasSingleUse(a))
    return reject(why, "the activated gate has other uses");
  if (!up.matmul)
    return reject(why, "the other factor is not a matmul (the up projection)");
  if (up.biased)
    return reject(why, "the up projection adds a bias");
  if (cast<RankedTensorType>(up.matmul.getRhs().getType()).getRank() != 2)
    return reject(why, "the up projection's weight is not 2-D");
  if (!hasSingleUse(u))
    return reject(why, "the up projection has other uses");
  if (up.matmul.getLhs() != gate.matmul.getLhs())
    return reject(why, "the gate and up projections read different inputs");
  if (gate.matmul.getType() != up.matmul.getType() || mul.getType() != gate.matmul.getType())
    return reject(why, "the gate and up projections differ in type (the product broadcasts)");
  GatedLinearMatch m;
  m.input = gate.matmul.getLhs();
  m.gateWeight = gate.matmul.getRhs();
  m.upWeight = up.matmul.getRhs();
  m.activation = act.activation;
  m.root = mul;
  m.matched = {gate.matmul, up.matmul};
  m.matched.append(act.ops.begin(), act.ops.end());
  m.matched.push_back(mul);
  return m;
}
