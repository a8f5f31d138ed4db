//===- Generate.h - decoding algorithms over a KV-cached step model ---------------------------===//
//
// generate() turns prompts into continuations with greedy decoding, sampling (temperature,
// top-k, top-p) or beam search. It knows nothing about plans: it drives an abstract StepModel
// (start a batch of rows, append one token per row, reorder rows), which a KV-cache plan or a
// test mock implements. Assumes the model's logits for a row depend on that row's tokens only.
//
// Rows of different prompt lengths advance in lockstep, without padding: start() gets the
// shortest prompt length; a row whose prompt is longer is then fed its own prompt tokens, one per
// step, before it starts generating. Sampling is reproducible: its random numbers come from a
// PRNG of our own (xoshiro256**, seeded per row from `seed` and the row index), not from std::
// distributions.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_RUNTIME_GENERATE_H
#define TFC_RUNTIME_GENERATE_H

#include <cstdint>
#include <functional>
#include <vector>

namespace tfc::rt {

/// What the decoding algorithms need from a model: a KV-cached step function over a batch of rows.
class StepModel {
public:
  virtual ~StepModel() = default;
  virtual int64_t vocabSize() const = 0;
  virtual int64_t maxBatch() const = 0;  // most rows start()/reorder() may have
  virtual int64_t maxLength() const = 0; // most tokens (prompt + generated) per row
  /// Starts a new generation of `batch` rows whose first `len` tokens are `tokens` (row-major
  /// [batch, len], len >= 1). Writes the logits of each row's last position: [batch, vocab].
  virtual void start(const int64_t *tokens, int64_t batch, int64_t len, float *logits) = 0;
  /// Appends one token per row (tokens[batch]) at the next position; logits [batch, vocab].
  virtual void step(const int64_t *tokens, float *logits) = 0;
  /// Rebuilds the rows: new row i is old row src[i] (i < newBatch), caches included.
  virtual void reorder(const int32_t *src, int64_t newBatch) = 0;
};

enum class Strategy { Greedy, Sample, Beam };

struct GenerateOptions {
  Strategy strategy = Strategy::Greedy;
  int64_t maxNewTokens = 32;  // per row; 0 returns the prompts without calling the model
  int64_t eosId = -1;         // -1: never stop early
  float temperature = 1.0f;   // Sample: > 0
  int64_t topK = 0;           // Sample: 0 = off
  float topP = 1.0f;          // Sample: nucleus, (0, 1]
  uint64_t seed = 0;          // Sample: same seed + same inputs -> same tokens, on every platform
  int64_t beamWidth = 1;      // Beam
  float lengthPenalty = 1.0f; // Beam: score = sum logprob / (generated length ^ lengthPenalty)
};

struct GenerateResult {
  std::vector<std::vector<int64_t>> sequences; // per prompt: prompt + generated (eos included if produced)
  int64_t promptTokens = 0, generatedTokens = 0, decodeSteps = 0;
  double startMs = 0, decodeMs = 0; // wall time in start() and in step()/reorder()
};

/// Called for each new token of row `row` as it is chosen (Greedy/Sample); for Beam, once per
/// token of the final best sequence after the search ends. Return false to stop generating.
using TokenCallback = std::function<bool(int64_t row, int64_t token)>;

/// Runs one generation of all `prompts` (row i = prompts[i]) on `model`.
///
/// * Greedy: argmax, ties to the lowest id.
/// * Sample: logits / temperature, keep the topK largest (ties: lower ids first), keep the
///   smallest prefix of the sorted probabilities whose sum reaches topP (at least one token),
///   renormalize, draw.
/// * Beam: beamWidth beams per prompt (rows = prompts x beamWidth), cumulative log-softmax
///   scores; a hypothesis ending in eosId is finished with score sum / length^lengthPenalty
///   (length counts the generated tokens, eos included) if it ranks among the top beamWidth
///   candidates of its step. A prompt stops when it has beamWidth finished hypotheses and none of
///   its live beams, scored as if it ended at its current length, beats the best of them; or at
///   maxNewTokens, when its live beams count as finished. Width 1 gives greedy's tokens.
///
/// A row that has finished (eos or maxNewTokens) is fed eosId (0 without one) while others go on.
/// A callback returning false ends the generation at once (Beam: ends the callbacks); the
/// sequences then hold what was generated so far. Options of the other strategies are ignored.
/// Throws Error: TFC_INVALID_ARGUMENT for bad options or an empty prompt, TFC_OUT_OF_RANGE for
/// rows or lengths beyond the model's bounds and token ids outside the vocabulary, TFC_INTERNAL
/// for logits that are NaN or +inf (or all -inf) where a token must be chosen.
GenerateResult generate(StepModel &model, const std::vector<std::vector<int64_t>> &prompts,
                        const GenerateOptions &options, const TokenCallback &onToken = {});

} // namespace tfc::rt

#endif // TFC_RUNTIME_GENERATE_H
