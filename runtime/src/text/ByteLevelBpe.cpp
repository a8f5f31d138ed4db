//===- ByteLevelBpe.cpp - GPT-2's byte-level BPE, as Hugging Face `tokenizers` does it -------===//
//
// The ByteLevel pre-tokenizer (optional prefix space; GPT-2's split pattern
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// matched by hand, \s being White_Space; each piece's UTF-8 bytes mapped to GPT-2's
// byte-to-unicode alphabet), the BPE model (merges applied lowest rank first, leftmost first
// on ties, exactly as tokenizers' Word::merge_all; no unk: every byte is a token) and the
// ByteLevel decoder (bytes back, invalid UTF-8 -> U+FFFD).
//
//===----------------------------------------------------------------------------------------===//
#include "text/TokenizerImpl.h"

#include "Error.h"
#include "text/Unicode.h"

#include <array>
#include <mutex>
#include <queue>
#include <unordered_map>

namespace tfc::text {
namespace {

namespace u = unicode;

/// GPT-2's bytes_to_unicode: printable bytes map to themselves, the others to U+0100...
std::array<char32_t, 256> byteToUnicode() {
  std::array<char32_t, 256> map{};
  std::array<bool, 256> printable{};
  for (int b = '!'; b <= '~'; ++b)
    printable[b] = true;
  for (int b = 0xA1; b <= 0xAC; ++b)
    printable[b] = true;
  for (int b = 0xAE; b <= 0xFF; ++b)
    printable[b] = true;
  char32_t next = 256;
  for (int b = 0; b < 256; ++b)
    map[b] = printable[b] ? static_cast<char32_t>(b) : next++;
  return map;
}

enum class Class { Space, Letter, Number, Other };

Class classify(char32_t c) {
  if (u::isWhiteSpace(c))
    return Class::Space;
  if (u::isLetter(c))
    return Class::Letter;
  if (u::isNumber(c))
    return Class::Number;
  return Class::Other;
}

/// The length (in chars) of the GPT-2 pattern's match at `i` (always >= 1).
size_t matchAt(const std::u32string &s, const std::vector<Class> &cls, size_t i) {
  size_t n = s.size();
  if (s[i] == '\'' && i + 1 < n) {
    char32_t a = s[i + 1], b = i + 2 < n ? s[i + 2] : 0;
    if (a == 's' || a == 't' || a == 'm' || a == 'd')
      return 2;
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))
      return 3;
  }
  // " ?\p{L}+", " ?\p{N}+", " ?[^\s\p{L}\p{N}]+"
  size_t j = i + (s[i] == ' ' && i + 1 < n && cls[i + 1] != Class::Space ? 1 : 0);
  if (cls[j] != Class::Space) {
    Class c = cls[j];
    size_t k = j + 1;
    while (k < n && cls[k] == c)
      ++k;
    return k - i;
  }
  // "\s+(?!\S)" then "\s+": a run of white space, less its last char when a non-space follows
  // (that char then starts the next piece), unless the run is one char long.
  size_t k = i + 1;
  while (k < n && cls[k] == Class::Space)
    ++k;
  if (k < n && k - i > 1)
    --k;
  return k - i;
}

class ByteLevelBpe final : public TokenizerBase {
public:
  explicit ByteLevelBpe(TokenizerConfig config) : TokenizerBase(std::move(config)) {
    byteChar_ = byteToUnicode();
    for (int b = 0; b < 256; ++b) {
      std::string token;
      u::appendUtf8(token, byteChar_[b]);
      byteId_[b] = idOf(token);
      if (byteId_[b] < 0)
        rt::fail(TFC_INVALID_PLAN,
                 "tokenizer: byte-level vocabulary lacks the token '%s' of byte 0x%02X",
                 token.c_str(), b);
      charByte_.emplace(byteChar_[b], static_cast<uint8_t>(b));
    }
    merges_.reserve(config_.merges.size());
    for (size_t rank = 0; rank < config_.merges.size(); ++rank) {
      const std::string &m = config_.merges[rank];
      size_t space = m.find(' ');
      if (space == std::string::npos || space == 0 || space + 1 == m.size() ||
          m.find(' ', space + 1) != std::string::npos)
        rt::fail(TFC_INVALID_PLAN, "tokenizer: merge %zu '%s' is not two tokens 'left right'",
                 rank, m.c_str());
      std::string left = m.substr(0, space), right = m.substr(space + 1);
      int64_t a = idOf(left), b = idOf(right), c = idOf(left + right);
      if (a < 0 || b < 0 || c < 0)
        rt::fail(TFC_INVALID_PLAN, "tokenizer: merge %zu '%s': '%s' is not in the vocabulary",
                 rank, m.c_str(), (a < 0 ? left : b < 0 ? right : left + right).c_str());
      // Later duplicates replace earlier ones, as in tokenizers' merge map.
      merges_[key(a, b)] = {static_cast<uint32_t>(rank), c};
    }
  }

protected:
  void encodeNormalized(std::string_view text, Encoding &out) const override {
    std::u32string s = u::decodeUtf8(text);
    if (config_.addPrefixSpace && (s.empty() || s[0] != ' '))
      s.insert(s.begin(), ' ');
    std::vector<Class> cls(s.size());
    for (size_t i = 0; i < s.size(); ++i)
      cls[i] = classify(s[i]);
    std::string piece;
    for (size_t i = 0; i < s.size();) {
      size_t len = matchAt(s, cls, i);
      piece.clear();
      for (size_t k = i; k < i + len; ++k)
        u::appendUtf8(piece, s[k]);
      for (int64_t id : bpe(piece))
        push(out, id);
      i += len;
    }
  }

  std::string decodeTokens(const std::vector<const std::string *> &tokens) const override {
    std::string bytes;
    for (const std::string *t : tokens) {
      std::u32string chars = u::decodeUtf8(*t);
      std::string mapped;
      bool all = true;
      for (char32_t c : chars) {
        auto it = charByte_.find(c);
        if (it == charByte_.end()) {
          all = false;
          break;
        }
        mapped += static_cast<char>(it->second);
      }
      bytes += all ? mapped : *t; // a token outside the byte alphabet: its own UTF-8
    }
    return u::sanitizeUtf8(bytes);
  }

private:
  struct Merge {
    uint32_t rank;
    int64_t id;
  };
  static uint64_t key(int64_t a, int64_t b) {
    return (static_cast<uint64_t>(a) << 32) | static_cast<uint64_t>(b);
  }

  /// The ids of one pre-tokenized piece (its UTF-8 bytes).
  std::vector<int64_t> bpe(const std::string &piece) const {
    {
      std::lock_guard<std::mutex> lock(cacheMutex_);
      auto it = cache_.find(piece);
      if (it != cache_.end())
        return it->second;
    }
    struct Symbol {
      int64_t id;
      int prev, next;
      bool removed;
    };
    std::vector<Symbol> sym;
    sym.reserve(piece.size());
    for (size_t i = 0; i < piece.size(); ++i)
      sym.push_back({byteId_[static_cast<uint8_t>(piece[i])], static_cast<int>(i) - 1,
                     static_cast<int>(i) + 1, false});
    if (!sym.empty())
      sym.back().next = -1;
    struct Candidate {
      uint32_t rank;
      int pos;
      int64_t id;
      bool operator<(const Candidate &o) const { // priority_queue: top = lowest rank, pos
        return rank != o.rank ? rank > o.rank : pos > o.pos;
      }
    };
    std::priority_queue<Candidate> queue;
    auto consider = [&](int pos) {
      int next = sym[pos].next;
      if (next < 0)
        return;
      auto it = merges_.find(key(sym[pos].id, sym[next].id));
      if (it != merges_.end())
        queue.push({it->second.rank, pos, it->second.id});
    };
    for (int i = 0; i + 1 < static_cast<int>(sym.size()); ++i)
      consider(i);
    while (!queue.empty()) {
      Candidate top = queue.top();
      queue.pop();
      Symbol &cur = sym[top.pos];
      if (cur.removed || cur.next < 0)
        continue;
      auto it = merges_.find(key(cur.id, sym[cur.next].id));
      if (it == merges_.end() || it->second.id != top.id)
        continue; // stale
      Symbol &right = sym[cur.next];
      cur.id = top.id;
      right.removed = true;
      cur.next = right.next;
      if (right.next >= 0)
        sym[right.next].prev = top.pos;
      if (cur.prev >= 0)
        consider(cur.prev);
      consider(top.pos);
    }
    std::vector<int64_t> ids;
    for (const Symbol &s : sym)
      if (!s.removed)
        ids.push_back(s.id);
    std::lock_guard<std::mutex> lock(cacheMutex_);
    if (cache_.size() < kCacheCapacity)
      cache_.emplace(piece, ids);
    return ids;
  }

  static constexpr size_t kCacheCapacity = 10000;
  std::array<char32_t, 256> byteChar_{};
  std::array<int64_t, 256> byteId_{};
  std::unordered_map<char32_t, uint8_t> charByte_;
  std::unordered_map<uint64_t, Merge> merges_;
  mutable std::mutex cacheMutex_;
  mutable std::unordered_map<std::string, std::vector<int64_t>> cache_;
};

} // namespace

std::unique_ptr<TokenizerBase> makeByteLevelBpe(TokenizerConfig config) {
  return std::make_unique<ByteLevelBpe>(std::move(config));
}

} // namespace tfc::text
