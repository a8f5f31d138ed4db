//===- FusionReport.h - what the fusion passes did and did not fuse -*- C++ -*-===//
//
// Read-only analyses of a module after the pipeline, for `tfc compile
// --report`: how many fused ops it holds, and which attention / layer-norm /
// RMS-norm / gated feed-forward candidates stayed unfused, each with the reason the pattern's own matcher
// gave (Matchers.h).
//
//===----------------------------------------------------------------------===//
#ifndef TFC_COMPILER_PASSES_FUSIONREPORT_H
#define TFC_COMPILER_PASSES_FUSIONREPORT_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/STLFunctionalExtras.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::tfc {

/// Number of fused ops in the module.
struct FusionCounts {
  int64_t attention = 0;  // tfc.attention
  int64_t layerNorm = 0;  // tfc.layer_norm
  int64_t gelu = 0;       // tfc.gelu, plus tfc.linear with a GELU activation
  int64_t linear = 0;     // tfc.linear
  int64_t rmsNorm = 0;    // tfc.rms_norm
  int64_t gatedLinear = 0;  // tfc.gated_linear (SwiGLU, GeGLU)
  int64_t rotary = 0;     // tfc.rotary
  // Layer norms of constants that tfc-fold-constants evaluated at compile time (the module's
  // kFoldedLayerNormsAttr): neither fused nor unfused candidates.
  int64_t foldedLayerNorm = 0;
};

/// Counts tfc.attention, tfc.layer_norm, tfc.gelu, tfc.linear, tfc.rms_norm and
/// tfc.gated_linear in `module`, and reads the layer norms folded at compile time.
/// A GELU that tfc-fuse-linear folded into a tfc.linear (activation gelu_erf
/// or gelu_tanh) still counts as a fused GELU.
FusionCounts countFusedOps(mlir::ModuleOp module);

/// A subgraph that looks like a fusable pattern but was not fused.
struct UnfusedCandidate {
  std::string pattern;  // "attention", "layer_norm", "rms_norm", "gated_linear" or "rotary"
  std::string op;       // op name + location, e.g. "tfc.softmax at encoder.layers.0.self_attn"
  std::string reason;   // the matcher's reason, e.g. "softmax is over axis 2, not the last axis"
};

/// In IR order: every tfc.softmax whose operand chain (through
/// mul/div/add/sub/where) reaches a tfc.matmul of two activations (not
/// weights or constants), every tfc.reduce_mean over the last axis whose
/// result is subtracted from its own input, every tfc.layer_normalization,
/// every tfc.reduce_mean of a square (pow(v, 2) or v * v) whose v is not a
/// layer norm's x - mean(x) (an RMS norm), every tfc.mul with a factor that is
/// SiLU or GELU of a matmul (a gated feed-forward), and every 4-D add of
/// x * cos-like and rotate_half(x) * sin-like products (a rotary candidate;
/// its partial form is reported at that add too).
std::vector<UnfusedCandidate> findUnfusedCandidates(mlir::ModuleOp module);

/// The same candidates, each with its op (the tfc-report-fusions pass attaches
/// the reasons to the ops as remarks).
void forEachUnfusedCandidate(
    mlir::ModuleOp module,
    llvm::function_ref<void(mlir::Operation *, const UnfusedCandidate &)> callback);

} // namespace mlir::tfc

#endif // TFC_COMPILER_PASSES_FUSIONREPORT_H
