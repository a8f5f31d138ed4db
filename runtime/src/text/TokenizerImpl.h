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
#include <unordered_map>
#include <vector>

namespace tfc::text {

class TokenizerBase : public Tokenizer {
public:
  /// Validates and indexes the vocabulary and the added tokens (throws tfc::rt::Error).
  explicit TokenizerBase(const TokenizerConfig &config);
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
  int64_t idOf(const std::string &token) const {
    auto it = vocab_.find(token);
    return it == vocab_.end() ? -1 : it->second;
  }
  void push(Encoding &out, int64_t id) const {
    out.ids.push_back(id);
    out.tokens.push_back(config_.vocabulary[static_cast<size_t>(id)]);
  }
  /// The id of a configured special token; throws naming `what` if it is not in the vocabulary.
  int64_t requireToken(const std::string &token, const char *what) const;

  TokenizerConfig config_;
  std::unordered_map<std::string, int64_t> vocab_;
  std::vector<std::pair<AddedToken, int64_t>> added_; // listed, then unk/cls/sep/pad; with ids
  AddedTokenMatcher raw_, normalized_; // matched before / after normalization
  std::vector<bool> isSpecial_;        // by id
  int64_t clsId_ = -1, sepId_ = -1;    // both set: [CLS] ... [SEP]
};

std::unique_ptr<TokenizerBase> makeWordPiece(const TokenizerConfig &config);
std::unique_ptr<TokenizerBase> makeByteLevelBpe(const TokenizerConfig &config);

} // namespace tfc::text

#endif // TFC_RUNTIME_TEXT_TOKENIZERIMPL_H
