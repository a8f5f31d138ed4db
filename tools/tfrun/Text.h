//===- Text.h - tfrun's text inputs: tokenized batches, sentence embeddings -----------------===//
//
// With a plan that carries its tokenizer: `--text` (repeatable) becomes the token-id inputs of a
// function (ids padded to the longest text with the pad id, attention mask, zero token types),
// and `--embed` turns an encoder's last hidden state into sentence embeddings (mean over the
// attention mask, L2-normalized, as sentence-transformers does) and their cosine similarities.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_TOOLS_TFRUN_TEXT_H
#define TFC_TOOLS_TFRUN_TEXT_H

#include "Format.h"
#include "Inputs.h"
#include "Status.h"

#include "tfc/tfc_runtime.h"

#include <string>
#include <vector>

namespace tfc::tfrun {

/// Token ids of `text` through the plan's tokenizer (with the special tokens when `special`;
/// cut to the tokenizer's max length when `truncate`). `untruncated` (optional) gets the number
/// of ids without truncation.
Status tokenize(const tfc_plan *plan, const std::string &text, bool special, bool truncate,
                std::vector<int64_t> &ids, size_t *untruncated = nullptr);

/// The text of `ids` through the plan's tokenizer, all its bytes (special tokens skipped).
Status detokenize(const tfc_plan *plan, const std::vector<int64_t> &ids, std::string &text);

/// The inputs of `fn` for a batch of texts: the ids input (named like input_ids), an attention
/// mask (1 for tokens, 0 for padding) and zero token types; every input of `fn` must be one of
/// these. `mask` gets the [batch, len] mask (for pooling). A text longer than the tokenizer's
/// max length is truncated, as Hugging Face does with truncation=True: `warnings` says which.
Status textInputs(const tfc_plan *plan, const tfc_plan_info &info, const FunctionDescription &fn,
                  const std::vector<std::string> &texts, std::vector<HostTensor> &inputs,
                  std::vector<int64_t> &mask, int64_t &length,
                  std::vector<std::string> &warnings);

/// Mean pooling of `hidden` [batch, len, dim] over `mask` [batch, len], then L2 normalization.
std::vector<float> meanPoolNormalize(const float *hidden, const std::vector<int64_t> &mask,
                                     int64_t batch, int64_t len, int64_t dim);

} // namespace tfc::tfrun

#endif // TFC_TOOLS_TFRUN_TEXT_H
