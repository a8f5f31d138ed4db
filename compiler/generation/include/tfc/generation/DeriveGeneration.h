//===- DeriveGeneration.h - KV-cache step functions from a full-sequence graph -*- C++ -*-===//
//
// A generative model's @forward maps a whole token sequence [batch, T] to logits
// [batch, T, vocab]. After fusion every op outside attention should be position-wise: the
// value at position t depends only on position t of its operands. Then the graph that
// processes positions [past, past + S) given the keys and values of positions [0, past) is the
// same graph with
//   * each causal self-attention replaced by a tfc.cached_attention on a KV-cache slot (append
//     the new keys/values, attend all cached ones),
//   * each cross-attention (keys/values computed from inputs that do not carry T: the encoder)
//     reading a slot that @encode filled with tfc.cache_store,
//   * position tables sliced at [past, past + S) instead of [0, S) (tfc.slice cache_offset,
//     tfc.embedding cache_offset),
//   * inputs that cover the keys (an attention mask [batch, T]) covering every cached position
//     (symbol `total_seq`).
// deriveGeneration() proves this op by op (tracking which axis of each value is the sequence
// axis and what it indexes: query positions, absolute positions, or keys) and, when it holds,
// adds @prefill (S tokens from an empty cache), @decode_step (one token per row) and, for an
// encoder-decoder, @encode to the module. When it does not hold it adds nothing and says why:
// the model then generates by recomputing the full sequence each step.
//
//===----------------------------------------------------------------------===//
#ifndef TFC_GENERATION_DERIVEGENERATION_H
#define TFC_GENERATION_DERIVEGENERATION_H

#include "mlir/IR/BuiltinOps.h"

#include <string>
#include <vector>

namespace tfc::generation {

struct GenerationInfo {
  /// "kv-cache" (functions derived), "recompute" (generative, but not derivable: `reason`), or
  /// "" (not a generative model: no causal attention, or its output is not per-position logits).
  std::string mode;
  std::string reason;
  std::string tokenInput;                  // e.g. "input_ids", "tgt_ids"
  std::vector<std::string> keyMaskInputs;  // inputs that cover the keys (the runtime passes ones)
  int64_t selfSlots = 0, crossSlots = 0;
};

/// Name of the symbol of key-covering inputs in the step functions.
inline constexpr const char *kTotalSeqSymbol = "total_seq";

/// Analyzes @forward of `module` (after the fusion pipeline) and, when possible, adds @prefill,
/// @decode_step and (encoder-decoders) @encode. Records the result as the module attribute
/// `tfc.generation` (a dictionary: mode, reason, token_input, key_mask_inputs) unless the mode
/// is "". Functions it adds carry `tfc.cache_op` ("prefill", "append", "encode").
GenerationInfo deriveGeneration(mlir::ModuleOp module);

/// Registers `tfc-derive-generation` (the same, as a module pass; for tfc-opt and lit tests).
void registerDeriveGenerationPass();

} // namespace tfc::generation

#endif // TFC_GENERATION_DERIVEGENERATION_H
