//===- Compiler.h - the pipeline behind `tfc compile` -----------*- C++ -*-===//
//
// compileModel(): model file -> frontend (primitive IR) -> passes (fused IR)
// -> CompileResult (module, fusion counts, unfused candidates). The tools are
// thin wrappers over this library. Nothing here throws; failures come back as
// a Status with a message naming the file and the problem.
//
//===----------------------------------------------------------------------===//
#ifndef TFC_DRIVER_COMPILER_H
#define TFC_DRIVER_COMPILER_H

#include "FusionReport.h"
#include "tfc/frontends/FbsFrontend.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

#include <string>
#include <vector>

namespace tfc::driver {

using Status = tfc::fbs::Status;

struct CompileOptions {
  bool fuse = true;  // false: --no-fuse (canonicalize + DCE only)
};

struct CompileResult {
  std::string modelPath;
  std::string family;                        // "encoder", "decoder", ...
  mlir::OwningOpRef<mlir::ModuleOp> module;  // the IR after the pipeline
  mlir::tfc::FusionCounts fusions{};
  std::vector<mlir::tfc::UnfusedCandidate> unfused;
  tfc::fbs::ArchitectureCounts expected;     // what the architecture has
  std::vector<std::pair<std::string, int64_t>> opHistogram;  // op name -> count, sorted
};

/// Registers what the compiler needs in `context` (tfc + func dialects).
void prepareContext(mlir::MLIRContext &context);

/// Runs the whole pipeline on the model file at `path`.
Status compileModel(mlir::MLIRContext &context, const std::string &path,
                    const CompileOptions &options, CompileResult &result);

/// The `--report` JSON: {"model", "family", "fused", "fusions": {...},
/// "expected": {...}, "unfused": [...], "ops": {...}}.
std::string reportToJson(const CompileResult &result, const CompileOptions &options);

/// Prints the module as MLIR text.
std::string printModule(mlir::ModuleOp module);

/// Writes `contents` to `path` through a temporary file in the same directory
/// and a rename, so an existing file is never left half-written.
Status writeFileAtomically(const std::string &path, const std::string &contents);

} // namespace tfc::driver

#endif // TFC_DRIVER_COMPILER_H
