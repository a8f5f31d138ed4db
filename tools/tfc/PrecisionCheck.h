//===- PrecisionCheck.h - `tfc compile --precision bf16|int8`: check, then write the plan -*- C++ -*-===//
//
// The accuracy check of a low-precision plan (AccuracyCheck.h measures; this file decides):
//   1. the fp32 plan of the same compile (buildPlan with --precision fp32: same IR, same
//      kernels, f32 weights) is written to a scratch file in the temporary directory, never at
//      the output path (removed afterwards, and on Ctrl-C);
//   2. the low-precision plan is written to its temporary file next to the output, verified,
//      and run against the fp32 plan (comparePlans) before the rename;
//   3. when an output's cosine is below the threshold (--min-cosine, else the precision's
//      default) the temporary file is removed: nothing is written at the output path, and the
//      error names the output and the measured cosine.
// A device or FIFO output (-o /dev/null) has no temporary file: the plan is checked in a
// scratch file first and written only when it passes.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_TOOLS_TFC_PRECISIONCHECK_H
#define TFC_TOOLS_TFC_PRECISIONCHECK_H

#include "AccuracyCheck.h"

#include "tfc/driver/Compiler.h"
#include "llvm/Support/JSON.h"

#include <string>
#include <utility>
#include <vector>

namespace tfc::accuracy {

/// The default --min-cosine of a precision: bf16 0.999, int8 0.99, fp16 0.999 (cuda), else 1.
double defaultMinCosine(tfc::target::DType precision);

struct CheckRequest {
  double minCosine = 0.0; // the threshold (defaultMinCosine unless --min-cosine)
  bool fallback = false;  // --fallback-fp32: keep the costliest layers f32 rather than refuse
  Options options;
};

struct CheckOutcome {
  bool ran = false;
  std::string skipped; // why the check did not run ("" when it ran)
  bool passed = true;
  double minCosine = 0.0;
  Result result;       // the figures of the plan written (or refused)
  // --fallback-fp32, when the plan as compiled was refused:
  bool fallbackTried = false;
  double cosineBefore = 1.0;                // the plan as compiled
  std::vector<std::string> keptLayers;      // kept f32, costliest first (empty: none helped)
  std::vector<std::string> keptWeights;     // their weights (plan constant names)
  std::vector<std::pair<std::string, double>> layerCosines; // cosine with the layer alone converted
};

/// Whether the check can run for `options` here: "" or why not (the runtime linked into tfc
/// does not run the target's plans).
std::string whyNotCheckable(const tfc::driver::CompileOptions &options);

/// Builds the fp32 plan of `result` (restoring `result.plan` and `result.symbols` after), then
/// writes `plan` (the low-precision plan of `result`) to `output` when it passes the check. A
/// refusal is an error naming the output, the figure and the threshold, with `outcome` filled;
/// any other error (the fp32 plan, the runtime refusing an input set) also leaves `output`
/// untouched. With `request.fallback`, a refused plan is not the end: each layer (a weight's
/// name up to its last numeric component, "encoder.layers.3"; a weight of no layer is its own)
/// is converted alone and measured, and the layers that cost the most are kept in f32, the
/// fewest that make the threshold hold (`result.plan.weights` then counts what was converted);
/// the plan written is checked again like any other.
tfc::driver::Status writeCheckedPlan(tfc::driver::CompileResult &result,
                                     const tfc::driver::CompileOptions &options,
                                     const tfc::planner::Plan &plan, const std::string &output,
                                     const CheckRequest &request, CheckOutcome &outcome);

/// The report's "accuracy" object (README.md, "Accuracy check"): {"reference", "inputs", "sets",
/// "min_cosine", "passed", "seconds", "outputs": [{"function", "output", "elements", "cosine",
/// "max_abs_error", "max_rel_error", "non_finite_mismatches", "worst_set"}], "generation":
/// {"prompts", "new_tokens", "first_divergence" (null: none), "diverged_prompts"} or
/// {"skipped"}, "fallback": {"cosine_before", "kept_fp32_layers", "kept_fp32_weights",
/// "layers": [{"layer", "cosine_alone"}]} (when --fallback-fp32 acted)}, or {"skipped": why}
/// when the check did not run.
llvm::json::Object accuracyJson(const CheckOutcome &outcome);

} // namespace tfc::accuracy

#endif // TFC_TOOLS_TFC_PRECISIONCHECK_H
