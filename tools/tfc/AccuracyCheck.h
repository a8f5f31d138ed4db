//===- AccuracyCheck.h - a low-precision plan against its fp32 plan, run by the runtime -*- C++ -*-===//
//
// What `tfc compile --precision bf16|int8` measures before it writes the plan (README.md,
// "Accuracy check"): both plans are opened with the runtime (the public C API: nothing here
// reaches into the runtime's internals), run on the same inputs, and every output of `forward`
// is compared element by element:
//
//   * cosine similarity of the whole output tensor (flattened, in double; the lowest over the
//     input sets): the figure --min-cosine judges;
//   * max abs error max_i |x_i - r_i| (x: the low-precision plan, r: the fp32 plan);
//   * max relative error max_i |x_i - r_i| / max(|r_i|, 1e-3 * max_j |r_j|): elements far below
//     the output's scale are judged against a thousandth of its largest magnitude rather than
//     against their own near-zero value;
//   * values that are finite in one plan and not in the other are counted; any such value makes
//     the cosine -1 (it fails every threshold).
//
// Plans that generate (tfc_plan_get_generation_info) also run greedy generation (no EOS, a fixed
// number of new tokens) from the same prompts on both plans; the first step at which a prompt's
// tokens differ is reported (not judged: a near-tie between two logits may flip either way).
// Generation takes forward's other inputs, one row per prompt (an encoder-decoder's source),
// except those that cover every position (a decoder's attention mask), which generate builds:
// those are the inputs the runtime refuses as such, and they are left out.
//
// Inputs (one run of `forward` per set):
//   * generated (the default): two sets, "generated-batch" (batch 2 when the bounds allow,
//     sequence 64, the second row's last third padded in every attention mask) and
//     "generated-short" (batch 1, sequence 5: the decode-sized product path); ids uniform over
//     [0, the table's rows) (tfc_plan_input_values), masks 1 with the padding above, inputs
//     named like "position" 0, 1, 2, ... along the last dim, other integer inputs 0, floats
//     uniform in [-1, 1); all from a fixed seed. Prompts: random ids, 2 prompts of 6 and 4
//     tokens (batch bound permitting), 8 new tokens (length bound permitting).
//   * --calibrate DIR: DIR/<set>/<input>.npy, one subdirectory per set (sorted by name), or
//     DIR/<input>.npy for a single set. Every input of forward must have its file in every set;
//     a file that names no input, a malformed .npy, a dtype with no plan equivalent, or a set
//     the runtime refuses is an error naming the file (or set). For a generating plan the sets'
//     token input rows are the prompts (trailing 0s of an attention mask given in the set trim
//     them).
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_TOOLS_TFC_ACCURACYCHECK_H
#define TFC_TOOLS_TFC_ACCURACYCHECK_H

#include "tfrun/Inputs.h"
#include "tfrun/Status.h"

#include "tfc/tfc_runtime.h"

#include <cstdint>
#include <string>
#include <vector>

namespace tfc::accuracy {

using Status = tfc::tfrun::Status;

/// One run of `forward`: a named set of inputs.
struct InputSet {
  std::string name; // "generated-batch", or the calibration file set's directory
  std::vector<tfc::tfrun::HostTensor> tensors;
};

struct Options {
  std::string calibrateDir; // --calibrate: "" for generated inputs
  int threads = 0;          // the sessions' threads (0: the runtime's default)
  int64_t newTokens = 8;    // greedy steps per prompt for generating plans
  uint64_t seed = 20261207; // generated inputs
};

/// The comparison of one output of a low-precision plan with the fp32 plan's.
struct Figures {
  int64_t elements = 0;
  double cosine = 1.0;
  double maxAbsError = 0.0;
  double maxRelError = 0.0;
  int64_t nonFiniteMismatches = 0; // finite in one plan, not in the other
};

/// Figures of `n` values `x` (the low-precision plan) against `ref` (the fp32 plan); see the
/// banner for the definitions.
Figures compareValues(const float *x, const float *ref, int64_t n);

/// One output over all sets: the lowest cosine, the largest errors.
struct OutputFigures {
  std::string function, output;
  Figures figures;
  std::string worstSet; // the set with the lowest cosine
};

struct GenerationFigures {
  bool ran = false;
  std::string skipped;         // why it did not run ("" when it ran or the plan does not generate)
  int64_t prompts = 0, newTokens = 0;
  int64_t firstDivergence = -1; // the first new-token step (0-based) that differs in any prompt
  int64_t divergedPrompts = 0;
};

struct Result {
  std::string inputs;                // "generated" or "calibrate:DIR"
  std::vector<std::string> sets;     // their names, in run order
  std::vector<OutputFigures> outputs;
  GenerationFigures generation;
  double seconds = 0.0;              // opening, running and comparing both plans

  /// The output with the lowest cosine (null when there is none).
  const OutputFigures *worst() const;
};

/// The input sets for `function` of `plan`: generated (Options::calibrateDir empty) or read
/// from the calibration directory. Errors name the file or set.
Status makeInputSets(tfc_plan *plan, const std::string &function, const Options &options,
                     std::vector<InputSet> &sets);

/// Generated inputs of `function` (as the generated sets make them), `batch` rows, sequence
/// `seq`, all but the input named `skip`.
Status generateInputs(tfc_plan *plan, const std::string &function, int64_t batch, int64_t seq,
                      uint64_t seed, const std::string &skip,
                      std::vector<tfc::tfrun::HostTensor> &out);

/// Runs the plan files `reference` (fp32) and `candidate` (low precision) on the same inputs
/// and fills `result`. Errors: a plan that does not open, a set or prompt the runtime refuses,
/// outputs whose shapes differ between the plans.
Status comparePlans(const std::string &reference, const std::string &candidate,
                    const Options &options, Result &result);

/// "last_hidden_state cosine 0.999981, max abs 3.1e-03, max rel 4.2e-02" for the worst output
/// (plus the greedy tokens' agreement for generating plans).
std::string summarize(const Result &result);

} // namespace tfc::accuracy

#endif // TFC_TOOLS_TFC_ACCURACYCHECK_H
