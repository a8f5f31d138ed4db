//===- TfcGenerationRoles.cpp - each op's sequence-axis rule (GenerationRoleOpInterface) ---===//
//
// What each op does to the sequence axis, for compiler/generation/ (roles: see
// tfc/IR/GenerationRole.h), op by op in the order of TfcOps.td. A rule runs only when some
// operand is not Fixed (an op of Fixed operands is Fixed). Operands that are only
// sequence-length data (Meta, no sequence axis) take the elementwise rule unless the op says
// otherwise (slice and expand of a Fixed table, reshape, shape).
//
//===----------------------------------------------------------------------===//
#include "tfc/IR/TfcDialect.h"

using namespace mlir;
using namespace mlir::tfc;

namespace {

int64_t rankOf(Value v) { return cast<RankedTensorType>(v.getType()).getRank(); }

int64_t normalizeAxis(int64_t axis, Value v) { return axis < 0 ? axis + rankOf(v) : axis; }

/// `out` keeps the role of `in` with its sequence axis at `axis`.
bool preserve(GenerationRoleContext &ctx, Value in, Value out, int64_t axis) {
  ctx.setRole(out, {ctx.role(in).role, axis});
  return true;
}

/// Fixed, or the role and axis of `expect`.
bool sameAxisOrFixed(GenerationRoleContext &ctx, Value v, SequenceInfo expect) {
  SequenceInfo i = ctx.role(v);
  return i.role == SequenceRole::Fixed || (i.role == expect.role && i.axis == expect.axis);
}

} // namespace

//===----------------------------------------------------------------------===//
// Shared rules
//===----------------------------------------------------------------------===//

bool GenerationRoleContext::anySequenceAxis(Operation *op) const {
  return llvm::any_of(op->getOperands(), [&](Value v) { return role(v).hasAxis(); });
}

bool GenerationRoleContext::setResults(Operation *op, SequenceInfo info) {
  for (Value r : op->getResults())
    setRole(r, info);
  return true;
}

bool mlir::tfc::elementwiseGenerationRole(Operation *op, GenerationRoleContext &ctx) {
  int64_t rank = rankOf(op->getResult(0));
  SequenceInfo out;
  for (Value operand : op->getOperands()) {
    SequenceInfo in = ctx.role(operand);
    if (in.role == SequenceRole::Fixed)
      continue;
    if (in.role == SequenceRole::Meta) {
      if (out.role == SequenceRole::Fixed)
        out.role = SequenceRole::Meta;
      continue;
    }
    int64_t axis = rank - rankOf(operand) + in.axis;
    if (out.hasAxis() && out.axis != axis)
      return ctx.fail(op, "combines operands whose sequence axes do not line up");
    if (out.role == SequenceRole::Meta)
      return ctx.fail(op, "mixes the sequence length into per-position data");
    SequenceRole r = in.role;
    if (out.hasAxis()) {
      bool key = out.role == SequenceRole::Key || r == SequenceRole::Key;
      if (key && out.role != r)
        return ctx.fail(op, "mixes key positions with query positions");
      if (out.role == SequenceRole::Token || r == SequenceRole::Token)
        r = SequenceRole::Token;
    }
    out = {r, axis};
  }
  if (out.role == SequenceRole::Meta && rankOf(op->getResult(0)) > 1)
    return ctx.fail(op, "builds a tensor from the sequence length");
  return ctx.setResults(op, out);
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

#define TFC_ELEMENTWISE_ROLE(OP)                                                          \
  bool OP::inferGenerationRole(GenerationRoleContext &ctx) {                              \
    return elementwiseGenerationRole(*this, ctx);                                         \
  }
TFC_ELEMENTWISE_ROLE(AddOp)
TFC_ELEMENTWISE_ROLE(SubOp)
TFC_ELEMENTWISE_ROLE(MulOp)
TFC_ELEMENTWISE_ROLE(DivOp)
TFC_ELEMENTWISE_ROLE(PowOp)
TFC_ELEMENTWISE_ROLE(MaxOp)
TFC_ELEMENTWISE_ROLE(SqrtOp)
TFC_ELEMENTWISE_ROLE(ErfOp)
TFC_ELEMENTWISE_ROLE(TanhOp)
TFC_ELEMENTWISE_ROLE(ReluOp)
TFC_ELEMENTWISE_ROLE(ExpOp)
TFC_ELEMENTWISE_ROLE(NegOp)
TFC_ELEMENTWISE_ROLE(LogOp)
TFC_ELEMENTWISE_ROLE(SigmoidOp)
TFC_ELEMENTWISE_ROLE(GeluOp)

//===----------------------------------------------------------------------===//
// Linear algebra, reductions, normalization
//===----------------------------------------------------------------------===//

/// Multiplies per-position rows by a Fixed matrix.
bool MatMulOp::inferGenerationRole(GenerationRoleContext &ctx) {
  if (!ctx.anySequenceAxis(*this))
    return elementwiseGenerationRole(*this, ctx);
  SequenceInfo a = ctx.role(getLhs()), b = ctx.role(getRhs());
  if (!a.hasAxis() || b.role != SequenceRole::Fixed || a.axis == rankOf(getLhs()) - 1)
    return ctx.fail(*this, "multiplies over the sequence axis (an unfused attention?)");
  return preserve(ctx, getLhs(), getResult(), rankOf(getResult()) - rankOf(getLhs()) + a.axis);
}

/// Reduces other axes than the sequence axis (which moves left past the dropped ones).
static bool reduceRole(Operation *op, GenerationRoleContext &ctx, ArrayRef<int64_t> axes,
                       bool keepdims) {
  if (!ctx.anySequenceAxis(op))
    return elementwiseGenerationRole(op, ctx);
  Value x = op->getOperand(0);
  SequenceInfo in = ctx.role(x);
  if (!in.hasAxis())
    return ctx.fail(op, "reduces sequence-length data");
  int64_t shift = 0;
  for (int64_t a : axes) {
    int64_t na = normalizeAxis(a, x);
    if (na == in.axis)
      return ctx.fail(op, "reduces over the sequence axis (pooling)");
    shift += na < in.axis;
  }
  return preserve(ctx, x, op->getResult(0), keepdims ? in.axis : in.axis - shift);
}

bool ReduceMeanOp::inferGenerationRole(GenerationRoleContext &ctx) {
  return reduceRole(*this, ctx, getAxes(), getKeepdims());
}

bool ReduceSumOp::inferGenerationRole(GenerationRoleContext &ctx) {
  return reduceRole(*this, ctx, getAxes(), getKeepdims());
}

bool SoftmaxOp::inferGenerationRole(GenerationRoleContext &ctx) {
  if (!ctx.anySequenceAxis(*this))
    return elementwiseGenerationRole(*this, ctx);
  SequenceInfo in = ctx.role(getInput());
  int64_t axis = normalizeAxis(getAxis(), getInput());
  if (!in.hasAxis() || axis == in.axis)
    return ctx.fail(*this, "normalizes over the sequence axis");
  return preserve(ctx, getInput(), getResult(), in.axis);
}

/// Normalizes axes after the sequence axis, with Fixed scale and bias.
bool LayerNormalizationOp::inferGenerationRole(GenerationRoleContext &ctx) {
  if (!ctx.anySequenceAxis(*this))
    return elementwiseGenerationRole(*this, ctx);
  SequenceInfo in = ctx.role(getInput());
  int64_t axis = normalizeAxis(getAxis(), getInput());
  if (!in.hasAxis() || axis <= in.axis || ctx.role(getScale()).role != SequenceRole::Fixed ||
      (getBias() && ctx.role(getBias()).role != SequenceRole::Fixed))
    return ctx.fail(*this, "normalizes over the sequence axis");
  return preserve(ctx, getInput(), getResult(), in.axis);
}

//===----------------------------------------------------------------------===//
// Data movement and shapes
//===----------------------------------------------------------------------===//

/// Fixed rows picked by per-position ids (an embedding), or per-position data indexed by
/// Fixed indices along another axis.
bool GatherOp::inferGenerationRole(GenerationRoleContext &ctx) {
  if (!ctx.anySequenceAxis(*this))
    return elementwiseGenerationRole(*this, ctx);
  SequenceInfo d = ctx.role(getData()), i = ctx.role(getIndices());
  int64_t ax = normalizeAxis(getAxis(), getData());
  if (d.role == SequenceRole::Fixed && i.hasAxis()) {
    ctx.setRole(getResult(), {i.role, ax + i.axis});
    return true;
  }
  if (d.hasAxis() && i.role == SequenceRole::Fixed && d.axis != ax) {
    int64_t axis = d.axis < ax ? d.axis : d.axis - 1 + rankOf(getIndices());
    return preserve(ctx, getData(), getResult(), axis);
  }
  return ctx.fail(*this, "gathers along the sequence axis");
}

bool TransposeOp::inferGenerationRole(GenerationRoleContext &ctx) {
  if (!ctx.anySequenceAxis(*this))
    return elementwiseGenerationRole(*this, ctx);
  SequenceInfo in = ctx.role(getInput());
  ArrayRef<int64_t> perm = getPerm();
  for (size_t j = 0; j < perm.size(); ++j)
    if (perm[j] == in.axis)
      return preserve(ctx, getInput(), getResult(), (int64_t)j);
  return ctx.fail(*this, "has an invalid permutation");
}

/// Keeps the sequence axis whole: the result has a dim `seq` after exactly the elements
/// that came before it in the input.
bool ReshapeOp::inferGenerationRole(GenerationRoleContext &ctx) {
  if (!ctx.anySequenceAxis(*this))
    return ctx.fail(*this, "reshapes by the sequence length");
  SequenceInfo in = ctx.role(getInput());
  const SymShape *is = ctx.shape(getInput()), *os = ctx.shape(getResult());
  if (!in.hasAxis() || !is || !os)
    return ctx.fail(*this, "reshapes sequence-length data");
  SymExpr before = SymExpr::constant(1);
  for (int64_t a = 0; a < in.axis; ++a)
    before = before * (*is)[a];
  SymExpr prefix = SymExpr::constant(1);
  for (size_t b = 0; b < os->size(); ++b) {
    if (ctx.isSequence((*os)[b]) && prefix == before)
      return preserve(ctx, getInput(), getResult(), (int64_t)b);
    prefix = prefix * (*os)[b];
  }
  return ctx.fail(*this, "merges or splits the sequence axis");
}

bool ConcatOp::inferGenerationRole(GenerationRoleContext &ctx) {
  if (!ctx.anySequenceAxis(*this))
    return elementwiseGenerationRole(*this, ctx);
  int64_t ax = normalizeAxis(getAxis(), getResult());
  SequenceInfo first = ctx.role(getInputs().front());
  for (Value v : getInputs()) {
    SequenceInfo i = ctx.role(v);
    if (!i.hasAxis() || i.axis != first.axis ||
        (i.role == SequenceRole::Key) != (first.role == SequenceRole::Key))
      return ctx.fail(*this, "concatenates values whose sequence axes do not line up");
  }
  if (ax == first.axis)
    return ctx.fail(*this, "concatenates along the sequence axis");
  return elementwiseGenerationRole(*this, ctx);
}

/// `slice(table, 0, T)` along one axis of a Fixed table: positions [0, T) of the table (the
/// step functions shift it by the cached positions). Per-position data may be sliced along
/// other axes by Fixed bounds.
bool SliceOp::inferGenerationRole(GenerationRoleContext &ctx) {
  if (!ctx.anySequenceAxis(*this)) {
    if (ctx.role(getInput()).role != SequenceRole::Fixed)
      return elementwiseGenerationRole(*this, ctx);
    const SymContents *starts = ctx.contents(getStarts());
    const SymContents *ends = ctx.contents(getEnds());
    ArrayRef<int64_t> axes = getAxes();
    if (!starts || !ends || starts->size() != axes.size() || ends->size() != axes.size())
      return ctx.fail(*this,
                      "slices with bounds computed from the sequence length that are not known");
    int64_t found = -1;
    for (size_t i = 0; i < axes.size(); ++i) {
      const SymExpr &s = (*starts)[i], &e = (*ends)[i];
      if (ctx.mentionsSequence(s))
        return ctx.fail(*this, "starts a slice at a sequence-dependent offset");
      if (!ctx.mentionsSequence(e))
        continue;
      if (!ctx.isSequence(e) || !s.isConstant() || s.coef != 0 || found >= 0 ||
          (getSteps() && (*getSteps())[i] != 1))
        return ctx.fail(*this,
                        "slices a table by the sequence length in a way that is not [0, seq)");
      found = (int64_t)i;
    }
    if (found < 0)
      return ctx.fail(*this, "slices by sequence-length data but not along a sequence axis");
    ctx.setRole(getResult(), {SequenceRole::Position, normalizeAxis(axes[found], getInput())});
    ctx.noteRewrite(*this, StepRewrite::PositionSlice, found);
    return true;
  }
  SequenceInfo in = ctx.role(getInput());
  if (!in.hasAxis() || ctx.role(getStarts()).role != SequenceRole::Fixed ||
      ctx.role(getEnds()).role != SequenceRole::Fixed)
    return ctx.fail(*this, "slices by sequence-length data");
  for (int64_t a : getAxes())
    if (normalizeAxis(a, getInput()) == in.axis)
      return ctx.fail(*this, "slices along the sequence axis");
  return preserve(ctx, getInput(), getResult(), in.axis);
}

/// The shape of anything that depends on the sequence is sequence-length data.
bool ShapeOp::inferGenerationRole(GenerationRoleContext &ctx) {
  return ctx.setResults(*this, {SequenceRole::Meta, -1});
}

bool ExpandOp::inferGenerationRole(GenerationRoleContext &ctx) {
  if (!ctx.anySequenceAxis(*this)) {
    if (ctx.role(getInput()).role != SequenceRole::Fixed)
      return elementwiseGenerationRole(*this, ctx);
    // A fixed value broadcast over the sequence: the same at every position.
    const SymShape *shape = ctx.shape(getResult());
    for (size_t a = 0; shape && a < shape->size(); ++a)
      if (ctx.isSequence((*shape)[a])) {
        ctx.setRole(getResult(), {SequenceRole::Token, (int64_t)a});
        return true;
      }
    return ctx.fail(*this, "expands to a shape computed from the sequence length");
  }
  SequenceInfo in = ctx.role(getInput());
  if (!in.hasAxis())
    return ctx.fail(*this, "expands sequence-length data");
  return preserve(ctx, getInput(), getResult(),
                  rankOf(getResult()) - rankOf(getInput()) + in.axis);
}

TFC_ELEMENTWISE_ROLE(WhereOp)
TFC_ELEMENTWISE_ROLE(CastOp)

//===----------------------------------------------------------------------===//
// Breadth ops (issue 11)
//===----------------------------------------------------------------------===//

TFC_ELEMENTWISE_ROLE(AbsOp)
TFC_ELEMENTWISE_ROLE(SignOp)
TFC_ELEMENTWISE_ROLE(CeilOp)
TFC_ELEMENTWISE_ROLE(FloorOp)
TFC_ELEMENTWISE_ROLE(SinOp)
TFC_ELEMENTWISE_ROLE(CosOp)
TFC_ELEMENTWISE_ROLE(MinOp)
TFC_ELEMENTWISE_ROLE(EqualOp)
TFC_ELEMENTWISE_ROLE(LessOp)
TFC_ELEMENTWISE_ROLE(LessEqualOp)
TFC_ELEMENTWISE_ROLE(GreaterOp)
TFC_ELEMENTWISE_ROLE(GreaterEqualOp)

/// An op working along one axis (cumsum, argmax) must not work along the sequence axis: a
/// step's positions would not see the cached ones.
static bool alongAxisRole(Operation *op, GenerationRoleContext &ctx, int64_t axis,
                          bool keepAxis, const char *what) {
  if (!ctx.anySequenceAxis(op))
    return elementwiseGenerationRole(op, ctx);
  Value x = op->getOperand(0);
  SequenceInfo in = ctx.role(x);
  int64_t a = normalizeAxis(axis, x);
  if (a == in.axis)
    return ctx.fail(op, std::string(what) + " along the sequence axis");
  return preserve(ctx, x, op->getResult(0), keepAxis || a > in.axis ? in.axis : in.axis - 1);
}

bool CumSumOp::inferGenerationRole(GenerationRoleContext &ctx) {
  return alongAxisRole(*this, ctx, getAxis(), true, "accumulates");
}

bool ArgMaxOp::inferGenerationRole(GenerationRoleContext &ctx) {
  return alongAxisRole(*this, ctx, getAxis(), getKeepdims(), "reduces");
}

/// Repeats other axes than the sequence axis.
bool TileOp::inferGenerationRole(GenerationRoleContext &ctx) {
  if (!ctx.anySequenceAxis(*this))
    return elementwiseGenerationRole(*this, ctx);
  SequenceInfo in = ctx.role(getInput());
  if (getRepeats()[in.axis] != 1)
    return ctx.fail(*this, "repeats the sequence axis");
  return preserve(ctx, getInput(), getResult(), in.axis);
}

/// Picks along another axis than the sequence axis, data and indices lined up per position.
bool GatherElementsOp::inferGenerationRole(GenerationRoleContext &ctx) {
  if (!ctx.anySequenceAxis(*this))
    return elementwiseGenerationRole(*this, ctx);
  int64_t axis = normalizeAxis(getAxis(), getData());
  for (Value v : {getData(), getIndices()})
    if (ctx.role(v).hasAxis() && ctx.role(v).axis == axis)
      return ctx.fail(*this, "gathers along the sequence axis");
  return elementwiseGenerationRole(*this, ctx);
}

/// A triangle over the last two dims mixes positions when one of them is the sequence axis.
bool TriluOp::inferGenerationRole(GenerationRoleContext &ctx) {
  if (!ctx.anySequenceAxis(*this))
    return elementwiseGenerationRole(*this, ctx);
  SequenceInfo in = ctx.role(getInput());
  if (in.axis >= rankOf(getInput()) - 2)
    return ctx.fail(*this, "masks a triangle over the sequence axis");
  return preserve(ctx, getInput(), getResult(), in.axis);
}

/// A convolution over the sequence axis mixes neighbouring positions.
bool ConvOp::inferGenerationRole(GenerationRoleContext &ctx) {
  if (!ctx.anySequenceAxis(*this))
    return elementwiseGenerationRole(*this, ctx);
  SequenceInfo in = ctx.role(getInput());
  if (in.axis != 0 || ctx.role(getWeight()).role != SequenceRole::Fixed ||
      (getBias() && ctx.role(getBias()).role != SequenceRole::Fixed))
    return ctx.fail(*this, "convolves over the sequence axis");
  return preserve(ctx, getInput(), getResult(), 0);
}

#undef TFC_ELEMENTWISE_ROLE

//===----------------------------------------------------------------------===//
// Fused ops
//===----------------------------------------------------------------------===//

/// A norm over the last axis (x, optional residual), which must not be the sequence axis.
template <typename NormOp>
static bool lastAxisNormRole(NormOp op, GenerationRoleContext &ctx) {
  if (!ctx.anySequenceAxis(op))
    return elementwiseGenerationRole(op, ctx);
  SequenceInfo in = ctx.role(op.getInput());
  if (!in.hasAxis() || in.axis == rankOf(op.getInput()) - 1 ||
      (op.getResidual() && !sameAxisOrFixed(ctx, op.getResidual(), in)))
    return ctx.fail(op, "normalizes over the sequence axis");
  return preserve(ctx, op.getInput(), op.getResult(), in.axis);
}

bool LayerNormOp::inferGenerationRole(GenerationRoleContext &ctx) {
  return lastAxisNormRole(*this, ctx);
}

bool RmsNormOp::inferGenerationRole(GenerationRoleContext &ctx) {
  return lastAxisNormRole(*this, ctx);
}

/// Per-position rows times two Fixed weights (as LinearOp without bias and residual).
bool GatedLinearOp::inferGenerationRole(GenerationRoleContext &ctx) {
  if (!ctx.anySequenceAxis(*this))
    return elementwiseGenerationRole(*this, ctx);
  SequenceInfo in = ctx.role(getInput());
  if (!in.hasAxis() || in.axis == rankOf(getInput()) - 1)
    return ctx.fail(*this, "contracts the sequence axis");
  if (ctx.role(getGateWeight()).role != SequenceRole::Fixed ||
      ctx.role(getUpWeight()).role != SequenceRole::Fixed)
    return ctx.fail(*this, "has a weight that depends on the sequence");
  ctx.setRole(getResult(), {in.role, rankOf(getResult()) - rankOf(getInput()) + in.axis});
  return true;
}

/// Self-attention over the sequence must be causal (a step cannot change earlier positions);
/// attention over Fixed keys and values (an encoder's) is cross-attention.
bool AttentionOp::inferGenerationRole(GenerationRoleContext &ctx) {
  if (!ctx.anySequenceAxis(*this))
    return elementwiseGenerationRole(*this, ctx);
  SequenceInfo q = ctx.role(getQuery()), k = ctx.role(getKey()), v = ctx.role(getValue());
  if (!(q.role == SequenceRole::Token || q.role == SequenceRole::Position) || q.axis != 1)
    return ctx.fail(*this, "has a query that is not per position [batch, seq, d]");
  bool causal = getMaskKind() == MaskKind::causal || getMaskKind() == MaskKind::causal_padding;
  if (k.role == SequenceRole::Fixed && v.role == SequenceRole::Fixed) {
    if (causal)
      return ctx.fail(*this, "is causal over keys that do not come from the sequence");
    if (getMask() && ctx.role(getMask()).role != SequenceRole::Fixed)
      return ctx.fail(*this, "masks encoder keys with sequence data");
    ctx.noteRewrite(*this, StepRewrite::CrossAttention);
  } else {
    if (k.role == SequenceRole::Key || v.role == SequenceRole::Key || !k.hasAxis() ||
        !v.hasAxis() || k.axis != 1 || v.axis != 1)
      return ctx.fail(*this, "has keys/values that are not per position [batch, seq, d]");
    if (!causal)
      return ctx.fail(*this, "attends in both directions over the generated sequence "
                             "(later tokens would change earlier positions)");
    if (getMask()) {
      SequenceInfo m = ctx.role(getMask());
      if (m.role != SequenceRole::Fixed &&
          !(m.role == SequenceRole::Key && m.axis == rankOf(getMask()) - 1))
        return ctx.fail(*this, "has a mask that is not per key");
    }
    ctx.noteRewrite(*this, StepRewrite::SelfAttention);
  }
  ctx.setRole(getResult(), {SequenceRole::Token, 1});
  return true;
}

/// Rotates each position's heads by that position's cos / sin rows: position-wise like an
/// elementwise op (cos / sin [S, r] or [1|B, S, r] line up with the input's axis 1 from the
/// right: a table sliced or gathered by position, which the step functions offset by the
/// cached positions), but the last axis (the features) must not be the sequence axis.
bool RotaryOp::inferGenerationRole(GenerationRoleContext &ctx) {
  for (Value v : {getInput(), getCos(), getSin()}) {
    SequenceInfo i = ctx.role(v);
    if (i.hasAxis() && i.axis == rankOf(v) - 1)
      return ctx.fail(*this, "rotates along the sequence axis");
  }
  return elementwiseGenerationRole(*this, ctx);
}

/// Per-position rows times a Fixed weight; a residual must line up with the result's axis.
bool LinearOp::inferGenerationRole(GenerationRoleContext &ctx) {
  if (!ctx.anySequenceAxis(*this))
    return elementwiseGenerationRole(*this, ctx);
  SequenceInfo in = ctx.role(getInput());
  if (!in.hasAxis() || in.axis == rankOf(getInput()) - 1)
    return ctx.fail(*this, "contracts the sequence axis");
  if (ctx.role(getWeight()).role != SequenceRole::Fixed ||
      (getBias() && ctx.role(getBias()).role != SequenceRole::Fixed))
    return ctx.fail(*this, "has a weight that depends on the sequence");
  int64_t axis = rankOf(getResult()) - rankOf(getInput()) + in.axis;
  if (getResidual()) {
    SequenceInfo r = ctx.role(getResidual());
    if (r.role != SequenceRole::Fixed &&
        (!r.hasAxis() || rankOf(getResult()) - rankOf(getResidual()) + r.axis != axis ||
         r.role == SequenceRole::Key || in.role == SequenceRole::Key))
      return ctx.fail(*this, "adds a residual whose sequence axis does not line up");
  }
  bool tokenResidual = getResidual() && ctx.role(getResidual()).role == SequenceRole::Token;
  ctx.setRole(getResult(), {tokenResidual ? SequenceRole::Token : in.role, axis});
  return true;
}

/// The token sequence's embedding: position rows [0, seq) (shifted in the step functions).
bool EmbeddingOp::inferGenerationRole(GenerationRoleContext &ctx) {
  if (!ctx.anySequenceAxis(*this))
    return elementwiseGenerationRole(*this, ctx);
  SequenceInfo ids = ctx.role(getIds());
  if (ids.role != SequenceRole::Token || ids.axis != 1 ||
      ctx.role(getTokens()).role != SequenceRole::Fixed ||
      ctx.role(getPositions()).role != SequenceRole::Fixed ||
      (getTypeIds() && !sameAxisOrFixed(ctx, getTypeIds(), ids)))
    return ctx.fail(*this, "embeds ids that are not the token sequence");
  ctx.setRole(getResult(), {SequenceRole::Token, 1});
  ctx.noteRewrite(*this, StepRewrite::PositionEmbedding);
  return true;
}
