//===- TfcSymbolicShapes.cpp - each op's symbolic shape rule (SymbolicShapeOpInterface) ---===//
//
// The symbolic counterpart of the static rules in TfcOps.cpp, op by op in the order of
// TfcOps.td: result dims as monomials over the named symbols (tfc/IR/SymbolicShape.h).
// The static type inference has already checked ranks, axes and permutations (the ops
// verified), so a rule only has to say which symbolic dims come out; where it cannot
// (a reshape's -1 that does not divide, a slice bound only known at run time), it returns an
// unknown dim and says why, and the analysis reports it when the result type has `?` there.
// Shape computations (tfc.shape, gather, concat, reshape, cast, add/sub/mul/div of small
// integer tensors) also give their results' symbolic contents.
//
//===----------------------------------------------------------------------===//
#include "tfc/IR/TfcDialect.h"

#include <algorithm>
#include <climits>

using namespace mlir;
using namespace mlir::tfc;

namespace {

int64_t normalizeAxis(int64_t axis, size_t rank) {
  return axis < 0 ? axis + static_cast<int64_t>(rank) : axis;
}

/// Elementwise ops on small integer tensors: [a] op [b] with equal sizes or one of size 1.
/// Add and sub are only known on constants (and `x - 0`, `x + 0`): a sum of two symbols is not
/// a monomial.
template <typename Combine>
std::optional<SymContents> elementwiseContents(Operation *op, SymbolicShapeContext &ctx,
                                               Combine combine) {
  const SymContents *a = ctx.contents(op->getOperand(0)), *b = ctx.contents(op->getOperand(1));
  if (!a || !b || (a->size() != b->size() && a->size() != 1 && b->size() != 1))
    return std::nullopt;
  SymContents out;
  for (size_t i = 0, n = std::max(a->size(), b->size()); i < n; ++i)
    out.push_back(combine((*a)[a->size() == 1 ? 0 : i], (*b)[b->size() == 1 ? 0 : i]));
  return out;
}

SymExpr addOrSub(const SymExpr &x, const SymExpr &y, bool add) {
  if (x.isConstant() && y.isConstant())
    return SymExpr::constant(add ? x.coef + y.coef : x.coef - y.coef);
  if (y.isConstant() && y.coef == 0)
    return x;
  return SymExpr::unknown();
}

/// The contents of the operand `i`, unchanged (reshape, cast).
std::optional<SymContents> forwardContents(Operation *op, SymbolicShapeContext &ctx,
                                           unsigned i) {
  if (const SymContents *in = ctx.contents(op->getOperand(i)))
    return *in;
  return std::nullopt;
}

} // namespace

//===----------------------------------------------------------------------===//
// Sources
//===----------------------------------------------------------------------===//

SymShape ConstantOp::inferSymbolicShape(SymbolicShapeContext &, std::string &) {
  return staticSymbolicShape(getType());
}

std::optional<SymContents> ConstantOp::inferSymbolicContents(SymbolicShapeContext &) {
  auto dense = dyn_cast<DenseIntElementsAttr>(getValue());
  if (!dense)
    return std::nullopt;
  SymContents out;
  for (const APInt &v : dense.getValues<APInt>())
    out.push_back(SymExpr::constant(v.getSExtValue()));
  return out;
}

SymShape WeightOp::inferSymbolicShape(SymbolicShapeContext &, std::string &) {
  return staticSymbolicShape(getType());
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

#define TFC_BROADCAST_SHAPE(OP)                                                           \
  SymShape OP::inferSymbolicShape(SymbolicShapeContext &ctx, std::string &) {             \
    return broadcastSymbolic(ctx.operandShape(getLhs()), ctx.operandShape(getRhs()));                   \
  }
TFC_BROADCAST_SHAPE(AddOp)
TFC_BROADCAST_SHAPE(SubOp)
TFC_BROADCAST_SHAPE(MulOp)
TFC_BROADCAST_SHAPE(DivOp)
TFC_BROADCAST_SHAPE(PowOp)
TFC_BROADCAST_SHAPE(MaxOp)
#undef TFC_BROADCAST_SHAPE

std::optional<SymContents> AddOp::inferSymbolicContents(SymbolicShapeContext &ctx) {
  return elementwiseContents(*this, ctx,
                             [](const SymExpr &x, const SymExpr &y) { return addOrSub(x, y, true); });
}

std::optional<SymContents> SubOp::inferSymbolicContents(SymbolicShapeContext &ctx) {
  return elementwiseContents(
      *this, ctx, [](const SymExpr &x, const SymExpr &y) { return addOrSub(x, y, false); });
}

std::optional<SymContents> MulOp::inferSymbolicContents(SymbolicShapeContext &ctx) {
  return elementwiseContents(*this, ctx, [](const SymExpr &x, const SymExpr &y) { return x * y; });
}

std::optional<SymContents> DivOp::inferSymbolicContents(SymbolicShapeContext &ctx) {
  return elementwiseContents(*this, ctx,
                             [](const SymExpr &x, const SymExpr &y) { return x.divide(y); });
}

#define TFC_SAME_SHAPE(OP)                                                                \
  SymShape OP::inferSymbolicShape(SymbolicShapeContext &ctx, std::string &) {             \
    return ctx.operandShape(getInput());                                                         \
  }
TFC_SAME_SHAPE(SqrtOp)
TFC_SAME_SHAPE(ErfOp)
TFC_SAME_SHAPE(TanhOp)
TFC_SAME_SHAPE(ReluOp)
TFC_SAME_SHAPE(ExpOp)
TFC_SAME_SHAPE(NegOp)
TFC_SAME_SHAPE(LogOp)
TFC_SAME_SHAPE(SigmoidOp)
TFC_SAME_SHAPE(GeluOp)

//===----------------------------------------------------------------------===//
// Linear algebra, reductions, normalization
//===----------------------------------------------------------------------===//

SymShape MatMulOp::inferSymbolicShape(SymbolicShapeContext &ctx, std::string &) {
  SymShape a = ctx.operandShape(getLhs()), b = ctx.operandShape(getRhs());
  if (a.size() < 2 || b.size() < 2)
    return {};
  SymShape r = broadcastSymbolic(SymShape(a.begin(), a.end() - 2), SymShape(b.begin(), b.end() - 2));
  r.push_back(a[a.size() - 2]);
  r.push_back(b.back());
  return r;
}

static SymShape reduceShape(const SymShape &x, ArrayRef<int64_t> axes, bool keepdims) {
  SymShape r;
  for (size_t i = 0; i < x.size(); ++i) {
    bool reduced =
        llvm::any_of(axes, [&](int64_t a) { return normalizeAxis(a, x.size()) == (int64_t)i; });
    if (!reduced)
      r.push_back(x[i]);
    else if (keepdims)
      r.push_back(SymExpr::constant(1));
  }
  return r;
}

SymShape ReduceMeanOp::inferSymbolicShape(SymbolicShapeContext &ctx, std::string &) {
  return reduceShape(ctx.operandShape(getInput()), getAxes(), getKeepdims());
}

SymShape ReduceSumOp::inferSymbolicShape(SymbolicShapeContext &ctx, std::string &) {
  return reduceShape(ctx.operandShape(getInput()), getAxes(), getKeepdims());
}

TFC_SAME_SHAPE(SoftmaxOp)
TFC_SAME_SHAPE(LayerNormalizationOp)

//===----------------------------------------------------------------------===//
// Data movement and shapes
//===----------------------------------------------------------------------===//

SymShape GatherOp::inferSymbolicShape(SymbolicShapeContext &ctx, std::string &) {
  SymShape data = ctx.operandShape(getData()), idx = ctx.operandShape(getIndices()), r;
  int64_t axis = normalizeAxis((int64_t)getAxis(), data.size());
  for (int64_t i = 0; i < (int64_t)data.size(); ++i) {
    if (i == axis)
      r.insert(r.end(), idx.begin(), idx.end());
    else
      r.push_back(data[i]);
  }
  return r;
}

/// Gathering entries of a shape tensor by constant indices (`shape(x)[1]`).
std::optional<SymContents> GatherOp::inferSymbolicContents(SymbolicShapeContext &ctx) {
  const SymContents *data = ctx.contents(getData()), *idx = ctx.contents(getIndices());
  if (!data || !idx || (int64_t)getAxis() != 0)
    return std::nullopt;
  SymContents out;
  for (const SymExpr &i : *idx) {
    if (!i.isConstant())
      return std::nullopt;
    int64_t k = i.coef < 0 ? i.coef + (int64_t)data->size() : i.coef;
    if (k < 0 || k >= (int64_t)data->size())
      return std::nullopt;
    out.push_back((*data)[k]);
  }
  return out;
}

SymShape TransposeOp::inferSymbolicShape(SymbolicShapeContext &ctx, std::string &) {
  SymShape x = ctx.operandShape(getInput()), r;
  for (int64_t p : getPerm())
    r.push_back(p >= 0 && p < (int64_t)x.size() ? x[p] : SymExpr::unknown());
  return r;
}

/// 0 copies the input dim, -1 is the input's product divided by the other dims (exactly, as
/// monomials: `batch*seq*64 / 64` is `batch*seq`).
SymShape ReshapeOp::inferSymbolicShape(SymbolicShapeContext &ctx, std::string &why) {
  SymShape x = ctx.operandShape(getInput()), r;
  int64_t inferred = -1;
  SymExpr known = SymExpr::constant(1);
  for (auto [i, s] : llvm::enumerate(getShape())) {
    if (s == 0)
      r.push_back(i < x.size() ? x[i] : SymExpr::unknown());
    else if (s == -1) {
      inferred = (int64_t)i;
      r.push_back(SymExpr::unknown());
      continue;
    } else
      r.push_back(SymExpr::constant(s));
    known = known * r.back();
  }
  if (inferred >= 0) {
    r[inferred] = symbolicProduct(x).divide(known);
    if (!r[inferred].known)
      why = "the -1 dim is " + ctx.str(symbolicProduct(x)) + " / " + ctx.str(known);
  }
  return r;
}

std::optional<SymContents> ReshapeOp::inferSymbolicContents(SymbolicShapeContext &ctx) {
  return forwardContents(*this, ctx, 0);
}

SymShape ConcatOp::inferSymbolicShape(SymbolicShapeContext &ctx, std::string &) {
  SymShape r = ctx.operandShape(getInputs().front());
  int64_t axis = normalizeAxis((int64_t)getAxis(), r.size());
  if (axis < 0 || axis >= (int64_t)r.size())
    return {};
  int64_t total = 0;
  bool allStatic = true;
  for (Value v : getInputs()) {
    SymShape s = ctx.operandShape(v);
    if (axis >= (int64_t)s.size() || !s[axis].isConstant())
      allStatic = false;
    else
      total += s[axis].coef;
  }
  r[axis] = allStatic ? SymExpr::constant(total) : SymExpr::unknown();
  return r;
}

std::optional<SymContents> ConcatOp::inferSymbolicContents(SymbolicShapeContext &ctx) {
  SymContents out;
  for (Value v : getInputs()) {
    const SymContents *part = ctx.contents(v);
    if (!part)
      return std::nullopt;
    out.insert(out.end(), part->begin(), part->end());
  }
  return out;
}

/// The size of `dim[start:end:step]` with ONNX clamping when all three are constants; else
/// only `[0, end)` with step 1: the whole dim (end INT32_MAX or more, or end == dim), or the
/// symbol `end` of a static dim when the symbol cannot exceed it.
static SymExpr sliceDim(SliceOp op, SymbolicShapeContext &ctx, const SymExpr &dim,
                        const SymExpr &start, const SymExpr &end, int64_t step, int64_t axis,
                        std::string &why) {
  if (dim.isConstant() && start.isConstant() && end.isConstant()) {
    int64_t d = dim.coef, s = start.coef, e = end.coef;
    if (s < 0)
      s += d;
    if (e < 0)
      e += d;
    if (step > 0) {
      s = std::clamp<int64_t>(s, 0, d);
      e = std::clamp<int64_t>(e, 0, d);
      return SymExpr::constant(e > s ? (e - s + step - 1) / step : 0);
    }
    s = std::clamp<int64_t>(s, 0, d - 1);
    e = std::clamp<int64_t>(e, -1, d - 1);
    return SymExpr::constant(s > e ? (s - e - step - 1) / -step : 0);
  }
  if (step != 1 || !start.isConstant() || start.coef != 0)
    return SymExpr::unknown();
  if (end.isConstant() && end.coef >= INT32_MAX)
    return dim;
  if (end == dim)
    return end;
  if (dim.isConstant() && end.isSymbol())
    return ctx.symbolWithin(end, dim.coef, op.getInput(), axis, why);
  return SymExpr::unknown();
}

SymShape SliceOp::inferSymbolicShape(SymbolicShapeContext &ctx, std::string &why) {
  SymShape r = ctx.operandShape(getInput());
  const SymContents *starts = ctx.contents(getStarts());
  const SymContents *ends = ctx.contents(getEnds());
  ArrayRef<int64_t> axes = getAxes();
  std::optional<ArrayRef<int64_t>> steps = getSteps();
  for (size_t i = 0; i < axes.size(); ++i) {
    int64_t axis = normalizeAxis(axes[i], r.size());
    if (axis < 0 || axis >= (int64_t)r.size())
      return {};
    int64_t step = steps && i < steps->size() ? (*steps)[i] : 1;
    if (!starts || !ends || i >= starts->size() || i >= ends->size()) {
      if (why.empty())
        why = "the slice bounds are not known at compile time";
      r[axis] = SymExpr::unknown();
      continue;
    }
    r[axis] = sliceDim(*this, ctx, r[axis], (*starts)[i], (*ends)[i], step, axis, why);
  }
  return r;
}

SymShape ShapeOp::inferSymbolicShape(SymbolicShapeContext &ctx, std::string &) {
  return {SymExpr::constant((int64_t)ctx.operandShape(getInput()).size())};
}

std::optional<SymContents> ShapeOp::inferSymbolicContents(SymbolicShapeContext &ctx) {
  return ctx.operandShape(getInput());
}

SymShape ExpandOp::inferSymbolicShape(SymbolicShapeContext &ctx, std::string &why) {
  const SymContents *target = ctx.contents(getShape());
  if (!target) {
    why = "the expand shape is not known at compile time";
    return staticSymbolicShape(getType());
  }
  return broadcastSymbolic(ctx.operandShape(getInput()), *target);
}

SymShape WhereOp::inferSymbolicShape(SymbolicShapeContext &ctx, std::string &) {
  return broadcastSymbolic(
      broadcastSymbolic(ctx.operandShape(getCondition()), ctx.operandShape(getLhs())), ctx.operandShape(getRhs()));
}

TFC_SAME_SHAPE(CastOp)

std::optional<SymContents> CastOp::inferSymbolicContents(SymbolicShapeContext &ctx) {
  return forwardContents(*this, ctx, 0);
}

//===----------------------------------------------------------------------===//
// Breadth ops (issue 11)
//===----------------------------------------------------------------------===//

TFC_SAME_SHAPE(AbsOp)
TFC_SAME_SHAPE(SignOp)
TFC_SAME_SHAPE(CeilOp)
TFC_SAME_SHAPE(FloorOp)
TFC_SAME_SHAPE(SinOp)
TFC_SAME_SHAPE(CosOp)
TFC_SAME_SHAPE(CumSumOp)
TFC_SAME_SHAPE(TriluOp)

#define TFC_BROADCAST_SHAPE(OP)                                                           \
  SymShape OP::inferSymbolicShape(SymbolicShapeContext &ctx, std::string &) {             \
    return broadcastSymbolic(ctx.operandShape(getLhs()), ctx.operandShape(getRhs()));     \
  }
TFC_BROADCAST_SHAPE(MinOp)
TFC_BROADCAST_SHAPE(EqualOp)
TFC_BROADCAST_SHAPE(LessOp)
TFC_BROADCAST_SHAPE(LessEqualOp)
TFC_BROADCAST_SHAPE(GreaterOp)
TFC_BROADCAST_SHAPE(GreaterEqualOp)
#undef TFC_BROADCAST_SHAPE

SymShape TileOp::inferSymbolicShape(SymbolicShapeContext &ctx, std::string &) {
  SymShape x = ctx.operandShape(getInput()), r;
  for (auto [d, rep] : llvm::zip(x, getRepeats()))
    r.push_back(d * SymExpr::constant(rep));
  return r;
}

SymShape GatherElementsOp::inferSymbolicShape(SymbolicShapeContext &ctx, std::string &) {
  return ctx.operandShape(getIndices());
}

SymShape ArgMaxOp::inferSymbolicShape(SymbolicShapeContext &ctx, std::string &) {
  return reduceShape(ctx.operandShape(getInput()), {int64_t(getAxis())}, getKeepdims());
}

/// [N, M, out...]: a spatial output size is a symbol only when it equals the input's
/// (stride 1, "same" padding); otherwise it must be static.
SymShape ConvOp::inferSymbolicShape(SymbolicShapeContext &ctx, std::string &why) {
  SymShape x = ctx.operandShape(getInput()), w = ctx.operandShape(getWeight());
  if (x.size() < 3 || w.size() != x.size())
    return {};
  SymShape r = {x[0], w[0]};
  size_t sp = x.size() - 2;
  auto kernel = cast<RankedTensorType>(getWeight().getType()).getShape();
  for (size_t i = 0; i < sp; ++i) {
    int64_t span = getDilations()[i] * (kernel[2 + i] - 1) + 1;
    int64_t padded = getPads()[i] + getPads()[sp + i];
    const SymExpr &in = x[2 + i];
    if (in.isConstant()) {
      r.push_back(SymExpr::constant((in.coef + padded - span) / getStrides()[i] + 1));
    } else if (getStrides()[i] == 1 && padded == span - 1) {
      r.push_back(in);
    } else {
      why = "the output size of a symbolic spatial dim is not a symbol (only stride 1 with "
            "'same' padding keeps it)";
      r.push_back(SymExpr::unknown());
    }
  }
  return r;
}

//===----------------------------------------------------------------------===//
// Fused ops
//===----------------------------------------------------------------------===//

TFC_SAME_SHAPE(LayerNormOp)
TFC_SAME_SHAPE(RmsNormOp)

SymShape GatedLinearOp::inferSymbolicShape(SymbolicShapeContext &ctx, std::string &) {
  SymShape x = ctx.operandShape(getInput()), w = ctx.operandShape(getGateWeight());
  if (x.empty() || w.size() != 2)
    return {};
  x.back() = w.back();
  return x;
}

SymShape AttentionOp::inferSymbolicShape(SymbolicShapeContext &ctx, std::string &) {
  SymShape q = ctx.operandShape(getQuery());
  if (auto columns = getColumns(); columns && q.size() == 3 && columns->size() == 4)
    q[2] = SymExpr::constant(int64_t(getNumHeads()) * (*columns)[3]); // packed: H * head_dim
  return q;
}

SymShape RotaryOp::inferSymbolicShape(SymbolicShapeContext &ctx, std::string &) {
  return ctx.operandShape(getInput());
}

SymShape LinearOp::inferSymbolicShape(SymbolicShapeContext &ctx, std::string &) {
  SymShape x = ctx.operandShape(getInput()), w = ctx.operandShape(getWeight());
  if (x.empty() || w.size() != 2)
    return {};
  x.back() = w.back();
  return x;
}

SymShape EmbeddingOp::inferSymbolicShape(SymbolicShapeContext &ctx, std::string &) {
  SymShape ids = ctx.operandShape(getIds()), tokens = ctx.operandShape(getTokens());
  if (tokens.size() != 2)
    return {};
  ids.push_back(tokens.back());
  return ids;
}

//===----------------------------------------------------------------------===//
// Generation
//===----------------------------------------------------------------------===//

SymShape CachedAttentionOp::inferSymbolicShape(SymbolicShapeContext &ctx, std::string &) {
  return ctx.operandShape(getQuery());
}

#undef TFC_SAME_SHAPE
