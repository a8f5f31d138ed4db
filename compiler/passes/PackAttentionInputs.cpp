//===- PackAttentionInputs.cpp - attention reads its q, k, v columns in place -===//
//
// tfc-pack-attention-inputs: after tfc-fuse-sibling-linears an attention
// block's projections are one product and three slices of its last dim:
//
//   %y = tfc.linear %x, %W bias(%b)          %y = tfc.linear %x, %W bias(%b)
//   %q = tfc.slice %y, [0], [D]              %o = tfc.attention %y, %y, %y
//   %k = tfc.slice %y, [D], [2D]        ->        {columns = [0, D, 2D, dh], ...}
//   %v = tfc.slice %y, [2D], [3D]
//   %o = tfc.attention %q, %k, %v {...}
//
// Each slice is a copy of a [B, S, D] block of the product, made only for the
// attention to read it; with `columns` the kernel reads the heads in place
// (tfc.attention's "Packed projections"). An operand qualifies when it is a
// tfc.slice of a rank-3 value of static width, over the last axis only, with
// a unit step, no cache offset and constant bounds 0 <= begin < end <= width,
// and the attention is its only user; the others are read whole, at column 0.
// Nothing changes unless at least one operand qualifies.
//
// The pass runs after the KV-cache derivation (which reads the slices to find
// what a step caches) and only for targets whose Attention kernel implements
// `columns` (the CPU; Compiler.cpp decides).
//
//===----------------------------------------------------------------------===//
#include "Passes.h"
#include "PatternUtils.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"

#include <optional>

namespace mlir::tfc {
#define GEN_PASS_DEF_PACKATTENTIONINPUTS
#include "Passes.h.inc"
} // namespace mlir::tfc

using namespace mlir;
using namespace mlir::tfc;

namespace {

/// The value of a one-element integer tfc.constant.
std::optional<int64_t> constantIndex(Value v) {
  auto c = definedBy<ConstantOp>(v);
  if (!c)
    return std::nullopt;
  auto attr = dyn_cast<DenseIntElementsAttr>(c.getValue());
  if (!attr || attr.getNumElements() != 1)
    return std::nullopt;
  return (*attr.getValues<APInt>().begin()).getSExtValue();
}

/// An attention operand as columns [begin, begin + width) of `source`'s last dim.
struct Columns {
  Value source;
  int64_t begin = 0;
  SliceOp slice; // the slice it replaces (null: the operand itself, read whole)
};

/// `v` as a slice of columns (see the banner), or nothing.
std::optional<Columns> columnSlice(Value v) {
  auto slice = definedBy<SliceOp>(v);
  if (!slice || !v.hasOneUse())
    return std::nullopt;
  auto type = dyn_cast<RankedTensorType>(slice.getInput().getType());
  if (!type || type.getRank() != 3 || type.isDynamicDim(2) || !isLastAxisOnly(slice.getAxes(), 3))
    return std::nullopt;
  if (auto steps = slice.getSteps(); steps && llvm::any_of(*steps, [](int64_t s) { return s != 1; }))
    return std::nullopt;
  if (auto offsets = slice.getCacheOffset();
      offsets && llvm::any_of(*offsets, [](int64_t o) { return o != 0; }))
    return std::nullopt;
  std::optional<int64_t> begin = constantIndex(slice.getStarts()), end = constantIndex(slice.getEnds());
  auto result = dyn_cast<RankedTensorType>(v.getType());
  if (!begin || !end || !result || *begin < 0 || *end > type.getDimSize(2) || *begin >= *end ||
      result.isDynamicDim(2) || result.getDimSize(2) != *end - *begin)
    return std::nullopt;
  return Columns{slice.getInput(), *begin, slice};
}

struct PackAttentionInputsPass
    : tfc::impl::PackAttentionInputsBase<PackAttentionInputsPass> {
  void runOnOperation() override {
    SmallVector<AttentionOp> attentions;
    getOperation().walk([&](AttentionOp a) {
      if (!a.getColumns())
        attentions.push_back(a);
    });
    for (AttentionOp a : attentions)
      pack(a);
  }

  void pack(AttentionOp a) {
    auto q = dyn_cast<RankedTensorType>(a.getQuery().getType());
    if (!q || q.isDynamicDim(2) || q.getDimSize(2) % a.getNumHeads() != 0)
      return;
    const int64_t dh = q.getDimSize(2) / int64_t(a.getNumHeads());
    Value operands[3] = {a.getQuery(), a.getKey(), a.getValue()};
    Columns cols[3];
    bool any = false;
    for (int i = 0; i < 3; ++i) {
      // One value read as two operands (k = v) has two uses: read whole.
      if (std::optional<Columns> c = columnSlice(operands[i])) {
        cols[i] = *c;
        any = true;
      } else {
        cols[i] = Columns{operands[i], 0, SliceOp()};
      }
    }
    if (!any)
      return;
    OpBuilder b(a);
    auto packed = b.create<AttentionOp>(
        a.getLoc(), a.getType(), cols[0].source, cols[1].source, cols[2].source, a.getMask(),
        a.getNumHeadsAttr(), a.getScaleAttr(), a.getMaskKindAttr(), a.getNumKvHeadsAttr(),
        a.getWindowAttr(), a.getHiddenScoreAttr(),
        b.getDenseI64ArrayAttr({cols[0].begin, cols[1].begin, cols[2].begin, dh}));
    // Keep what other passes attached (names for the fusion report, ...).
    for (NamedAttribute attr : a->getDiscardableAttrs())
      packed->setAttr(attr.getName(), attr.getValue());
    a.getResult().replaceAllUsesWith(packed.getResult());
    a.erase();
    for (Columns &c : cols)
      if (c.slice && c.slice->use_empty())
        c.slice.erase();
  }
};

} // namespace
