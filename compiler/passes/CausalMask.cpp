//===- CausalMask.cpp - recognise slices of causal mask tables ------------===//
//
// See CausalMask.h. A table that is not exactly triangular, a slice that
// does not start at 0 or does not end at [T, T] on the last two axes, a
// constant [1, 1] table is not causal; the attention matcher then treats the value as a general mask.
//
//===----------------------------------------------------------------------===//
#include "CausalMask.h"
#include "PatternUtils.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"

#include <optional>

using namespace mlir;
using namespace mlir::tfc;

namespace {

constexpr double kLargeNegative = -1.0e4f;
constexpr int kMaxEquivalenceDepth = 6;

/// All entries of the 1-D i64 constant `v` equal `expected`.
bool isConstantFilledWith(Value v, int64_t expected) {
  DenseIntElementsAttr attr;
  if (!matchPattern(v, m_Constant(&attr)) || attr.getNumElements() == 0)
    return false;
  return llvm::all_of(attr.getValues<APInt>(),
                      [&](const APInt &x) { return x.getSExtValue() == expected; });
}

/// Entry `i` of a 1-D i64 value built from constants and concats: its value
/// when constant, else the 1-element value that holds it.
struct Entry {
  std::optional<int64_t> constant;
  Value symbolic;
};

std::optional<Entry> entryOf(Value v, int64_t i) {
  DenseIntElementsAttr attr;
  if (matchPattern(v, m_Constant(&attr))) {
    if (i >= attr.getNumElements())
      return std::nullopt;
    return Entry{attr.getValues<APInt>()[i].getSExtValue(), Value()};
  }
  auto type = cast<RankedTensorType>(v.getType());
  if (auto concat = definedBy<ConcatOp>(v)) {
    for (Value in : concat.getInputs()) {
      auto t = cast<RankedTensorType>(in.getType());
      if (t.getRank() != 1 || t.isDynamicDim(0))
        return std::nullopt;
      if (i < t.getDimSize(0))
        return entryOf(in, i);
      i -= t.getDimSize(0);
    }
    return std::nullopt;
  }
  if (type.getRank() == 1 && type.getDimSize(0) == 1 && i == 0)
    return Entry{std::nullopt, v};
  return std::nullopt;
}

bool sameEntry(const Entry &a, const Entry &b) {
  if (a.constant || b.constant)
    return a.constant == b.constant;
  return areEquivalentValues(a.symbolic, b.symbolic);
}

bool equivalent(Value a, Value b, int depth) {
  if (a == b)
    return true;
  Operation *x = a.getDefiningOp(), *y = b.getDefiningOp();
  if (!x || !y || depth > kMaxEquivalenceDepth || x->getNumRegions() || y->getNumRegions() ||
      cast<OpResult>(a).getResultNumber() != cast<OpResult>(b).getResultNumber())
    return false;
  return OperationEquivalence::isEquivalentTo(
      x, y,
      [&](Value l, Value r) { return success(equivalent(l, r, depth + 1)); },
      /*markEquivalent=*/nullptr, OperationEquivalence::IgnoreLocations);
}

/// The slice starts at 0 with unit steps, takes both of the last two axes
/// to the same end T, and any other axis it names is a size-1 dim taken
/// whole.
bool slicesToSquare(SliceOp slice, ArrayRef<int64_t> tableShape) {
  int64_t rank = tableShape.size();
  if (auto steps = slice.getSteps();
      steps && llvm::any_of(*steps, [](int64_t s) { return s != 1; }))
    return false;
  if (!isConstantFilledWith(slice.getStarts(), 0))
    return false;
  std::optional<Entry> rowEnd, colEnd;
  for (auto [i, axis] : llvm::enumerate(slice.getAxes())) {
    int64_t a = axis < 0 ? axis + rank : axis;
    std::optional<Entry> end = entryOf(slice.getEnds(), i);
    if (!end || a < 0 || a >= rank)
      return false;
    if (a == rank - 2)
      rowEnd = end;
    else if (a == rank - 1)
      colEnd = end;
    else if (tableShape[a] != 1 || !end->constant || *end->constant < 1)
      return false;
  }
  return rowEnd && colEnd && sameEntry(*rowEnd, *colEnd);
}

/// `table` is [1, ..., 1, M, M]; its M.
std::optional<int64_t> squareSize(DenseElementsAttr table) {
  auto shape = table.getType().getShape();
  int64_t rank = shape.size();
  if (rank < 2)
    return std::nullopt;
  int64_t m = shape[rank - 1];
  if (shape[rank - 2] != m || llvm::any_of(shape.drop_back(2), [](int64_t d) { return d != 1; }))
    return std::nullopt;
  return m;
}

/// The band width of an [.., M, M] table whose entry (i, j) satisfies
/// `entryOk(x, visible)` with visible = `i - w < j <= i`: w is the number of
/// visible entries of the last row (M: the whole lower triangle, returned as
/// 0), every entry is then checked. std::nullopt when the table is no band.
template <typename T>
std::optional<int64_t> bandWidth(DenseElementsAttr table, llvm::function_ref<bool(T)> isVisible,
                                 llvm::function_ref<bool(T, bool)> entryOk) {
  std::optional<int64_t> size = squareSize(table);
  if (!size || *size == 0)
    return std::nullopt;
  int64_t m = *size;
  auto values = table.getValues<T>().begin();
  int64_t w = 0;
  for (int64_t j = 0; j < m; ++j)
    w += isVisible(values[(m - 1) * m + j]);
  if (w == 0)
    return std::nullopt;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < m; ++j)
      if (!entryOk(values[i * m + j], j <= i && i - j < w))
        return std::nullopt;
  return w == m ? 0 : w;
}

} // namespace

bool mlir::tfc::areEquivalentValues(Value a, Value b) { return a && b && equivalent(a, b, 0); }

std::optional<CausalSlice> mlir::tfc::matchCausalMaskSlice(Value v, CausalTable kind) {
  DenseElementsAttr table;
  if (auto slice = definedBy<SliceOp>(v)) {
    if (!matchPattern(slice.getInput(), m_Constant(&table)) || table.getType().getRank() < 2 ||
        !slicesToSquare(slice, table.getType().getShape()))
      return std::nullopt;
  } else if (!matchPattern(v, m_Constant(&table)) || table.getType().getRank() < 2 ||
             table.getType().getShape().back() < 2) {
    // The slice already folded to [T, T] (a static export's constant folding). T >= 2: a
    // [1, 1] table broadcasts over every key instead of hiding the later ones.
    return std::nullopt;
  }
  std::optional<int64_t> w;
  CausalSlice out;
  switch (kind) {
  case CausalTable::keep:
  case CausalTable::hide: {
    if (!table.getElementType().isInteger(1))
      return std::nullopt;
    bool keeps = kind == CausalTable::keep;
    w = bandWidth<bool>(
        table, [&](bool x) { return x == keeps; },
        [&](bool x, bool visible) { return (x == keeps) == visible; });
    break;
  }
  case CausalTable::additive: {
    if (!isa<FloatType>(table.getElementType()))
      return std::nullopt;
    std::optional<double> hidden;
    bool uniform = true;
    w = bandWidth<APFloat>(
        table, [](APFloat x) { return x.convertToDouble() == 0.0; },
        [&](APFloat x, bool visible) {
          double f = x.convertToDouble();
          if (visible)
            return f == 0.0;
          if (hidden && *hidden != f)
            uniform = false;
          hidden = f;
          return f <= kLargeNegative;
        });
    if (uniform)
      out.hiddenValue = hidden;
    break;
  }
  }
  if (!w)
    return std::nullopt;
  out.window = *w;
  return out;
}
