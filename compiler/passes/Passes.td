//===- Passes.td - the tfc compiler passes ---------------------*- tablegen -*-===//
//
// One pass per file in this directory. The fusion pipeline (Pipeline.cpp) runs:
//   tfc-canonicalize -> tfc-fold-constants -> tfc-fuse-gelu -> tfc-fuse-layer-norm
//   -> tfc-fuse-rms-norm -> tfc-fuse-gated-linear -> tfc-fuse-rotary
//   -> tfc-fuse-attention -> tfc-fuse-linear -> tfc-canonicalize -> tfc-dce
// The norm, gated feed-forward and attention matchers live in their own files (Matchers.h)
// because the fusion report (FusionReport.h) reuses them.
//
//===----------------------------------------------------------------------===//
#ifndef TFC_PASSES_TD
#define TFC_PASSES_TD

include "mlir/Pass/PassBase.td"

def TfcCanonicalize : Pass<"tfc-canonicalize"> {
  let summary = "Canonicalize with the tfc patterns and every registered folder/pattern";
  let description = [{
    Runs the greedy driver with all registered canonicalization patterns, the
    ops' folders and populateTfcCanonicalizationPatterns(): transpose of a
    transpose composes, reshape of a reshape to a static shape skips the inner
    one, `x * 1`, `x / 1`, `x + 0`, `x - 0` become `x` when the type does not
    change; identity transposes and same-type reshapes/casts fold away;
    elementwise ops and casts to float of splat constants, and static
    reshapes of constants, fold to constants (the exporters' scale arithmetic).
  }];
  let dependentDialects = ["::mlir::tfc::TfcDialect"];
}

def FoldConstants : Pass<"tfc-fold-constants", "::mlir::ModuleOp"> {
  let summary = "Evaluate ops whose operands are all constants at compile time";
  let description = [{
    An op whose operands all come from tfc.constant, tfc.weight (when the
    pass was created with the weights' bytes, FoldedWeights.h) or other folded
    ops is evaluated once (transpose, reshape, slice, gather, concat, expand,
    where, shape, cast, binary and unary elementwise, layer_normalization,
    matmul; HostEval.h) and its uses
    read a constant instead: a new tfc.weight "<location>/<op>" for f32 data
    derived from a weight (the bytes go to the plan's constant section), a
    tfc.constant otherwise. So no kernel of the plan has only constant inputs:
    the tied LM head's transpose(wte) becomes a weight, and the matmul reading
    it a tfc.linear. Not folded: ops without a host evaluation, inputs the
    runtime would reject, and results over 1 MiB and 4x their operands' bytes.
    Without weight bytes (tfc-opt) only ops on tfc.constant fold.
  }];
  let dependentDialects = ["::mlir::tfc::TfcDialect"];
}

def FuseGelu : Pass<"tfc-fuse-gelu", "::mlir::func::FuncOp"> {
  let summary = "Fuse the erf and tanh GELU formulas into tfc.gelu";
  let description = [{
    Matches `0.5 * x * (1 + erf(x / sqrt(2)))` (and the `x * sqrt(1/2)`,
    operand-order and factoring variants exporters produce) and
    `0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))` (with `x^3` as
    `pow(x, 3)` or `x * x * x`).
  }];
  let dependentDialects = ["::mlir::tfc::TfcDialect"];
}

def FuseLayerNorm : Pass<"tfc-fuse-layer-norm", "::mlir::func::FuncOp"> {
  let summary = "Fuse decomposed and primitive layer norms into tfc.layer_norm";
  let description = [{
    Matches `(x - mean(x)) / sqrt(mean((x - mean(x))^2) + eps) * g + b` over
    the last axis (with pow or mul for the square, div or mul-by-reciprocal,
    eps added before or after sqrt is NOT layer norm and is left alone) and
    `tfc.layer_normalization` over the last axis.
  }];
  let dependentDialects = ["::mlir::tfc::TfcDialect"];
}

def FuseRmsNorm : Pass<"tfc-fuse-rms-norm", "::mlir::func::FuncOp"> {
  let summary = "Fuse decomposed RMS norms into tfc.rms_norm";
  let description = [{
    Matches `x * rsqrt(mean(x^2) + eps) * w` over the last axis (LLaMA,
    Mistral, Qwen2, T5) with pow or mul for the square, rsqrt as
    `div(1, sqrt)`, `pow(., -0.5)` or a division by the sqrt, and the weight
    applied as `w` or `(1 + w)` (Gemma; the fused op's `unit_offset`).
    Runs after tfc-fuse-layer-norm: a layer norm's variance is also a mean of
    squares, and is never taken for an RMS norm.
  }];
  let dependentDialects = ["::mlir::tfc::TfcDialect"];
}

def FuseGatedLinear : Pass<"tfc-fuse-gated-linear", "::mlir::func::FuncOp"> {
  let summary = "Fuse SwiGLU / GeGLU projections into tfc.gated_linear";
  let description = [{
    Matches `act(x @ Wg) * (x @ Wu)` with `act` SiLU (`x * sigmoid(x)` or
    `x / (1 + exp(-x))`) or a tfc.gelu, both projections bias-free rank-2
    matmuls of the same input.
  }];
  let dependentDialects = ["::mlir::tfc::TfcDialect"];
}

def FuseAttention : Pass<"tfc-fuse-attention", "::mlir::func::FuncOp"> {
  let summary = "Fuse the multi-head attention subgraph into tfc.attention";
  let description = [{
    Anchored at each tfc.softmax over the last axis: walks up through the
    score modifiers (scale by mul/div, additive masks, Where masks, bool masks
    made additive by where(c, 0, -inf), causal table slices) to the QK^T
    matmul and the head-split reshape/transpose of Q and K (4-D heads, or the
    3-D [B*H, S, dh] heads of nn.MultiheadAttention), and down through an
    optional where(isnan(p), 0, p), the PV matmul and the head merge. K and V
    repeated from fewer heads (repeat_kv) give num_kv_heads; a band causal
    table (GPT-Neo's local layers) gives window.
  }];
  let dependentDialects = ["::mlir::tfc::TfcDialect"];
}

def FuseRotary : Pass<"tfc-fuse-rotary", "::mlir::func::FuncOp"> {
  let summary = "Fuse rotary position embeddings (full or partial) into tfc.rotary";
  let description = [{
    Matches `x * cos + rotate_half(x) * sin` on the heads of a [B, S, H*dh]
    projection split by reshape [0,0,H,dh] (and transpose [0,2,1,3]), with
    rotate_half(y) = concat(-y[r/2:r], y[0:r/2]); a partial rotary (Phi)
    rotates x[.., 0:r] and concats x[.., r:dh]. The result is
    `tfc.rotary` on the [B, S, H*dh] value followed by the same head split,
    so tfc-fuse-attention (run after it) sees its usual head split.
  }];
  let dependentDialects = ["::mlir::tfc::TfcDialect"];
}

def FuseLinear : Pass<"tfc-fuse-linear", "::mlir::func::FuncOp"> {
  let summary = "Fuse matmul + bias + activation (+ residual add) into tfc.linear";
  let description = [{
    Anchored at each tfc.matmul with a rank-2 rhs: takes the single-use chain
    of a bias add (1-D operand), a relu or gelu, and a residual add.
  }];
  let dependentDialects = ["::mlir::tfc::TfcDialect"];
}

def FuseSiblingLinears : Pass<"tfc-fuse-sibling-linears", "::mlir::ModuleOp"> {
  let summary = "Fuse tfc.linear ops that read one input into one product and slices";
  let description = [{
    tfc.linear ops of a block with the same input, constant f32 weights of the
    same K, all with a constant bias or none, no residual and the same
    activation become one tfc.linear whose weight (and bias) is the concat of
    theirs, followed by one tfc.slice of its last dim per former result (an
    attention block's q, k, v projections: one GEMM / GEMV instead of three).
    tfc-fold-constants, run after it in the pipeline, turns the concats into
    one derived weight.
  }];
  let dependentDialects = ["::mlir::tfc::TfcDialect"];
}

def PackAttentionInputs : Pass<"tfc-pack-attention-inputs", "::mlir::ModuleOp"> {
  let summary = "Let tfc.attention read its q, k, v as column ranges of the fused projection";
  let description = [{
    A tfc.attention operand that is a single-use tfc.slice of the last dim of
    a rank-3 value (constant bounds, unit step: what tfc-fuse-sibling-linears
    leaves for q, k and v) is replaced by the sliced value, and the attention
    gets `columns = [cq, ck, cv, head_dim]`; the slices (copies) go away. Run
    after the KV-cache derivation, for targets whose kernel reads columns.
  }];
  let dependentDialects = ["::mlir::tfc::TfcDialect"];
}

def DeadCodeElimination : Pass<"tfc-dce", "::mlir::ModuleOp"> {
  let summary = "Remove ops whose results are unused";
  let description = [{
    Erases side-effect-free ops with unused results (unused tfc.weight and
    tfc.constant included), repeating until nothing changes.
  }];
  let dependentDialects = ["::mlir::tfc::TfcDialect"];
}

def ConvertPrecision : Pass<"tfc-convert-precision", "::mlir::ModuleOp"> {
  let summary = "Compute the model's float values in f16 or bf16; signatures stay f32";
  let description = [{
    For `tfc compile --precision fp16|bf16` (run after the fusions and the
    KV-cache derivation, on every function). The model's activations and the
    weights and constants they read become the precision (tfc.constant values
    converted now, round to nearest even, overflow saturated; tfc.weight ops
    retyped, their bytes converted by the lowering); the functions' float
    arguments and results stay f32, with tfc.cast at the boundary. Integer
    values are untouched. Values computed from integer inputs and constants
    alone (positions, masks, rotary tables, relative-position buckets) stay
    f32, and attention masks are read in f32. ConvertPrecision.cpp says how
    each value is classified.
  }];
  let options = [
    Option<"precision", "precision", "std::string", /*default=*/"\"f16\"",
           "f16 or bf16 (f32: nothing changes)">,
  ];
  let dependentDialects = ["::mlir::tfc::TfcDialect"];
}

def ReportFusions : Pass<"tfc-report-fusions", "::mlir::ModuleOp"> {
  let summary = "Attach the fusion report to the IR as remarks (for tests)";
  let description = [{
    Changes nothing. Emits a remark on every unfused attention / layer-norm /
    RMS-norm / gated feed-forward candidate with the matcher's reason (FusionReport.h), and one remark on
    each function with the counts of fused ops in the module.
  }];
}

#endif // TFC_PASSES_TD
