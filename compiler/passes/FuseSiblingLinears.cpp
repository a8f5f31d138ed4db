//===- FuseSiblingLinears.cpp - linears on one input -> one linear + slices -===//
//
// tfc-fuse-sibling-linears: projections of the same input with constant
// weights (an attention block's q, k and v; the k and v of a cross-attention
// over the encoder's output) become one product with the weights side by side:
//
//   %q = tfc.linear %x, %Wq bias(%bq)     %W = tfc.concat %Wq, %Wk, %Wv {axis = 1}
//   %k = tfc.linear %x, %Wk bias(%bk)     %b = tfc.concat %bq, %bk, %bv {axis = 0}
//   %v = tfc.linear %x, %Wv bias(%bv) ->  %y = tfc.linear %x, %W bias(%b)
//                                         %q = tfc.slice %y, [0], [Nq] {axes = [r-1]}
//                                         %k = tfc.slice %y, [Nq], [Nq+Nk] ...
//
// The pipeline folds the concats into one derived weight (a second
// tfc-fold-constants after this pass), so the plan holds the weights once, side
// by side, as an ONNX export with a packed QKV projection does. At run time the
// input is read once and the threads start once for N = Nq + Nk + Nv columns
// instead of three times: a decode step of GPT-2 small from its checkpoint runs
// 49 products instead of 73, an encoder's projections one GEMM of 3D columns
// instead of three of D. The slices are copies of the columns (cheap next to
// the product).
//
// Grouped: tfc.linear ops of one block that read the same input value, whose
// weights are rank-2 f32 tfc.weight / tfc.constant values of the same K, and
// which all have a constant f32 bias or none, no residual, and the same
// activation. When the pass has the weights' bytes (the driver's FoldedWeights),
// a tfc.weight joins only if its bytes are there, so that the concat is sure to
// fold (no kernel of the plan has only constant inputs). The weight and bias
// definitions (operand-free constants) move up to the first linear of the
// group, where the new ops go.
//
//===----------------------------------------------------------------------===//
#include "FoldedWeights.h"
#include "Passes.h"
#include "PatternUtils.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"

#include "llvm/ADT/MapVector.h"

namespace mlir::tfc {
#define GEN_PASS_DEF_FUSESIBLINGLINEARS
#include "Passes.h.inc"
} // namespace mlir::tfc

using namespace mlir;
using namespace mlir::tfc;

namespace {

/// What linears must share to be one product.
struct GroupKey {
  Value input;
  Activation activation;
  bool hasBias;
  int64_t k;
  bool operator<(const GroupKey &o) const {
    return std::make_tuple(input.getImpl(), activation, hasBias, k) <
           std::make_tuple(o.input.getImpl(), o.activation, o.hasBias, o.k);
  }
};

class SiblingFuser {
public:
  explicit SiblingFuser(const FoldedWeights *weights) : weights(weights) {}

  int64_t run(Block &block) {
    std::map<GroupKey, SmallVector<LinearOp>> groups;
    SmallVector<GroupKey> order; // first-seen order: deterministic output
    for (Operation &op : block) {
      auto linear = dyn_cast<LinearOp>(&op);
      if (!linear || !candidate(linear))
        continue;
      GroupKey key{linear.getInput(), linear.getActivation(), bool(linear.getBias()),
                   cast<RankedTensorType>(linear.getWeight().getType()).getDimSize(0)};
      auto [it, inserted] = groups.try_emplace(key);
      if (inserted)
        order.push_back(key);
      it->second.push_back(linear);
    }
    int64_t fused = 0;
    for (const GroupKey &key : order)
      if (groups[key].size() >= 2) {
        fuse(groups[key]);
        ++fused;
      }
    return fused;
  }

private:
  /// A rank-2 (or, for a bias, rank-1) f32 constant of static shape whose data will fold.
  bool constantOperand(Value v, int64_t rank) const {
    auto type = dyn_cast<RankedTensorType>(v.getType());
    if (!type || type.getRank() != rank || !type.hasStaticShape() || !type.getElementType().isF32())
      return false;
    Operation *def = v.getDefiningOp();
    if (isa_and_nonnull<ConstantOp>(def))
      return true;
    auto w = dyn_cast_or_null<WeightOp>(def);
    if (!w)
      return false;
    if (!weights)
      return true;
    FoldedWeights::Data data;
    return weights->find(w.getName().str(), data) && ArrayRef<int64_t>(data.shape) == type.getShape();
  }

  bool candidate(LinearOp linear) const {
    if (linear.getResidual() || !isa<RankedTensorType>(linear.getInput().getType()))
      return false;
    if (!constantOperand(linear.getWeight(), 2))
      return false;
    if (linear.getBias() && !constantOperand(linear.getBias(), 1))
      return false;
    auto out = dyn_cast<RankedTensorType>(linear.getType());
    return out && out.getRank() >= 1;
  }

  /// Moves the operand-free definition of `v` above `point` when it comes later in the block.
  static void hoist(Value v, Operation *point) {
    Operation *def = v.getDefiningOp();
    if (def && def->getBlock() == point->getBlock() && point->isBeforeInBlock(def))
      def->moveBefore(point);
  }

  void fuse(MutableArrayRef<LinearOp> group) {
    LinearOp first = group.front();
    MLIRContext *ctx = first.getContext();
    SmallVector<Value> ws, bs;
    SmallVector<Operation *> ops;
    SmallVector<int64_t> widths;
    for (LinearOp l : group) {
      hoist(l.getWeight(), first);
      ws.push_back(l.getWeight());
      if (l.getBias()) {
        hoist(l.getBias(), first);
        bs.push_back(l.getBias());
      }
      ops.push_back(l);
      widths.push_back(cast<RankedTensorType>(l.getWeight().getType()).getDimSize(1));
    }
    int64_t total = 0;
    for (int64_t n : widths)
      total += n;
    const int64_t k = cast<RankedTensorType>(first.getWeight().getType()).getDimSize(0);
    Type f32 = Float32Type::get(ctx);
    OpBuilder b(first);
    Location loc = fusedLocation(b, ops);
    Value weight = b.create<ConcatOp>(loc, RankedTensorType::get({k, total}, f32), ws,
                                      b.getI64IntegerAttr(1));
    Value bias;
    if (!bs.empty())
      bias = b.create<ConcatOp>(loc, RankedTensorType::get({total}, f32), bs, b.getI64IntegerAttr(0));
    // The product's type: the first linear's with the last dim widened.
    auto firstType = cast<RankedTensorType>(first.getType());
    SmallVector<int64_t> shape(firstType.getShape());
    shape.back() = total;
    auto productType = RankedTensorType::get(shape, firstType.getElementType());
    auto productOp = b.create<LinearOp>(loc, productType, first.getInput(), weight, bias, Value(),
                                        first.getActivation());
    int64_t merged = 0;
    for (LinearOp l : group) {
      auto m = l->getAttrOfType<IntegerAttr>(kMergedLinearsAttr);
      merged += m ? m.getInt() : 1;
    }
    productOp->setAttr(kMergedLinearsAttr, b.getI64IntegerAttr(merged));
    Value product = productOp.getResult();
    const int64_t axis = productType.getRank() - 1;
    std::map<int64_t, Value> bounds; // one constant per column offset
    auto bound = [&](int64_t v) {
      Value &c = bounds[v];
      if (!c) {
        auto type = RankedTensorType::get({1}, b.getI64Type());
        c = b.create<ConstantOp>(loc, type, DenseIntElementsAttr::get(type, ArrayRef<int64_t>{v}));
      }
      return c;
    };
    int64_t start = 0;
    for (size_t i = 0; i < group.size(); ++i) {
      LinearOp l = group[i];
      Value starts = bound(start), ends = bound(start + widths[i]);
      Value slice = b.create<SliceOp>(l.getLoc(), l.getType(), product, starts, ends,
                                      b.getDenseI64ArrayAttr({axis}),
                                      DenseI64ArrayAttr(), DenseI64ArrayAttr());
      l.getResult().replaceAllUsesWith(slice);
      start += widths[i];
    }
    for (LinearOp l : group)
      l.erase();
  }

  const FoldedWeights *weights;
};

struct FuseSiblingLinearsPass : tfc::impl::FuseSiblingLinearsBase<FuseSiblingLinearsPass> {
  FuseSiblingLinearsPass() = default;
  FuseSiblingLinearsPass(const FuseSiblingLinearsPass &other) = default;
  explicit FuseSiblingLinearsPass(std::shared_ptr<FoldedWeights> weights)
      : weights(std::move(weights)) {}

  void runOnOperation() override {
    getOperation().walk([&](func::FuncOp func) {
      if (func.isExternal())
        return;
      for (Block &block : func.getBody())
        SiblingFuser(weights.get()).run(block);
    });
  }

  std::shared_ptr<FoldedWeights> weights;
};

} // namespace

std::unique_ptr<Pass> mlir::tfc::createFuseSiblingLinears(std::shared_ptr<FoldedWeights> weights) {
  return std::make_unique<FuseSiblingLinearsPass>(std::move(weights));
}
