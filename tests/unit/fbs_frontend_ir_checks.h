//===- fbs_frontend_ir_checks.h - check the primitive patterns in built IR -*- C++ -*-===//
//
// Walks a module built by the fbs frontend and checks, op for op, the shapes
// that docs/PRIMITIVE_PATTERNS.md promises the fusion passes: the attention
// chain around every 4-D softmax, the nine-op layer norm behind every
// "reduce_mean whose result is subtracted from its input", the decomposed
// GELU formulas, and linear = matmul by a weight (+ bias). Each inspector
// returns an empty string when the shape matches, else what differs.
//
//===----------------------------------------------------------------------===//
#ifndef TFC_TESTS_UNIT_FBS_FRONTEND_IR_CHECKS_H
#define TFC_TESTS_UNIT_FBS_FRONTEND_IR_CHECKS_H

#include "tfc/IR/TfcDialect.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/STLExtras.h"

#include <cmath>
#include <map>
#include <string>

namespace tfc::testing {

namespace ops = mlir::tfc;

/// Op name -> count over the whole module.
inline std::map<std::string, int64_t> opHistogram(mlir::ModuleOp module) {
  std::map<std::string, int64_t> counts;
  module->walk([&](mlir::Operation *op) { ++counts[op->getName().getStringRef().str()]; });
  return counts;
}

/// Every op of type OpT in the module.
template <typename OpT>
std::vector<OpT> collect(mlir::ModuleOp module) {
  std::vector<OpT> out;
  module->walk([&](OpT op) { out.push_back(op); });
  return out;
}

/// The NameLoc name of an op ("" when it has none).
inline std::string locName(mlir::Operation *op) {
  if (auto name = llvm::dyn_cast<mlir::NameLoc>(op->getLoc()))
    return name.getName().str();
  return "";
}

/// True when `v` is a rank-0 f32 constant equal to `expected` (relative 1e-6).
inline bool isScalar(mlir::Value v, double expected) {
  auto c = v.getDefiningOp<ops::ConstantOp>();
  if (!c)
    return false;
  auto attr = llvm::dyn_cast<mlir::DenseFPElementsAttr>(c.getValue());
  if (!attr || attr.getType().getRank() != 0)
    return false;
  double got = (*attr.getValues<llvm::APFloat>().begin()).convertToDouble();
  return std::fabs(got - expected) <= 1e-6 * std::max(1.0, std::fabs(expected));
}

inline bool isWeight(mlir::Value v, llvm::StringRef name) {
  auto w = v.getDefiningOp<ops::WeightOp>();
  return w && w.getName() == name;
}

template <typename OpT>
OpT singleUser(mlir::Value v) {
  if (!v.hasOneUse())
    return nullptr;
  return llvm::dyn_cast<OpT>(*v.getUsers().begin());
}

/// reshape {shape = [0, 0, H, dh]} then transpose {perm}.
inline bool isHeadSplit(mlir::Value v, llvm::ArrayRef<int64_t> perm, int64_t heads, int64_t dh) {
  auto t = v.getDefiningOp<ops::TransposeOp>();
  if (!t || t.getPerm() != perm)
    return false;
  auto r = t.getInput().getDefiningOp<ops::ReshapeOp>();
  return r && r.getShape() == llvm::ArrayRef<int64_t>{0, 0, heads, dh};
}

struct AttentionShape {
  std::string mismatch;  // empty: the chain matches the contract
  bool multiplyScale = false, divideScale = false, padding = false, causal = false;
};

/// cast -> sub c(1), m -> mul c(-1e9) -> reshape [0, 1, 1, -1].
inline bool isPaddingBias(mlir::Value v) {
  auto r = v.getDefiningOp<ops::ReshapeOp>();
  if (!r || r.getShape() != llvm::ArrayRef<int64_t>{0, 1, 1, -1})
    return false;
  auto m = r.getInput().getDefiningOp<ops::MulOp>();
  if (!m || !isScalar(m.getRhs(), -1e9))
    return false;
  auto s = m.getLhs().getDefiningOp<ops::SubOp>();
  return s && isScalar(s.getLhs(), 1.0) && s.getRhs().getDefiningOp<ops::CastOp>();
}

/// slice of a constant lower-triangular i1 [M, M] table, starts [0, 0], axes [0, 1].
inline bool isCausalKeep(mlir::Value v) {
  auto slice = v.getDefiningOp<ops::SliceOp>();
  if (!slice || slice.getAxes() != llvm::ArrayRef<int64_t>{0, 1})
    return false;
  auto table = slice.getInput().getDefiningOp<ops::ConstantOp>();
  if (!table)
    return false;
  auto values = llvm::dyn_cast<mlir::DenseIntElementsAttr>(table.getValue());
  if (!values || !values.getElementType().isInteger(1) || values.getType().getRank() != 2)
    return false;
  int64_t m = values.getType().getDimSize(0);
  auto bits = values.getValues<bool>();
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < m; ++j)
      if (bits[i * m + j] != (j <= i))
        return false;
  return slice.getEnds().getDefiningOp<ops::ConcatOp>() != nullptr;
}

/// Checks the chain from the Q/K/V head splits through the softmax to the
/// head merge, as in "Attention" of docs/PRIMITIVE_PATTERNS.md.
inline AttentionShape inspectAttention(ops::SoftmaxOp softmax, int64_t heads, int64_t d) {
  AttentionShape r;
  int64_t dh = d / heads;
  auto mismatch = [&](const char *why) {
    r.mismatch = why;
    return r;
  };
  if (static_cast<int64_t>(softmax.getAxis()) != -1)
    return mismatch("softmax is not over the last axis");
  mlir::Value s = softmax.getInput();
  if (auto where = s.getDefiningOp<ops::WhereOp>()) {
    if (!isScalar(where.getRhs(), -1e9) || !isCausalKeep(where.getCondition()))
      return mismatch("causal where is not where(slice of tril table, s, -1e9)");
    r.causal = true;
    s = where.getLhs();
  }
  if (auto add = s.getDefiningOp<ops::AddOp>()) {
    if (!isPaddingBias(add.getRhs()))
      return mismatch("padding add does not add the [B,1,1,T] bias");
    r.padding = true;
    s = add.getLhs();
  }
  if (auto mul = s.getDefiningOp<ops::MulOp>()) {
    if (!isScalar(mul.getRhs(), 1.0 / std::sqrt(double(dh))))
      return mismatch("scale is not mul by 1/sqrt(dh)");
    r.multiplyScale = true;
    s = mul.getLhs();
  } else if (auto div = s.getDefiningOp<ops::DivOp>()) {
    if (!isScalar(div.getRhs(), std::sqrt(double(dh))))
      return mismatch("scale is not div by sqrt(dh)");
    r.divideScale = true;
    s = div.getLhs();
  } else {
    return mismatch("scores are not scaled");
  }
  auto scores = s.getDefiningOp<ops::MatMulOp>();
  if (!scores || !isHeadSplit(scores.getLhs(), {0, 2, 1, 3}, heads, dh) ||
      !isHeadSplit(scores.getRhs(), {0, 2, 3, 1}, heads, dh))
    return mismatch("scores are not matmul(split Q [0,2,1,3], split K [0,2,3,1])");
  auto pv = singleUser<ops::MatMulOp>(softmax.getResult());
  if (!pv || pv.getLhs() != softmax.getResult() ||
      !isHeadSplit(pv.getRhs(), {0, 2, 1, 3}, heads, dh))
    return mismatch("probabilities are not matmul'ed with split V");
  auto merge = singleUser<ops::TransposeOp>(pv.getResult());
  if (!merge || merge.getPerm() != llvm::ArrayRef<int64_t>{0, 2, 1, 3})
    return mismatch("heads are not transposed back [0,2,1,3]");
  auto concat = singleUser<ops::ReshapeOp>(merge.getResult());
  if (!concat || concat.getShape() != llvm::ArrayRef<int64_t>{0, 0, d})
    return mismatch("heads are not merged by reshape [0,0,D]");
  return r;
}

/// True when `mean` starts a layer-norm candidate: its single user subtracts
/// it from its own input.
inline bool startsLayerNorm(ops::ReduceMeanOp mean) {
  auto sub = singleUser<ops::SubOp>(mean.getResult());
  return sub && sub.getLhs() == mean.getInput() && sub.getRhs() == mean.getResult();
}

/// The nine ops of "Layer norm" with weights `<prefix>.weight` / `.bias`.
inline std::string inspectLayerNorm(ops::ReduceMeanOp mean, double eps, std::string &prefix) {
  auto lastAxisKept = [](ops::ReduceMeanOp m) {
    return m.getAxes() == llvm::ArrayRef<int64_t>{-1} && m.getKeepdims();
  };
  if (!lastAxisKept(mean) || !startsLayerNorm(mean))
    return "mean is not reduce_mean {axes=[-1], keepdims} subtracted from its input";
  mlir::Value d = mean->getUsers().begin()->getResult(0);
  ops::PowOp pow;
  ops::DivOp normalized;
  for (mlir::Operation *user : d.getUsers()) {
    if (auto p = llvm::dyn_cast<ops::PowOp>(user))
      pow = p;
    else if (auto q = llvm::dyn_cast<ops::DivOp>(user))
      normalized = q;
  }
  if (!pow || !isScalar(pow.getRhs(), 2.0) || !normalized || normalized.getLhs() != d)
    return "d is not used by pow(d, 2.0) and div(d, std)";
  auto var = singleUser<ops::ReduceMeanOp>(pow.getResult());
  if (!var || !lastAxisKept(var))
    return "variance is not reduce_mean {axes=[-1], keepdims}";
  auto ve = singleUser<ops::AddOp>(var.getResult());
  if (!ve || !isScalar(ve.getRhs(), static_cast<float>(eps)))
    return "variance + eps is missing or eps differs";
  auto sqrt = singleUser<ops::SqrtOp>(ve.getResult());
  if (!sqrt || normalized.getRhs() != sqrt.getResult())
    return "div does not divide by sqrt(var + eps)";
  auto gamma = singleUser<ops::MulOp>(normalized.getResult());
  auto gammaWeight = gamma ? gamma.getRhs().getDefiningOp<ops::WeightOp>() : nullptr;
  if (!gammaWeight || !gammaWeight.getName().ends_with(".weight"))
    return "normalized value is not multiplied by a gamma weight";
  prefix = gammaWeight.getName().drop_back(strlen(".weight")).str();
  auto beta = singleUser<ops::AddOp>(gamma.getResult());
  if (!beta || !isWeight(beta.getRhs(), prefix + ".bias"))
    return "gamma product is not added to the matching beta weight";
  return "";
}

/// 0.5 * x * (1 + erf(x / sqrt 2)) around `erf`.
inline std::string inspectGeluErf(ops::ErfOp erf) {
  auto d = erf.getInput().getDefiningOp<ops::DivOp>();
  if (!d || !isScalar(d.getRhs(), std::sqrt(2.0)))
    return "erf input is not x / sqrt(2)";
  mlir::Value x = d.getLhs();
  auto p = singleUser<ops::AddOp>(erf.getResult());
  if (!p || !isScalar(p.getRhs(), 1.0))
    return "erf is not followed by + 1";
  auto m = singleUser<ops::MulOp>(p.getResult());
  if (!m || m.getLhs() != x)
    return "1 + erf is not multiplied by x";
  auto h = singleUser<ops::MulOp>(m.getResult());
  if (!h || !isScalar(h.getRhs(), 0.5))
    return "x * (1 + erf) is not multiplied by 0.5";
  return "";
}

/// 0.5 * x * (1 + tanh(0.79788456 * (x + 0.044715 * pow(x, 3)))) around `tanh`.
inline std::string inspectGeluTanh(ops::TanhOp tanh) {
  auto inner = tanh.getInput().getDefiningOp<ops::MulOp>();
  if (!inner || !isScalar(inner.getRhs(), std::sqrt(2.0 / M_PI)))
    return "tanh input is not sqrt(2/pi) * (...)";
  auto s = inner.getLhs().getDefiningOp<ops::AddOp>();
  if (!s)
    return "tanh argument is not x + 0.044715 x^3";
  mlir::Value x = s.getLhs();
  auto cubic = s.getRhs().getDefiningOp<ops::MulOp>();
  auto pow = cubic ? cubic.getLhs().getDefiningOp<ops::PowOp>() : nullptr;
  if (!cubic || !isScalar(cubic.getRhs(), 0.044715) || !pow || pow.getLhs() != x ||
      !isScalar(pow.getRhs(), 3.0))
    return "cubic term is not 0.044715 * pow(x, 3.0)";
  auto p = singleUser<ops::AddOp>(tanh.getResult());
  auto m = p ? singleUser<ops::MulOp>(p.getResult()) : nullptr;
  auto h = m ? singleUser<ops::MulOp>(m.getResult()) : nullptr;
  if (!p || !isScalar(p.getRhs(), 1.0) || !m || m.getLhs() != x || !h ||
      !isScalar(h.getRhs(), 0.5))
    return "tanh is not followed by (+ 1) * x * 0.5";
  return "";
}

/// matmul %x, weight("<p>.weight") followed by add weight("<p>.bias").
inline std::string inspectLinear(ops::MatMulOp matmul) {
  auto w = matmul.getRhs().getDefiningOp<ops::WeightOp>();
  if (!w || !w.getName().ends_with(".weight"))
    return "rhs is not a .weight";
  std::string prefix = w.getName().drop_back(strlen(".weight")).str();
  auto bias = singleUser<ops::AddOp>(matmul.getResult());
  if (prefix != "lm_head" && (!bias || !isWeight(bias.getRhs(), prefix + ".bias")))
    return "matmul by " + prefix + ".weight is not followed by add " + prefix + ".bias";
  return "";
}

} // namespace tfc::testing

#endif // TFC_TESTS_UNIT_FBS_FRONTEND_IR_CHECKS_H
