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
//   or, the interleaved form (GPT-J's rotate_every_two, pairs (2j, 2j+1)),
//     rotate_every_two(y) = reshape [.., r] (concat(unsq(neg(y[.., 1::2])),
//                                                   unsq(y[.., 0::2])) on a new last axis)
//   (unsq: a reshape adding a unit last axis; the neg before or after it), so
//   that out[2j] = y[2j] cos[2j] - y[2j+1] sin[2j] and
//   out[2j+1] = y[2j+1] cos[2j+1] + y[2j] sin[2j+1];
//   cos and sin broadcast over the head axis ([.., 1, S, r] for the transposed
//   layout, [.., S, 1, r] for the other) and do not depend on x.
// Slices are tfc.slice over the last axis with constant bounds and step 1 (step 2
// for the interleaved form's halves).
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
  int64_t start = 0, end = 0;  // for step 2: the first index and one past the last taken
};

std::optional<LastAxisSlice> matchLastAxisSlice(Value v, int64_t step = 1) {
  auto s = definedBy<SliceOp>(v);
  if (!s)
    return std::nullopt;
  auto in = s.getInput().getType();
  int64_t rank = in.getRank(), dim = in.getShape().back();
  if (rank == 0 || ShapedType::isDynamic(dim) || s.getAxes().size() != 1 ||
      (s.getAxes()[0] != -1 && s.getAxes()[0] != rank - 1))
    return std::nullopt;
  auto steps = s.getSteps();
  int64_t got = steps && steps->size() == 1 ? (*steps)[0] : steps ? 0 : 1;
  if (got != step)
    return std::nullopt;
  DenseIntElementsAttr starts, ends;
  if (!matchPattern(s.getStarts(), m_Constant(&starts)) ||
      !matchPattern(s.getEnds(), m_Constant(&ends)) || starts.getNumElements() != 1 ||
      ends.getNumElements() != 1)
    return std::nullopt;
  ::tfc::support::SliceRange r = ::tfc::support::sliceRange(
      (*starts.getValues<APInt>().begin()).getSExtValue(),
      (*ends.getValues<APInt>().begin()).getSExtValue(), step, dim);
  if (r.count <= 0)
    return std::nullopt;
  return LastAxisSlice{s.getInput(), r.start, r.start + (r.count - 1) * step + 1};
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

/// A reshape that only adds a unit last axis ([.., n] -> [.., n, 1], the
/// unsqueeze of torch.stack): its input, else null.
Value unitLastAxisInput(Value v) {
  auto r = definedBy<ReshapeOp>(v);
  if (!r || !hasSingleUse(v))
    return {};
  auto in = r.getInput().getType();
  auto out = r.getType();
  ArrayRef<int64_t> shape = r.getShape();
  if (out.getRank() != in.getRank() + 1 || out.getShape().back() != 1 ||
      (int64_t)shape.size() != out.getRank() || shape.back() != 1)
    return {};
  for (int64_t i = 0; i < in.getRank(); ++i) {
    int64_t d = in.getDimSize(i);
    if (shape[i] != 0 && (ShapedType::isDynamic(d) || shape[i] != d))
      return {};
    if (shape[i] == 0 && out.getDimSize(i) != d)
      return {};
  }
  return r.getInput();
}

/// rotate_every_two(y) = reshape [.., r] (concat(unsq(neg(y[1::2])), unsq(y[0::2])) on a new
/// last axis) with y's last dim r static: y, else null.
Value rotateEveryTwoInput(Value v, OpList &matched) {
  auto flat = definedBy<ReshapeOp>(v);
  if (!flat || !hasSingleUse(v))
    return {};
  auto c = definedBy<ConcatOp>(flat.getInput());
  if (!c || !hasSingleUse(flat.getInput()) || c.getInputs().size() != 2)
    return {};
  auto ct = c.getType();
  int64_t rank = ct.getRank();
  if (rank < 2 || (c.getAxis() != -1 && c.getAxis() != rank - 1) || ct.getShape().back() != 2)
    return {};
  // The flatten of the last two axes: [.., r/2, 2] -> [.., r].
  auto ft = flat.getType();
  ArrayRef<int64_t> shape = flat.getShape();
  int64_t half = ct.getDimSize(rank - 2);
  if (ShapedType::isDynamic(half) || ft.getRank() != rank - 1 ||
      ft.getShape().back() != 2 * half || (int64_t)shape.size() != rank - 1 ||
      (shape.back() != 2 * half && shape.back() != -1))
    return {};
  for (int64_t i = 0; i + 1 < rank - 1; ++i) {
    int64_t d = ct.getDimSize(i);
    if ((shape[i] != 0 && (ShapedType::isDynamic(d) || shape[i] != d)) ||
        ft.getDimSize(i) != d)
      return {};
  }
  // First -y[1::2] (negated before or after its unit axis), then y[0::2].
  SmallVector<Operation *> local;
  Value odd;
  if (Value n = negated(c.getInputs()[0], local)) {
    odd = unitLastAxisInput(n);
    if (odd)
      local.push_back(n.getDefiningOp());
  } else if (Value u = unitLastAxisInput(c.getInputs()[0])) {
    odd = negated(u, local);
    if (odd)
      local.push_back(c.getInputs()[0].getDefiningOp());
  }
  Value even = unitLastAxisInput(c.getInputs()[1]);
  if (!odd || !even || !hasSingleUse(odd) || !hasSingleUse(even))
    return {};
  std::optional<LastAxisSlice> second = matchLastAxisSlice(odd, 2);
  std::optional<LastAxisSlice> first = matchLastAxisSlice(even, 2);
  if (!second || !first || second->input != first->input)
    return {};
  int64_t r = cast<RankedTensorType>(first->input.getType()).getShape().back();
  if (r != 2 * half || first->start != 0 || first->end != r - 1 || second->start != 1 ||
      second->end != r)
    return {};
  matched.append(local.begin(), local.end());
  matched.append({flat, c, c.getInputs()[1].getDefiningOp(), odd.getDefiningOp(),
                  even.getDefiningOp()});
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
  bool interleaved = false;
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
      bool interleaved = false;
      Value y = rotateHalfInput(rh, local);
      if (!y) {
        y = rotateEveryTwoInput(rh, local);
        interleaved = true;
      }
      if (!y)
        continue;
      Value cos = direct.getLhs() == y ? direct.getRhs()
                                       : direct.getRhs() == y ? direct.getLhs() : Value();
      if (!cos || dependsOn(cos, y) || dependsOn(sin, y) || y.getType() != v.getType())
        continue;
      matched.append(local.begin(), local.end());
      matched.append({add, direct, rotated});
      return RotatedHalf{y, cos, sin, interleaved};
    }
  }
  return reject(why, "the rotary is not x * cos + rotate_half(x) * sin with rotate_half(x) = "
                     "concat(-x[r/2:r], x[0:r/2]), nor the interleaved form with "
                     "rotate_every_two(x) = flatten(stack(-x[1::2], x[0::2]))");
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
  m.interleaved = r->interleaved;
  return m;
}

bool mlir::tfc::isRotaryCandidate(Operation *op) {
  // The report's candidates: an add of two products one of which multiplies
  // a concat containing a neg (a rotate_half) of 4-D values, or a reshape of
  // a concat of unsqueezed parts one of which is negated (a rotate_every_two).
  auto add = dyn_cast<AddOp>(op);
  if (!add || add.getType().getRank() != 4)
    return false;
  auto rotates = [](Value v) {
    auto m = definedBy<MulOp>(v);
    if (!m)
      return false;
    return llvm::any_of(m->getOperands(), [](Value o) {
      // rotate_half, or rotate_every_two's flatten of a concat.
      if (auto r = definedBy<ReshapeOp>(o))
        o = r.getInput();
      auto c = definedBy<ConcatOp>(o);
      return c && llvm::any_of(c.getInputs(), [](Value i) {
               if (auto u = definedBy<ReshapeOp>(i))
                 i = u.getInput();
               return definedBy<NegOp>(i) || definedBy<MulOp>(i);
             });
    });
  };
  return rotates(add.getLhs()) || rotates(add.getRhs());
}
