//===- TfcBase.td - the tfc dialect, its enums and base op class -*- tablegen -*-===//
//
// The `tfc` dialect is tfc's graph IR. It has two layers of ops:
//   * primitive ops (what frontends emit: one op per ONNX-like primitive), and
//   * fused ops (what the fusion passes in compiler/passes/ produce).
// Tensors are builtin ranked tensors; `?` dims are symbolic (batch, seq, ...),
// named by the `tfc.dims` argument attribute of the entry function.
//
//===----------------------------------------------------------------------------===//

#ifndef TFC_BASE_TD
#define TFC_BASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Tfc_Dialect : Dialect {
  let name = "tfc";
  let cppNamespace = "::mlir::tfc";
  let summary = "Graph IR of the tfc transformer compiler";
  let description = [{
    Tensor-level ops for transformer inference. Frontends build primitive ops
    only; passes fuse them into `tfc.layer_norm`, `tfc.attention`,
    `tfc.linear` and `tfc.gelu`; lowering maps every op to a target kernel.
  }];
  let useDefaultAttributePrinterParser = 1;
  let hasConstantMaterializer = 1;
}

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def Tfc_Activation : I32EnumAttr<"Activation", "activation applied by a fused op", [
    I32EnumAttrCase<"none", 0>,
    I32EnumAttrCase<"relu", 1>,
    I32EnumAttrCase<"gelu_erf", 2>,
    I32EnumAttrCase<"gelu_tanh", 3>,
  ]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::tfc";
}
def Tfc_ActivationAttr : EnumAttr<Tfc_Dialect, Tfc_Activation, "activation">;

def Tfc_GateActivation : I32EnumAttr<"GateActivation",
    "activation of a gated feed-forward's gate projection", [
    I32EnumAttrCase<"silu", 0>,       // x * sigmoid(x): SwiGLU
    I32EnumAttrCase<"gelu_erf", 1>,   // GeGLU
    I32EnumAttrCase<"gelu_tanh", 2>,  // GeGLU with the tanh GELU (Gemma)
  ]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::tfc";
}
def Tfc_GateActivationAttr : EnumAttr<Tfc_Dialect, Tfc_GateActivation, "gate">;

def Tfc_MaskKind : I32EnumAttr<"MaskKind", "which keys an attention hides", [
    I32EnumAttrCase<"none", 0>,
    I32EnumAttrCase<"causal", 1>,
    I32EnumAttrCase<"padding", 2>,
    I32EnumAttrCase<"causal_padding", 3>,
  ]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::tfc";
}
def Tfc_MaskKindAttr : EnumAttr<Tfc_Dialect, Tfc_MaskKind, "mask">;

def Tfc_GeluApprox : I32EnumAttr<"GeluApprox", "GELU formula", [
    I32EnumAttrCase<"erf", 0>,
    I32EnumAttrCase<"tanh", 1>,
  ]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::tfc";
}
def Tfc_GeluApproxAttr : EnumAttr<Tfc_Dialect, Tfc_GeluApprox, "gelu">;

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

def Tfc_FloatTensor : RankedTensorOf<[F32, F16, BF16]>;
def Tfc_IndexTensor : RankedTensorOf<[I32, I64]>;
def Tfc_I64Tensor : RankedTensorOf<[I64]>;
def Tfc_BoolTensor : RankedTensorOf<[I1]>;
def Tfc_Tensor : RankedTensorOf<[F32, F16, BF16, I1, I8, I32, I64]>;
def Tfc_NumericTensor : RankedTensorOf<[F32, F16, BF16, I32, I64]>;

class Tfc_Op<string mnemonic, list<Trait> traits = []> :
    Op<Tfc_Dialect, mnemonic, traits>;

#endif // TFC_BASE_TD
