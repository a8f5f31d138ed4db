//===- Compiler.h - the pipeline behind `tfc compile` -----------*- C++ -*-===//
//
// compileModel(): model file -> frontend (primitive IR) -> passes (fused IR)
// -> CompileResult (module, fusion counts, unfused candidates, the model).
// With a precision other than fp32, tfc-convert-precision then retypes the IR.
// buildPlan(): CompileResult -> a plan for the target (compiler/lower/cpu: the
// plan kernels, checked against the target's capability table, compiler/target)
// with its arena planned (compiler/plan); writePlanFile() writes it and the plan
// verifier (verifyPlanFile) checks the written file. The tools are
// thin wrappers over this library. Nothing here throws; failures come back as
// a Status with a message naming the file and the problem.
//
//===----------------------------------------------------------------------===//
#ifndef TFC_DRIVER_COMPILER_H
#define TFC_DRIVER_COMPILER_H

#include "FoldedWeights.h"
#include "FusionReport.h"
#include "tfc/frontends/FbsFrontend.h"
#include "tfc/frontends/OnnxFrontend.h"
#include "tfc/generation/DeriveGeneration.h"
#include "tfc/lower/cpu/SymbolBounds.h"
#include "tfc/lower/cpu/WeightPrecision.h"
#include "tfc/plan/PlanDesc.h"
#include "tfc/plan/PlanWriter.h"
#include "tfc/target/Target.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

#include <map>
#include <string>
#include <vector>

namespace tfc::driver {

using Status = tfc::fbs::Status;

/// The bounds the plan is compiled for (tfc/lower/cpu/SymbolBounds.h): what is given here
/// wins; a symbol without one gets what the model allows (its max positions, a table sliced
/// by the symbol), else 16 (batch symbols) or 512. More than the model allows is an error.
struct CompileOptions {
  bool fuse = true;       // false: --no-fuse (canonicalize + DCE only)
  int64_t maxBatch = 0;   // --max-batch: bound of every batch symbol ("batch", "batch_size",
                          // "N", ...; 0: not given)
  int64_t maxSeq = 0;     // --max-seq: bound of every other symbol (0: not given)
  std::map<std::string, int64_t> bounds;  // --bound NAME=N: one symbol (wins over both)
  bool generation = true; // derive prefill/decode_step/encode for generative models
  /// --target: the device the plan is for; --precision: cuda: the dtype of its float
  /// activations and weights (fp16/bf16); cpu: the dtype of its Linear/GatedLinear constant
  /// weights (bf16/int8, weight-only: activations f32). Checked first.
  tfc::target::Target target = tfc::target::Target::Cpu;
  tfc::target::DType precision = tfc::target::DType::F32;
};

/// What buildPlan() reports about the plan of `forward`.
struct PlanSummary {
  bool built = false;
  uint64_t arenaBytes = 0;   // the session arena (intermediates, at the max bounds)
  uint64_t naiveBytes = 0;   // the same without reuse
  std::string strategy;      // the placement kept
  size_t kernels = 0, constants = 0;
  /// Kernels (every function) whose inputs are all constants: "function: name (Kind)".
  /// tfc-fold-constants leaves none; a non-empty list is a compiler defect worth a warning.
  std::vector<std::string> constantInputKernels;
  /// cpu --precision bf16|int8: the weights converted (WeightPrecision.h).
  tfc::lower::WeightConversion weights;
};

struct CompileResult {
  std::string modelPath;
  std::string family;                        // "encoder", "decoder", ...
  mlir::OwningOpRef<mlir::ModuleOp> module;  // the IR after the pipeline
  mlir::tfc::FusionCounts fusions{};
  std::vector<mlir::tfc::UnfusedCandidate> unfused;
  tfc::fbs::ArchitectureCounts expected;     // what the architecture has
  /// Where `expected` comes from: "architecture" (model.fbs hyperparameters) or, for ONNX,
  /// "candidates" (fused ops + unfused candidates the report found).
  std::string expectedSource = "architecture";
  std::vector<std::pair<std::string, int64_t>> opHistogram;  // op name -> count, sorted
  tfc::fbs::Model model;                     // the weights (shared buffer) for the plan
  /// ONNX models (`.onnx`): the initializers' bytes and the limits the importer found (constant
  /// tables sliced by a symbol, evaluated at import time).
  std::shared_ptr<tfc::onnxfe::WeightStore> onnxWeights;
  tfc::lower::SymbolLimits onnxLimits;
  /// Every symbol with its bound and the bound's source (the plan's, once buildPlan() ran).
  std::vector<tfc::planner::Symbol> symbols;
  /// The weights tfc-fold-constants derived (`tfc.weight "lm_head/transpose"`, ...); the plan
  /// takes their bytes from here.
  std::shared_ptr<mlir::tfc::FoldedWeights> folded;
  /// How the model generates ("kv-cache" / "recompute" / "" when it does not).
  tfc::generation::GenerationInfo generation;
  PlanSummary plan;                          // filled by buildPlan()
  /// What the user should know but does not stop the compile: constants and weights whose
  /// conversion to fp16/bf16 saturated values beyond the range ("<where>: N value(s) ...").
  std::vector<std::string> warnings;
};

/// Registers what the compiler needs in `context`: the tfc and func dialects, and the CPU
/// lowering of the tfc ops (tfc::lower::registerCpuLowering). Calling it again is harmless.
void prepareContext(mlir::MLIRContext &context);

/// Runs the whole pipeline on the model file at `path` (`.onnx`: the ONNX importer, else a
/// model.fbs), then tfc-convert-precision when the plan's activations are not f32 (cuda fp16 /
/// bf16; cpu bf16 / int8 keep f32 IR: buildPlan converts their weights), and resolves
/// the symbols' bounds (`result.symbols`). A precision the target does not run is an error
/// before anything is read.
Status compileModel(mlir::MLIRContext &context, const std::string &path,
                    const CompileOptions &options, CompileResult &result);

/// Lowers `result.module` to a plan for `options.target` and plans its arena (bounds from
/// `options`); fills `result.plan`. Errors name the op (and its location) that could not be
/// lowered or that the target does not run.
Status buildPlan(CompileResult &result, const CompileOptions &options, tfc::planner::Plan &plan);

/// Writes `plan` to `path` (streamed to a temporary file in the same directory, checked by
/// verifyPlanFile, then renamed): a plan the verifier refuses is an error and `path` is left
/// untouched. `check`, when given, runs on the verified temporary file last (the accuracy check
/// of a low-precision plan, tools/tfc/PrecisionCheck.h): its error also leaves `path` untouched.
/// A device or FIFO is written directly, with no temporary file and no check.
Status writePlanFile(const tfc::planner::Plan &plan, const std::string &path,
                     const tfc::planner::PlanFileCheck &check = nullptr);

/// The plan verifier: checks the plan file `file` against the format and its target's
/// capability table (checkPlanFile) and opens it with the runtime (tfc_plan_open, then
/// tfc_plan_verify for the checksums; with any_target when the runtime linked here does not run its target,
/// runtimeRunsTarget): "" or "the plan does not verify: ..." / "the runtime refuses the plan:
/// <the loader's message>".
Status verifyPlanFile(const std::string &file);

/// The target-neutral half of verifyPlanFile, which needs no runtime backend: the header, the
/// FlatBuffers verifier, every constant (dtype, size, alignment, range; checksums when
/// `checksums`), every value and kernel index, each kernel's options table, and every kernel
/// and cache slot against the capability table of the plan's target and precision
/// (tfc/target/Target.h). "" or the problem, naming the function, kernel or value.
Status checkPlanFile(const std::string &file, bool checksums);

/// Whether the runtime linked into this compiler runs plans of `target` (cpu always; cuda when
/// it was built with its CUDA backend): asked of the runtime (tfc_backend_count/name).
bool runtimeRunsTarget(tfc::target::Target target);

/// The `--report` JSON: {"model", "family", "target", "precision", "fused", "fusions": {...},
/// "folded": {"layer_norm"} (norms of constants computed at compile time), "expected": {...},
/// "unfused": [...], "ops": {...}, "symbols": [{"name", "bound",
/// "source"}]}, plus "arena_bytes", "naive_bytes" and "constant_input_kernels" (a count; with
/// "constant_input_kernel_names" when not 0) when a plan was built, and "weight_precision"
/// with "converted_weights": {"count", "f32_bytes", "bytes"} for a cpu bf16/int8 plan.
std::string reportToJson(const CompileResult &result, const CompileOptions &options);

/// Prints the module as MLIR text.
std::string printModule(mlir::ModuleOp module);

/// Writes `contents` to `path` through a temporary file in the same directory
/// and a rename, so an existing file is never left half-written.
Status writeFileAtomically(const std::string &path, const std::string &contents);

} // namespace tfc::driver

#endif // TFC_DRIVER_COMPILER_H
