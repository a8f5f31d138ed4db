//===- PatternUtils.cpp - helpers shared by the fusion matchers -----------===//
//
// See PatternUtils.h. Nothing here modifies the IR except
// createSplatConstant.
//
//===----------------------------------------------------------------------===//
#include "PatternUtils.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

namespace mlir::tfc {

LogicalResult reject(std::string *why, const llvm::Twine &message) {
  if (why)
    *why = message.str();
  return failure();
}

bool matchScalarConstant(Value v, float &out) {
  DenseElementsAttr attr;
  if (!v || !matchPattern(v, m_Constant(&attr)) || !attr.isSplat() ||
      !isa<FloatType>(attr.getElementType()))
    return false;
  out = static_cast<float>(attr.getSplatValue<APFloat>().convertToDouble());
  return true;
}

bool approxEqual(float actual, float expected, float relTol) {
  return std::fabs(actual - expected) <= relTol * std::fabs(expected);
}

bool matchConstantNear(Value v, float expected) {
  float c;
  return matchScalarConstant(v, c) && approxEqual(c, expected);
}

std::optional<std::pair<Value, Value>>
findOperandOrder(Operation *binary, llvm::function_ref<bool(Value, Value)> pred) {
  if (!binary || binary->getNumOperands() != 2)
    return std::nullopt;
  Value lhs = binary->getOperand(0), rhs = binary->getOperand(1);
  if (pred(lhs, rhs))
    return std::pair(lhs, rhs);
  if (binary->hasTrait<OpTrait::IsCommutative>() && pred(rhs, lhs))
    return std::pair(rhs, lhs);
  return std::nullopt;
}

Value operandBesideConstant(Operation *binary, float constant) {
  auto order =
      findOperandOrder(binary, [&](Value, Value c) { return matchConstantNear(c, constant); });
  return order ? order->first : Value();
}

bool isLastAxisOnly(ArrayRef<int64_t> axes, int64_t rank) {
  return axes.size() == 1 && rank > 0 && (axes[0] == -1 || axes[0] == rank - 1);
}

bool reshapeKeepsLeadingDims(ReshapeOp reshape, int64_t count) {
  ArrayRef<int64_t> shape = reshape.getShape();
  RankedTensorType src = reshape.getInput().getType(), dst = reshape.getType();
  if (count > static_cast<int64_t>(shape.size()) || count > src.getRank())
    return false;
  for (int64_t i = 0; i < count; ++i) {
    if (shape[i] == 0)
      continue;
    if (src.isDynamicDim(i))
      return false;
    int64_t size = src.getDimSize(i);
    // -1 takes what the other dims leave; only a static input pins it to `size`.
    bool inferred = shape[i] == -1 && src.hasStaticShape() && dst.getDimSize(i) == size;
    if (shape[i] != size && !inferred)
      return false;
  }
  return true;
}

bool isWeightOrConstant(Value v) {
  while (Operation *def = v ? v.getDefiningOp() : nullptr) {
    if (isa<WeightOp, ConstantOp>(def))
      return true;
    if (!isa<TransposeOp, ReshapeOp, CastOp>(def))
      return false;
    v = def->getOperand(0);
  }
  return false;
}

std::string describeLocation(Location loc) {
  if (auto name = dyn_cast<NameLoc>(loc))
    return name.getName().str();
  if (auto file = dyn_cast<FileLineColLoc>(loc))
    return (file.getFilename().str() + ":" + std::to_string(file.getLine()) + ":" +
            std::to_string(file.getColumn()));
  if (auto call = dyn_cast<CallSiteLoc>(loc))
    return describeLocation(call.getCallee());
  if (auto fused = dyn_cast<FusedLoc>(loc))
    for (Location part : fused.getLocations())
      if (std::string s = describeLocation(part); !s.empty())
        return s;
  return "";
}

Location fusedLocation(OpBuilder &builder, ArrayRef<Operation *> ops) {
  SmallVector<Location> locs;
  SmallVector<Attribute> names;
  for (Operation *op : ops) {
    locs.push_back(op->getLoc());
    names.push_back(builder.getStringAttr(op->getName().getStringRef()));
  }
  return builder.getFusedLoc(locs, builder.getArrayAttr(names));
}


Value createSplatConstant(OpBuilder &builder, Location loc, RankedTensorType type, float value) {
  auto elementType = cast<FloatType>(type.getElementType());
  APFloat v(value);
  bool lost = false;
  v.convert(elementType.getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
  auto attr = DenseElementsAttr::get(type, v);
  return builder.create<ConstantOp>(loc, type, cast<ElementsAttr>(attr));
}

std::string arrayToString(ArrayRef<int64_t> values) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "[";
  llvm::interleaveComma(values, os);
  os << "]";
  return s;
}

} // namespace mlir::tfc
