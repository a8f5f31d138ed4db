//===- AttentionMatcher.cpp - find multi-head attention blocks ------------===//
//
// Anchored at a tfc.softmax over the last axis of [B, H, S, T] scores:
//   up:   the score modifiers, in any order, each optional:
//           scale  mul/div by a splat constant
//           mask   add of a float mask: a causal table slice, a padding bias,
//                  where(c, 0, -big) / where(c, -big, 0) (c keeps / hides),
//                  where(c, -big, m) (masked_fill of a float mask m),
//                  or a sum of such masks;
//                  where(keep, scores, c <= -1e4) or where(hide, c, scores);
//                  an i1 condition may be a not / and / or (tfc.where with
//                  i1 constants) of causal table slices and other masks
//         then s = matmul(qt, kt) with
//           qt = [scale] transpose [0,2,1,3] (reshape [0,0,H,dh] ([scale] q))
//           kt = [scale] transpose [0,2,3,1] (reshape [0,0,H,dh] ([scale] k)), or
//                [scale] transpose [0,1,3,2] ([scale] transpose [0,2,1,3] (reshape ...))
//         K and V may be repeated from fewer heads (grouped-query attention,
//         torch's repeat_kv: see peelRepeatKv) between the head split and
//         the matmuls;
//         clamp  max(scores, lowest float) right before the softmax (OPT's
//                torch.max(w, finfo.min); see matchScoreClamp)
//         Q, K and V may also be gathered from a fused QKV projection
//         reshaped to [B, S, H, n, dh] (BLOOM; see matchGatheredHeads)
//         the Q and K head splits may also feed float score terms (DeBERTa's
//         c2p / p2c position scores; see ScoreTerms)
//   down: [where(isnan(p), 0, p)] (torch 2 SDPA; see peelNanGuard),
//         [where(c, 0, p)] zeroing what the where before the softmax hid
//         (DeBERTa's XSoftmax; see peelMaskedZero),
//         o = matmul(p, transpose [0,2,1,3] (reshape [0,0,H,dh] v)),
//         transpose [0,2,1,3] o, reshape [0,0,D] (or [0,0,-1]): the root.
// Or the 3-D head layout of nn.MultiheadAttention (seqFirst; see
// matchReshapeToHeads3D): [B*H, S, T] scores, [S, B, D] sources, masks over
// [B*H, 1, T] unflattened to the [B, 1|H, 1, T] mask they were made from.
// Every intermediate value must have a single use. The scale is the product
// of every factor found (1 when none); an additive mask applied before some
// scale factors is multiplied by those factors. Every mask that is not a
// causal table slice becomes a mask term (FuseAttention combines them into
// the one mask operand).
//
//===----------------------------------------------------------------------===//
#include "CausalMask.h"
#include "Matchers.h"
#include "PatternUtils.h"

#include "tfc/IR/ShapeUtils.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <optional>

using namespace mlir;
using namespace mlir::tfc;

namespace {

constexpr float kLargeNegative = -1.0e4f;
constexpr int kMaxChainDepth = 8;

using OpList = SmallVectorImpl<Operation *>;

/// What the walk up from the softmax has found so far.
struct ScoreChain {
  float scale = 1.0f;  // product of the factors between the softmax and the current value
  bool causal = false;
  int64_t window = 0;  // a band (local) causal table's width; 0: none
  SmallVector<AttentionMaskTerm, 2> masks;  // every other mask, in the order found
  // The score the causal table gives the keys it hides (its where fill or
  // added value, times the factors applied after it), and how many masks had
  // been found (applied after it) then.
  std::optional<float> hiddenScore;
  size_t masksAfterHidden = 0;
  // The scores are clamped at (or, by a where, filled with) the lowest float
  // right before the softmax: hidden keys score it, never -inf. Causal
  // tables then stay mask terms (a fully hidden row averages over every key,
  // the causally hidden ones included; the causal rule would drop those).
  bool clamped = false;
  size_t causalTerms = 0;  // how many of `masks` are causal tables kept under the clamp
  // The where right before the softmax (where(c, fill, s) hides where c; where(c, s, fill)
  // keeps where c), and whether its fill made `clamped`: a where after the softmax that
  // zeroes the probabilities of the same keys is part of the pattern (see peelMaskedZero).
  Value lastWhereCondition;
  bool lastWhereHides = false, lastWhereClamps = false;

  /// Records a causal table slice, `hidden` the score it gives hidden keys.
  void addCausal(const CausalSlice &c, std::optional<float> hidden) {
    // Two causal tables hide the union of what each hides.
    if (c.window > 0)
      window = window > 0 ? std::min(window, c.window) : c.window;
    if (causal && hiddenScore != hidden)
      hidden.reset();  // two tables with different fills: no one hidden score
    causal = true;
    hiddenScore = hidden;
    masksAfterHidden = masks.size();
  }
};

/// True when `v` is a splat i1 constant equal to `expected`.
bool isBoolConstant(Value v, bool expected) {
  DenseElementsAttr attr;
  return v && matchPattern(v, m_Constant(&attr)) && attr.isSplat() &&
         attr.getElementType().isInteger(1) && attr.getSplatValue<bool>() == expected;
}

bool isBool(Value v) {
  return cast<RankedTensorType>(v.getType()).getElementType().isInteger(1);
}

/// Peels single-use `v * c`, `c * v`, `v / c` (splat constants that keep the
/// type) off `v`, multiplying their factors into `scale`.
Value peelScale(Value v, float &scale, OpList &matched) {
  while (hasSingleUse(v)) {
    Operation *def = v.getDefiningOp();
    float c;
    auto order = findOperandOrder(def, [&](Value x, Value k) {
      return x.getType() == v.getType() && matchScalarConstant(k, c);
    });
    if (!order || !isa<MulOp, DivOp>(def) || (isa<DivOp>(def) && c == 0.0f))
      break;
    scale = isa<MulOp>(def) ? scale * c : scale / c;
    matched.push_back(def);
    v = order->first;
  }
  return v;
}

/// The float score terms added to the scores (DeBERTa's c2p and p2c). A value of the
/// Q or K head split may also feed them (the position scores are `Q @ pos_key^T` and
/// `K @ pos_query^T`): those uses do not stop the head split from matching, since the
/// score terms stay as they are and become the fused op's mask operand.
struct ScoreTerms {
  SmallVector<Value, 2> values;

  /// True when every result of `op` reaches only the score terms, through at most
  /// kMaxChainDepth ops each with results used (nothing else depends on `op`).
  bool feedsOnlyTerms(Operation *op, int depth = 0) const {
    if (depth > kMaxChainDepth || op->getNumResults() == 0)
      return false;
    for (Value r : op->getResults()) {
      if (llvm::is_contained(values, r))
        continue;
      if (r.use_empty())
        return false;
      for (Operation *user : r.getUsers())
        if (!feedsOnlyTerms(user, depth + 1))
          return false;
    }
    return true;
  }
};

/// True when `v` has a single use, or (with `terms`) exactly one use besides uses by ops
/// that feed only the score terms.
bool usedOnceBesidesTerms(Value v, const ScoreTerms *terms) {
  if (hasSingleUse(v))
    return true;
  if (!v || !terms || terms->values.empty())
    return false;
  int others = 0;
  for (OpOperand &use : v.getUses())
    others += !terms->feedsOnlyTerms(use.getOwner());
  return others == 1;
}

/// " (its heads have uses besides QK^T and the score terms)" when the head split's
/// `transposed` (a transpose result) or `split` (a reshape result) has uses besides the
/// attention's and the score terms': why a head split did not match.
std::string otherUsesNote(Value transposed, Value split, const ScoreTerms *terms) {
  bool other = (definedBy<TransposeOp>(transposed) && !usedOnceBesidesTerms(transposed, terms)) ||
               (definedBy<ReshapeOp>(split) && !usedOnceBesidesTerms(split, terms));
  return other ? " (its heads have uses besides QK^T and the score terms)" : "";
}

/// A single-use `tfc.transpose` of `v` with `perm`: its input, else null. With `terms`
/// the transposed value may also feed the score terms.
Value transposeInput(Value v, ArrayRef<int64_t> perm, OpList &matched,
                     const ScoreTerms *terms = nullptr) {
  auto t = definedBy<TransposeOp>(v);
  if (!t || !usedOnceBesidesTerms(v, terms) || t.getPerm() != perm)
    return {};
  matched.push_back(t);
  return t.getInput();
}

/// The head split `reshape(source) {shape = [0, 0, H, dh]}` of a [B, S, H*dh] value
/// (B and S kept as 0 or as their static sizes: see reshapeKeepsLeadingDims).
struct HeadSplit {
  Value source;
  int64_t heads = 0, headDim = 0;
  int64_t repeat = 1;  // K/V only: each of the `heads` heads repeated this many times
};

/// `tfc.reshape` with `shape[0] = 0` (the batch dim copied) from a static
/// `from` shape to a static `to` shape on every other dim except the one
/// whose size follows from the element count.
bool isBatchKeepingReshape(ReshapeOp r, int64_t fromRank, int64_t toRank) {
  auto shape = r.getShape();
  return r.getInput().getType().getRank() == fromRank && r.getType().getRank() == toRank &&
         shape.size() == size_t(toRank) && shape[0] == 0;
}

/// Grouped-query attention as torch's repeat_kv exports it, on a [B, G, T, dh] value x:
///   reshape(expand(reshape(x) to [B, G, 1, T, dh]) to [B, G, n, T, dh]) to [B, G*n, T, dh]
/// (Unsqueeze, Expand, Reshape). Returns x and sets `repeat` to n; returns `v`
/// unchanged (repeat 1) when it is not such a repeat. Each reshape keeps the
/// batch dim (shape[0] = 0) and every static dim in place, so the sequence dim
/// follows from the element count; the expand may broadcast only the inserted
/// axis (a constant shape entry other than 1 on the batch or sequence axis
/// would broadcast a size-1 dim and is refused).
Value peelRepeatKv(Value v, int64_t &repeat, OpList &matched) {
  repeat = 1;
  auto merge = definedBy<ReshapeOp>(v);
  if (!merge || !hasSingleUse(v) || !isBatchKeepingReshape(merge, 5, 4))
    return v;
  auto expand = definedBy<ExpandOp>(merge.getInput());
  if (!expand || !hasSingleUse(merge.getInput()))
    return v;
  auto split = definedBy<ReshapeOp>(expand.getInput());
  if (!split || !hasSingleUse(expand.getInput()) || !isBatchKeepingReshape(split, 4, 5))
    return v;
  auto x = split.getInput().getType(), u = split.getType(), e = expand.getType(),
       out = merge.getType();
  int64_t g = x.getDimSize(1), dh = x.getDimSize(3), n = e.getDimSize(2);
  if (ShapedType::isDynamic(g) || ShapedType::isDynamic(dh) || ShapedType::isDynamic(n) ||
      u.getDimSize(1) != g || u.getDimSize(2) != 1 || u.getDimSize(4) != dh ||
      e.getDimSize(1) != g || e.getDimSize(4) != dh || out.getDimSize(1) != g * n ||
      out.getDimSize(3) != dh)
    return v;
  // The expand's target on the batch and sequence axes: not a constant > 1.
  DenseIntElementsAttr target;
  if (matchPattern(expand.getShape(), m_Constant(&target))) {
    auto entries = llvm::to_vector(target.getValues<APInt>());
    if (entries.size() != 5 || entries[0].getSExtValue() > 1 || entries[3].getSExtValue() > 1)
      return v;
  } else if (auto concat = definedBy<ConcatOp>(expand.getShape())) {
    int64_t at = 0;
    for (Value part : concat.getInputs()) {
      auto pt = cast<RankedTensorType>(part.getType());
      if (pt.getRank() != 1 || pt.isDynamicDim(0))
        return v;
      DenseIntElementsAttr c;
      if (matchPattern(part, m_Constant(&c)))
        for (auto [i, x] : llvm::enumerate(c.getValues<APInt>()))
          if ((at + int64_t(i) == 0 || at + int64_t(i) == 3) && x.getSExtValue() > 1)
            return v;
      at += pt.getDimSize(0);
    }
  }
  matched.append({merge, expand, split});
  repeat = n;
  return split.getInput();
}

/// One of Q, K, V taken from a fused QKV projection (BLOOM):
/// `gather(reshape(qkv [B, S, H*n*dh]) {shape = [0, 0, H, n, dh]}, c) {axis = 3}`
/// with a constant scalar index c in [-n, n): a [B, S, H, dh] value whose
/// head h is its [:, :, h, :] slice, which is all the fused op needs of it.
/// The split is the gather result itself (rank 4; FuseAttention flattens it
/// to [B, S, H*dh]); which of the n parts is Q, K or V does not matter.
FailureOr<HeadSplit> matchGatheredHeads(Value v, OpList &matched) {
  auto g = definedBy<GatherOp>(v);
  auto r = g ? definedBy<ReshapeOp>(g.getData()) : ReshapeOp();
  if (!r || !hasSingleUse(v) || g.getAxis() != 3)
    return failure();
  auto shape = r.getShape();
  auto src = r.getInput().getType(), dst = r.getType();
  if (shape.size() != 5 || src.getRank() != 3 || !reshapeKeepsLeadingDims(r, 2) ||
      src.isDynamicDim(2) || dst.isDynamicDim(2) || dst.isDynamicDim(3) || dst.isDynamicDim(4))
    return failure();
  int64_t heads = dst.getDimSize(2), parts = dst.getDimSize(3), headDim = dst.getDimSize(4);
  if (shape[2] != heads || shape[3] != parts || shape[4] != headDim ||
      src.getDimSize(2) != heads * parts * headDim)
    return failure();
  DenseElementsAttr index;
  auto it = cast<RankedTensorType>(g.getIndices().getType());
  if (it.getRank() != 0 || !matchPattern(g.getIndices(), m_Constant(&index)))
    return failure();
  int64_t c = (*index.getValues<APInt>().begin()).getSExtValue();
  if (c < -parts || c >= parts || g.getType().getRank() != 4)
    return failure();
  matched.push_back(g);
  return HeadSplit{v, heads, headDim};
}

FailureOr<HeadSplit> matchReshapeToHeads(Value v, OpList &matched,
                                         const ScoreTerms *terms = nullptr) {
  if (definedBy<GatherOp>(v))
    return matchGatheredHeads(v, matched);
  auto r = definedBy<ReshapeOp>(v);
  if (!r || !usedOnceBesidesTerms(v, terms))
    return failure();
  auto shape = r.getShape();
  auto src = r.getInput().getType(), dst = r.getType();
  if (shape.size() != 4 || !reshapeKeepsLeadingDims(r, 2) || src.getRank() != 3 ||
      dst.isDynamicDim(2) || dst.isDynamicDim(3) || src.isDynamicDim(2))
    return failure();
  HeadSplit split{r.getInput(), dst.getDimSize(2), dst.getDimSize(3)};
  if (shape[2] != split.heads || (shape[3] != split.headDim && shape[3] != -1) ||
      src.getDimSize(2) != split.heads * split.headDim)
    return failure();
  matched.push_back(r);
  return split;
}

/// qt = [scale] transpose [0,2,1,3] (reshape [0,0,H,dh] ([scale] q)). The head split may
/// also feed the score terms (`terms`).
FailureOr<HeadSplit> matchQuery(Value qt, float &scale, OpList &matched, std::string *why,
                                const ScoreTerms *terms) {
  Value qp = peelScale(qt, scale, matched);
  Value qh = transposeInput(qp, {0, 2, 1, 3}, matched, terms);
  FailureOr<HeadSplit> split = matchReshapeToHeads(qh, matched, terms);
  if (failed(split))
    return reject(why, "Q is not split into heads by reshape [0,0,H,dh] + transpose [0,2,1,3]" +
                           otherUsesNote(qp, qh, terms));
  split->source = peelScale(split->source, scale, matched);
  return split;
}

/// kt = K^T per head, by one transpose [0,2,3,1] or two ([0,2,1,3], [0,1,3,2]). The head
/// split may also feed the score terms (`terms`).
FailureOr<HeadSplit> matchKey(Value kt, float &scale, OpList &matched, std::string *why,
                              const ScoreTerms *terms) {
  Value k = peelScale(kt, scale, matched);
  Value kh = transposeInput(k, {0, 2, 3, 1}, matched);
  int64_t repeat = 1;
  Value heads;  // the [B, H, T, dh] heads of the two-transpose form
  if (!kh)
    if (Value inner = transposeInput(k, {0, 1, 3, 2}, matched)) {
      heads = peelRepeatKv(peelScale(inner, scale, matched), repeat, matched);
      kh = transposeInput(heads, {0, 2, 1, 3}, matched, terms);
    }
  FailureOr<HeadSplit> split = matchReshapeToHeads(kh, matched, terms);
  if (failed(split))
    return reject(why, "K is not split into heads by reshape [0,0,H,dh] + transpose" +
                           otherUsesNote(heads, kh, terms));
  split->source = peelScale(split->source, scale, matched);
  split->repeat = repeat;
  return split;
}

/// vt = transpose [0,2,1,3] (reshape [0,0,H,dh] v); V takes no scale.
FailureOr<HeadSplit> matchValue(Value vt, OpList &matched, std::string *why) {
  int64_t repeat = 1;
  Value vh = transposeInput(peelRepeatKv(vt, repeat, matched), {0, 2, 1, 3}, matched);
  FailureOr<HeadSplit> split = matchReshapeToHeads(vh, matched);
  if (failed(split))
    return reject(why, "V is not split into heads by reshape [0,0,H,dh] + transpose [0,2,1,3]");
  split->repeat = repeat;
  return split;
}

//===----------------------------------------------------------------------===//
// The 3-D head layout (nn.MultiheadAttention, torch 1.x): [S, B, D] sources,
// reshape {shape = [0, -1, dh]} to [S, B*H, dh], transpose [1,0,2] to
// [B*H, S, dh]; K^T by transpose [1,2,0]; scores [B*H, S, T]; the result
// transposed [1,0,2] back and reshaped to [S, B, D] or [S*B, D].
//===----------------------------------------------------------------------===//

FailureOr<HeadSplit> matchReshapeToHeads3D(Value v, OpList &matched) {
  auto r = definedBy<ReshapeOp>(v);
  if (!r || !hasSingleUse(v))
    return failure();
  auto shape = r.getShape();
  auto src = r.getInput().getType(), dst = r.getType();
  if (shape.size() != 3 || src.getRank() != 3 || src.isDynamicDim(2) || dst.isDynamicDim(2))
    return failure();
  int64_t width = src.getDimSize(2), headDim = dst.getDimSize(2);
  if (!reshapeKeepsLeadingDims(r, 1) || shape[1] != -1 || shape[2] != headDim || headDim <= 0 ||
      width % headDim)
    return failure();
  matched.push_back(r);
  return HeadSplit{r.getInput(), width / headDim, headDim};
}

FailureOr<HeadSplit> matchQuery3D(Value qt, float &scale, OpList &matched, std::string *why) {
  Value qh = transposeInput(peelScale(qt, scale, matched), {1, 0, 2}, matched);
  FailureOr<HeadSplit> split = matchReshapeToHeads3D(qh, matched);
  if (failed(split))
    return reject(why, "Q is not split into heads by reshape [0,-1,dh] + transpose [1,0,2]");
  split->source = peelScale(split->source, scale, matched);
  return split;
}

FailureOr<HeadSplit> matchKey3D(Value kt, float &scale, OpList &matched, std::string *why) {
  Value k = peelScale(kt, scale, matched);
  Value kh = transposeInput(k, {1, 2, 0}, matched);
  if (!kh)
    if (Value inner = transposeInput(k, {0, 2, 1}, matched))
      kh = transposeInput(peelScale(inner, scale, matched), {1, 0, 2}, matched);
  FailureOr<HeadSplit> split = matchReshapeToHeads3D(kh, matched);
  if (failed(split))
    return reject(why, "K is not split into heads by reshape [0,-1,dh] + transpose");
  split->source = peelScale(split->source, scale, matched);
  return split;
}

FailureOr<HeadSplit> matchValue3D(Value vt, OpList &matched, std::string *why) {
  Value vh = transposeInput(vt, {1, 0, 2}, matched);
  FailureOr<HeadSplit> split = matchReshapeToHeads3D(vh, matched);
  if (failed(split))
    return reject(why, "V is not split into heads by reshape [0,-1,dh] + transpose [1,0,2]");
  return split;
}

/// transpose [1,0,2] + reshape to [S, B, D] ({shape = [0, -1, D]}) or to
/// [S*B, D] ({shape = [-1, D]}).
FailureOr<ReshapeOp> matchHeadMerge3D(MatMulOp pv, int64_t width, OpList &matched,
                                      std::string *why) {
  auto t = singleUserAs<TransposeOp>(pv);
  auto r =
      t && t.getPerm() == ArrayRef<int64_t>{1, 0, 2} ? singleUserAs<ReshapeOp>(t) : ReshapeOp();
  auto shape = r ? r.getShape() : ArrayRef<int64_t>();
  bool seqBatch = shape.size() == 3 && shape[0] == 0 && shape[1] == -1 && shape[2] == width;
  bool flat = shape.size() == 2 && shape[0] == -1 && shape[1] == width;
  if (!r || !(seqBatch || flat) || r.getType().getShape().back() != width)
    return reject(why,
                  "the heads are not merged by transpose [1,0,2] + reshape [0,-1,D] or [-1,D]");
  matched.append({t, r});
  return r;
}

/// A [B*H, S|1, T] mask made by flattening a [B, H, S|1, T] one (torch's
/// key padding mask: reshape(expand(m [B,1,1,T] to [B,H,1,T]), [B*H,1,T])):
/// the [B, H, S|1, T] mask (m when it was expanded), else null. Masks
/// without a batch*heads dim ([1, S, T], [S, T]) broadcast as they are.
Value unflattenMask(Value mask, int64_t heads) {
  auto type = cast<RankedTensorType>(mask.getType());
  if (type.getRank() < 3 || type.getDimSize(type.getRank() - 3) == 1)
    return mask;
  auto r = definedBy<ReshapeOp>(mask);
  if (!r || type.getRank() != 3)
    return {};
  Value src = r.getInput();
  // The ONNX importer flattens [B, H, 1, T] in two steps when T is dynamic: [B, H, T] first.
  if (auto r1 = definedBy<ReshapeOp>(src); r1 && r1.getType().getRank() == 3 &&
                                            r1.getInput().getType().getRank() == 4 &&
                                            r1.getInput().getType().getDimSize(2) == 1 &&
                                            type.getDimSize(1) == 1 && hasSingleUse(src))
    src = r1.getInput();
  auto it = cast<RankedTensorType>(src.getType());  // [B, H, S|1, T]
  if (it.getRank() != 4 || it.getDimSize(1) != heads ||
      !dimsCompatible(it.getDimSize(2), type.getDimSize(1)) ||
      !dimsCompatible(it.getDimSize(3), type.getDimSize(2)))
    return {};
  auto e = definedBy<ExpandOp>(src);
  return e && e.getInput().getType().getRank() == 4 ? e.getInput() : src;
}

/// The splat value of a constant, or of a tfc.expand or tfc.slice of one (the ONNX
/// importer's ConstantOfShape of a symbolic shape is a slice of a splat table).
bool matchScalarThroughExpand(Value v, float &out) {
  if (auto e = definedBy<ExpandOp>(v))
    v = e.getInput();
  else if (auto s = definedBy<SliceOp>(v))
    v = s.getInput();
  return matchScalarConstant(v, out);
}

/// Records an i1 condition that keeps the keys where it is true (hides them
/// when `hides`). Exporters combine conditions before applying them:
/// `where(x, false, true)` is not x, `where(a, b, false)` is a and b (a
/// keep mask of both), `where(a, true, b)` is a or b (a hide mask of both);
/// each part may be a causal table slice.
/// `fill` is the score the condition gives the keys it hides (when known).
void addCondition(ScoreChain &chain, Value cond, bool hides, std::optional<float> fill,
                  int depth = 0) {
  if (auto w = definedBy<WhereOp>(cond); w && depth < kMaxChainDepth) {
    Value a = w.getCondition(), l = w.getLhs(), r = w.getRhs();
    if (isBoolConstant(l, false) && isBoolConstant(r, true))
      return addCondition(chain, a, !hides, fill, depth + 1);
    if ((!hides && isBool(l) && isBoolConstant(r, false)) ||
        (hides && isBoolConstant(l, true) && isBool(r))) {
      addCondition(chain, a, hides, fill, depth + 1);
      addCondition(chain, hides ? r : l, hides, fill, depth + 1);
      return;
    }
  }
  if (auto c = matchCausalMaskSlice(cond, hides ? CausalTable::hide : CausalTable::keep)) {
    if (!chain.clamped) {
      chain.addCausal(*c, fill);
      return;
    }
    ++chain.causalTerms;
  }
  chain.masks.push_back({cond, hides, 1.0f});
}

/// Records a float mask added to the scores: a causal table slice, a sum of
/// masks, `where(c, 0, -big)` (c keeps) or `where(c, -big, 0)` (c hides),
/// else a general additive mask (scaled by the factors applied after it).
void addAdditiveMask(ScoreChain &chain, Value mask, int depth = 0) {
  if (auto c = matchCausalMaskSlice(mask, CausalTable::additive); c && chain.clamped) {
    ++chain.causalTerms;
    chain.masks.push_back({mask, false, chain.scale});
    return;
  }
  if (auto c = matchCausalMaskSlice(mask, CausalTable::additive)) {
    std::optional<float> hidden;
    if (c->hiddenValue)
      hidden = float(*c->hiddenValue) * chain.scale;
    chain.addCausal(*c, hidden);
    return;
  }
  if (auto w = definedBy<WhereOp>(mask)) {
    float l = 0.0f, r = 0.0f;
    bool lc = matchScalarThroughExpand(w.getLhs(), l), rc = matchScalarThroughExpand(w.getRhs(), r);
    if (lc && rc && l == 0.0f && r <= kLargeNegative)
      return addCondition(chain, w.getCondition(), /*hides=*/false, r * chain.scale);
    if (lc && rc && r == 0.0f && l <= kLargeNegative)
      return addCondition(chain, w.getCondition(), /*hides=*/true, l * chain.scale);
    // masked_fill of a float mask m (torch's attn_mask.masked_fill(kpm, -inf)):
    // where(c, -big, m) = m + where(c, -big, 0), where(c, m, -big) likewise. Split so
    // that a causal table inside m is found (a generation needs mask_kind causal). The
    // split is exact unless a row hides every key (a sliding window over padding only:
    // the graph then averages keys scoring -big, the split would drop the c-hidden ones
    // as -inf), so without a causal table the mask stays whole (a general float mask).
    if (lc != rc && (lc ? l : r) <= kLargeNegative && depth < kMaxChainDepth) {
      ScoreChain split = chain;
      addCondition(split, w.getCondition(), /*hides=*/lc, std::nullopt);
      addAdditiveMask(split, lc ? w.getRhs() : w.getLhs(), depth + 1);
      if (split.causal && !chain.causal) {
        chain = std::move(split);
        return;
      }
    }
  }
  if (auto add = definedBy<AddOp>(mask); add && depth < kMaxChainDepth &&
                                         add.getLhs().getType() == mask.getType() &&
                                         add.getRhs().getType() == mask.getType()) {
    addAdditiveMask(chain, add.getLhs(), depth + 1);
    addAdditiveMask(chain, add.getRhs(), depth + 1);
    return;
  }
  chain.masks.push_back({mask, false, chain.scale});
}

/// `max(scores, lowest float)` right before the softmax (transformers' OPT:
/// torch.max(w, finfo.min)): the scores it clamps. It changes only the
/// entries that are -inf, so only rows with every key hidden (uniform over
/// every key instead of NaN); FuseAttention keeps that by clamping the mask
/// operand at the lowest float (hidden keys get it, never -inf). A clamp at
/// any other value changes visible scores and is not attention.
FailureOr<Value> matchScoreClamp(MaxOp max, ScoreChain &chain, OpList &matched,
                                 std::string *why) {
  float floor = 0.0f;
  auto order = findOperandOrder(max, [&](Value s, Value c) {
    return s.getType() == max.getType() && reachesActivationMatmul(s) &&
           matchScalarConstant(c, floor);
  });
  if (!order)
    return reject(why, "the max on the scores is not a clamp by a scalar constant");
  if (floor != std::numeric_limits<float>::lowest()) {
    std::string at;
    llvm::raw_string_ostream(at) << floor;
    return reject(why, "the scores are clamped at " + at + ", not at the lowest float");
  }
  if (chain.clamped || matched.size() != 1)
    return reject(why, "the clamp of the scores is not right before the softmax");
  chain.clamped = true;
  matched.push_back(max);
  return order->first;
}

/// One step up the score chain from the result of `def`: the next score value.
FailureOr<Value> stepUp(Operation *def, ScoreChain &chain, OpList &matched, std::string *why) {
  Value scores = def->getResult(0);
  if (auto max = dyn_cast<MaxOp>(def))
    return matchScoreClamp(max, chain, matched, why);
  if (isa<MulOp, DivOp>(def)) {
    Value next = peelScale(scores, chain.scale, matched);
    if (next == scores)
      return reject(why, "the score chain has a " + def->getName().getStringRef() +
                             " that is not a scale by a constant");
    return next;
  }
  matched.push_back(def);
  if (auto add = dyn_cast<AddOp>(def)) {
    auto order = findOperandOrder(add, [](Value s, Value m) {
      return reachesActivationMatmul(s) && !reachesActivationMatmul(m);
    });
    if (!order)
      return reject(why, "the add on the scores has no single score operand");
    if (!isa<FloatType>(cast<RankedTensorType>(order->second.getType()).getElementType()))
      return reject(why, "the mask added to the scores is not a float tensor");
    addAdditiveMask(chain, order->second);
    return order->first;
  }
  if (auto where = dyn_cast<WhereOp>(def)) {
    // where(keep, scores, -big) (masked_fill's where(hide, -big, scores) too).
    bool keeps = reachesActivationMatmul(where.getLhs());
    if (!keeps && !reachesActivationMatmul(where.getRhs()))
      return reject(why, "the where does not select between the scores and a constant");
    float fill;
    if (!matchScalarConstant(keeps ? where.getRhs() : where.getLhs(), fill) ||
        !(fill <= kLargeNegative))
      return reject(why, "the where does not fill with a large negative constant");
    // Filled with the lowest float right before the softmax (BLOOM's
    // masked_fill(finfo.min)): hidden keys score exactly that, as under a
    // clamp, so a row hiding every key averages over every key. A causal
    // table as this condition keeps the causal rule (alone it never hides a
    // whole row).
    bool first = matched.size() == 2;
    addCondition(chain, where.getCondition(), /*hides=*/!keeps, fill * chain.scale);
    if (first) {
      chain.lastWhereCondition = where.getCondition();
      chain.lastWhereHides = !keeps;
    }
    if (fill == std::numeric_limits<float>::lowest() && first && !chain.causal) {
      chain.clamped = true;
      chain.lastWhereClamps = true;
    }
    return keeps ? where.getLhs() : where.getRhs();
  }
  return reject(why, "the score chain has an unexpected " + def->getName().getStringRef());
}

/// Walks up from the softmax input to the QK^T matmul.
FailureOr<MatMulOp> matchScoreChain(Value scores, ScoreChain &chain, OpList &matched,
                                    std::string *why) {
  for (;;) {
    Operation *def = scores.getDefiningOp();
    if (!hasSingleUse(scores))
      return reject(why, "the scores produced by " +
                             (def ? def->getName().getStringRef() : "an argument") +
                             " have more than one use");
    if (auto qk = dyn_cast_or_null<MatMulOp>(def)) {
      matched.push_back(qk);
      return qk;
    }
    if (!def)
      return reject(why, "the score chain does not reach the QK^T matmul");
    FailureOr<Value> next = stepUp(def, chain, matched, why);
    if (failed(next))
      return failure();
    scores = *next;
  }
}

/// Down from the PV matmul: transpose [0,2,1,3] + reshape [0,0,D] (B and S kept as
/// 0 or as their static sizes); the reshape.
FailureOr<ReshapeOp> matchHeadMerge(MatMulOp pv, int64_t width, OpList &matched, std::string *why) {
  auto t = singleUserAs<TransposeOp>(pv);
  auto r =
      t && t.getPerm() == ArrayRef<int64_t>{0, 2, 1, 3} ? singleUserAs<ReshapeOp>(t) : ReshapeOp();
  if (!r || r.getShape().size() != 3 || !reshapeKeepsLeadingDims(r, 2) ||
      (r.getShape()[2] != width && r.getShape()[2] != -1) || r.getType().getDimSize(2) != width)
    return reject(why, "the heads are not merged by transpose [0,2,1,3] + reshape [0,0,D]");
  matched.append({t, r});
  return r;
}

/// The fused op's operands agree with each other (what its verifier checks).
LogicalResult checkOperands(const AttentionMatch &m, std::string *why) {
  auto q = cast<RankedTensorType>(m.query.getType()), k = cast<RankedTensorType>(m.key.getType()),
       v = cast<RankedTensorType>(m.value.getType());
  if (k.getElementType() != q.getElementType() || v.getElementType() != q.getElementType())
    return reject(why, "Q, K and V element types differ");
  int64_t b = m.seqFirst ? 1 : 0, s = m.seqFirst ? 0 : 1;
  if (!dimsCompatible(q.getDimSize(b), k.getDimSize(b)) ||
      !dimsCompatible(q.getDimSize(b), v.getDimSize(b)))
    return reject(why, "Q, K and V batch sizes differ");
  if (!dimsCompatible(k.getDimSize(s), v.getDimSize(s)))
    return reject(why, "K and V sequence lengths differ");
  if (!std::isfinite(m.scale) || !(m.scale > 0.0f))
    return reject(why, "the scale is not a finite positive number");
  SmallVector<int64_t> full = {q.getDimSize(b), m.numHeads, q.getDimSize(s), k.getDimSize(s)};
  for (const AttentionMaskTerm &term : m.masks) {
    auto mt = cast<RankedTensorType>(term.value.getType());
    if (!mt.getElementType().isInteger(1) && mt.getElementType() != q.getElementType())
      return reject(why, "the mask is neither i1 nor of the scores' float type");
    if (mt.getRank() > 4 || !broadcastsTo(mt.getShape(), full))
      return reject(why, "the mask shape " + shapeToString(mt.getShape()) +
                             " does not broadcast to [B, H, S, T]");
  }
  return success();
}

MaskKind maskKindOf(const ScoreChain &chain) {
  bool padding = !chain.masks.empty();
  if (chain.causal)
    return padding ? MaskKind::causal_padding : MaskKind::causal;
  return padding ? MaskKind::padding : MaskKind::none;
}

/// torch 2's SDPA export follows the softmax with `where(isnan(p), 0, p)`,
/// the importer's isnan being `cast(p - p) : i1`. A row is NaN only when
/// every key of it is hidden by -inf; the fused op (and the runtime's
/// attention kernel) already gives zeros for such a row, so the guard is
/// part of the pattern. Returns the guarded value, or `p` when there is none.
Value peelNanGuard(Value p, OpList &matched) {
  auto sub = llvm::find_if(p.getUsers(), [](Operation *u) { return isa<SubOp>(u); });
  if (sub == p.getUsers().end())
    return p;
  auto diff = cast<SubOp>(*sub);
  if (diff.getLhs() != p || diff.getRhs() != p)
    return p;
  auto isNan = singleUserAs<CastOp>(diff);
  auto where = isNan ? singleUserAs<WhereOp>(isNan) : WhereOp();
  if (!where || !isBool(isNan.getResult()) || where.getCondition() != isNan.getResult() ||
      !matchConstantNear(where.getLhs(), 0.0f) || where.getRhs() != p ||
      where.getType() != p.getType())
    return p;
  // p's users: the sub (twice) and the where, nothing else.
  if (llvm::any_of(p.getUsers(), [&](Operation *u) { return u != diff && u != where; }))
    return p;
  matched.append({diff, isNan, where});
  return where.getResult();
}

/// The same i1 condition: one value, or two casts of one value to i1 (an exporter's
/// `mask.bool()` written out once per use).
bool sameCondition(Value a, Value b) {
  if (a == b)
    return true;
  auto ca = definedBy<CastOp>(a), cb = definedBy<CastOp>(b);
  return ca && cb && ca.getInput() == cb.getInput() && a.getType() == b.getType() && isBool(a);
}

/// DeBERTa's XSoftmax: `where(c, 0, softmax(where(c, fill, s)))` (or `where(c, p, 0)` after
/// `where(c, s, fill)`), the probabilities of the keys the where right before the softmax
/// hides set to exactly 0 again, the same condition (see sameCondition). Those keys already
/// have probability 0 unless every key of the row is hidden; such a row is then zeros, as
/// the fused op gives a row whose every key is hidden (the clamp the where's lowest-float
/// fill implied is dropped; see matchAttention). Returns the zeroed value, or `p` when the
/// softmax is not followed by such a where.
Value peelMaskedZero(Value p, const ScoreChain &chain, bool &zeroed, OpList &matched) {
  zeroed = false;
  auto where = singleUserAs<WhereOp>(p);
  if (!where || !chain.lastWhereCondition || where.getType() != p.getType())
    return p;
  bool zeroesTrue = where.getRhs() == p && matchConstantNear(where.getLhs(), 0.0f);
  bool zeroesFalse = where.getLhs() == p && matchConstantNear(where.getRhs(), 0.0f);
  if (!(zeroesTrue && chain.lastWhereHides) && !(zeroesFalse && !chain.lastWhereHides))
    return p;
  if (!sameCondition(where.getCondition(), chain.lastWhereCondition))
    return p;
  matched.push_back(where);
  zeroed = true;
  return where.getResult();
}

} // namespace

bool mlir::tfc::reachesActivationMatmul(Value scores) {
  std::function<bool(Value, int)> reaches = [&](Value v, int depth) {
    Operation *def = v ? v.getDefiningOp() : nullptr;
    if (!def || depth > kMaxChainDepth)
      return false;
    if (auto mm = dyn_cast<MatMulOp>(def))
      return !isWeightOrConstant(mm.getLhs()) && !isWeightOrConstant(mm.getRhs());
    if (auto where = dyn_cast<WhereOp>(def))
      return reaches(where.getLhs(), depth + 1) || reaches(where.getRhs(), depth + 1);
    if (!isa<MulOp, DivOp, AddOp, SubOp, MaxOp>(def))
      return false;
    return reaches(def->getOperand(0), depth + 1) || reaches(def->getOperand(1), depth + 1);
  };
  return reaches(scores, 0);
}

FailureOr<AttentionMatch> mlir::tfc::matchAttention(SoftmaxOp softmax, std::string *why) {
  auto scoresType = softmax.getInput().getType();
  int64_t rank = scoresType.getRank();
  if (rank != 4 && rank != 3)
    return reject(why, "softmax input has rank " + llvm::Twine(rank) +
                           ", not [B, H, S, T] or [B*H, S, T]");
  auto axis = static_cast<int64_t>(softmax.getAxis());  // I64Attr reads as uint64_t
  if (axis != -1 && axis != rank - 1)
    return reject(why, "softmax is over axis " + llvm::Twine(axis) + ", not the last axis");
  AttentionMatch m;
  m.matched.push_back(softmax);
  ScoreChain chain;
  FailureOr<MatMulOp> qk = matchScoreChain(softmax.getInput(), chain, m.matched, why);
  if (failed(qk))
    return failure();
  float scale = chain.scale;
  m.seqFirst = rank == 3;
  ScoreTerms terms;
  for (const AttentionMaskTerm &term : chain.masks)
    if (!isBool(term.value))
      terms.values.push_back(term.value);
  FailureOr<HeadSplit> q = m.seqFirst ? matchQuery3D(qk->getLhs(), scale, m.matched, why)
                                      : matchQuery(qk->getLhs(), scale, m.matched, why, &terms);
  if (failed(q))
    return failure();
  FailureOr<HeadSplit> k = m.seqFirst ? matchKey3D(qk->getRhs(), scale, m.matched, why)
                                      : matchKey(qk->getRhs(), scale, m.matched, why, &terms);
  if (failed(k))
    return failure();
  bool zeroed = false;
  Value probs =
      peelMaskedZero(peelNanGuard(softmax.getResult(), m.matched), chain, zeroed, m.matched);
  if (zeroed && chain.lastWhereClamps) {
    // The where's lowest-float fill made every hidden key score the lowest float (a row
    // hiding every key averaging over every key); the zeroing makes such a row zeros again,
    // which is the fused op's rule without the clamp. A causal table kept as a mask term
    // under the clamp would then need the causal rule back: not this pattern.
    if (chain.causalTerms > 0 || chain.causal)
      return reject(why, "the probabilities are zeroed after a clamping where with a causal "
                         "table among the masks");
    chain.clamped = false;
  }
  auto pv = singleUserAs<MatMulOp>(probs);
  if (!pv && singleUserAs<WhereOp>(probs) && chain.lastWhereCondition)
    return reject(why, "the where after the softmax does not zero exactly what the where "
                       "before it hides");
  if (!pv || pv.getLhs() != probs)
    return reject(why, "the softmax is not (only) multiplied by V");
  m.matched.push_back(pv);
  FailureOr<HeadSplit> v = m.seqFirst ? matchValue3D(pv.getRhs(), m.matched, why)
                                      : matchValue(pv.getRhs(), m.matched, why);
  if (failed(v))
    return failure();
  if (k->heads != v->heads || k->repeat != v->repeat)
    return reject(why, "K and V are split into different numbers of heads (" +
                           llvm::Twine(k->heads) + " x " + llvm::Twine(k->repeat) + ", " +
                           llvm::Twine(v->heads) + " x " + llvm::Twine(v->repeat) + ")");
  if (q->heads != k->heads * k->repeat || q->headDim != k->headDim || q->headDim != v->headDim)
    return reject(why, "Q, K and V are split into different head shapes");
  int64_t width = q->heads * q->headDim;
  FailureOr<ReshapeOp> root = m.seqFirst ? matchHeadMerge3D(pv, width, m.matched, why)
                                         : matchHeadMerge(pv, width, m.matched, why);
  if (failed(root))
    return failure();
  m.query = q->source;
  m.key = k->source;
  m.value = v->source;
  m.numHeads = q->heads;
  m.numKvHeads = k->heads;
  m.scale = scale;
  // Under a clamp, causal tables alone (no other mask) never hide a whole
  // row: the causal rule gives what the graph gives (and keeps KV caches).
  if (chain.clamped && chain.causalTerms == chain.masks.size()) {
    chain.causal = chain.causal || chain.causalTerms > 0;
    chain.masks.clear();
    chain.clamped = false;
  }
  m.masks = chain.masks;
  if (m.seqFirst)
    for (AttentionMaskTerm &term : m.masks)
      if (!(term.value = unflattenMask(term.value, m.numHeads)))
        return reject(why, "a mask over [B*H, S, T] is not a flattened [B, H, S, T] mask");
  m.maskKind = maskKindOf(chain);
  m.clampsScores = chain.clamped;
  m.window = chain.window;
  // The hidden score is exact only when every mask was added after the causal
  // table's fill (the kernel adds the mask to it) and all masks are float.
  if (m.window > 0 && chain.hiddenScore && chain.masksAfterHidden == chain.masks.size() &&
      llvm::all_of(chain.masks, [](const AttentionMaskTerm &t) { return !isBool(t.value); })) {
    m.hasHiddenScore = true;
    m.hiddenScore = *chain.hiddenScore;
  }
  m.root = *root;
  if (failed(checkOperands(m, why)))
    return failure();
  return m;
}
