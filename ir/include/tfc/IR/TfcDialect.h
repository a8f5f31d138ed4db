//===- TfcDialect.h - the tfc dialect ---------------------------*- C++ -*-===//
//
// Include this to use the dialect, its enum attributes and its ops.
//
//===----------------------------------------------------------------------===//
#ifndef TFC_IR_TFCDIALECT_H
#define TFC_IR_TFCDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "tfc/IR/GenerationRole.h"
#include "tfc/IR/SymbolicShape.h"

#include "tfc/IR/TfcDialect.h.inc"
#include "tfc/IR/TfcEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "tfc/IR/TfcAttrs.h.inc"

#include "tfc/IR/TfcInterfaces.h.inc"

#define GET_OP_CLASSES
#include "tfc/IR/TfcOps.h.inc"

#endif // TFC_IR_TFCDIALECT_H
