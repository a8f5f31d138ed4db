//===- AttentionMatcher.cpp - find multi-head attention blocks ------------===//
//
// Anchored at a tfc.softmax over the last axis of [B, H, S, T] scores:
//   up:   the score modifiers, in any order, each optional:
//           scale  mul/div by a splat constant
//           mask   add of a float mask (causal table slice or padding bias),
//                  where(keep, scores, c <= -1e4) (causal table slice or keep mask)
//         then s = matmul(qt, kt) with
//           qt = [scale] transpose [0,2,1,3] (reshape [0,0,H,dh] ([scale] q))
//           kt = [scale] transpose [0,2,3,1] (reshape [0,0,H,dh] ([scale] k)), or
//                [scale] transpose [0,1,3,2] ([scale] transpose [0,2,1,3] (reshape ...))
//   down: o = matmul(softmax, transpose [0,2,1,3] (reshape [0,0,H,dh] v)),
//         transpose [0,2,1,3] o, reshape [0,0,D] (or [0,0,-1]): the root.
// Every intermediate value must have a single use. The scale is the product
// of every factor found (1 when none); an additive mask applied before some
// scale factors is multiplied by those factors. Any other valid mask (one
// that is not a causal table slice) becomes the mask operand (padding).
//
//===----------------------------------------------------------------------===//
#include "CausalMask.h"
#include "Matchers.h"
#include "PatternUtils.h"

#include "tfc/IR/ShapeUtils.h"

#include <cmath>
#include <functional>

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
  Value padding;  // the padding mask: an additive float bias or an i1 keep mask
  float paddingScale = 1.0f;
};

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

/// A single-use `tfc.transpose` of `v` with `perm`: its input, else null.
Value transposeInput(Value v, ArrayRef<int64_t> perm, OpList &matched) {
  auto t = definedBy<TransposeOp>(v);
  if (!t || !hasSingleUse(v) || t.getPerm() != perm)
    return {};
  matched.push_back(t);
  return t.getInput();
}

/// The head split `reshape(source) {shape = [0, 0, H, dh]}` of a [B, S, H*dh] value.
struct HeadSplit {
  Value source;
  int64_t heads = 0, headDim = 0;
};

FailureOr<HeadSplit> matchReshapeToHeads(Value v, OpList &matched) {
  auto r = definedBy<ReshapeOp>(v);
  if (!r || !hasSingleUse(v))
    return failure();
  auto shape = r.getShape();
  auto src = r.getInput().getType(), dst = r.getType();
  if (shape.size() != 4 || shape[0] != 0 || shape[1] != 0 || src.getRank() != 3 ||
      dst.isDynamicDim(2) || dst.isDynamicDim(3) || src.isDynamicDim(2))
    return failure();
  HeadSplit split{r.getInput(), dst.getDimSize(2), dst.getDimSize(3)};
  if (shape[2] != split.heads || (shape[3] != split.headDim && shape[3] != -1) ||
      src.getDimSize(2) != split.heads * split.headDim)
    return failure();
  matched.push_back(r);
  return split;
}

/// qt = [scale] transpose [0,2,1,3] (reshape [0,0,H,dh] ([scale] q)).
FailureOr<HeadSplit> matchQuery(Value qt, float &scale, OpList &matched, std::string *why) {
  Value qh = transposeInput(peelScale(qt, scale, matched), {0, 2, 1, 3}, matched);
  FailureOr<HeadSplit> split = matchReshapeToHeads(qh, matched);
  if (failed(split))
    return reject(why, "Q is not split into heads by reshape [0,0,H,dh] + transpose [0,2,1,3]");
  split->source = peelScale(split->source, scale, matched);
  return split;
}

/// kt = K^T per head, by one transpose [0,2,3,1] or two ([0,2,1,3], [0,1,3,2]).
FailureOr<HeadSplit> matchKey(Value kt, float &scale, OpList &matched, std::string *why) {
  Value k = peelScale(kt, scale, matched);
  Value kh = transposeInput(k, {0, 2, 3, 1}, matched);
  if (!kh)
    if (Value inner = transposeInput(k, {0, 1, 3, 2}, matched))
      kh = transposeInput(peelScale(inner, scale, matched), {0, 2, 1, 3}, matched);
  FailureOr<HeadSplit> split = matchReshapeToHeads(kh, matched);
  if (failed(split))
    return reject(why, "K is not split into heads by reshape [0,0,H,dh] + transpose");
  split->source = peelScale(split->source, scale, matched);
  return split;
}

/// vt = transpose [0,2,1,3] (reshape [0,0,H,dh] v); V takes no scale.
FailureOr<HeadSplit> matchValue(Value vt, OpList &matched, std::string *why) {
  Value vh = transposeInput(vt, {0, 2, 1, 3}, matched);
  FailureOr<HeadSplit> split = matchReshapeToHeads(vh, matched);
  if (failed(split))
    return reject(why, "V is not split into heads by reshape [0,0,H,dh] + transpose [0,2,1,3]");
  return split;
}

/// Records a mask found on the score chain.
LogicalResult addMask(ScoreChain &chain, Value mask, bool additive, std::string *why) {
  if (isCausalMaskSlice(mask, additive)) {
    if (chain.causal)
      return reject(why, "the scores carry more than one causal mask");
    chain.causal = true;
    return success();
  }
  if (chain.padding)
    return reject(why, "the scores carry more than one padding mask");
  chain.padding = mask;
  chain.paddingScale = additive ? chain.scale : 1.0f;
  return success();
}

/// One step up the score chain from the result of `def`: the next score value.
FailureOr<Value> stepUp(Operation *def, ScoreChain &chain, OpList &matched, std::string *why) {
  Value scores = def->getResult(0);
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
    if (failed(addMask(chain, order->second, /*additive=*/true, why)))
      return failure();
    return order->first;
  }
  if (auto where = dyn_cast<WhereOp>(def)) {
    float fill;
    if (!reachesActivationMatmul(where.getLhs()))
      return reject(why, "the where does not keep the scores where its condition is true");
    if (!matchScalarConstant(where.getRhs(), fill) || !(fill <= kLargeNegative))
      return reject(why, "the where does not fill with a large negative constant");
    if (failed(addMask(chain, where.getCondition(), /*additive=*/false, why)))
      return failure();
    return where.getLhs();
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

/// Down from the PV matmul: transpose [0,2,1,3] + reshape [0,0,D]; the reshape.
FailureOr<ReshapeOp> matchHeadMerge(MatMulOp pv, int64_t width, OpList &matched, std::string *why) {
  auto t = singleUserAs<TransposeOp>(pv);
  auto r =
      t && t.getPerm() == ArrayRef<int64_t>{0, 2, 1, 3} ? singleUserAs<ReshapeOp>(t) : ReshapeOp();
  if (!r || r.getShape().size() != 3 || r.getShape()[0] != 0 || r.getShape()[1] != 0 ||
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
  if (!dimsCompatible(q.getDimSize(0), k.getDimSize(0)) ||
      !dimsCompatible(q.getDimSize(0), v.getDimSize(0)))
    return reject(why, "Q, K and V batch sizes differ");
  if (!dimsCompatible(k.getDimSize(1), v.getDimSize(1)))
    return reject(why, "K and V sequence lengths differ");
  if (!std::isfinite(m.scale) || !(m.scale > 0.0f))
    return reject(why, "the scale is not a finite positive number");
  if (!m.mask)
    return success();
  auto mt = cast<RankedTensorType>(m.mask.getType());
  if (!mt.getElementType().isInteger(1) && mt.getElementType() != q.getElementType())
    return reject(why, "the mask is neither i1 nor of the scores' float type");
  SmallVector<int64_t> full = {q.getDimSize(0), m.numHeads, q.getDimSize(1), k.getDimSize(1)};
  if (mt.getRank() > 4 || !broadcastsTo(mt.getShape(), full))
    return reject(why, "the mask shape " + shapeToString(mt.getShape()) +
                           " does not broadcast to [B, H, S, T]");
  return success();
}

MaskKind maskKindOf(const ScoreChain &chain) {
  if (chain.causal)
    return chain.padding ? MaskKind::causal_padding : MaskKind::causal;
  return chain.padding ? MaskKind::padding : MaskKind::none;
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
    if (!isa<MulOp, DivOp, AddOp, SubOp>(def))
      return false;
    return reaches(def->getOperand(0), depth + 1) || reaches(def->getOperand(1), depth + 1);
  };
  return reaches(scores, 0);
}

FailureOr<AttentionMatch> mlir::tfc::matchAttention(SoftmaxOp softmax, std::string *why) {
  auto scoresType = softmax.getInput().getType();
  int64_t rank = scoresType.getRank();
  if (rank != 4)
    return reject(why, "softmax input has rank " + llvm::Twine(rank) + ", not [B, H, S, T]");
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
  FailureOr<HeadSplit> q = matchQuery(qk->getLhs(), scale, m.matched, why);
  if (failed(q))
    return failure();
  FailureOr<HeadSplit> k = matchKey(qk->getRhs(), scale, m.matched, why);
  if (failed(k))
    return failure();
  auto pv = singleUserAs<MatMulOp>(softmax);
  if (!pv || pv.getLhs() != softmax.getResult())
    return reject(why, "the softmax is not (only) multiplied by V");
  m.matched.push_back(pv);
  FailureOr<HeadSplit> v = matchValue(pv.getRhs(), m.matched, why);
  if (failed(v))
    return failure();
  if (q->heads != k->heads || q->heads != v->heads || q->headDim != k->headDim ||
      q->headDim != v->headDim)
    return reject(why, "Q, K and V are split into different head shapes");
  FailureOr<ReshapeOp> root = matchHeadMerge(pv, q->heads * q->headDim, m.matched, why);
  if (failed(root))
    return failure();
  m.query = q->source;
  m.key = k->source;
  m.value = v->source;
  m.numHeads = q->heads;
  m.scale = scale;
  m.mask = chain.padding;
  m.maskScale = chain.paddingScale;
  m.maskKind = maskKindOf(chain);
  m.root = *root;
  if (failed(checkOperands(m, why)))
    return failure();
  return m;
}
