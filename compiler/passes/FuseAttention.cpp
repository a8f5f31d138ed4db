//===- FuseAttention.cpp - multi-head attention -> tfc.attention ----------===//
//
// Rewrites what AttentionMatcher.cpp finds, anchored at each tfc.softmax:
// the head-merge reshape is replaced by
//   tfc.attention %q, %k, %v[, %mask] {num_heads, scale, mask_kind
//                 [, num_kv_heads][, window][, hidden_score]}
// with the type of the reshape (num_kv_heads for grouped-query attention,
// window and hidden_score for a local causal table). An additive mask that the matcher found
// before some scale factors is multiplied by them (a tfc.mul inserted on the
// mask operand). Several masks become one operand: i1 masks are and-ed
// (`where(a, b, false)`; a hiding mask is negated first), float masks added;
// when both kinds occur the i1 part becomes `where(keep, 0, -inf)` and is
// added. For the 3-D head layout (AttentionMatch::seqFirst) the [S, B, D]
// operands are transposed to [B, S, D] and the result back (and flattened
// to [S*B, D] when the root was). When the scores were clamped at the lowest
// float (AttentionMatch::clampsScores) the mask operand is float and clamped
// there too: max(mask, lowest), so hidden keys score the lowest float and a
// row hiding every key averages over every key, as the graph's clamp makes
// it. Q, K or V gathered from a fused QKV projection ([B, S, H, dh]) are
// flattened to [B, S, H*dh] by a reshape. The rest of the block becomes dead and is
// erased by the greedy driver.
//
//===----------------------------------------------------------------------===//
#include "Matchers.h"
#include "Passes.h"
#include "PatternUtils.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>
#include <limits>

namespace mlir::tfc {
#define GEN_PASS_DEF_FUSEATTENTION
#include "Passes.h.inc"
} // namespace mlir::tfc

using namespace mlir;
using namespace mlir::tfc;

namespace {

/// `mask * factor` (a no-op when the factor is 1 or the mask is i1).
Value scaleMask(PatternRewriter &rewriter, Location loc, Value mask, float factor) {
  auto type = cast<RankedTensorType>(mask.getType());
  if (factor == 1.0f || !isa<FloatType>(type.getElementType()))
    return mask;
  Value c =
      createSplatConstant(rewriter, loc, RankedTensorType::get({}, type.getElementType()), factor);
  return rewriter.create<MulOp>(loc, mask, c);
}

Value boolConstant(PatternRewriter &rewriter, Location loc, bool value) {
  auto type = RankedTensorType::get({}, rewriter.getI1Type());
  return rewriter.create<ConstantOp>(
      loc, type, cast<ElementsAttr>(DenseElementsAttr::get(type, rewriter.getBoolAttr(value))));
}

/// The one mask operand of the fused op (null when there is no mask term).
Value combineMasks(PatternRewriter &rewriter, Location loc, const AttentionMatch &m) {
  Value keep, added;
  for (const AttentionMaskTerm &term : m.masks) {
    auto type = cast<RankedTensorType>(term.value.getType());
    if (isa<FloatType>(type.getElementType())) {
      Value v = scaleMask(rewriter, loc, term.value, term.scale);
      added = added ? rewriter.create<AddOp>(loc, added, v).getResult() : v;
      continue;
    }
    Value v = term.value;
    if (term.hides)
      v = rewriter.create<WhereOp>(loc, v, boolConstant(rewriter, loc, false),
                                   boolConstant(rewriter, loc, true));
    keep = keep ? rewriter.create<WhereOp>(loc, keep, v, boolConstant(rewriter, loc, false))
                      .getResult()
                : v;
  }
  if (!m.clampsScores && (!keep || !added))
    return keep ? keep : added;
  if (!keep && !added)
    return {};
  auto floatType = RankedTensorType::get(
      {}, cast<RankedTensorType>(m.query.getType()).getElementType());
  Value mask = added;
  if (keep) {
    Value zero = createSplatConstant(rewriter, loc, floatType, 0.0f);
    Value ninf = createSplatConstant(rewriter, loc, floatType, -INFINITY);
    Value bias = rewriter.create<WhereOp>(loc, keep, zero, ninf);
    mask = added ? rewriter.create<AddOp>(loc, added, bias).getResult() : bias;
  }
  if (!m.clampsScores)
    return mask;
  Value lowest =
      createSplatConstant(rewriter, loc, floatType, std::numeric_limits<float>::lowest());
  return rewriter.create<MaxOp>(loc, mask, lowest);
}

/// A [B, S, H, dh] operand (gathered from a fused QKV projection) as [B, S, H*dh].
Value flattenHeads(PatternRewriter &rewriter, Location loc, Value x) {
  auto type = cast<RankedTensorType>(x.getType());
  if (type.getRank() != 4)
    return x;
  int64_t width = type.getDimSize(2) * type.getDimSize(3);
  auto flat = RankedTensorType::get({type.getDimSize(0), type.getDimSize(1), width},
                                    type.getElementType());
  SmallVector<int64_t> shape = {0, 0, width};
  return rewriter.create<ReshapeOp>(loc, flat, x, shape);
}

struct FuseAttentionPattern : OpRewritePattern<SoftmaxOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(SoftmaxOp softmax, PatternRewriter &rewriter) const override {
    std::string why;
    FailureOr<AttentionMatch> m = matchAttention(softmax, &why);
    if (failed(m))
      return rewriter.notifyMatchFailure(softmax, why);
    Location loc = fusedLocation(rewriter, m->matched);
    rewriter.setInsertionPoint(m->root);
    Value mask = combineMasks(rewriter, loc, *m);
    auto rootType = cast<RankedTensorType>(m->root->getResult(0).getType());
    // The optional attributes are set only where they say something.
    IntegerAttr kvHeads = m->numKvHeads && m->numKvHeads != m->numHeads
                              ? rewriter.getI64IntegerAttr(m->numKvHeads)
                              : IntegerAttr();
    IntegerAttr window = m->window > 0 ? rewriter.getI64IntegerAttr(m->window) : IntegerAttr();
    FloatAttr hidden = m->hasHiddenScore ? rewriter.getF32FloatAttr(m->hiddenScore) : FloatAttr();
    auto create = [&](Value q, Value k, Value v) {
      return rewriter.create<AttentionOp>(
          loc, m->seqFirst ? q.getType() : Type(rootType), q, k, v, mask,
          rewriter.getI64IntegerAttr(m->numHeads), rewriter.getF32FloatAttr(m->scale),
          MaskKindAttr::get(rewriter.getContext(), m->maskKind), kvHeads, window, hidden,
          /*columns=*/DenseI64ArrayAttr());
    };
    if (!m->seqFirst) {
      Value q = flattenHeads(rewriter, loc, m->query), k = flattenHeads(rewriter, loc, m->key),
            v = flattenHeads(rewriter, loc, m->value);
      rewriter.replaceOp(m->root, create(q, k, v).getResult());
      return success();
    }
    SmallVector<int64_t> swap = {1, 0, 2};
    auto batchFirst = [&](Value x) { return rewriter.create<TransposeOp>(loc, x, swap); };
    Value o = create(batchFirst(m->query), batchFirst(m->key), batchFirst(m->value));
    if (rootType.getRank() == 3) {
      rewriter.replaceOpWithNewOp<TransposeOp>(m->root, rootType, o, swap);
      return success();
    }
    Value seqBatch = rewriter.create<TransposeOp>(loc, o, swap);
    SmallVector<int64_t> flat = {-1, rootType.getShape().back()};
    rewriter.replaceOpWithNewOp<ReshapeOp>(m->root, rootType, seqBatch, flat);
    return success();
  }
};

struct FuseAttentionPass : tfc::impl::FuseAttentionBase<FuseAttentionPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseAttentionPattern>(&getContext());
    // Not converging within the iteration limit still leaves valid IR.
    (void)applyPatternsAndFoldGreedily(getOperation(), std::move(patterns));
  }
};

} // namespace
