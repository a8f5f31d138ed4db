//===- TokenizerImpl.h - what WordPiece and byte-level BPE share (internal) -------------------===//
//
// TokenizerBase holds the vocabulary and the added tokens and does what Hugging Face
// `tokenizers` does around the model (its AddedVocabulary::extract_and_normalize, see
// AddedTokens.h): the added tokens matched in the raw text become their own ids; each piece
// between them is normalized, the added tokens matched in the normalized text become their ids,
// and the rest goes to the pre-tokenizer and the model (encodeNormalized); then truncation and
// [CLS] ... [SEP]. decode maps ids to token strings, skips the special ones when asked and hands
// the rest to decodeTokens.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_RUNTIME_TEXT_TOKENIZERIMPL_H
#define TFC_RUNTIME_TEXT_TOKENIZERIMPL_H

#include "text/AddedTokens.h"
#include "text/Tokenizer.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tfc::text {

/// The vocabulary's token -> id index, built when a plan opens: open addressing over ids into
/// the vocabulary's own strings (one flat table, no allocation per token), so that indexing
/// 30,000-50,000 tokens costs about a millisecond, not the several that a node-based map of
/// copied strings took (docs/BENCHMARKS.md, "Plan open").
class VocabIndex {
public:
  /// An empty index for `vocabulary`, which must outlive it and not change.
  explicit VocabIndex(const std::vector<std::string> &vocabulary);
  /// Adds id `id` (its token vocabulary[id]); returns -1, or the id that already has the token.
  int64_t insert(int64_t id);
  /// The id of `token`, or -1.
  int64_t find(std::string_view token) const;

private:
  const std::vector<std::string> &vocabulary_;
  std::vector<int32_t> slots_; // ids; -1: empty. A power of two, at most half full.
  size_t mask_ = 0;
};

class TokenizerBase : public Tokenizer {
public:
  /// Validates and indexes the vocabulary and the added tokens (throws tfc::rt::Error).
  explicit TokenizerBase(TokenizerConfig config);
  /// Builds the added-token patterns (the normalized ones through normalize()); called by
  /// Tokenizer::create once the derived tokenizer is constructed.
  void indexAddedTokens();

  Encoding encode(std::string_view text, bool addSpecial = true,
                  bool truncate = true) const override;
  std::string decode(const std::vector<int64_t> &ids, bool skipSpecial = true) const override;

protected:
  /// The normalizer on valid UTF-8 (none by default).
  virtual std::string normalize(std::string_view text) const { return std::string(text); }
  /// Appends the tokens of normalized `text` (no added tokens in it) to `out`.
  virtual void encodeNormalized(std::string_view text, Encoding &out) const = 0;
  /// The text of the token strings (specials already skipped when asked).
  virtual std::string decodeTokens(const std::vector<const std::string *> &tokens) const = 0;

  /// The id of `token`, or -1.
  int64_t idOf(std::string_view token) const { return vocab_.find(token); }
  void push(Encoding &out, int64_t id) const {
    out.ids.push_back(id);
    out.tokens.push_back(config_.vocabulary[static_cast<size_t>(id)]);
  }
  /// The id of a configured special token; throws naming `what` if it is not in the vocabulary.
  int64_t requireToken(const std::string &token, const char *what) const;

  TokenizerConfig config_;
  VocabIndex vocab_{config_.vocabulary}; // after config_: it indexes config_.vocabulary
  std::vector<std::pair<AddedToken, int64_t>> added_; // listed, then unk/cls/sep/pad; with ids
  AddedTokenMatcher raw_, normalized_; // matched before / after normalization
  std::vector<bool> isSpecial_;        // by id
  int64_t clsId_ = -1, sepId_ = -1;    // both set: [CLS] ... [SEP]
};

std::unique_ptr<TokenizerBase> makeWordPiece(TokenizerConfig config);
std::unique_ptr<TokenizerBase> makeByteLevelBpe(TokenizerConfig config);

} // namespace tfc::text

#endif // TFC_RUNTIME_TEXT_TOKENIZERIMPL_H
