//===- FoldConstants.cpp - evaluate ops whose operands are all constants ---===//
//
// tfc-fold-constants: an op whose operands all come from `tfc.constant`,
// `tfc.weight` (when the pass has the weights' bytes, FoldedWeights.h) or
// other folded ops computes the same value at every run; it is evaluated here,
// once (HostEval.h), and its uses are given a constant instead:
//   * a `tfc.weight "<location>/<op>"` when the value is f32 and derived from a
//     model weight (its bytes go to the FoldedWeights store, and from there to
//     the plan's constant section): the tied LM head's `transpose(wte)` becomes
//     `tfc.weight "lm_head/transpose"`, so the matmul that reads it fuses into a
//     `tfc.linear` with a constant weight (prepacked for decode at run time);
//   * a `tfc.constant` otherwise (the data was in the IR already).
// Chains fold in one walk (slice then transpose of a packed in-projection) and
// only the values used by unfolded ops are materialized. DeBERTa's relative
// position embeddings (`LayerNorm(rel_embeddings)` and each layer's projections
// of them) fold too: a layer normalization folded here is counted in the module
// attribute `tfc.folded_layer_norms` (the fusion report's "folded" layer_norm:
// a norm computed at compile time is neither fused nor left unfused). Not
// folded: ops without a host evaluation (reductions, ...), values the runtime would
// reject (an index out of range, integer division by zero), a slice shifted by
// the cache length, and results that would inflate the plan: more than 4x the
// bytes of the op's operands and over 1 MiB (a broadcast that the runtime
// computes more cheaply than the plan would store it). Runs at module level so
// that derived names are unique over every function.
//
//===----------------------------------------------------------------------===//
#include "FoldedWeights.h"
#include "HostEval.h"
#include "Passes.h"
#include "PatternUtils.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallPtrSet.h"

namespace mlir::tfc {
#define GEN_PASS_DEF_FOLDCONSTANTS
#include "Passes.h.inc"
} // namespace mlir::tfc

using namespace mlir;
using namespace mlir::tfc;

namespace {

constexpr size_t kMaxInflatedBytes = 1 << 20;

struct Known {
  HostTensor tensor;
  bool fromWeight = false;  // derived from a tfc.weight's bytes
};

class FunctionFolder {
public:
  FunctionFolder(FoldedWeights *weights) : weights(weights) {}

  /// Folds the ops of `block`; returns the number of ops folded.
  int64_t run(Block &block) {
    for (Operation &op : block)
      tryFold(&op);
    materialize();
    return (int64_t)folded.size();
  }

  /// How many tfc.layer_normalization ops the last run() folded.
  int64_t foldedLayerNorms = 0;

private:
  /// The data of `v` when it is a constant, a weight whose bytes are known, or folded.
  const Known *lookup(Value v) {
    if (auto it = known.find(v); it != known.end())
      return it->second.get();
    Operation *def = v.getDefiningOp();
    if (auto c = dyn_cast_or_null<ConstantOp>(def)) {
      if (std::optional<HostTensor> t = hostTensorFromAttr(c.getValue()))
        return remember(v, {*t, false});
    } else if (auto w = dyn_cast_or_null<WeightOp>(def); w && weights) {
      auto type = cast<RankedTensorType>(w.getType());
      FoldedWeights::Data data;
      if (type.hasStaticShape() && type.getElementType().isF32() &&
          weights->find(w.getName().str(), data) && ArrayRef<int64_t>(data.shape) == type.getShape())
        return remember(v, {HostTensor{type, data.bytes, data.owner}, true});
    }
    return nullptr;
  }

  const Known *remember(Value v, Known k) {
    return (known[v] = std::make_unique<Known>(std::move(k))).get();
  }

  void tryFold(Operation *op) {
    if (isa<ConstantOp, WeightOp>(op) || op->getNumResults() != 1 || op->getNumOperands() == 0 ||
        !op->getDialect() || op->getDialect()->getNamespace() != "tfc")
      return;
    SmallVector<const HostTensor *> operands;
    bool fromWeight = false;
    size_t operandBytes = 0;
    for (Value operand : op->getOperands()) {
      const Known *k = lookup(operand);
      if (!k)
        return;
      operands.push_back(&k->tensor);
      fromWeight |= k->fromWeight;
      operandBytes += k->tensor.byteSize();
    }
    auto type = dyn_cast<RankedTensorType>(op->getResult(0).getType());
    if (!type || !type.hasStaticShape() || !hostElementSize(type.getElementType()))
      return;
    size_t bytes = (size_t)type.getNumElements() * hostElementSize(type.getElementType());
    if (bytes > kMaxInflatedBytes && bytes > 4 * operandBytes)
      return;
    std::string why;
    std::optional<HostTensor> result = evaluate(op, operands, why);
    if (!result)
      return;
    remember(op->getResult(0), {*result, fromWeight});
    foldedLayerNorms += isa<LayerNormalizationOp>(op);
    folded.push_back(op);
    foldedSet.insert(op);
  }

  /// Gives every use of a folded value by an unfolded op a constant, then erases the folded ops.
  void materialize() {
    for (Operation *op : folded) {
      Value result = op->getResult(0);
      bool usedOutside = llvm::any_of(result.getUsers(),
                                      [&](Operation *user) { return !foldedSet.contains(user); });
      if (!usedOutside)
        continue;
      const Known &k = *known[result];
      OpBuilder builder(op);
      Value replacement;
      if (k.fromWeight && weights && k.tensor.type.getElementType().isF32()) {
        std::string base = describeLocation(op->getLoc());
        base = (base.empty() ? std::string("folded") : base) + "/" +
               op->getName().stripDialect().str();
        // The evaluated bytes themselves when they fill their buffer (no second copy of a
        // transposed LM head), else a copy of the range.
        std::shared_ptr<const std::vector<uint8_t>> bytes = k.tensor.owner;
        if (!bytes || bytes->data() != k.tensor.data || bytes->size() != k.tensor.byteSize())
          bytes = std::make_shared<std::vector<uint8_t>>(k.tensor.data,
                                                         k.tensor.data + k.tensor.byteSize());
        std::string name =
            weights->add(base, std::vector<int64_t>(k.tensor.type.getShape().begin(),
                                                    k.tensor.type.getShape().end()),
                         std::move(bytes));
        replacement = builder.create<WeightOp>(op->getLoc(), k.tensor.type, name);
      } else {
        replacement = builder.create<ConstantOp>(op->getLoc(), k.tensor.type,
                                                 cast<ElementsAttr>(attrFromHostTensor(k.tensor)));
      }
      result.replaceUsesWithIf(replacement, [&](OpOperand &use) {
        return !foldedSet.contains(use.getOwner());
      });
    }
    for (Operation *op : llvm::reverse(folded))
      op->erase();
    known.clear();
  }

  FoldedWeights *weights;
  llvm::DenseMap<Value, std::unique_ptr<Known>> known;  // stable addresses
  SmallVector<Operation *> folded;
  llvm::SmallPtrSet<Operation *, 16> foldedSet;
};

struct FoldConstantsPass : tfc::impl::FoldConstantsBase<FoldConstantsPass> {
  FoldConstantsPass() = default;
  FoldConstantsPass(const FoldConstantsPass &other) = default;
  explicit FoldConstantsPass(std::shared_ptr<FoldedWeights> weights)
      : weights(std::move(weights)) {}

  void runOnOperation() override {
    int64_t norms = 0;
    getOperation().walk([&](func::FuncOp func) {
      if (func.isExternal())
        return;
      for (Block &block : func.getBody()) {
        FunctionFolder folder(weights.get());
        folder.run(block);
        norms += folder.foldedLayerNorms;
      }
    });
    if (norms == 0)
      return;
    ModuleOp module = getOperation();
    if (auto earlier = module->getAttrOfType<IntegerAttr>(kFoldedLayerNormsAttr))
      norms += earlier.getInt();
    module->setAttr(kFoldedLayerNormsAttr,
                    IntegerAttr::get(IntegerType::get(module.getContext(), 64), norms));
  }

  std::shared_ptr<FoldedWeights> weights;
};

} // namespace

std::unique_ptr<Pass> mlir::tfc::createFoldConstants(std::shared_ptr<FoldedWeights> weights) {
  return std::make_unique<FoldConstantsPass>(std::move(weights));
}
