//===- RotaryMatcher.cpp - find rotary position embeddings ----------------===//
//
// Anchored at the op whose result is the rotated heads of a [B, S, H*dh]
// projection x split into heads:
//   xh = reshape [0,0,H,dh] x                       [B, S, H, dh]
//   X  = xh, or transpose [0,2,1,3] xh              [B, H, S, dh]
//   full rotary (rotary_dim r = dh), the root being the add:
//     add(mul(X, cos), mul(rotate_half(X), sin))
//   partial rotary (r < dh, Phi), the root being the concat:
//     concat(add(mul(Xr, cos), mul(rotate_half(Xr), sin)), X[.., r:dh]) with
//     Xr = X[.., 0:r]
//   rotate_half(y) = concat(neg(y[.., r/2:r]), y[.., 0:r/2]) over the last axis
//   (neg as tfc.neg or a mul by -1), add and mul operands in either order;
//   cos and sin broadcast over the head axis ([.., 1, S, r] for the transposed
//   layout, [.., S, 1, r] for the other) and do not depend on x.
// Slices are tfc.slice over the last axis with constant bounds and step 1.
// The inner values must have a single use (X itself may have several: the
// slices and the mul all read it).
//
//===----------------------------------------------------------------------===//
#include "Matchers.h"
#include "PatternUtils.h"

#include "tfc/IR/ShapeUtils.h"
#include "tfc/support/SliceRange.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace mlir::tfc;

namespace {

using OpList = SmallVectorImpl<Operation *>;

/// A slice of the last axis of a value with a static last dim: [start, end).
struct LastAxisSlice {
  Value input;
  int64_t start = 0, end = 0;
};

std::optional<LastAxisSlice> matchLastAxisSlice(Value v) {
  auto s = definedBy<SliceOp>(v);
  if (!s)
    return std::nullopt;
  auto in = s.getInput().getType();
  int64_t rank = in.getRank(), dim = in.getShape().back();
  if (rank == 0 || ShapedType::isDynamic(dim) || s.getAxes().size() != 1 ||
      (s.getAxes()[0] != -1 && s.getAxes()[0] != rank - 1))
    return std::nullopt;
  if (auto steps = s.getSteps(); steps && (steps->size() != 1 || (*steps)[0] != 1))
    return std::nullopt;
  DenseIntElementsAttr starts, ends;
  if (!matchPattern(s.getStarts(), m_Constant(&starts)) ||
      !matchPattern(s.getEnds(), m_Constant(&ends)) || starts.getNumElements() != 1 ||
      ends.getNumElements() != 1)
    return std::nullopt;
  ::tfc::support::SliceRange r = ::tfc::support::sliceRange(
      (*starts.getValues<APInt>().begin()).getSExtValue(),
      (*ends.getValues<APInt>().begin()).getSExtValue(), 1, dim);
  return LastAxisSlice{s.getInput(), r.start, r.start + r.count};
}

/// `neg(y)` as tfc.neg or a mul by -1: y, else null.
Value negated(Value v, OpList &matched) {
  if (!hasSingleUse(v))
    return {};
  if (auto n = definedBy<NegOp>(v)) {
    matched.push_back(n);
    return n.getInput();
  }
  if (auto m = definedBy<MulOp>(v))
    if (Value y = operandBesideConstant(m, -1.0f); y && y.getType() == v.getType()) {
      matched.push_back(m);
      return y;
    }
  return {};
}

/// rotate_half(y) = concat(neg(y[r/2:r]), y[0:r/2]) over the last axis, y
/// with static last dim r: y, else null.
Value rotateHalfInput(Value v, OpList &matched) {
  auto c = definedBy<ConcatOp>(v);
  if (!c || !hasSingleUse(v) || c.getInputs().size() != 2)
    return {};
  int64_t rank = c.getType().getRank();
  if (int64_t axis = c.getAxis(); axis != -1 && axis != rank - 1)
    return {};
  SmallVector<Operation *> local;
  Value hi = negated(c.getInputs()[0], local);
  std::optional<LastAxisSlice> second = hi ? matchLastAxisSlice(hi) : std::nullopt;
  std::optional<LastAxisSlice> first = matchLastAxisSlice(c.getInputs()[1]);
  if (!second || !first || second->input != first->input || !hasSingleUse(hi) ||
      !hasSingleUse(c.getInputs()[1]))
    return {};
  int64_t r = cast<RankedTensorType>(first->input.getType()).getShape().back();
  if (r % 2 != 0 || first->start != 0 || first->end != r / 2 || second->start != r / 2 ||
      second->end != r)
    return {};
  matched.append(local.begin(), local.end());
  matched.append({c, hi.getDefiningOp(), c.getInputs()[1].getDefiningOp()});
  return first->input;
}

/// True when `v` is computed from `x` (a few levels up): cos and sin must not be.
bool dependsOn(Value v, Value x, int depth = 0) {
  if (v == x)
    return true;
  Operation *def = v.getDefiningOp();
  if (!def || depth > 8)
    return false;
  return llvm::any_of(def->getOperands(), [&](Value o) { return dependsOn(o, x, depth + 1); });
}

/// add(mul(y, cos), mul(rotate_half(y), sin)): y, cos and sin.
struct RotatedHalf {
  Value input, cos, sin;
};

FailureOr<RotatedHalf> matchRotation(Value v, OpList &matched, std::string *why) {
  auto add = definedBy<AddOp>(v);
  if (!add)
    return reject(why, "the rotary is not an add of two products");
  for (auto [a, b] : {std::pair(add.getLhs(), add.getRhs()), {add.getRhs(), add.getLhs()}}) {
    auto direct = definedBy<MulOp>(a), rotated = definedBy<MulOp>(b);
    if (!direct || !rotated || !hasSingleUse(a) || !hasSingleUse(b))
      continue;
    for (auto [rh, sin] : {std::pair(rotated.getLhs(), rotated.getRhs()),
                           {rotated.getRhs(), rotated.getLhs()}}) {
      SmallVector<Operation *> local;
      Value y = rotateHalfInput(rh, local);
      if (!y)
        continue;
      Value cos = direct.getLhs() == y ? direct.getRhs()
                                       : direct.getRhs() == y ? direct.getLhs() : Value();
      if (!cos || dependsOn(cos, y) || dependsOn(sin, y) || y.getType() != v.getType())
        continue;
      matched.append(local.begin(), local.end());
      matched.append({add, direct, rotated});
      return RotatedHalf{y, cos, sin};
    }
  }
  return reject(why, "the rotary is not x * cos + rotate_half(x) * sin with rotate_half(x) = "
                     "concat(-x[r/2:r], x[0:r/2])");
}

} // namespace

FailureOr<RotaryMatch> mlir::tfc::matchRotary(Operation *root, std::string *why) {
  RotaryMatch m;
  m.root = root;
  Value out = root->getResult(0);
  auto type = cast<RankedTensorType>(out.getType());
  if (type.getRank() != 4 || type.isDynamicDim(3))
    return reject(why, "the rotated value is not [B, H, S, dh] or [B, S, H, dh] with static dh");
  int64_t headDim = type.getDimSize(3);
  // Partial rotary: concat(rotated x[0:r], x[r:dh]).
  Value rotated = out, heads;
  int64_t rotaryDim = headDim;
  if (auto c = dyn_cast<ConcatOp>(root)) {
    if (c.getInputs().size() != 2 || (c.getAxis() != -1 && c.getAxis() != 3))
      return reject(why, "the concat is not of the rotated and the passed-through features");
    std::optional<LastAxisSlice> pass = matchLastAxisSlice(c.getInputs()[1]);
    if (!pass || pass->end != headDim || !hasSingleUse(c.getInputs()[1]))
      return reject(why, "the concat's second part is not x[.., r:dh]");
    rotated = c.getInputs()[0];
    heads = pass->input;
    rotaryDim = pass->start;
    if (!hasSingleUse(rotated))
      return reject(why, "the rotated part has more than one use");
    m.matched.append({c, c.getInputs()[1].getDefiningOp()});
  } else if (!isa<AddOp>(root)) {
    return reject(why, "the root is neither the add nor the partial rotary's concat");
  }
  FailureOr<RotatedHalf> r = matchRotation(rotated, m.matched, why);
  if (failed(r))
    return failure();
  Value x = r->input;
  if (heads) {
    std::optional<LastAxisSlice> part = matchLastAxisSlice(x);
    if (!part || part->input != heads || part->start != 0 || part->end != rotaryDim)
      return reject(why, "the rotated part is not x[.., 0:r] of the passed-through x");
    m.matched.push_back(x.getDefiningOp());
    x = heads;
  }
  // The head split under it: reshape [0,0,H,dh] (and transpose [0,2,1,3]).
  Value split = x;
  if (auto t = definedBy<TransposeOp>(x)) {
    if (t.getPerm() != ArrayRef<int64_t>{0, 2, 1, 3})
      return reject(why, "the rotated heads are not transposed by [0,2,1,3]");
    m.transposed = true;
    split = t.getInput();
  }
  auto reshape = definedBy<ReshapeOp>(split);
  auto src = reshape ? reshape.getInput().getType() : RankedTensorType();
  if (!reshape || src.getRank() != 3 || reshape.getShape().size() != 4 ||
      reshape.getShape()[0] != 0 || reshape.getShape()[1] != 0 || src.isDynamicDim(2) ||
      reshape.getType().isDynamicDim(2) ||
      src.getDimSize(2) != reshape.getType().getDimSize(2) * headDim)
    return reject(why, "the rotated value is not x [B, S, H*dh] split by reshape [0,0,H,dh]");
  m.input = reshape.getInput();
  m.numHeads = reshape.getType().getDimSize(2);
  m.rotaryDim = rotaryDim;
  // cos and sin: [.., S, r] with 1 on the head axis (axis 1 transposed, else 2).
  for (Value table : {r->cos, r->sin}) {
    auto t = cast<RankedTensorType>(table.getType());
    if (t.getElementType() != type.getElementType() || t.getRank() < 2 || t.getRank() > 4 ||
        t.getShape().back() != rotaryDim)
      return reject(why, "cos / sin are not [.., S, rotary_dim] tables of the input's type");
    int64_t headAxis = m.transposed ? 1 : 2;  // in the rank-4 layout
    int64_t at = headAxis - (4 - t.getRank());
    if (at >= 0 && t.getDimSize(at) != 1)
      return reject(why, "cos / sin vary over the head axis");
    // The table the fused op takes: the head axis dropped.
    SmallVector<int64_t> shape(t.getShape());
    if (at >= 0)
      shape.erase(shape.begin() + at);
    auto ct = cast<RankedTensorType>(m.input.getType());
    if (!broadcastsTo(shape, {ct.getDimSize(0), ct.getDimSize(1), rotaryDim}))
      return reject(why, "cos / sin " + shapeToString(t.getShape()) +
                             " do not broadcast to the rotated heads");
  }
  m.cos = r->cos;
  m.sin = r->sin;
  return m;
}

bool mlir::tfc::isRotaryCandidate(Operation *op) {
  // The report's candidates: an add of two products one of which multiplies
  // a concat containing a neg (a rotate_half) of 4-D values.
  auto add = dyn_cast<AddOp>(op);
  if (!add || add.getType().getRank() != 4)
    return false;
  auto rotates = [](Value v) {
    auto m = definedBy<MulOp>(v);
    if (!m)
      return false;
    return llvm::any_of(m->getOperands(), [](Value o) {
      auto c = definedBy<ConcatOp>(o);
      return c && llvm::any_of(c.getInputs(), [](Value i) {
               return definedBy<NegOp>(i) || definedBy<MulOp>(i);
             });
    });
  };
  return rotates(add.getLhs()) || rotates(add.getRhs());
}
