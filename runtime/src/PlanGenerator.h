//===- PlanGenerator.h - generate() over a plan's generation functions -----------------------===//
//
// PlanStepModel adapts a session to the decoding algorithms (Generate.h):
//   * kv-cache plans: start() runs `encode` (encoder-decoders) and `prefill`, step() runs
//     `decode_step`, reorder() reorders the session's KV cache (Session::reorderCache);
//   * recompute plans (the compiler could not derive the step functions; its reason is in
//     Plan::generation): every start()/step() runs `forward` on each row's whole sequence and
//     takes the last position's logits.
// Inputs other than the token sequence ("fixed" inputs: an encoder-decoder's source ids and mask)
// are given once per prompt (dim 0 = the prompt) and follow their rows through reorder().
// Key-mask inputs (an attention mask over every position) are built as ones.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_RUNTIME_PLANGENERATOR_H
#define TFC_RUNTIME_PLANGENERATOR_H

#include "Generate.h"
#include "Session.h"

#include <string>
#include <vector>

namespace tfc::rt {

/// An input owned by the generator: name, dtype, dims, bytes.
struct OwnedTensor {
  std::string name;
  tfc_dtype dtype = TFC_F32;
  std::vector<int64_t> dims;
  std::vector<uint8_t> bytes;
  tfc_tensor view() const;
};

/// What a generating plan allows: logits per position, sequences at once, tokens per sequence.
struct GenerationBounds {
  bool kvCache = false; // prefill/decode_step present (else recompute with forward)
  int64_t vocab = 0, maxBatch = 1, maxLength = 0;
};
/// Reads them from `plan`; throws Error (TFC_UNSUPPORTED when the plan does not generate,
/// TFC_INVALID_PLAN when forward does not have the shape generation needs).
GenerationBounds generationBounds(const Plan &plan);

class PlanStepModel : public StepModel {
public:
  /// `fixed` are the caller's inputs other than the token sequence, for `numPrompts` prompts.
  /// Throws Error when the plan does not generate or an input is missing, unknown or not
  /// per prompt.
  PlanStepModel(Session &session, const tfc_tensor *fixed, size_t numFixed, int64_t numPrompts);

  int64_t vocabSize() const override { return vocab_; }
  int64_t maxBatch() const override { return maxBatch_; }
  int64_t maxLength() const override { return maxLength_; }
  void start(const int64_t *tokens, int64_t batch, int64_t len, float *logits) override;
  void step(const int64_t *tokens, float *logits) override;
  void reorder(const int32_t *src, int64_t newBatch) override;

  bool kvCache() const { return kvCache_; }

private:
  /// Runs `function` with the token input [rows, len], the fixed inputs it takes and key masks of
  /// `keys` positions; copies the logits of position `len - 1` of each row into `logits`.
  void runWith(const char *function, const int64_t *tokens, int64_t len, int64_t keys,
               float *logits);

  Session &session_;
  const Plan &plan_;
  bool kvCache_ = false;
  int64_t vocab_ = 0, maxBatch_ = 1, maxLength_ = 0;
  std::vector<OwnedTensor> fixed_;   // rows = rows_
  int64_t rows_ = 0;
  int64_t length_ = 0;               // tokens per row so far
  std::vector<int64_t> history_;     // recompute: [rows, length_] tokens
};

} // namespace tfc::rt

#endif // TFC_RUNTIME_PLANGENERATOR_H
