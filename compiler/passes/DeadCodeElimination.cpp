//===- DeadCodeElimination.cpp - erase unused side-effect-free ops --------===//
//
// tfc-dce: erases every op that has results, none of them used, and no side
// effects (all tfc ops are Pure, so this includes unused tfc.weight and
// tfc.constant), walking each block from its end so that a whole dead chain
// goes in one sweep, and sweeping again until nothing changes. Ops without
// results (func.func, func.return) are never touched.
//
//===----------------------------------------------------------------------===//
#include "Passes.h"

#include "mlir/IR/Iterators.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::tfc {
#define GEN_PASS_DEF_DEADCODEELIMINATION
#include "Passes.h.inc"
} // namespace mlir::tfc

using namespace mlir;
using namespace mlir::tfc;

namespace {

/// One sweep, users before producers; returns whether anything was erased.
bool eraseDeadOps(Operation *root) {
  bool erased = false;
  root->walk<WalkOrder::PostOrder, ReverseIterator>([&](Operation *op) {
    if (op != root && op->getNumResults() > 0 && isOpTriviallyDead(op)) {
      op->erase();
      erased = true;
    }
  });
  return erased;
}

struct DeadCodeEliminationPass : tfc::impl::DeadCodeEliminationBase<DeadCodeEliminationPass> {
  void runOnOperation() override {
    while (eraseDeadOps(getOperation())) {
    }
  }
};

} // namespace
