//===- CausalMask.h - recognise slices of causal mask tables ----*- C++ -*-===//
//
// The frontends build causal masks by slicing a constant [M, M] table (with
// optional leading 1 dims, sliced or not) to [T, T]: an i1 table, true on and
// below the diagonal (a keep mask, for tfc.where(tri, scores, -big)) or true
// strictly above it (a hide mask: torch's triu / Greater(arange, arange),
// for where(tri, -big, scores) or where(tri, -inf, 0)); or an f32 table, 0 on
// and below the diagonal and <= -1e4 above, added to the scores. A band of
// width w below the diagonal instead of the whole lower triangle is a local
// (sliding-window) causal mask. A static export's constant folding leaves the
// [T, T] slice itself as the constant.
//
//===----------------------------------------------------------------------===//
#ifndef TFC_COMPILER_PASSES_CAUSALMASK_H
#define TFC_COMPILER_PASSES_CAUSALMASK_H

#include "mlir/IR/Value.h"

#include <cstdint>
#include <optional>

namespace mlir::tfc {

/// Which causal table a slice is expected to be of.
enum class CausalTable {
  keep,      // i1, true where key j <= query i
  hide,      // i1, true where key j > query i
  additive,  // float, 0 where j <= i, <= -1e4 where j > i
};

/// What a causal table slice says.
struct CausalSlice {
  /// 0: plain causal; w > 0: a band table (local / sliding-window attention),
  /// key j visible from query i only when i - w < j <= i.
  int64_t window = 0;
  /// Additive tables whose hidden entries are all one value: that value.
  std::optional<double> hiddenValue;
};

/// Matches `v` as `tfc.slice` of a constant triangular or band table of
/// `kind` over its last two axes with starts 0 and ends [T, T] (the same T
/// twice: one constant, or equivalent values such as the same shape gather
/// twice); leading axes of size 1 may be sliced too ([0:1]). A band table
/// (GPT-Neo's local layers: `tril(ones) ^ tril(ones, -w)`) gives its width. A
/// constant [1, ..., 1, T, T] table with T >= 2 is such a slice already folded
/// (static exports: torch's constant folding evaluates `bias[:, :, :T, :T]`).
std::optional<CausalSlice> matchCausalMaskSlice(Value v, CausalTable kind);

/// True when `v` is a plain causal (not band) table slice of `kind`.
inline bool isCausalMaskSlice(Value v, CausalTable kind) {
  std::optional<CausalSlice> c = matchCausalMaskSlice(v, kind);
  return c && c->window == 0;
}

/// True when `a` and `b` are the same value or are computed by equivalent
/// ops from equivalent operands (a few levels deep; for shape arithmetic
/// that exporters repeat instead of reusing).
bool areEquivalentValues(Value a, Value b);

} // namespace mlir::tfc

#endif // TFC_COMPILER_PASSES_CAUSALMASK_H
