//===- Passes.h - the tfc compiler passes ------------------------*- C++ -*-===//
#ifndef TFC_COMPILER_PASSES_H
#define TFC_COMPILER_PASSES_H

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

/// Options of the standard pipeline used by `tfc compile`.
struct PipelineOptions {
  bool fuse = true;  // false: canonicalize + DCE only (--no-fuse)
};

/// Adds the standard pipeline to `pm` (which runs on a ModuleOp).
void buildPipeline(OpPassManager &pm, const PipelineOptions &options);

/// Adds the tfc canonicalization patterns (Canonicalize.cpp) to `patterns`.
void populateTfcCanonicalizationPatterns(RewritePatternSet &patterns);

/// Registers the passes and the `tfc-pipeline` pipeline with the global registry.
void registerAllPasses();

} // namespace mlir::tfc

#endif // TFC_COMPILER_PASSES_H
