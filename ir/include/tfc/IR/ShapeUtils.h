//===- ShapeUtils.h - shape rules shared by verifiers, passes, frontends -*- C++ -*-===//
//
// Static shape arithmetic with ShapedType::kDynamic for symbolic dims. Each
// function returns failure() and fills `why` when the shapes cannot go together.
//
//===----------------------------------------------------------------------===//
#ifndef TFC_IR_SHAPEUTILS_H
#define TFC_IR_SHAPEUTILS_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/TypeRange.h"
#include "mlir/Support/LogicalResult.h"
#include "llvm/ADT/SmallVector.h"
#include <string>

namespace mlir::tfc {

/// NumPy broadcasting of two shapes. A dynamic dim against 1 stays dynamic;
/// against a static size > 1 it becomes that size.
LogicalResult broadcastShapes(ArrayRef<int64_t> a, ArrayRef<int64_t> b,
                              SmallVectorImpl<int64_t> &out, std::string &why);

/// True when `from` broadcasts to `to` (unidirectionally) for all dims known.
bool broadcastsTo(ArrayRef<int64_t> from, ArrayRef<int64_t> to);

/// Normalizes `axis` into [0, rank); failure if outside [-rank, rank).
LogicalResult normalizeAxis(int64_t axis, int64_t rank, int64_t &out, std::string &why);

/// Two dims agree when either is dynamic or both are equal.
inline bool dimsCompatible(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

/// Ranked tensor types with one element type and compatible shapes (`?` matches any
/// size); other types must be equal. How an inferring op accepts a declared result type.
bool compatibleTensorTypes(Type a, Type b);
bool compatibleTypeLists(TypeRange l, TypeRange r);

/// "2x?x64" for messages.
std::string shapeToString(ArrayRef<int64_t> shape);

} // namespace mlir::tfc

#endif // TFC_IR_SHAPEUTILS_H
