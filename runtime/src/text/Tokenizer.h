//===- Tokenizer.h - text <-> token ids, as the model's tokenizer does it ---------------------===//
//
// WordPiece as BERT uses it and byte-level BPE as GPT-2 uses it, each equal to Hugging Face
// `tokenizers` on the same configuration. The configuration comes from the plan (ModelInfo
// .tokenizer + .vocabulary; written by `tfc import` from tokenizer.json / vocab.txt / merges.txt).
// Unicode properties (categories, NFD, lower case, white space) come from tables generated from
// Python's unicodedata by tools/python/gen_unicode_tables.py (text/UnicodeTables.inc).
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_RUNTIME_TEXT_TOKENIZER_H
#define TFC_RUNTIME_TEXT_TOKENIZER_H

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tfc::text {

enum class TokenizerKind : int32_t { None = 0, WordPiece = 1, ByteLevelBpe = 2 };

/// A token found verbatim in the text before the model's tokenizer runs (Hugging Face
/// `tokenizers`' AddedToken: BERT's [MASK], GPT-2's <|endoftext|>, tokens added to a vocabulary).
/// Its id is the id of `content` in the vocabulary.
struct AddedToken {
  std::string content;
  bool special = true;     // dropped by decode(skipSpecial)
  bool singleWord = false; // matches only where no word character (Rust regex \w) touches it
  bool lstrip = false;     // takes the white space on its left
  bool rstrip = false;     // takes the white space on its right
  bool normalized = false; // matched in the normalized text (its content normalized the same way)
};

/// plan.fbs / model.fbs `Tokenizer`, plus the vocabulary (token strings by id).
struct TokenizerConfig {
  TokenizerKind kind = TokenizerKind::None;
  std::vector<std::string> vocabulary;
  bool lowercase = false;
  bool stripAccents = false;
  bool handleChineseChars = true;
  bool cleanText = true;
  std::string continuingSubwordPrefix; // "##"
  int32_t maxInputCharsPerWord = 100;
  std::string unkToken, clsToken, sepToken, padToken;
  std::vector<std::string> merges; // "left right", rank order
  bool addPrefixSpace = false;
  int32_t maxLength = 0; // 0: no truncation
  /// The added tokens. unk/cls/sep/pad are added tokens too (special, matched in the raw text)
  /// unless listed here.
  std::vector<AddedToken> addedTokens;
};

/// The ids of one text and its attention mask (all ones: no padding here).
struct Encoding {
  std::vector<int64_t> ids;
  std::vector<std::string> tokens; // the token strings (for tests and messages)
  size_t untruncatedSize = 0;      // the ids the text has without truncation (specials included)
};

class Tokenizer {
public:
  virtual ~Tokenizer() = default;
  /// Builds the tokenizer; throws tfc::rt::Error (TFC_INVALID_PLAN) naming the problem for a bad
  /// configuration (unknown kind, unk/cls/sep token not in the vocabulary, a merge whose parts or
  /// result are not tokens, duplicate tokens, ...).
  static std::unique_ptr<Tokenizer> create(TokenizerConfig config);

  /// Tokenizes `text` (UTF-8; invalid bytes are replaced by U+FFFD first): added tokens first,
  /// then the model on the text between them. With `addSpecial`, WordPiece adds [CLS] ... [SEP];
  /// with `truncate`, at most maxLength ids are kept (specials included).
  virtual Encoding encode(std::string_view text, bool addSpecial = true,
                          bool truncate = true) const = 0;
  /// The text of `ids` (special added tokens skipped when `skipSpecial`; WordPiece: tokens
  /// joined by spaces, "##" continuations glued; byte-level BPE: the bytes, decoded as UTF-8
  /// with U+FFFD for invalid sequences). Throws for an id out of range.
  virtual std::string decode(const std::vector<int64_t> &ids, bool skipSpecial = true) const = 0;
};

} // namespace tfc::text

#endif // TFC_RUNTIME_TEXT_TOKENIZER_H
