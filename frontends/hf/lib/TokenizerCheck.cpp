//===- TokenizerCheck.cpp - what the runtime's BPE tokenizer would refuse ---===//
//
// The runtime builds the plan's tokenizer when it loads the plan and refuses a byte-level BPE
// whose merges or byte alphabet are not tokens of the vocabulary. checkByteLevelBpe() checks
// the same at import, so `tfc import` / `tfc compile` fail naming the tokenizer file instead
// of writing a model that no plan of it can load.
//
//===----------------------------------------------------------------------===//
#include "Internal.h"

#include <cstdio>
#include <set>

namespace tfc::hf {

namespace {

/// GPT-2's bytes_to_unicode: printable bytes map to themselves, the others to U+0100 onwards.
std::string byteToken(int byte) {
  static const std::vector<uint32_t> table = [] {
    std::vector<uint32_t> t(256);
    uint32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
      t[b] = printable ? static_cast<uint32_t>(b) : next++;
    }
    return t;
  }();
  uint32_t c = table[byte];
  std::string s;
  if (c < 0x80) {
    s += static_cast<char>(c);
  } else {  // < 0x800 for every entry
    s += static_cast<char>(0xC0 | (c >> 6));
    s += static_cast<char>(0x80 | (c & 0x3F));
  }
  return s;
}

} // namespace

Status checkByteLevelBpe(const std::string &vocabFile, const std::string &mergesFile,
                         const std::vector<std::string> &vocabulary,
                         const std::vector<std::string> &merges) {
  std::set<std::string> tokens(vocabulary.begin(), vocabulary.end());
  for (int b = 0; b < 256; ++b)
    if (!tokens.count(byteToken(b))) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02X", b);
      return fail(vocabFile, "the byte-level vocabulary lacks the token '" + byteToken(b) +
                                 "' of byte " + hex);
    }
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const std::string &m = merges[rank];
    size_t space = m.find(' ');
    if (space == std::string::npos || space == 0 || space + 1 == m.size() ||
        m.find(' ', space + 1) != std::string::npos)
      return fail(mergesFile, "merge " + std::to_string(rank) + " '" + m +
                                  "' is not two tokens 'left right'");
    std::string left = m.substr(0, space), right = m.substr(space + 1);
    for (const std::string &part : {left, right, left + right})
      if (!tokens.count(part))
        return fail(mergesFile, "merge " + std::to_string(rank) + " '" + m + "': '" + part +
                                    "' is not in the vocabulary (" + vocabFile + ")");
  }
  return {};
}

} // namespace tfc::hf
