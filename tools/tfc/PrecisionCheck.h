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

namespace tfc::accuracy {

/// The default --min-cosine of a precision: bf16 0.999, int8 0.99, fp16 0.999 (cuda), else 1.
double defaultMinCosine(tfc::target::DType precision);

struct CheckRequest {
  double minCosine = 0.0; // the threshold (defaultMinCosine unless --min-cosine)
  bool minCosineGiven = false;
  Options options;
};

struct CheckOutcome {
  bool ran = false;
  std::string skipped; // why the check did not run ("" when it ran)
  bool passed = true;
  double minCosine = 0.0;
  Result result;
};

/// Whether the check can run for `options` here: "" or why not (the runtime linked into tfc
/// does not run the target's plans).
std::string whyNotCheckable(const tfc::driver::CompileOptions &options);

/// Builds the fp32 plan of `result` (restoring `result.plan` and `result.symbols` after), then
/// writes `plan` (the low-precision plan of `result`) to `output` when it passes the check. A
/// refusal is an error naming the output, the figure and the threshold, with `outcome` filled;
/// any other error (the fp32 plan, the runtime refusing an input set) also leaves `output`
/// untouched.
tfc::driver::Status writeCheckedPlan(tfc::driver::CompileResult &result,
                                     const tfc::driver::CompileOptions &options,
                                     const tfc::planner::Plan &plan, const std::string &output,
                                     const CheckRequest &request, CheckOutcome &outcome);

/// The report's "accuracy" object (README.md, "Accuracy check"): {"reference", "inputs", "sets",
/// "min_cosine", "passed", "seconds", "outputs": [{"function", "output", "elements", "cosine",
/// "max_abs_error", "max_rel_error", "non_finite_mismatches", "worst_set"}], "generation":
/// {"prompts", "new_tokens", "first_divergence" (null: none), "diverged_prompts"} or
/// {"skipped"}}, or {"skipped": why} when the check did not run.
llvm::json::Object accuracyJson(const CheckOutcome &outcome);

} // namespace tfc::accuracy

#endif // TFC_TOOLS_TFC_PRECISIONCHECK_H
