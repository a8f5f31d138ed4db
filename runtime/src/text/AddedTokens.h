//===- AddedTokens.h - finding added and special tokens in text (internal) --------------------===//
//
// Hugging Face `tokenizers` matches its added tokens (AddedVocabulary) before the model's
// tokenizer sees the text: one pattern set for the tokens matched in the raw text
// (normalized = false), one for those matched in the normalized text (their content normalized
// too). Within a set matches are leftmost-longest and do not overlap (aho-corasick's
// LeftmostLongest find_iter); a single_word token is skipped where a word character (Rust regex
// `\w`) touches it; lstrip / rstrip tokens take the white space (`\s`) on their left / right.
// split() is a port of AddedVocabulary::find_matches (tokenizers 0.19.1).
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_RUNTIME_TEXT_ADDEDTOKENS_H
#define TFC_RUNTIME_TEXT_ADDEDTOKENS_H

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tfc::text {

class AddedTokenMatcher {
public:
  struct Pattern {
    std::string text; // what is matched (non-empty, UTF-8)
    int64_t id = -1;
    bool singleWord = false, lstrip = false, rstrip = false;
  };
  /// A piece of the text: bytes [begin, end), an added token (id >= 0) or text (id -1).
  struct Piece {
    size_t begin, end;
    int64_t id;
  };

  /// Adds a pattern; for equal texts the first added wins (the lowest aho-corasick pattern id).
  void add(Pattern pattern);
  bool empty() const { return patterns_.empty(); }

  /// The text cut at the accepted matches, in order; the text pieces may be empty.
  std::vector<Piece> split(std::string_view text) const;

private:
  /// The leftmost-longest match starting at or after `from`: the pattern index, or -1.
  int64_t find(std::string_view text, size_t from, size_t &start) const;

  std::vector<Pattern> patterns_;
  std::array<std::vector<uint32_t>, 256> byFirstByte_; // pattern indices, in order of addition
};

} // namespace tfc::text

#endif // TFC_RUNTIME_TEXT_ADDEDTOKENS_H
