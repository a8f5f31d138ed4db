//===- Matchers.h - the norm, feed-forward and attention matchers -*- C++ -*-===//
//
// The matchers behind tfc-fuse-layer-norm, tfc-fuse-rms-norm,
// tfc-fuse-gated-linear and tfc-fuse-attention, shared with
// the fusion report (FusionReport.cpp) so that the report states the reason
// the pattern itself gave. Each matcher only reads the IR; on failure it
// fills `*why` (when non-null) with a lowercase sentence.
//
//===----------------------------------------------------------------------===//
#ifndef TFC_COMPILER_PASSES_MATCHERS_H
#define TFC_COMPILER_PASSES_MATCHERS_H

#include "tfc/IR/TfcDialect.h"

#include "mlir/IR/Operation.h"
#include "mlir/Support/LogicalResult.h"
#include "llvm/ADT/SmallVector.h"

#include <string>

namespace mlir::tfc {

//===----------------------------------------------------------------------===//
// Layer norm
//===----------------------------------------------------------------------===//

/// A layer norm over the last axis found in the IR.
struct LayerNormMatch {
  Value input;
  Value gamma, beta;  // 1-D of the last dim's size; null when absent (1 and 0)
  float epsilon = 0.0f;
  Operation *root = nullptr;         // the op whose result the fused op replaces
  SmallVector<Operation *> matched;  // every op of the pattern (for locations)
};

/// The decomposed form anchored at its first reduce_mean (see
/// docs/PRIMITIVE_PATTERNS.md, "Layer norm").
FailureOr<LayerNormMatch> matchDecomposedLayerNorm(ReduceMeanOp mean, std::string *why);

/// `tfc.layer_normalization` over the last axis with a 1-D scale (and bias).
FailureOr<LayerNormMatch> matchLayerNormalization(LayerNormalizationOp op, std::string *why);

/// The report's notion of a layer-norm candidate: a reduce_mean over the last
/// axis whose result is subtracted from its own input.
bool isLayerNormCandidate(ReduceMeanOp mean);

//===----------------------------------------------------------------------===//
// RMS norm
//===----------------------------------------------------------------------===//

/// An RMS norm over the last axis found in the IR.
struct RmsNormMatch {
  Value input;
  Value weight;             // 1-D of the last dim's size; null when absent (ones)
  bool unitOffset = false;  // the weight is applied as (1 + weight) (Gemma)
  float epsilon = 0.0f;
  Operation *root = nullptr;         // the op whose result the fused op replaces
  SmallVector<Operation *> matched;  // every op of the pattern (for locations)
};

/// `x * rsqrt(mean(x^2) + eps) * w` anchored at its reduce_mean (see
/// docs/PRIMITIVE_PATTERNS.md, "RMS norm").
FailureOr<RmsNormMatch> matchRmsNorm(ReduceMeanOp mean, std::string *why);

/// The report's notion of an RMS-norm candidate: a reduce_mean of a square
/// (pow(v, 2) or v * v) where v is not a layer norm's x - mean(x).
bool isRmsNormCandidate(ReduceMeanOp mean);

//===----------------------------------------------------------------------===//
// Gated feed-forward (SwiGLU, GeGLU)
//===----------------------------------------------------------------------===//

/// act(x @ Wg) * (x @ Wu) found in the IR.
struct GatedLinearMatch {
  Value input, gateWeight, upWeight;  // [..., K], [K, N], [K, N]
  GateActivation activation = GateActivation::silu;
  Operation *root = nullptr;         // the gating tfc.mul
  SmallVector<Operation *> matched;  // every op of the pattern (for locations)
};

/// The gated projection whose product is `mul` (docs/PRIMITIVE_PATTERNS.md,
/// "Gated feed-forward").
FailureOr<GatedLinearMatch> matchGatedLinear(MulOp mul, std::string *why);

/// The report's notion of a gated feed-forward candidate: a tfc.mul with one
/// operand SiLU or GELU of a matmul (or of a matmul plus a bias).
bool isGatedLinearCandidate(MulOp mul);

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

/// One non-causal mask on the scores. The fused op takes one mask operand:
/// FuseAttention combines the terms (i1 terms with a logical and, float
/// terms by adding, i1 turned into 0 / -inf when both kinds occur).
struct AttentionMaskTerm {
  Value value;            // i1 [.. broadcasting to B, H, S, T] or float (added)
  bool hides = false;     // i1 only: true hides the key (the fused op keeps where true)
  float scale = 1.0f;     // float only: the scale factors applied after the mask
};

/// A multi-head attention block found in the IR.
struct AttentionMatch {
  Value query, key, value;  // [B, S, D], [B, T, D], [B, T, D] ([S, B, D], ... when seqFirst)
  bool seqFirst = false;    // the 3-D head layout of nn.MultiheadAttention: heads as
                            // [B*H, S, dh] from [S, B, D] sources, the result [S, B, D]
                            // (or [S*B, D]); the fused op sees transposed operands
  SmallVector<AttentionMaskTerm, 2> masks;  // empty unless maskKind is padding / causal_padding
  int64_t numHeads = 0;
  int64_t numKvHeads = 0;  // K/V heads: numHeads unless repeated (grouped-query attention)
  int64_t window = 0;      // causal kinds: keys j > i - window only (0: no window)
  float hiddenScore = 0.0f;  // with a window: the score of keys the causal / window rule hides
  bool hasHiddenScore = false;
  float scale = 1.0f;  // product of every scale factor found
  MaskKind maskKind = MaskKind::none;
  // The scores were clamped at the lowest float before the softmax: the mask
  // operand must give hidden keys the lowest float, not -inf, so that a row
  // with every key hidden averages over every key as the graph does.
  bool clampsScores = false;
  Operation *root = nullptr;         // the head-merge reshape the fused op replaces
  SmallVector<Operation *> matched;  // every op of the pattern (for locations)
};

/// The attention block around `softmax` (docs/PRIMITIVE_PATTERNS.md,
/// "Attention").
FailureOr<AttentionMatch> matchAttention(SoftmaxOp softmax, std::string *why);

/// True when `scores` reaches, through mul/div/add/sub/max/where, a tfc.matmul
/// whose operands are both activations (not weights or constants): the
/// report's notion of an attention candidate and how the matcher tells the
/// score chain from a mask.
bool reachesActivationMatmul(Value scores);

//===----------------------------------------------------------------------===//
// Rotary position embedding
//===----------------------------------------------------------------------===//

/// A rotary embedding of the heads of a [B, S, H*dh] value (RotaryMatcher.cpp).
struct RotaryMatch {
  Value input;          // [B, S, H*dh], before the head split
  Value cos, sin;       // as the graph has them ([.., S, r] with a unit head axis)
  int64_t numHeads = 0, rotaryDim = 0;
  bool transposed = false;  // the rotated heads are [B, H, S, dh] (else [B, S, H, dh])
  bool interleaved = false; // pairs (2j, 2j+1) rotated (GPT-J), else halves (d, d + r/2)
  Operation *root = nullptr;         // the add (full) or concat (partial) replaced
  SmallVector<Operation *> matched;  // every op of the pattern (for locations)
};

/// The rotary embedding whose result is `root`'s (an add or a concat; see
/// RotaryMatcher.cpp for the forms).
FailureOr<RotaryMatch> matchRotary(Operation *root, std::string *why);

/// The report's notion of a rotary candidate: a 4-D add of two products, one
/// of them multiplying a concat of a negated part (a rotate_half), or a
/// reshape of such a concat (a rotate_every_two).
bool isRotaryCandidate(Operation *op);

} // namespace mlir::tfc

#endif // TFC_COMPILER_PASSES_MATCHERS_H
