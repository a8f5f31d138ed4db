//===- Unicode.h - UTF-8 and the Unicode properties the tokenizers need ----------------------===//
//
// UTF-8 decoding (each maximal invalid subsequence becomes one U+FFFD, as Rust's
// String::from_utf8_lossy and Python's "replace" do) and encoding, and lookups in the tables
// generated from Python's unicodedata (UnicodeTables.inc, see tools/python/gen_unicode_tables.py):
// general category, White_Space, full lower case, canonical decomposition and combining class.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_RUNTIME_TEXT_UNICODE_H
#define TFC_RUNTIME_TEXT_UNICODE_H

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tfc::text::unicode {

/// General categories, in UnicodeData.txt's abbreviations.
enum class Category : uint8_t {
  Cn, Lu, Ll, Lt, Lm, Lo, Mn, Mc, Me, Nd, Nl, No, Pc, Pd, Ps, Pe, Pi, Pf, Po,
  Sm, Sc, Sk, So, Zs, Zl, Zp, Cc, Cf, Cs, Co
};

/// The Unicode version of the tables ("14.0.0").
const char *version();

/// Decodes UTF-8; invalid input becomes U+FFFD (one per maximal invalid subsequence).
std::u32string decodeUtf8(std::string_view text);
/// Appends the UTF-8 encoding of `cp` to `out`.
void appendUtf8(std::string &out, char32_t cp);
std::string encodeUtf8(std::u32string_view text);
/// Replaces invalid UTF-8 by U+FFFD (valid input is returned unchanged).
std::string sanitizeUtf8(std::string_view text);

Category category(char32_t cp);
bool isLetter(char32_t cp);      // L*
bool isNumber(char32_t cp);      // N*
bool isPunctuation(char32_t cp); // P*
bool isWhiteSpace(char32_t cp);  // the White_Space property (Rust's char::is_whitespace)
/// Rust regex's Unicode `\w`: Alphabetic (L*, Nl, Other_Alphabetic), M*, Nd, Pc, Join_Control.
bool isWordChar(char32_t cp);
/// Appends the full lower-case mapping of `cp` (Rust's char::to_lowercase) to `out`.
void appendLower(std::u32string &out, char32_t cp);
/// NFD: full canonical decomposition (Hangul included) and canonical reordering.
std::u32string nfd(std::u32string_view text);
uint8_t combiningClass(char32_t cp);

/// The properties Hugging Face `tokenizers` takes from the crate unicode_categories 0.1.1,
/// whose tables are Unicode 8.0 (code points assigned later have none of them).
enum class BertClass : uint8_t { None = 0, Punctuation = 1, NonspacingMark = 2, Other = 3 };
BertClass bertClass(char32_t cp); // Other: Cc, Cf, Co

} // namespace tfc::text::unicode

#endif // TFC_RUNTIME_TEXT_UNICODE_H
