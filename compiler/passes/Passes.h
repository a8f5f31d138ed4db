//===- Passes.h - the tfc compiler passes ------------------------*- C++ -*-===//
#ifndef TFC_COMPILER_PASSES_H
#define TFC_COMPILER_PASSES_H

#include "FoldedWeights.h"
#include "tfc/IR/TfcDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

namespace mlir::tfc {

#define GEN_PASS_DECL
#include "Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "Passes.h.inc"

/// The module attribute (i64) in which tfc-fold-constants counts the
/// tfc.layer_normalization ops it evaluated at compile time (a norm of constants: DeBERTa's
/// relative position embeddings); the fusion report reads it (FusionCounts::foldedLayerNorm).
inline constexpr const char kFoldedLayerNormsAttr[] = "tfc.folded_layer_norms";

/// tfc-fold-constants with the weights' bytes (`weights` may be null: only ops on
/// `tfc.constant`s fold, as with createFoldConstants()).
std::unique_ptr<Pass> createFoldConstants(std::shared_ptr<FoldedWeights> weights);

/// The attribute (i64) by which tfc-fuse-sibling-linears marks a tfc.linear that computes several
/// projections side by side: how many (the fusion report counts each).
inline constexpr const char kMergedLinearsAttr[] = "tfc.merged_linears";

/// tfc-fuse-sibling-linears; with the weights' bytes (may be null) a tfc.weight joins a group only
/// when its bytes are there to fold.
std::unique_ptr<Pass> createFuseSiblingLinears(std::shared_ptr<FoldedWeights> weights);

/// Options of the standard pipeline used by `tfc compile`.
struct PipelineOptions {
  bool fuse = true;  // false: canonicalize + fold + DCE only (--no-fuse)
  /// The model's weight bytes for tfc-fold-constants, and where it stores derived weights
  /// (null: ops on weights are not folded).
  std::shared_ptr<FoldedWeights> weights;
};

/// Adds the standard pipeline to `pm` (which runs on a ModuleOp).
void buildPipeline(OpPassManager &pm, const PipelineOptions &options);

/// Adds the tfc canonicalization patterns (Canonicalize.cpp) to `patterns`.
void populateTfcCanonicalizationPatterns(RewritePatternSet &patterns);

/// Registers the passes and the `tfc-pipeline` pipeline with the global registry.
void registerAllPasses();

} // namespace mlir::tfc

#endif // TFC_COMPILER_PASSES_H
