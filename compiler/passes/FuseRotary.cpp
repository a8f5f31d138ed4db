//===- FuseRotary.cpp - rotary position embedding -> tfc.rotary ------------===//
//
// Rewrites what RotaryMatcher.cpp finds: the rotated heads are replaced by
//   %r = tfc.rotary %x, %cos, %sin {num_heads, rotary_dim[, interleaved]}  [B, S, H*dh]
// followed by the head split the graph had (reshape [0,0,H,dh], and the
// transpose [0,2,1,3] when the rotary was applied to transposed heads).
// cos and sin lose their unit head axis by a reshape ([a, 1, S, r] ->
// [a, S, r]). The attention matcher then finds Q and K split into heads as
// usual, with the tfc.rotary results as its query and key.
//
// Why a separate op rather than rotary folded into tfc.attention: the KV
// cache stores rotated keys (each key is rotated once, by its own position,
// when it is appended), so a generation step applies tfc.rotary to the new
// keys before tfc.cached_attention appends them; and cos / sin stay values of
// the graph (position tables sliced or gathered by position), which the
// generation derivation already offsets by the cache length.
//
//===----------------------------------------------------------------------===//
#include "Matchers.h"
#include "Passes.h"
#include "PatternUtils.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::tfc {
#define GEN_PASS_DEF_FUSEROTARY
#include "Passes.h.inc"
} // namespace mlir::tfc

using namespace mlir;
using namespace mlir::tfc;

namespace {

/// cos / sin without their unit head axis: [.., S, r] of rank <= 3.
Value dropHeadAxis(PatternRewriter &rewriter, Location loc, Value table, bool transposed) {
  auto t = cast<RankedTensorType>(table.getType());
  int64_t at = (transposed ? 1 : 2) - (4 - t.getRank());
  if (at < 0)
    return table;
  SmallVector<int64_t> dims(t.getShape());
  dims.erase(dims.begin() + at);
  // [a, 1, S, r] -> {0, -1, r}; [1, S, r] / [S, 1, r] -> {-1, r}.
  SmallVector<int64_t> shape = t.getRank() == 4 ? SmallVector<int64_t>{0, -1, dims.back()}
                                                : SmallVector<int64_t>{-1, dims.back()};
  return rewriter.create<ReshapeOp>(loc, RankedTensorType::get(dims, t.getElementType()), table,
                                    rewriter.getDenseI64ArrayAttr(shape));
}

template <typename RootOp> struct FuseRotaryPattern : OpRewritePattern<RootOp> {
  using OpRewritePattern<RootOp>::OpRewritePattern;

  LogicalResult matchAndRewrite(RootOp root, PatternRewriter &rewriter) const override {
    std::string why;
    FailureOr<RotaryMatch> m = matchRotary(root, &why);
    if (failed(m))
      return rewriter.notifyMatchFailure(root, why);
    Location loc = fusedLocation(rewriter, m->matched);
    rewriter.setInsertionPoint(root);
    Value cos = dropHeadAxis(rewriter, loc, m->cos, m->transposed);
    Value sin = dropHeadAxis(rewriter, loc, m->sin, m->transposed);
    Value r = rewriter.create<RotaryOp>(loc, m->input.getType(), m->input, cos, sin,
                                        rewriter.getI64IntegerAttr(m->numHeads),
                                        rewriter.getI64IntegerAttr(m->rotaryDim),
                                        m->interleaved ? rewriter.getBoolAttr(true) : BoolAttr());
    auto type = cast<RankedTensorType>(root.getType());
    int64_t dh = type.getDimSize(3);
    auto in = cast<RankedTensorType>(m->input.getType());
    auto headsType = RankedTensorType::get({in.getDimSize(0), in.getDimSize(1), m->numHeads, dh},
                                           type.getElementType());
    Value heads = rewriter.create<ReshapeOp>(
        loc, headsType, r, rewriter.getDenseI64ArrayAttr({0, 0, m->numHeads, dh}));
    if (m->transposed)
      heads = rewriter.create<TransposeOp>(loc, type, heads,
                                           rewriter.getDenseI64ArrayAttr({0, 2, 1, 3}));
    rewriter.replaceOp(root, heads);
    return success();
  }
};

struct FuseRotaryPass : tfc::impl::FuseRotaryBase<FuseRotaryPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    // The concat (partial rotary) first: its inner add is no full rotary.
    patterns.add<FuseRotaryPattern<ConcatOp>>(&getContext(), /*benefit=*/2);
    patterns.add<FuseRotaryPattern<AddOp>>(&getContext(), /*benefit=*/1);
    (void)applyPatternsAndFoldGreedily(getOperation(), std::move(patterns));
  }
};

} // namespace
