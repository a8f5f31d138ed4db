//===- CausalMask.cpp - recognise slices of causal mask tables ------------===//
//
// See CausalMask.h. A table that is not exactly lower-triangular, a slice
// that does not start at [0, 0] or does not end at [T, T] is not causal; the
// attention matcher then treats the value as a general mask.
//
//===----------------------------------------------------------------------===//
#include "CausalMask.h"
#include "PatternUtils.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/SmallSet.h"

using namespace mlir;
using namespace mlir::tfc;

namespace {

constexpr double kLargeNegative = -1.0e4f;

/// All entries of the 1-D i64 constant `v` equal `expected` (any value when
/// `expected` is null; then they must all be equal to each other).
bool isConstantWithEqualEntries(Value v, std::optional<int64_t> expected) {
  DenseIntElementsAttr attr;
  if (!matchPattern(v, m_Constant(&attr)) || attr.getNumElements() == 0)
    return false;
  int64_t first = expected ? *expected : (*attr.getValues<APInt>().begin()).getSExtValue();
  return llvm::all_of(attr.getValues<APInt>(),
                      [&](const APInt &x) { return x.getSExtValue() == first; });
}

/// `ends` is [T, T]: a constant with equal entries, or a concat whose inputs
/// are one value or equivalent ops (e.g. the same shape gather twice).
bool isSquareEnd(Value ends) {
  if (isConstantWithEqualEntries(ends, std::nullopt))
    return true;
  auto concat = definedBy<ConcatOp>(ends);
  if (!concat)
    return false;
  Value first = concat.getInputs().front();
  return llvm::all_of(concat.getInputs(), [&](Value in) {
    if (in == first)
      return true;
    Operation *a = first.getDefiningOp(), *b = in.getDefiningOp();
    return a && b &&
           OperationEquivalence::isEquivalentTo(a, b, OperationEquivalence::IgnoreLocations);
  });
}

/// The slice takes the last two axes, starting at 0 with unit steps.
bool slicesLastTwoAxesFromZero(SliceOp slice) {
  int64_t rank = slice.getInput().getType().getRank();
  auto axes = slice.getAxes();
  if (axes.size() != 2)
    return false;
  llvm::SmallSet<int64_t, 2> normalized;
  for (int64_t a : axes)
    normalized.insert(a < 0 ? a + rank : a);
  if (!normalized.contains(rank - 2) || !normalized.contains(rank - 1))
    return false;
  if (auto steps = slice.getSteps();
      steps && llvm::any_of(*steps, [](int64_t s) { return s != 1; }))
    return false;
  return isConstantWithEqualEntries(slice.getStarts(), 0);
}

/// `table` is [1, ..., 1, M, M] and entry (i, j) is `onOrBelow(i, j)`'s kind.
template <typename T>
bool isLowerTriangular(DenseElementsAttr table, llvm::function_ref<bool(T, bool)> entryOk) {
  auto shape = table.getType().getShape();
  int64_t rank = shape.size();
  if (rank < 2)
    return false;
  int64_t m = shape[rank - 1];
  if (shape[rank - 2] != m || llvm::any_of(shape.drop_back(2), [](int64_t d) { return d != 1; }))
    return false;
  auto values = table.getValues<T>().begin();
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < m; ++j)
      if (!entryOk(values[i * m + j], j <= i))
        return false;
  return true;
}

} // namespace

bool mlir::tfc::isCausalMaskSlice(Value v, bool additive) {
  auto slice = definedBy<SliceOp>(v);
  DenseElementsAttr table;
  if (!slice || !matchPattern(slice.getInput(), m_Constant(&table)) ||
      table.getType().getRank() < 2 || !slicesLastTwoAxesFromZero(slice) ||
      !isSquareEnd(slice.getEnds()))
    return false;
  if (!additive)
    return table.getElementType().isInteger(1) &&
           isLowerTriangular<bool>(table, [](bool keep, bool lower) { return keep == lower; });
  return isa<FloatType>(table.getElementType()) &&
         isLowerTriangular<APFloat>(table, [](APFloat x, bool lower) {
           double f = x.convertToDouble();
           return lower ? f == 0.0f : f <= kLargeNegative;
         });
}
