//===- ShapeUtils.cpp - shape rules ---------------------------------------===//
#include "tfc/IR/ShapeUtils.h"

#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::tfc {

LogicalResult broadcastShapes(ArrayRef<int64_t> a, ArrayRef<int64_t> b,
                              SmallVectorImpl<int64_t> &out, std::string &why) {
  size_t rank = std::max(a.size(), b.size());
  out.assign(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da == 1) {
      out[i] = db;
    } else if (db == 1) {
      out[i] = da;
    } else if (ShapedType::isDynamic(da)) {
      out[i] = db;
    } else if (ShapedType::isDynamic(db) || da == db) {
      out[i] = da;
    } else {
      why = "shapes " + shapeToString(a) + " and " + shapeToString(b) +
            " do not broadcast (dim " + std::to_string(i) + ": " + std::to_string(da) +
            " vs " + std::to_string(db) + ")";
      return failure();
    }
  }
  return success();
}

bool broadcastsTo(ArrayRef<int64_t> from, ArrayRef<int64_t> to) {
  if (from.size() > to.size())
    return false;
  size_t off = to.size() - from.size();
  for (size_t i = 0; i < from.size(); ++i) {
    int64_t f = from[i], t = to[i + off];
    if (f == 1 || dimsCompatible(f, t))
      continue;
    return false;
  }
  return true;
}

LogicalResult normalizeAxis(int64_t axis, int64_t rank, int64_t &out, std::string &why) {
  if (axis < -rank || axis >= rank) {
    why = "axis " + std::to_string(axis) + " is out of range [" + std::to_string(-rank) +
          ", " + std::to_string(rank - 1) + "]";
    return failure();
  }
  out = axis < 0 ? axis + rank : axis;
  return success();
}

bool compatibleTensorTypes(Type a, Type b) {
  auto ta = dyn_cast<RankedTensorType>(a), tb = dyn_cast<RankedTensorType>(b);
  if (!ta || !tb)
    return a == b;
  return ta.getElementType() == tb.getElementType() &&
         succeeded(verifyCompatibleShape(ta.getShape(), tb.getShape()));
}

bool compatibleTypeLists(TypeRange l, TypeRange r) {
  if (l.size() != r.size())
    return false;
  for (auto [a, b] : llvm::zip(l, r))
    if (!compatibleTensorTypes(a, b))
      return false;
  return true;
}

std::string shapeToString(ArrayRef<int64_t> shape) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      os << "x";
    if (ShapedType::isDynamic(shape[i]))
      os << "?";
    else
      os << shape[i];
  }
  os << "]";
  return os.str();
}

} // namespace mlir::tfc
