//===- CausalMask.h - recognise slices of causal mask tables ----*- C++ -*-===//
//
// The frontends build causal masks by slicing a constant [M, M] table (with
// optional leading 1 dims) to [T, T]: an i1 table, true on and below the
// diagonal, used by tfc.where; or an f32 table, 0 on and below the diagonal
// and <= -1e4 above, added to the scores.
//
//===----------------------------------------------------------------------===//
#ifndef TFC_COMPILER_PASSES_CAUSALMASK_H
#define TFC_COMPILER_PASSES_CAUSALMASK_H

#include "mlir/IR/Value.h"

namespace mlir::tfc {

/// True when `v` is `tfc.slice` of a constant lower-triangular table over its
/// last two axes with starts [0, 0] and ends [T, T] (the same T twice: one
/// constant, or a concat of one value / equivalent ops). `additive` selects
/// the f32 (0 / <= -1e4) table rather than the i1 one.
bool isCausalMaskSlice(Value v, bool additive);

} // namespace mlir::tfc

#endif // TFC_COMPILER_PASSES_CAUSALMASK_H
