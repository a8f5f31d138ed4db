//===- Unicode.cpp - UTF-8 and table lookups --------------------------------------------------===//
//
// The tables are sorted ranges (UnicodeTables.inc); every lookup is a binary search.
//
//===----------------------------------------------------------------------------------------===//
#include "text/Unicode.h"

#include <algorithm>

namespace tfc::text::unicode {
namespace {

struct CategoryRange {
  uint32_t first, last;
  uint8_t value;
};
struct CodeRange {
  uint32_t first, last;
};
struct LowerRun {
  uint32_t first, last;
  int32_t stride, delta;
};
struct LowerMulti {
  uint32_t cp;
  uint32_t to[3];
};
struct Decomposition {
  uint32_t cp;
  uint32_t to[4];
};

#include "text/UnicodeTables.inc"

template <typename T, size_t N> const T *findRange(const T (&table)[N], char32_t cp) {
  const T *it = std::upper_bound(table, table + N, static_cast<uint32_t>(cp),
                                 [](uint32_t c, const T &r) { return c < r.first; });
  if (it == table)
    return nullptr;
  --it;
  return cp <= it->last ? it : nullptr;
}

constexpr char32_t kReplacement = 0xFFFD;
constexpr char32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr char32_t kLCount = 19, kVCount = 21, kTCount = 28, kNCount = kVCount * kTCount,
                   kSCount = kLCount * kNCount;

void decomposeInto(std::u32string &out, char32_t cp) {
  if (cp >= kSBase && cp < kSBase + kSCount) { // Hangul syllable (Unicode 3.12)
    char32_t s = cp - kSBase;
    out += kLBase + s / kNCount;
    out += kVBase + (s % kNCount) / kTCount;
    if (s % kTCount != 0)
      out += kTBase + s % kTCount;
    return;
  }
  const Decomposition *end = kDecompositions + sizeof(kDecompositions) / sizeof(kDecompositions[0]);
  const Decomposition *it = std::lower_bound(
      kDecompositions, end, static_cast<uint32_t>(cp),
      [](const Decomposition &d, uint32_t c) { return d.cp < c; });
  if (it == end || it->cp != cp) {
    out += cp;
    return;
  }
  for (uint32_t c : it->to)
    if (c != 0)
      out += static_cast<char32_t>(c);
}

} // namespace

const char *version() { return TFC_UNICODE_VERSION; }

std::u32string decodeUtf8(std::string_view text) {
  std::u32string out;
  out.reserve(text.size());
  const auto *s = reinterpret_cast<const unsigned char *>(text.data());
  size_t n = text.size(), i = 0;
  while (i < n) {
    unsigned char b = s[i];
    if (b < 0x80) {
      out += b;
      ++i;
      continue;
    }
    int need;
    char32_t cp;
    unsigned char lo = 0x80, hi = 0xBF; // the range of the second byte
    if (b >= 0xC2 && b <= 0xDF)
      need = 1, cp = b & 0x1F;
    else if (b >= 0xE0 && b <= 0xEF) {
      need = 2, cp = b & 0x0F;
      if (b == 0xE0)
        lo = 0xA0;
      else if (b == 0xED)
        hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      need = 3, cp = b & 0x07;
      if (b == 0xF0)
        lo = 0x90;
      else if (b == 0xF4)
        hi = 0x8F;
    } else {
      out += kReplacement;
      ++i;
      continue;
    }
    size_t j = i + 1;
    bool ok = true;
    for (int k = 0; k < need; ++k, ++j) {
      unsigned char c = j < n ? s[j] : 0;
      unsigned char l = k == 0 ? lo : 0x80, h = k == 0 ? hi : 0xBF;
      if (j >= n || c < l || c > h) {
        ok = false;
        break;
      }
      cp = (cp << 6) | (c & 0x3F);
    }
    out += ok ? cp : kReplacement;
    i = j; // past the maximal subpart when invalid
  }
  return out;
}

void appendUtf8(std::string &out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::string encodeUtf8(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t cp : text)
    appendUtf8(out, cp);
  return out;
}

std::string sanitizeUtf8(std::string_view text) { return encodeUtf8(decodeUtf8(text)); }

Category category(char32_t cp) {
  const CategoryRange *r = findRange(kCategoryRanges, cp);
  return r ? static_cast<Category>(r->value) : Category::Cn;
}

bool isLetter(char32_t cp) {
  Category c = category(cp);
  return c >= Category::Lu && c <= Category::Lo;
}
bool isNumber(char32_t cp) {
  Category c = category(cp);
  return c >= Category::Nd && c <= Category::No;
}
bool isPunctuation(char32_t cp) {
  Category c = category(cp);
  return c >= Category::Pc && c <= Category::Po;
}
bool isWhiteSpace(char32_t cp) { return findRange(kWhiteSpaceRanges, cp) != nullptr; }

bool isWordChar(char32_t cp) {
  switch (category(cp)) {
  case Category::Lu: case Category::Ll: case Category::Lt: case Category::Lm: case Category::Lo:
  case Category::Mn: case Category::Mc: case Category::Me:
  case Category::Nd: case Category::Nl: case Category::Pc:
    return true;
  default:
    break;
  }
  // Join_Control, and the Other_Alphabetic code points outside M* (circled and squared Latin
  // letters, category So; PropList.txt).
  return cp == 0x200C || cp == 0x200D || (cp >= 0x24B6 && cp <= 0x24E9) ||
         (cp >= 0x1F130 && cp <= 0x1F149) || (cp >= 0x1F150 && cp <= 0x1F169) ||
         (cp >= 0x1F170 && cp <= 0x1F189);
}

void appendLower(std::u32string &out, char32_t cp) {
  if (cp < 0x80) {
    out += (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
    return;
  }
  for (const LowerMulti &m : kLowerMulti)
    if (m.cp == cp) {
      for (uint32_t c : m.to)
        if (c != 0)
          out += static_cast<char32_t>(c);
      return;
    }
  const LowerRun *r = findRange(kLowerRuns, cp);
  if (r && (cp - r->first) % static_cast<uint32_t>(r->stride) == 0)
    out += static_cast<char32_t>(static_cast<int32_t>(cp) + r->delta);
  else
    out += cp;
}

uint8_t combiningClass(char32_t cp) {
  const CategoryRange *r = findRange(kCombiningClassRanges, cp);
  return r ? r->value : 0;
}

BertClass bertClass(char32_t cp) {
  const CategoryRange *r = findRange(kBertClassRanges, cp);
  return r ? static_cast<BertClass>(r->value) : BertClass::None;
}

std::u32string nfd(std::u32string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (char32_t cp : text)
    decomposeInto(out, cp);
  // Canonical ordering: stable sort of each run of non-starters by combining class.
  for (size_t i = 0; i < out.size();) {
    if (combiningClass(out[i]) == 0) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < out.size() && combiningClass(out[j]) != 0)
      ++j;
    std::stable_sort(out.begin() + i, out.begin() + j, [](char32_t a, char32_t b) {
      return combiningClass(a) < combiningClass(b);
    });
    i = j;
  }
  return out;
}

} // namespace tfc::text::unicode
