//===- AddedTokens.cpp - leftmost-longest matching of added tokens, find_matches -------------===//
//
// See AddedTokens.h. Patterns are bucketed by their first byte; a search tries every position
// from left to right and, at the first position where some pattern matches, takes the longest.
// Patterns and text are valid UTF-8, so matches begin and end on character boundaries.
//
//===----------------------------------------------------------------------------------------===//
#include "text/AddedTokens.h"

#include "text/Unicode.h"

#include <algorithm>

namespace tfc::text {
namespace {

namespace u = unicode;

/// The code point that ends `text` (valid UTF-8, non-empty).
char32_t lastChar(std::string_view text) {
  size_t i = text.size() - 1;
  while (i > 0 && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80)
    --i;
  std::u32string c = u::decodeUtf8(text.substr(i));
  return c.empty() ? 0 : c[0];
}

/// The code point that starts `text` (valid UTF-8, non-empty) and its length in bytes.
char32_t firstChar(std::string_view text, size_t &length) {
  unsigned char b = static_cast<unsigned char>(text[0]);
  length = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
  length = std::min(length, text.size());
  std::u32string c = u::decodeUtf8(text.substr(0, length));
  return c.empty() ? 0 : c[0];
}

// The regexes of added_vocabulary.rs: \w$, ^\w, \s*$ (its start), ^\s* (its end).
bool endsWithWord(std::string_view text) { return !text.empty() && u::isWordChar(lastChar(text)); }

bool startsWithWord(std::string_view text) {
  size_t length = 0;
  return !text.empty() && u::isWordChar(firstChar(text, length));
}

size_t spaceLeftmostAtEnd(std::string_view text) {
  size_t start = text.size(), length = 0;
  while (start > 0) {
    size_t i = start - 1;
    while (i > 0 && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80)
      --i;
    if (!u::isWhiteSpace(firstChar(text.substr(i, start - i), length)))
      break;
    start = i;
  }
  return start;
}

size_t spaceRightmostAtStart(std::string_view text) {
  size_t end = 0;
  while (end < text.size()) {
    size_t length = 0;
    if (!u::isWhiteSpace(firstChar(text.substr(end), length)))
      break;
    end += length;
  }
  return end;
}

} // namespace

void AddedTokenMatcher::add(Pattern pattern) {
  if (pattern.text.empty())
    return;
  byFirstByte_[static_cast<unsigned char>(pattern.text[0])].push_back(
      static_cast<uint32_t>(patterns_.size()));
  patterns_.push_back(std::move(pattern));
}

int64_t AddedTokenMatcher::find(std::string_view text, size_t from, size_t &start) const {
  for (size_t i = from; i < text.size(); ++i) {
    int64_t best = -1;
    size_t bestLength = 0;
    for (uint32_t p : byFirstByte_[static_cast<unsigned char>(text[i])]) {
      const std::string &s = patterns_[p].text;
      if (s.size() > bestLength && text.compare(i, s.size(), s) == 0)
        best = p, bestLength = s.size();
    }
    if (best >= 0) {
      start = i;
      return best;
    }
  }
  return -1;
}

std::vector<AddedTokenMatcher::Piece> AddedTokenMatcher::split(std::string_view text) const {
  std::vector<Piece> out;
  if (text.empty() || patterns_.empty()) {
    out.push_back({0, text.size(), -1});
    return out;
  }
  size_t startOffset = 0, from = 0, start = 0;
  for (int64_t p; (p = find(text, from, start)) >= 0;) {
    const Pattern &pattern = patterns_[static_cast<size_t>(p)];
    size_t stop = start + pattern.text.size();
    from = stop; // matches do not overlap, whether accepted or not
    if (pattern.singleWord) {
      bool startSpace = start == 0 || !endsWithWord(text.substr(0, start));
      bool stopSpace = stop == text.size() || !startsWithWord(text.substr(stop));
      if (!startSpace || !stopSpace)
        continue;
    }
    if (pattern.lstrip) // white space already taken by the previous token stays there
      start = std::max(spaceLeftmostAtEnd(text.substr(0, start)), startOffset);
    if (pattern.rstrip)
      stop += spaceRightmostAtStart(text.substr(stop));
    if (startOffset < start)
      out.push_back({startOffset, start, -1});
    out.push_back({start, stop, pattern.id});
    startOffset = stop;
  }
  if (startOffset != text.size())
    out.push_back({startOffset, text.size(), -1});
  return out;
}

} // namespace tfc::text
