//===- WordPiece.cpp - BERT's tokenizer, as Hugging Face `tokenizers` does it ----------------===//
//
// BertNormalizer (clean text, spaces around CJK ideographs, NFD + drop Mn, lower case),
// BertPreTokenizer (split on White_Space, each punctuation char its own word), the WordPiece
// model (greedy longest match first, "##" continuations, too long or unmatchable words -> unk)
// and the WordPiece decoder (join with spaces, glue "##" pieces, tokenizers' cleanup).
// The Unicode properties follow tokenizers: control = Cc/Cf/Co, punctuation = ASCII
// punctuation or P*, accents = Mn, all three as unicode_categories 0.1.1 has them (Unicode 8.0:
// unicode::bertClass); white space = White_Space; NFD and lower case: the current tables.
//
//===----------------------------------------------------------------------------------------===//
#include "text/TokenizerImpl.h"

#include "Error.h"
#include "text/Unicode.h"

namespace tfc::text {
namespace {

namespace u = unicode;

bool isBertWhitespace(char32_t c) { return c == '\t' || c == '\n' || c == '\r' || u::isWhiteSpace(c); }

bool isBertControl(char32_t c) {
  if (c == '\t' || c == '\n' || c == '\r')
    return false;
  return u::bertClass(c) == u::BertClass::Other;
}

// The ranges of tokenizers' bert.rs (0x2B920 included, as there).
bool isChineseChar(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
         (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

bool isBertPunctuation(char32_t c) {
  bool ascii = (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) ||
               (c >= 0x7B && c <= 0x7E);
  return ascii || u::bertClass(c) == u::BertClass::Punctuation;
}

class WordPiece final : public TokenizerBase {
public:
  explicit WordPiece(TokenizerConfig config) : TokenizerBase(std::move(config)) {
    if (config_.unkToken.empty())
      rt::fail(TFC_INVALID_PLAN, "tokenizer: WordPiece needs an unk_token");
    unkId_ = idOf(config_.unkToken);
    if (config_.maxInputCharsPerWord <= 0)
      rt::fail(TFC_INVALID_PLAN, "tokenizer: max_input_chars_per_word %d is not positive",
               config_.maxInputCharsPerWord);
  }

protected:
  std::string normalize(std::string_view text) const override {
    return u::encodeUtf8(normalizeChars(u::decodeUtf8(text)));
  }

  void encodeNormalized(std::string_view text, Encoding &out) const override {
    std::u32string s = u::decodeUtf8(text);
    // Pre-tokenize: white space separates, punctuation is isolated.
    std::u32string word;
    auto flush = [&] {
      if (!word.empty())
        tokenizeWord(word, out);
      word.clear();
    };
    for (char32_t c : s) {
      if (u::isWhiteSpace(c)) {
        flush();
      } else if (isBertPunctuation(c)) {
        flush();
        word = c;
        flush();
      } else {
        word += c;
      }
    }
    flush();
  }

  std::string decodeTokens(const std::vector<const std::string *> &tokens) const override {
    std::string out;
    const std::string &prefix = config_.continuingSubwordPrefix;
    for (size_t i = 0; i < tokens.size(); ++i) {
      std::string t;
      if (i != 0) {
        if (!prefix.empty() && tokens[i]->compare(0, prefix.size(), prefix) == 0)
          t = tokens[i]->substr(prefix.size());
        else
          t = " " + *tokens[i];
      } else {
        t = *tokens[i];
      }
      out += cleanup(t);
    }
    return out;
  }

private:
  std::u32string normalizeChars(const std::u32string &in) const {
    std::u32string s;
    s.reserve(in.size());
    for (char32_t c : in) {
      if (config_.cleanText) {
        if (c == 0 || c == 0xFFFD || isBertControl(c))
          continue;
        if (isBertWhitespace(c))
          c = ' ';
      }
      if (config_.handleChineseChars && isChineseChar(c)) {
        s += ' ';
        s += c;
        s += ' ';
      } else {
        s += c;
      }
    }
    if (config_.stripAccents) {
      std::u32string d = u::nfd(s);
      s.clear();
      for (char32_t c : d)
        if (u::bertClass(c) != u::BertClass::NonspacingMark)
          s += c;
    }
    if (config_.lowercase) {
      std::u32string l;
      l.reserve(s.size());
      for (char32_t c : s)
        u::appendLower(l, c);
      s.swap(l);
    }
    return s;
  }

  void tokenizeWord(const std::u32string &word, Encoding &out) const {
    if (word.size() > static_cast<size_t>(config_.maxInputCharsPerWord)) {
      push(out, unkId_);
      return;
    }
    // Byte offsets of the char boundaries of the UTF-8 word.
    std::string utf8;
    std::vector<size_t> bounds{0};
    for (char32_t c : word) {
      u::appendUtf8(utf8, c);
      bounds.push_back(utf8.size());
    }
    size_t first = out.ids.size();
    size_t start = 0, nChars = word.size();
    std::string candidate;
    while (start < nChars) {
      int64_t found = -1;
      size_t end = nChars;
      for (; end > start; --end) {
        candidate.clear();
        if (start > 0)
          candidate = config_.continuingSubwordPrefix;
        candidate.append(utf8, bounds[start], bounds[end] - bounds[start]);
        found = idOf(candidate);
        if (found >= 0)
          break;
      }
      if (found < 0) { // the whole word is unknown
        out.ids.resize(first);
        out.tokens.resize(first);
        push(out, unkId_);
        return;
      }
      push(out, found);
      start = end;
    }
  }

  // tokenizers' decoders::wordpiece::cleanup, applied to each token as there.
  static std::string cleanup(std::string s) {
    static const std::pair<const char *, const char *> kRules[] = {
        {" .", "."},   {" ?", "?"},   {" !", "!"},   {" ,", ","},         {" ' ", "'"},
        {" n't", "n't"}, {" 'm", "'m"}, {" do not", " don't"}, {" 's", "'s"}, {" 've", "'ve"},
        {" 're", "'re"}};
    for (const auto &[from, to] : kRules) {
      std::string f(from), t(to), r;
      size_t pos = 0;
      for (size_t hit; (hit = s.find(f, pos)) != std::string::npos; pos = hit + f.size())
        r.append(s, pos, hit - pos).append(t);
      r.append(s, pos, std::string::npos);
      s.swap(r);
    }
    return s;
  }

  int64_t unkId_ = -1;
};

} // namespace

std::unique_ptr<TokenizerBase> makeWordPiece(TokenizerConfig config) {
  return std::make_unique<WordPiece>(std::move(config));
}

} // namespace tfc::text
