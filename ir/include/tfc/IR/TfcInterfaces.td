//===- TfcInterfaces.td - per-op knowledge the compiler asks for -*- tablegen -*-===//
//
// What the compiler needs to know of an op beyond its static types is declared by the op
// itself, through these interfaces, so that one op's rules live with the op (TfcOps.td lists
// which interfaces each op has; the C++ rules are in ir/lib/, one file per concern, ops in the
// order of TfcOps.td):
//   SymbolicShapeOpInterface   result dims over the named symbols (TfcSymbolicShapes.cpp),
//                              used by compiler/analysis/ShapeAnalysis (lowering, bounds,
//                              generation);
//   GenerationRoleOpInterface  what the op does to the sequence axis (TfcGenerationRoles.cpp),
//                              used by compiler/generation/ to derive KV-cache step functions.
//
//===----------------------------------------------------------------------===//

#ifndef TFC_INTERFACES_TD
#define TFC_INTERFACES_TD

include "mlir/IR/OpBase.td"

def Tfc_SymbolicShapeOpInterface : OpInterface<"SymbolicShapeOpInterface"> {
  let cppNamespace = "::mlir::tfc";
  let description = [{
    Computes the symbolic shape of the op's results (every result has the shape returned;
    the tfc ops with results have one) from the symbolic shapes and contents of its operands
    (see tfc/IR/SymbolicShape.h). Dims it cannot express are `SymExpr::unknown()`: the
    analysis reports a `?` dim of the result type that is not a constant or a single symbol
    as an error naming the op, with `why` when the rule set it. A rule may also give the
    symbolic *contents* of the small integer tensor it makes (shape computations).
  }];
  let methods = [
    InterfaceMethod<
      /*desc=*/"The symbolic shape of the results; `why` says what made a dim unknown.",
      /*retTy=*/"::mlir::tfc::SymShape",
      /*methodName=*/"inferSymbolicShape",
      /*args=*/(ins "::mlir::tfc::SymbolicShapeContext &":$context, "std::string &":$why)>,
    InterfaceMethod<
      /*desc=*/[{The symbolic element values of the (small, integer) result, or none. The
                 analysis keeps them only for 1-D or scalar i32/i64 results of at most 16
                 elements whose count matches.}],
      /*retTy=*/"std::optional<::mlir::tfc::SymContents>",
      /*methodName=*/"inferSymbolicContents",
      /*args=*/(ins "::mlir::tfc::SymbolicShapeContext &":$context),
      /*methodBody=*/"",
      /*defaultImplementation=*/"return std::nullopt;">,
  ];
}

def Tfc_GenerationRoleOpInterface : OpInterface<"GenerationRoleOpInterface"> {
  let cppNamespace = "::mlir::tfc";
  let description = [{
    Gives the op's results their role for the KV-cache derivation (see
    tfc/IR/GenerationRole.h) from the roles of its operands, some of which is not Fixed;
    or stops the derivation with `context.fail(op, why)` when the op is not position-wise
    in the way its operands use the sequence axis.
  }];
  let methods = [
    InterfaceMethod<
      /*desc=*/"Sets the results' roles (true) or fails naming why (false).",
      /*retTy=*/"bool",
      /*methodName=*/"inferGenerationRole",
      /*args=*/(ins "::mlir::tfc::GenerationRoleContext &":$context)>,
  ];
}

#endif // TFC_INTERFACES_TD
