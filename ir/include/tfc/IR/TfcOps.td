//===- TfcOps.td - ops of the tfc dialect -------------------*- tablegen -*-===//
//
// Primitive ops first (what frontends emit), fused ops after (what passes
// produce). Broadcasting follows NumPy/ONNX rules. Result types of most ops are
// inferred (InferTypeOpInterface); a declared result type must be compatible
// with the inferred one (`?` matches any size).
//
//===----------------------------------------------------------------------===//

#ifndef TFC_OPS_TD
#define TFC_OPS_TD

include "tfc/IR/TfcBase.td"
include "tfc/IR/TfcInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"

// What each op declares beyond its types (TfcInterfaces.td): its symbolic shape rule
// (TfcSymbolicShapes.cpp), with the symbolic contents of the small integer tensors it makes
// where it computes shapes, and its role in the KV-cache derivation (TfcGenerationRoles.cpp).
defvar Tfc_SymbolicShape = DeclareOpInterfaceMethods<Tfc_SymbolicShapeOpInterface>;
defvar Tfc_SymbolicShapeAndContents =
    DeclareOpInterfaceMethods<Tfc_SymbolicShapeOpInterface, ["inferSymbolicContents"]>;
defvar Tfc_GenerationRole = DeclareOpInterfaceMethods<Tfc_GenerationRoleOpInterface>;

// Ops whose result type is inferred from operands and attributes.
class Tfc_InferOp<string mnemonic, list<Trait> traits = []> :
    Tfc_Op<mnemonic, !listconcat(traits, [Pure, InferTypeOpAdaptorWithIsCompatible])>;

//===----------------------------------------------------------------------===//
// Sources: constants and weights
//===----------------------------------------------------------------------===//

def Tfc_ConstantOp : Tfc_Op<"constant", [ConstantLike, Pure, Tfc_SymbolicShapeAndContents,
    TypesMatchWith<"result type is the value's type", "value", "result",
                   "$_self">]> {
  let summary = "a constant tensor held in the IR";
  let description = [{
    A small constant (scales, epsilons, shapes, mask tables). Model weights use
    `tfc.weight` instead so that the IR stays small.

    ```mlir
    %c = tfc.constant dense<0.125> : tensor<f32>
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs Tfc_Tensor:$result);
  let assemblyFormat = "attr-dict $value";
  let hasFolder = 1;
  let hasVerifier = 1;
}

def Tfc_WeightOp : Tfc_Op<"weight", [Pure, Tfc_SymbolicShape]> {
  let summary = "a named model weight";
  let description = [{
    Refers to the weight tensor `name` of the model being compiled. Its data
    lives in the compiler's weight store (and later in the plan's weight
    section), not in the IR.

    ```mlir
    %w = tfc.weight "encoder.layers.0.self_attn.q.weight" : tensor<64x64xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name);
  let results = (outs Tfc_Tensor:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Elementwise binary ops (broadcasting)
//===----------------------------------------------------------------------===//

class Tfc_BinaryOp<string mnemonic, string formula, list<Trait> traits = []> :
    Tfc_InferOp<mnemonic, !listconcat(traits, [Tfc_GenerationRole])> {
  let summary = "elementwise " # formula # " with broadcasting";
  let description = [{
    Computes `}] # formula # [{` elementwise. Operands broadcast NumPy-style and
    share one element type.

    ```mlir
    %r = tfc.}] # mnemonic # [{ %a, %b : (tensor<?x?x64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
    ```
  }];
  let arguments = (ins Tfc_Tensor:$lhs, Tfc_Tensor:$rhs);
  let results = (outs Tfc_Tensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
}

// add/sub/mul/div also compute shape values (`batch * seq`, `seq - 0`).
def Tfc_AddOp : Tfc_BinaryOp<"add", "lhs + rhs", [Commutative, Tfc_SymbolicShapeAndContents]>;
def Tfc_SubOp : Tfc_BinaryOp<"sub", "lhs - rhs", [Tfc_SymbolicShapeAndContents]>;
def Tfc_MulOp : Tfc_BinaryOp<"mul", "lhs * rhs", [Commutative, Tfc_SymbolicShapeAndContents]>;
def Tfc_DivOp : Tfc_BinaryOp<"div", "lhs / rhs", [Tfc_SymbolicShapeAndContents]>;
def Tfc_PowOp : Tfc_BinaryOp<"pow", "lhs ^ rhs", [Tfc_SymbolicShape]>;
def Tfc_MaxOp : Tfc_BinaryOp<"max", "max(lhs, rhs)", [Commutative, Tfc_SymbolicShape]>;

//===----------------------------------------------------------------------===//
// Elementwise unary ops
//===----------------------------------------------------------------------===//

class Tfc_UnaryOp<string mnemonic, string formula> :
    Tfc_InferOp<mnemonic, [Tfc_SymbolicShape, Tfc_GenerationRole]> {
  let summary = "elementwise " # formula;
  let description = [{
    Computes `}] # formula # [{` elementwise on a floating-point tensor.

    ```mlir
    %r = tfc.}] # mnemonic # [{ %x : (tensor<?x64xf32>) -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins Tfc_FloatTensor:$input);
  let results = (outs Tfc_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Tfc_SqrtOp : Tfc_UnaryOp<"sqrt", "sqrt(x)">;
def Tfc_ErfOp : Tfc_UnaryOp<"erf", "erf(x)">;
def Tfc_TanhOp : Tfc_UnaryOp<"tanh", "tanh(x)">;
def Tfc_ReluOp : Tfc_UnaryOp<"relu", "max(x, 0)">;
def Tfc_ExpOp : Tfc_UnaryOp<"exp", "exp(x)">;
def Tfc_NegOp : Tfc_UnaryOp<"neg", "-x">;
def Tfc_LogOp : Tfc_UnaryOp<"log", "log(x)">;  // ONNX LogSoftmax = log(softmax(x))
def Tfc_SigmoidOp : Tfc_UnaryOp<"sigmoid", "1 / (1 + exp(-x))">;  // SiLU is x * sigmoid(x)

def Tfc_GeluOp : Tfc_InferOp<"gelu", [Tfc_SymbolicShape, Tfc_GenerationRole]> {
  let summary = "GELU activation";
  let description = [{
    `approximate = erf`: `0.5 x (1 + erf(x / sqrt(2)))`;
    `approximate = tanh`: `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`.
    Frontends may emit it directly (ONNX Gelu); the fuse-gelu pass produces it
    from the decomposed formulas.

    ```mlir
    %g = tfc.gelu %x {approximate = #tfc<gelu tanh>} : (tensor<?x256xf32>) -> tensor<?x256xf32>
    ```
  }];
  let arguments = (ins Tfc_FloatTensor:$input,
                       DefaultValuedAttr<Tfc_GeluApproxAttr, "GeluApprox::erf">:$approximate);
  let results = (outs Tfc_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Linear algebra, reductions, normalization
//===----------------------------------------------------------------------===//

def Tfc_MatMulOp : Tfc_InferOp<"matmul", [Tfc_SymbolicShape, Tfc_GenerationRole]> {
  let summary = "batched matrix product (NumPy matmul semantics)";
  let description = [{
    `[..., M, K] x [..., K, N] -> [..., M, N]`; the leading (batch) dims
    broadcast. Both operands have rank >= 2 and one element type.

    ```mlir
    %s = tfc.matmul %q, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
    ```
  }];
  let arguments = (ins Tfc_FloatTensor:$lhs, Tfc_FloatTensor:$rhs);
  let results = (outs Tfc_FloatTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
}

class Tfc_ReduceOp<string mnemonic, string what> :
    Tfc_InferOp<mnemonic, [Tfc_SymbolicShape, Tfc_GenerationRole]> {
  let summary = "reduce by " # what # " over axes";
  let description = [{
    Reduces `axes` (negative values count from the end) by }] # what # [{;
    with `keepdims` the reduced dims stay as size 1.

    ```mlir
    %m = tfc.}] # mnemonic # [{ %x {axes = array<i64: -1>, keepdims = true} : (tensor<?x?x64xf32>) -> tensor<?x?x1xf32>
    ```
  }];
  let arguments = (ins Tfc_FloatTensor:$input, DenseI64ArrayAttr:$axes,
                       DefaultValuedAttr<BoolAttr, "true">:$keepdims);
  let results = (outs Tfc_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Tfc_ReduceMeanOp : Tfc_ReduceOp<"reduce_mean", "the mean">;
def Tfc_ReduceSumOp : Tfc_ReduceOp<"reduce_sum", "the sum">;

def Tfc_SoftmaxOp : Tfc_InferOp<"softmax", [Tfc_SymbolicShape, Tfc_GenerationRole]> {
  let summary = "softmax along one axis";
  let description = [{
    ```mlir
    %p = tfc.softmax %s {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
    ```
  }];
  let arguments = (ins Tfc_FloatTensor:$input, DefaultValuedAttr<I64Attr, "-1">:$axis);
  let results = (outs Tfc_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Tfc_LayerNormalizationOp : Tfc_InferOp<"layer_normalization", [Tfc_SymbolicShape, Tfc_GenerationRole]> {
  let summary = "ONNX LayerNormalization (primitive form)";
  let description = [{
    Normalizes over the dims from `axis` to the end:
    `(x - mean) / sqrt(var + epsilon) * scale (+ bias)`. The fuse-layer-norm
    pass turns the last-axis case into `tfc.layer_norm`.

    ```mlir
    %y = tfc.layer_normalization %x, %g, %b {axis = -1 : i64, epsilon = 1.0e-05 : f32}
           : (tensor<?x?x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
    ```
  }];
  let arguments = (ins Tfc_FloatTensor:$input, Tfc_FloatTensor:$scale,
                       Optional<Tfc_FloatTensor>:$bias,
                       DefaultValuedAttr<I64Attr, "-1">:$axis,
                       DefaultValuedAttr<F32Attr, "1.0e-5">:$epsilon);
  let results = (outs Tfc_FloatTensor:$result);
  let assemblyFormat = "$input `,` $scale (`,` $bias^)? attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Data movement and shapes
//===----------------------------------------------------------------------===//

def Tfc_GatherOp : Tfc_InferOp<"gather", [Tfc_SymbolicShapeAndContents, Tfc_GenerationRole]> {
  let summary = "gather slices along an axis (ONNX Gather)";
  let description = [{
    `result = data` indexed by `indices` along `axis`; the result rank is
    `rank(data) + rank(indices) - 1`. Negative indices count from the end;
    out-of-range indices are an error at run time.

    ```mlir
    %e = tfc.gather %table, %ids {axis = 0 : i64} : (tensor<512x64xf32>, tensor<?x?xi64>) -> tensor<?x?x64xf32>
    ```
  }];
  let arguments = (ins Tfc_Tensor:$data, Tfc_IndexTensor:$indices,
                       DefaultValuedAttr<I64Attr, "0">:$axis);
  let results = (outs Tfc_Tensor:$result);
  let assemblyFormat = "$data `,` $indices attr-dict `:` functional-type(operands, results)";
}

def Tfc_TransposeOp : Tfc_InferOp<"transpose", [Tfc_SymbolicShape, Tfc_GenerationRole]> {
  let summary = "permute dims";
  let description = [{
    `result.dim(i) = input.dim(perm[i])`; `perm` is a permutation of `0..rank-1`.

    ```mlir
    %t = tfc.transpose %x {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
    ```
  }];
  let arguments = (ins Tfc_Tensor:$input, DenseI64ArrayAttr:$perm);
  let results = (outs Tfc_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def Tfc_ReshapeOp : Tfc_InferOp<"reshape", [Tfc_SymbolicShapeAndContents, Tfc_GenerationRole]> {
  let summary = "reshape to a target shape (ONNX semantics for 0 and -1)";
  let description = [{
    `shape[i] = 0` copies input dim `i`; at most one `shape[i] = -1` takes the
    remaining size; other entries are the sizes. Element counts must agree
    when they are known.

    ```mlir
    %h = tfc.reshape %x {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
    ```
  }];
  let arguments = (ins Tfc_Tensor:$input, DenseI64ArrayAttr:$shape);
  let results = (outs Tfc_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def Tfc_ConcatOp : Tfc_InferOp<"concat", [Tfc_SymbolicShapeAndContents, Tfc_GenerationRole]> {
  let summary = "concatenate along an axis";
  let description = [{
    ```mlir
    %c = tfc.concat %a, %b {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
    ```
  }];
  let arguments = (ins Variadic<Tfc_Tensor>:$inputs, I64Attr:$axis);
  let results = (outs Tfc_Tensor:$result);
  let assemblyFormat = "$inputs attr-dict `:` functional-type(operands, results)";
}

def Tfc_SliceOp : Tfc_Op<"slice", [Pure, Tfc_SymbolicShape, Tfc_GenerationRole]> {
  let summary = "slice with run-time bounds (ONNX Slice)";
  let description = [{
    Takes `input[starts[i]:ends[i]:steps[i]]` along `axes[i]`. `starts` and
    `ends` are 1-D i64 tensors with one entry per axis (values clamp to the dim
    as in ONNX); `steps` defaults to 1. The declared result type gives the
    sizes that are known at compile time.

    ```mlir
    %p = tfc.slice %table, %starts, %ends {axes = array<i64: 0>} : (tensor<64x64xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x64xf32>
    ```

    In a generation step function (see `tfc.cached_attention`), `cache_offset`
    (one 0/1 per axis) marks the axes whose `starts` and `ends` are shifted by
    the number of positions the KV cache already holds: a slice of a position
    table `[0, seq)` becomes `[past, past + seq)`.
  }];
  let arguments = (ins Tfc_Tensor:$input, Tfc_I64Tensor:$starts, Tfc_I64Tensor:$ends,
                       DenseI64ArrayAttr:$axes, OptionalAttr<DenseI64ArrayAttr>:$steps,
                       OptionalAttr<DenseI64ArrayAttr>:$cache_offset);
  let results = (outs Tfc_Tensor:$result);
  let assemblyFormat = "$input `,` $starts `,` $ends attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Tfc_ShapeOp : Tfc_InferOp<"shape", [Tfc_SymbolicShapeAndContents, Tfc_GenerationRole]> {
  let summary = "the shape of a tensor as a 1-D i64 tensor";
  let description = [{
    ```mlir
    %s = tfc.shape %x : (tensor<?x?xi64>) -> tensor<2xi64>
    ```
  }];
  let arguments = (ins Tfc_Tensor:$input);
  let results = (outs Tfc_I64Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Tfc_ExpandOp : Tfc_Op<"expand", [Pure, Tfc_SymbolicShape, Tfc_GenerationRole]> {
  let summary = "broadcast to a run-time shape (ONNX Expand)";
  let description = [{
    Broadcasts `input` with the 1-D i64 `shape` (NumPy rules, `shape` may be
    shorter or have 1s). The declared result type has rank
    `max(rank(input), len(shape))`.

    ```mlir
    %e = tfc.expand %x, %s : (tensor<1x64xf32>, tensor<2xi64>) -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins Tfc_Tensor:$input, Tfc_I64Tensor:$shape);
  let results = (outs Tfc_Tensor:$result);
  let assemblyFormat = "$input `,` $shape attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Tfc_WhereOp : Tfc_InferOp<"where", [Tfc_SymbolicShape, Tfc_GenerationRole]> {
  let summary = "select elementwise (ONNX Where)";
  let description = [{
    `result = cond ? lhs : rhs`, all three broadcasting; `cond` is i1.

    ```mlir
    %m = tfc.where %keep, %s, %neg : (tensor<?x?xi1>, tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
    ```
  }];
  let arguments = (ins Tfc_BoolTensor:$condition, Tfc_Tensor:$lhs, Tfc_Tensor:$rhs);
  let results = (outs Tfc_Tensor:$result);
  let assemblyFormat = "$condition `,` $lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
}

def Tfc_CastOp : Tfc_Op<"cast", [Pure, Tfc_SymbolicShapeAndContents, Tfc_GenerationRole]> {
  let summary = "convert the element type";
  let description = [{
    Same shape, new element type (to i1: nonzero is true).

    ```mlir
    %f = tfc.cast %mask : (tensor<?x?xi64>) -> tensor<?x?xf32>
    ```
  }];
  let arguments = (ins Tfc_Tensor:$input);
  let results = (outs Tfc_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Breadth ops (issue 11): what ONNX exports of further architectures run
// (T5 and DeBERTa position buckets, rotary tables, BLOOM's ALiBi positions,
// ViT and Whisper convolutions). Primitive ops, emitted by the ONNX frontend.
//===----------------------------------------------------------------------===//

class Tfc_NumericUnaryOp<string mnemonic, string formula> :
    Tfc_InferOp<mnemonic, [Tfc_SymbolicShape, Tfc_GenerationRole]> {
  let summary = "elementwise " # formula;
  let description = [{
    Computes `}] # formula # [{` elementwise on a float or integer tensor
    (position arithmetic runs on i64).

    ```mlir
    %r = tfc.}] # mnemonic # [{ %x : (tensor<?x?xi64>) -> tensor<?x?xi64>
    ```
  }];
  let arguments = (ins Tfc_NumericTensor:$input);
  let results = (outs Tfc_NumericTensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Tfc_AbsOp : Tfc_NumericUnaryOp<"abs", "|x|">;
def Tfc_SignOp : Tfc_NumericUnaryOp<"sign", "sign(x) (-1, 0 or 1)">;
def Tfc_CeilOp : Tfc_UnaryOp<"ceil", "ceil(x)">;
def Tfc_FloorOp : Tfc_UnaryOp<"floor", "floor(x)">;
def Tfc_SinOp : Tfc_UnaryOp<"sin", "sin(x)">;
def Tfc_CosOp : Tfc_UnaryOp<"cos", "cos(x)">;
def Tfc_MinOp : Tfc_BinaryOp<"min", "min(lhs, rhs)", [Commutative, Tfc_SymbolicShape]>;

class Tfc_CompareOp<string mnemonic, string formula, list<Trait> traits = []> :
    Tfc_InferOp<mnemonic, !listconcat(traits, [Tfc_SymbolicShape, Tfc_GenerationRole])> {
  let summary = "elementwise " # formula # " with broadcasting, an i1 result";
  let description = [{
    `result = }] # formula # [{` elementwise (ONNX comparison semantics: any
    comparison with a NaN is false). Operands broadcast NumPy-style and share
    one element type.

    ```mlir
    %r = tfc.}] # mnemonic # [{ %a, %b : (tensor<?x1xi64>, tensor<?xi64>) -> tensor<?x?xi1>
    ```
  }];
  let arguments = (ins Tfc_Tensor:$lhs, Tfc_Tensor:$rhs);
  let results = (outs Tfc_BoolTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
}

def Tfc_EqualOp : Tfc_CompareOp<"equal", "lhs == rhs", [Commutative]>;
def Tfc_LessOp : Tfc_CompareOp<"less", "lhs < rhs">;
def Tfc_LessEqualOp : Tfc_CompareOp<"less_equal", "lhs <= rhs">;
def Tfc_GreaterOp : Tfc_CompareOp<"greater", "lhs > rhs">;
def Tfc_GreaterEqualOp : Tfc_CompareOp<"greater_equal", "lhs >= rhs">;

def Tfc_CumSumOp : Tfc_InferOp<"cumsum", [Tfc_SymbolicShape, Tfc_GenerationRole]> {
  let summary = "cumulative sum along an axis (ONNX CumSum)";
  let description = [{
    `result[..., i, ...] = sum of input[..., j, ...]` over `j <= i` along
    `axis` (`j < i` with `exclusive`; `j >= i` / `j > i` with `reverse`).
    BLOOM builds its ALiBi positions as `cumsum(attention_mask) - 1`.

    ```mlir
    %c = tfc.cumsum %m {axis = 1 : i64} : (tensor<?x?xi64>) -> tensor<?x?xi64>
    ```
  }];
  let arguments = (ins Tfc_NumericTensor:$input, I64Attr:$axis,
                       DefaultValuedAttr<BoolAttr, "false">:$exclusive,
                       DefaultValuedAttr<BoolAttr, "false">:$reverse);
  let results = (outs Tfc_NumericTensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Tfc_TileOp : Tfc_InferOp<"tile", [Tfc_SymbolicShape, Tfc_GenerationRole]> {
  let summary = "repeat a tensor along each axis (ONNX Tile with constant repeats)";
  let description = [{
    `result.dim(i) = input.dim(i) * repeats[i]`, element
    `result[i...] = input[i % input.dim ...]`; `repeats` has one entry >= 1
    per input axis.

    ```mlir
    %t = tfc.tile %x {repeats = array<i64: 1, 1, 2>} : (tensor<?x?x8xf32>) -> tensor<?x?x16xf32>
    ```
  }];
  let arguments = (ins Tfc_Tensor:$input, DenseI64ArrayAttr:$repeats);
  let results = (outs Tfc_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Tfc_GatherElementsOp : Tfc_InferOp<"gather_elements", [Tfc_SymbolicShape, Tfc_GenerationRole]> {
  let summary = "gather single elements along an axis (ONNX GatherElements)";
  let description = [{
    `result[i0, ..., ik, ...] = data[i0, ..., indices[i0, ..., ik, ...], ...]`
    with the index replacing axis `axis`; the result has the shape of
    `indices`, which has the rank of `data`. Negative indices count from the
    end; out-of-range indices are an error at run time.

    ```mlir
    %g = tfc.gather_elements %x, %i {axis = 1 : i64} : (tensor<?x8xf32>, tensor<?x3xi64>) -> tensor<?x3xf32>
    ```
  }];
  let arguments = (ins Tfc_Tensor:$data, Tfc_IndexTensor:$indices, I64Attr:$axis);
  let results = (outs Tfc_Tensor:$result);
  let assemblyFormat = "$data `,` $indices attr-dict `:` functional-type(operands, results)";
}

def Tfc_ArgMaxOp : Tfc_InferOp<"argmax", [Tfc_SymbolicShape, Tfc_GenerationRole]> {
  let summary = "index of the largest element along an axis (ONNX ArgMax)";
  let description = [{
    The first index of the maximum along `axis` (the last with
    `select_last_index`); a NaN counts as the maximum. With `keepdims` the
    reduced axis stays as size 1. The result is i64.

    ```mlir
    %a = tfc.argmax %logits {axis = -1 : i64, keepdims = false} : (tensor<?x?x100xf32>) -> tensor<?x?xi64>
    ```
  }];
  let arguments = (ins Tfc_NumericTensor:$input, I64Attr:$axis,
                       DefaultValuedAttr<BoolAttr, "true">:$keepdims,
                       DefaultValuedAttr<BoolAttr, "false">:$select_last_index);
  let results = (outs Tfc_I64Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Tfc_TriluOp : Tfc_InferOp<"trilu", [Tfc_SymbolicShape, Tfc_GenerationRole]> {
  let summary = "keep the upper or lower triangle of the last two dims (ONNX Trilu)";
  let description = [{
    On the last two dims `[M, N]`: `upper` keeps element `(i, j)` where
    `j - i >= k`, otherwise (lower) where `j - i <= k`; the others become 0
    (false). Leading dims are a batch.

    ```mlir
    %u = tfc.trilu %x {upper = true, k = 1 : i64} : (tensor<?x?xf32>) -> tensor<?x?xf32>
    ```
  }];
  let arguments = (ins Tfc_Tensor:$input, DefaultValuedAttr<BoolAttr, "true">:$upper,
                       DefaultValuedAttr<I64Attr, "0">:$k);
  let results = (outs Tfc_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Tfc_ConvOp : Tfc_InferOp<"conv", [Tfc_SymbolicShape, Tfc_GenerationRole]> {
  let summary = "1-D or 2-D convolution (ONNX Conv, NCW / NCHW)";
  let description = [{
    `input` `[N, C, *spatial]`, `weight` `[M, C / group, *kernel]`, optional
    `bias` `[M]`; one or two spatial dims. `strides`, `dilations` have one
    entry per spatial dim, `pads` two (all begins, then all ends, as in
    ONNX). Output size per spatial dim:
    `(in + pad_begin + pad_end - dilation * (kernel - 1) - 1) / stride + 1`.
    ViT's patch embedding and Whisper's front end.

    ```mlir
    %y = tfc.conv %x, %w, %b {strides = array<i64: 16, 16>, pads = array<i64: 0, 0, 0, 0>,
                              dilations = array<i64: 1, 1>, group = 1 : i64}
           : (tensor<?x3x224x224xf32>, tensor<64x3x16x16xf32>, tensor<64xf32>) -> tensor<?x64x14x14xf32>
    ```
  }];
  let arguments = (ins Tfc_FloatTensor:$input, Tfc_FloatTensor:$weight,
                       Optional<Tfc_FloatTensor>:$bias,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                       DenseI64ArrayAttr:$dilations, DefaultValuedAttr<I64Attr, "1">:$group);
  let results = (outs Tfc_FloatTensor:$result);
  let assemblyFormat = "$input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Fused ops (produced by compiler/passes/, never by frontends)
//===----------------------------------------------------------------------===//

def Tfc_LayerNormOp : Tfc_InferOp<"layer_norm", [Tfc_SymbolicShape, Tfc_GenerationRole]> {
  let summary = "fused layer norm over the last axis, optionally of a residual sum";
  let description = [{
    `y = LN(input (+ residual)) * gamma + beta` over the last axis, with
    biased variance and `epsilon`. `gamma` and `beta` are 1-D with the size
    of the last dim. `residual` has the type of `input`.

    ```mlir
    %y = tfc.layer_norm %x, %g, %b {epsilon = 1.0e-12 : f32}
           : (tensor<?x?x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
    ```
  }];
  let arguments = (ins Tfc_FloatTensor:$input, Tfc_FloatTensor:$gamma, Tfc_FloatTensor:$beta,
                       Optional<Tfc_FloatTensor>:$residual, F32Attr:$epsilon);
  let results = (outs Tfc_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $gamma `,` $beta (`residual` `(` $residual^ `)`)? attr-dict `:` functional-type(operands, results)
  }];
}

def Tfc_RmsNormOp : Tfc_InferOp<"rms_norm", [Tfc_SymbolicShape, Tfc_GenerationRole]> {
  let summary = "fused RMS norm over the last axis, optionally of a residual sum";
  let description = [{
    `y = v / sqrt(mean(v^2) + epsilon) * w` over the last axis, with
    `v = input (+ residual)` (no mean subtracted, no bias: LLaMA, Mistral,
    Qwen2, T5). With `unit_offset` the weight is applied as `(1 + w)`
    (Gemma). `weight` is 1-D with the size of the last dim; `residual` has the
    type of `input`.

    ```mlir
    %y = tfc.rms_norm %x, %w {epsilon = 1.0e-06 : f32}
           : (tensor<?x?x64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
    ```
  }];
  let arguments = (ins Tfc_FloatTensor:$input, Tfc_FloatTensor:$weight,
                       Optional<Tfc_FloatTensor>:$residual, F32Attr:$epsilon,
                       DefaultValuedAttr<BoolAttr, "false">:$unit_offset);
  let results = (outs Tfc_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`residual` `(` $residual^ `)`)? attr-dict `:` functional-type(operands, results)
  }];
}

def Tfc_GatedLinearOp : Tfc_InferOp<"gated_linear", [Tfc_SymbolicShape, Tfc_GenerationRole]> {
  let summary = "fused gated feed-forward projection (SwiGLU, GeGLU)";
  let description = [{
    `result = act(input @ gate_weight) * (input @ up_weight)` with `input`
    `[..., K]` and both weights `[K, N]`; `activation` is `silu`
    (`x * sigmoid(x)`: SwiGLU), `gelu_erf` or `gelu_tanh` (GeGLU). The down
    projection that usually follows stays a separate tfc.linear.

    ```mlir
    %h = tfc.gated_linear %x, %wg, %wu {activation = #tfc<gate silu>}
           : (tensor<?x?x64xf32>, tensor<64x128xf32>, tensor<64x128xf32>) -> tensor<?x?x128xf32>
    ```
  }];
  let arguments = (ins Tfc_FloatTensor:$input, Tfc_FloatTensor:$gate_weight,
                       Tfc_FloatTensor:$up_weight, Tfc_GateActivationAttr:$activation);
  let results = (outs Tfc_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $gate_weight `,` $up_weight attr-dict `:` functional-type(operands, results)
  }];
}

def Tfc_AttentionOp : Tfc_InferOp<"attention", [Tfc_SymbolicShape, Tfc_GenerationRole]> {
  let summary = "fused multi-head scaled dot-product attention";
  let description = [{
    `query` is `[B, Sq, D]`, `key` and `value` are `[B, Sk, D]` (the outputs of
    the Q/K/V projections; `key`/`value` come from the query's sequence for
    self-attention and from the encoder for cross-attention). With
    `H = num_heads` (dividing `D`) and `dh = D / H`, per head:
    `out = softmax(scale * Q K^T + M) V`, heads concatenated to `[B, Sq, D]`.

    `mask_kind` says which keys are hidden: `causal` hides key `j > i` for
    query `i` (aligned to the end when `Sk > Sq`); `padding` applies `mask`;
    `causal_padding` both. `mask` broadcasts to `[B, H, Sq, Sk]`: an i1 mask
    keeps keys where it is true, a float mask (the query's type or f32) is
    added to the scores (a padding bias, and also a relative-position bias
    such as T5's or ALiBi's).

    Grouped-query / multi-query attention: with `num_kv_heads = G` (dividing
    `H`; absent means `H`) `key` and `value` are `[B, Sk, G*dh]` and query
    head `h` uses key/value head `h / (H / G)` (torch's `repeat_kv`, which
    repeats each KV head `H / G` times in a row).

    Local / sliding-window attention: `window = w` (causal kinds only) also
    hides key `j` when `j <= i' - w`, `i' = i + Sk - Sq`: each query sees its
    `w` most recent keys, itself included. `hidden_score` is the score the
    exporter gave keys hidden by the causal / window rule (the `where` fill,
    times the scale factors applied after it; the float mask is still added
    to it). It matters only for a row whose every visible key is also hidden
    by the mask (a window that holds only padding): such a row then becomes
    the softmax over all keys of those scores, as the unfused graph computes
    it. Absent, such a row is zeros.

    Packed projections: `columns = [cq, ck, cv, dh]` says the operands are
    wider than their heads (one fused Q/K/V projection, usually the same value
    three times, as tfc-pack-attention-inputs leaves it): the query's heads are
    the columns `[cq, cq + H*dh)` of `query`'s last dim, the keys'
    `[ck, ck + G*dh)` of `key`'s and the values' `[cv, cv + G*dh)` of
    `value`'s, and the result is `[B, Sq, H*dh]`. The kernels read the columns
    in place, where separate slices would copy them first.

    ```mlir
    %o = tfc.attention %q, %k, %v, %m {num_heads = 4 : i64, scale = 0.25 : f32, mask_kind = #tfc<mask padding>}
           : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x1x1x?xf32>) -> tensor<?x?x64xf32>
    ```
  }];
  let arguments = (ins Tfc_FloatTensor:$query, Tfc_FloatTensor:$key, Tfc_FloatTensor:$value,
                       Optional<Tfc_Tensor>:$mask,
                       I64Attr:$num_heads, F32Attr:$scale,
                       DefaultValuedAttr<Tfc_MaskKindAttr, "MaskKind::none">:$mask_kind,
                       OptionalAttr<I64Attr>:$num_kv_heads, OptionalAttr<I64Attr>:$window,
                       OptionalAttr<F32Attr>:$hidden_score,
                       OptionalAttr<DenseI64ArrayAttr>:$columns);
  let results = (outs Tfc_FloatTensor:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $value (`,` $mask^)? attr-dict `:` functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    /// num_kv_heads when set, else num_heads.
    int64_t getKvHeads() { return getNumKvHeads() ? int64_t(*getNumKvHeads()) : int64_t(getNumHeads()); }
  }];
}

def Tfc_RotaryOp : Tfc_InferOp<"rotary", [Tfc_SymbolicShape, Tfc_GenerationRole]> {
  let summary = "rotary position embedding of each head (full or partial)";
  let description = [{
    `input` is `[B, S, H*dh]` (a query or key projection, heads interleaved in
    the last dim, `H = num_heads`). Per head, the first `rotary_dim` features
    (even, at most `dh`; less than `dh` for a partial rotary such as Phi's)
    are rotated in the rotate-half form, `r = rotary_dim / 2`, `d < r`:
      `out[d]     = x[d] * cos[d]         - x[d + r] * sin[d]`
      `out[d + r] = x[d + r] * cos[d + r] + x[d] * sin[d + r]`
    or, with `interleaved` (GPT-J's rotate_every_two), on the pairs
    `(2j, 2j + 1)`, `2j < rotary_dim`:
      `out[2j]     = x[2j] * cos[2j]         - x[2j + 1] * sin[2j]`
      `out[2j + 1] = x[2j + 1] * cos[2j + 1] + x[2j] * sin[2j + 1]`
    and the other `dh - rotary_dim` features pass through. `cos` and `sin`
    broadcast to `[B, S, rotary_dim]` (`[S, rotary_dim]` or `[1|B, S,
    rotary_dim]`): the graph's own tables for the positions of the sequence,
    so positions (offset by the KV cache's length in a generation step, as a
    position-table slice is) and any frequency scaling stay in the graph.

    ```mlir
    %r = tfc.rotary %q, %cos, %sin {num_heads = 4 : i64, rotary_dim = 16 : i64}
           : (tensor<?x?x64xf32>, tensor<?x?x16xf32>, tensor<?x?x16xf32>) -> tensor<?x?x64xf32>
    ```
  }];
  let arguments = (ins Tfc_FloatTensor:$input, Tfc_FloatTensor:$cos, Tfc_FloatTensor:$sin,
                       I64Attr:$num_heads, I64Attr:$rotary_dim,
                       DefaultValuedAttr<BoolAttr, "false">:$interleaved);
  let results = (outs Tfc_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $cos `,` $sin attr-dict `:` functional-type(operands, results)
  }];
}

def Tfc_LinearOp : Tfc_InferOp<"linear", [AttrSizedOperandSegments, Tfc_SymbolicShape,
                                             Tfc_GenerationRole]> {
  let summary = "fused matmul + bias + activation (+ residual)";
  let description = [{
    `result = act(input @ weight + bias) + residual` with `input` `[..., K]`,
    `weight` `[K, N]`, `bias` `[N]` (optional) and `residual` (optional)
    broadcasting to the result `[..., N]`.

    ```mlir
    %y = tfc.linear %x, %w, %b {activation = #tfc<activation gelu_erf>}
           : (tensor<?x?x64xf32>, tensor<64x256xf32>, tensor<256xf32>) -> tensor<?x?x256xf32>
    ```
  }];
  let arguments = (ins Tfc_FloatTensor:$input, Tfc_FloatTensor:$weight,
                       Optional<Tfc_FloatTensor>:$bias, Optional<Tfc_FloatTensor>:$residual,
                       DefaultValuedAttr<Tfc_ActivationAttr, "Activation::none">:$activation);
  let results = (outs Tfc_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`bias` `(` $bias^ `)`)? (`residual` `(` $residual^ `)`)? attr-dict `:` functional-type(operands, results)
  }];
}

def Tfc_EmbeddingOp : Tfc_InferOp<"embedding", [AttrSizedOperandSegments, Tfc_SymbolicShape,
                                                   Tfc_GenerationRole]> {
  let summary = "fused token + position (+ token type) embedding lookup";
  let description = [{
    `result[b, s] = tokens[ids[b, s]] * scale + positions[s] (+ types[type_ids[b, s]])`
    with `ids`/`type_ids` `[B, S]` and tables `[*, D]`; `positions` needs at
    least `S` rows. With `cache_offset` (generation step functions) token `s`
    takes position row `past + s`, `past` being the positions the KV cache holds.

    ```mlir
    %e = tfc.embedding %ids, %tok, %pos {scale = 1.0 : f32}
           : (tensor<?x?xi64>, tensor<512x64xf32>, tensor<64x64xf32>) -> tensor<?x?x64xf32>
    ```
  }];
  let arguments = (ins Tfc_IndexTensor:$ids, Tfc_FloatTensor:$tokens, Tfc_FloatTensor:$positions,
                       Optional<Tfc_IndexTensor>:$type_ids, Optional<Tfc_FloatTensor>:$types,
                       DefaultValuedAttr<F32Attr, "1.0">:$scale, UnitAttr:$cache_offset);
  let results = (outs Tfc_FloatTensor:$result);
  let assemblyFormat = [{
    $ids `,` $tokens `,` $positions (`types` `(` $type_ids^ `,` $types `)`)? attr-dict `:` functional-type(operands, results)
  }];
}

//===----------------------------------------------------------------------===//
// Generation: the KV cache (ops of the derived prefill / decode_step / encode)
//===----------------------------------------------------------------------===//

def Tfc_CachedAttentionOp : Tfc_Op<"cached_attention",
    [AttrSizedOperandSegments, MemoryEffects<[MemRead, MemWrite]>, Tfc_SymbolicShape]> {
  let summary = "attention over the KV cache slot `slot`";
  let description = [{
    The attention of a generation step. The session's KV cache holds, per
    slot, the keys and values of earlier positions; `past` is how many.

    Self (no `cross`): `key` and `value` (`[B, S, D]`, this step's new
    positions) are appended to the slot at positions `[past, past + S)`, then
    `query` `[B, S, D]` attends the slot's `past + S` keys, query `i` seeing
    keys `j <= past + i` (`mask_kind` is `causal` or `causal_padding`).

    Cross (`cross`): `key` and `value` are absent; the slot holds the keys and
    values `tfc.cache_store` wrote in `encode`, and the query attends all of
    them (`mask_kind` `none` or `padding`).

    `mask` broadcasts to `[B, H, S, keys]` as for `tfc.attention`.
    `num_kv_heads`, `window` and `hidden_score` are `tfc.attention`'s (Self
    only: the slot then holds `num_kv_heads` heads, `key`/`value` are `[B, S,
    num_kv_heads * dh]`; the window counts positions of the whole cached
    sequence, and the slot keeps every position).

    ```mlir
    %o = tfc.cached_attention %q, %k, %v {num_heads = 4 : i64, scale = 0.25 : f32, mask_kind = #tfc<mask causal>, slot = 0 : i64}
           : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
    ```
  }];
  let arguments = (ins Tfc_FloatTensor:$query, Optional<Tfc_FloatTensor>:$key,
                       Optional<Tfc_FloatTensor>:$value, Optional<Tfc_Tensor>:$mask,
                       I64Attr:$num_heads, F32Attr:$scale,
                       DefaultValuedAttr<Tfc_MaskKindAttr, "MaskKind::none">:$mask_kind,
                       I64Attr:$slot, UnitAttr:$cross,
                       OptionalAttr<I64Attr>:$num_kv_heads, OptionalAttr<I64Attr>:$window,
                       OptionalAttr<F32Attr>:$hidden_score);
  let results = (outs Tfc_FloatTensor:$result);
  let assemblyFormat = [{
    $query (`key` `(` $key^ `)`)? (`value` `(` $value^ `)`)? (`mask` `(` $mask^ `)`)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// num_kv_heads when set, else num_heads.
    int64_t getKvHeads() { return getNumKvHeads() ? int64_t(*getNumKvHeads()) : int64_t(getNumHeads()); }
  }];
}

def Tfc_CacheStoreOp : Tfc_Op<"cache_store", [MemoryEffects<[MemWrite]>]> {
  let summary = "writes the keys and values of a cross-attention into a cache slot";
  let description = [{
    In `encode`: `key` and `value` `[B, S, D]` (projections of the encoder's
    output) become the contents of cross-attention slot `slot`.

    ```mlir
    tfc.cache_store %k, %v {slot = 2 : i64} : tensor<?x?x64xf32>, tensor<?x?x64xf32>
    ```
  }];
  let arguments = (ins Tfc_FloatTensor:$key, Tfc_FloatTensor:$value, I64Attr:$slot);
  let assemblyFormat = "$key `,` $value attr-dict `:` type($key) `,` type($value)";
}

#endif // TFC_OPS_TD
