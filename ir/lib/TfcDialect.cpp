//===- TfcDialect.cpp - the tfc dialect: registration, attributes -------===//
#include "tfc/IR/TfcDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::tfc;

#include "tfc/IR/TfcDialect.cpp.inc"
#include "tfc/IR/TfcEnums.cpp.inc"
#include "tfc/IR/TfcInterfaces.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "tfc/IR/TfcAttrs.cpp.inc"

void TfcDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "tfc/IR/TfcAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "tfc/IR/TfcOps.cpp.inc"
      >();
}

Operation *TfcDialect::materializeConstant(OpBuilder &builder, Attribute value, Type type,
                                           Location loc) {
  auto elements = dyn_cast<ElementsAttr>(value);
  if (!elements || elements.getType() != type)
    return nullptr;
  return builder.create<ConstantOp>(loc, type, elements);
}
