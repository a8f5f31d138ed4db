//===- tokenizer_test.cpp - WordPiece and byte-level BPE against Hugging Face `tokenizers` ----===//
//
// The fixtures in tests/tokenizer/ (written by make_corpus.py and make_refs.py, see there):
// corpus.jsonl (2800 lines, the last 300 around added and special tokens), refs.jsonl (the ids
// `tokenizers` 0.19.1 gives for each line, and for the first `subset` lines and the lines from
// `added_from` on decodes, add_prefix_space, truncation and the tokenizers with more added
// tokens), config.json (the configurations, added tokens as tokenizers serializes them),
// bert_vocab.txt (BERT uncased), bpe_vocab.json + bpe_merges.txt (a byte-level BPE trained by
// tokenizers). Every line must match; the first mismatches are printed.
//
//===----------------------------------------------------------------------------------------===//
#include "Error.h"
#include "text/Tokenizer.h"
#include "text/Unicode.h"

#include "../e2e/MiniJson.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

using tfc::text::AddedToken;
using tfc::text::Encoding;
using tfc::text::Tokenizer;
using tfc::text::TokenizerConfig;
using tfc::text::TokenizerKind;
namespace mj = tfc::minijson;

namespace {

/// TFC_TOKENIZER_FIXTURES=DIR runs the same checks on another corpus (make_refs.py --corpus
/// FILE --out DIR, with the vocabulary files linked into DIR).
const std::string kDir = getenv("TFC_TOKENIZER_FIXTURES")
                             ? std::string(getenv("TFC_TOKENIZER_FIXTURES")) + "/"
                             : std::string(TFC_SOURCE_DIR) + "/tests/tokenizer/";

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw std::runtime_error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

mj::Value parseJson(const std::string &text, const std::string &what) {
  mj::Value v;
  std::string error;
  if (!mj::Parser(text).parse(v, error))
    throw std::runtime_error(what + ": " + error);
  return v;
}

std::vector<mj::Value> readJsonLines(const std::string &path) {
  std::vector<mj::Value> out;
  std::istringstream in(readFile(path));
  std::string line;
  while (std::getline(in, line))
    out.push_back(parseJson(line, path + " line " + std::to_string(out.size() + 1)));
  return out;
}

std::vector<int64_t> ids(const mj::Value &v) {
  std::vector<int64_t> out;
  for (const auto &x : v.array)
    out.push_back(static_cast<int64_t>(x.number));
  return out;
}

std::string show(const std::vector<int64_t> &v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i)
    s += (i ? "," : "") + std::to_string(v[i]);
  return s + "]";
}

/// The line with non-printable ASCII escaped, for messages.
std::string quote(const std::string &s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) {
      char buf[8];
      snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

/// `config` with the added tokens of `list` (tokenizers' serialization: id, content, flags);
/// ids past the vocabulary extend it, as tokenizers gives new added tokens the next ids.
void addTokens(TokenizerConfig &config, const mj::Value &list) {
  config.addedTokens.clear();
  for (const mj::Value &a : list.array) {
    AddedToken t;
    t.content = a["content"].string;
    t.special = a["special"].boolean;
    t.singleWord = a["single_word"].boolean;
    t.lstrip = a["lstrip"].boolean;
    t.rstrip = a["rstrip"].boolean;
    t.normalized = a["normalized"].boolean;
    auto id = static_cast<size_t>(a["id"].number);
    if (id == config.vocabulary.size())
      config.vocabulary.push_back(t.content);
    if (id >= config.vocabulary.size() || config.vocabulary[id] != t.content)
      throw std::runtime_error("config.json: added token '" + t.content + "' has id " +
                               std::to_string(id) + ", not the next id or its vocabulary id");
    config.addedTokens.push_back(std::move(t));
  }
}

struct Fixtures {
  mj::Value config;
  std::vector<std::string> corpus;
  std::vector<mj::Value> refs;
  TokenizerConfig wordPiece, bpe;           // as BERT and GPT-2 have them
  TokenizerConfig wordPieceAdded, bpeAdded; // with more added tokens (every option)
  size_t subset = 0;
  int32_t truncation = 0;

  Fixtures() {
    config = parseJson(readFile(kDir + "config.json"), "config.json");
    for (const auto &v : readJsonLines(kDir + "corpus.jsonl"))
      corpus.push_back(v.string);
    refs = readJsonLines(kDir + "refs.jsonl");
    subset = static_cast<size_t>(config["subset"].number);
    truncation = static_cast<int32_t>(config["truncation_max_length"].number);

    const mj::Value &w = config["wordpiece"];
    wordPiece.kind = TokenizerKind::WordPiece;
    std::istringstream vocab(readFile(kDir + w["vocabulary_file"].string));
    for (std::string line; std::getline(vocab, line);)
      wordPiece.vocabulary.push_back(line);
    wordPiece.lowercase = w["lowercase"].boolean;
    wordPiece.stripAccents = w["strip_accents"].boolean;
    wordPiece.handleChineseChars = w["handle_chinese_chars"].boolean;
    wordPiece.cleanText = w["clean_text"].boolean;
    wordPiece.continuingSubwordPrefix = w["continuing_subword_prefix"].string;
    wordPiece.maxInputCharsPerWord = static_cast<int32_t>(w["max_input_chars_per_word"].number);
    wordPiece.unkToken = w["unk_token"].string;
    wordPiece.clsToken = w["cls_token"].string;
    wordPiece.sepToken = w["sep_token"].string;
    wordPiece.padToken = w["pad_token"].string;

    const mj::Value &b = config["bpe"];
    bpe.kind = TokenizerKind::ByteLevelBpe;
    mj::Value vocabJson = parseJson(readFile(kDir + b["vocabulary_file"].string), "bpe vocab");
    bpe.vocabulary.resize(vocabJson.object.size());
    for (const auto &[token, id] : vocabJson.object)
      bpe.vocabulary.at(static_cast<size_t>(id.number)) = token;
    std::istringstream merges(readFile(kDir + b["merges_file"].string));
    for (std::string line; std::getline(merges, line);)
      if (!line.empty() && line.rfind("#version", 0) != 0)
        bpe.merges.push_back(line);
    bpe.addPrefixSpace = b["add_prefix_space"].boolean;

    addTokens(wordPiece, w["added_tokens"]);
    addTokens(bpe, b["added_tokens"]);
    wordPieceAdded = wordPiece;
    addTokens(wordPieceAdded, config["wordpiece_added"]["added_tokens"]);
    bpeAdded = bpe;
    addTokens(bpeAdded, config["bpe_added"]["added_tokens"]);
  }
};

const Fixtures &fixtures() {
  static const Fixtures f;
  return f;
}

/// Encodes every corpus line that has refs[field] and compares; prints the first mismatches and
/// returns their count. Fails when no line has the field.
size_t compareAll(const Tokenizer &tok, const std::string &field, bool addSpecial = true) {
  const Fixtures &f = fixtures();
  size_t bad = 0, compared = 0;
  for (size_t i = 0; i < f.corpus.size(); ++i) {
    if (f.refs[i][field].isNull())
      continue;
    ++compared;
    std::vector<int64_t> want = ids(f.refs[i][field]);
    Encoding got = tok.encode(f.corpus[i], addSpecial);
    if (got.ids == want)
      continue;
    if (++bad <= 5)
      ADD_FAILURE() << field << " line " << i + 1 << " " << quote(f.corpus[i])
                    << "\n  tokenizers: " << show(want) << "\n  tfc:        " << show(got.ids);
  }
  EXPECT_GT(compared, 0u) << "no line has the reference '" << field << "'";
  return bad;
}

/// Decodes refs[field] of every line that has it, with and without the special tokens, and
/// compares with refs[field + "_decode"] / refs[field + "_decode_keep"].
size_t compareDecodes(const Tokenizer &tok, const std::string &field) {
  const Fixtures &f = fixtures();
  size_t bad = 0, compared = 0;
  for (size_t i = 0; i < f.corpus.size(); ++i) {
    if (f.refs[i][field + "_decode"].isNull())
      continue;
    ++compared;
    std::vector<int64_t> in = ids(f.refs[i][field]);
    for (bool skip : {true, false}) {
      const std::string &want = f.refs[i][field + (skip ? "_decode" : "_decode_keep")].string;
      std::string got = tok.decode(in, skip);
      if (got != want && ++bad <= 5)
        ADD_FAILURE() << field << " line " << i + 1 << " skipSpecial=" << skip
                      << "\n  tokenizers: " << quote(want) << "\n  tfc:        " << quote(got);
    }
  }
  EXPECT_GT(compared, 0u) << "no line has the reference '" << field << "_decode'";
  return bad;
}

std::string errorOf(const TokenizerConfig &config) {
  try {
    Tokenizer::create(config);
  } catch (const tfc::rt::Error &e) {
    EXPECT_EQ(e.code(), TFC_INVALID_PLAN) << e.what();
    return e.what();
  }
  return "(no error)";
}

TEST(Tokenizer, FixturesAreComplete) {
  const Fixtures &f = fixtures();
  if (!getenv("TFC_TOKENIZER_FIXTURES"))
    EXPECT_GE(f.corpus.size(), 2000u);
  EXPECT_EQ(f.refs.size(), f.corpus.size());
  EXPECT_EQ(f.wordPiece.vocabulary.size(), 30522u);
  // bpe_vocab.json's tokens and <|endoftext|> after them.
  EXPECT_EQ(f.bpe.vocabulary.size(),
            static_cast<size_t>(f.config["bpe"]["vocabulary_size"].number) + 1);
  EXPECT_EQ(f.bpe.vocabulary.back(), "<|endoftext|>");
  EXPECT_EQ(f.bpe.merges.size(), static_cast<size_t>(f.config["bpe"]["merges"].number));
}

TEST(Tokenizer, WordPieceMatchesHuggingFaceOnEveryLine) {
  auto tok = Tokenizer::create(fixtures().wordPiece);
  EXPECT_EQ(compareAll(*tok, "wp"), 0u);
}

TEST(Tokenizer, ByteLevelBpeMatchesHuggingFaceOnEveryLine) {
  auto tok = Tokenizer::create(fixtures().bpe);
  EXPECT_EQ(compareAll(*tok, "bpe"), 0u);
}

TEST(Tokenizer, WordPieceWithoutNormalization) {
  TokenizerConfig c = fixtures().wordPiece;
  c.lowercase = c.stripAccents = c.handleChineseChars = c.cleanText = false;
  auto tok = Tokenizer::create(c);
  EXPECT_EQ(compareAll(*tok, "wp_plain"), 0u);
}

TEST(Tokenizer, ByteLevelBpeWithPrefixSpace) {
  TokenizerConfig c = fixtures().bpe;
  c.addPrefixSpace = true;
  auto tok = Tokenizer::create(c);
  EXPECT_EQ(compareAll(*tok, "bpe_prefix"), 0u);
}

// [MASK] (BERT) and <|endoftext|> (GPT-2) in the text are their ids, as in tokenizers.
TEST(Tokenizer, SpecialTokensInTheTextAreTheirIds) {
  const Fixtures &f = fixtures();
  auto wp = Tokenizer::create(f.wordPiece);
  EXPECT_EQ(wp->encode("Hello [MASK] world").tokens,
            (std::vector<std::string>{"[CLS]", "hello", "[MASK]", "world", "[SEP]"}));
  EXPECT_EQ(wp->encode("un[MASK]able [mask] [MASK", false).tokens,
            (std::vector<std::string>{"un", "[MASK]", "able", "[", "mask", "]", "[", "mask"}));
  auto bpe = Tokenizer::create(f.bpe);
  Encoding e = bpe->encode("Hello<|endoftext|>World<|endof");
  ASSERT_EQ(e.tokens.size(), 5u) << show(e.ids);
  EXPECT_EQ(e.tokens[1], "<|endoftext|>");
  EXPECT_EQ(e.ids[1], 6000); // the id tokenizers gives it after the 6000-token vocabulary
  EXPECT_EQ(bpe->decode(e.ids, true), "HelloWorld<|endof");
  EXPECT_EQ(bpe->decode(e.ids, false), "Hello<|endoftext|>World<|endof");
}

// A 1.1 plan has no added-token list: unk/cls/sep/pad are still special added tokens (matched
// in the raw text, dropped on decode); other tokens such as [MASK] are text, as before.
TEST(Tokenizer, WithoutAddedTokensTheConfiguredSpecialsStillMatch) {
  TokenizerConfig c = fixtures().wordPiece;
  c.addedTokens.clear();
  auto tok = Tokenizer::create(c);
  Encoding e = tok->encode("a [SEP] b [PAD][UNK] [MASK]", false);
  EXPECT_EQ(e.tokens, (std::vector<std::string>{"a", "[SEP]", "b", "[PAD]", "[UNK]", "[", "mask",
                                                "]"}));
  EXPECT_EQ(tok->decode(e.ids, true), "a b [ mask ]");
}

// Added tokens with every option (single_word, lstrip, rstrip, normalized, special or not).
TEST(Tokenizer, AddedTokensMatchHuggingFace) {
  const Fixtures &f = fixtures();
  EXPECT_EQ(compareAll(*Tokenizer::create(f.wordPieceAdded), "wp_added"), 0u);
  EXPECT_EQ(compareAll(*Tokenizer::create(f.bpeAdded), "bpe_added"), 0u);
}

TEST(Tokenizer, AddedTokensDecodeMatchesHuggingFace) {
  const Fixtures &f = fixtures();
  EXPECT_EQ(compareDecodes(*Tokenizer::create(f.wordPieceAdded), "wp_added"), 0u);
  EXPECT_EQ(compareDecodes(*Tokenizer::create(f.bpeAdded), "bpe_added"), 0u);
}

TEST(Tokenizer, ByteLevelBpeDecodeMatchesHuggingFace) {
  EXPECT_EQ(compareDecodes(*Tokenizer::create(fixtures().bpe), "bpe"), 0u);
}

TEST(Tokenizer, ByteLevelBpeDecodeRoundTrips) {
  const Fixtures &f = fixtures();
  auto tok = Tokenizer::create(f.bpe);
  size_t bad = 0;
  for (size_t i = 0; i < f.corpus.size(); ++i) {
    std::string back = tok->decode(tok->encode(f.corpus[i]).ids, false);
    if (back != f.corpus[i] && ++bad <= 5)
      ADD_FAILURE() << "line " << i + 1 << " " << quote(f.corpus[i]) << " decodes to "
                    << quote(back);
  }
  EXPECT_EQ(bad, 0u);
}

TEST(Tokenizer, WordPieceDecodeMatchesHuggingFace) {
  EXPECT_EQ(compareDecodes(*Tokenizer::create(fixtures().wordPiece), "wp"), 0u);
}

TEST(Tokenizer, TruncationKeepsSpecialTokens) {
  const Fixtures &f = fixtures();
  TokenizerConfig wp = f.wordPiece, bpe = f.bpe;
  wp.maxLength = bpe.maxLength = f.truncation;
  auto wpTok = Tokenizer::create(wp);
  auto bpeTok = Tokenizer::create(bpe);
  EXPECT_EQ(compareAll(*wpTok, "wp_trunc"), 0u);
  EXPECT_EQ(compareAll(*wpTok, "wp_trunc_nospecial", false), 0u);
  EXPECT_EQ(compareAll(*bpeTok, "bpe_trunc"), 0u);

  Encoding e = wpTok->encode("the quick brown fox jumps over the lazy dog again and again and "
                             "again and again");
  ASSERT_EQ(e.ids.size(), static_cast<size_t>(f.truncation));
  EXPECT_EQ(e.tokens.front(), "[CLS]");
  EXPECT_EQ(e.tokens.back(), "[SEP]");
  EXPECT_EQ(e.tokens[1], "the");
  Encoding plain = Tokenizer::create(f.wordPiece)->encode("Hello, world!");
  EXPECT_EQ(plain.tokens, (std::vector<std::string>{"[CLS]", "hello", ",", "world", "!", "[SEP]"}));
  Encoding bare = Tokenizer::create(f.wordPiece)->encode("Hello, world!", false);
  EXPECT_EQ(bare.tokens, (std::vector<std::string>{"hello", ",", "world", "!"}));
}

TEST(Tokenizer, InvalidUtf8BecomesReplacementChar) {
  namespace u = tfc::text::unicode;
  EXPECT_EQ(u::sanitizeUtf8("a\xff" "b"), "a\xEF\xBF\xBD" "b");
  // One U+FFFD per maximal invalid subsequence: E2 82 is a truncated 3-byte sequence.
  EXPECT_EQ(u::sanitizeUtf8("\xE2\x82" "x"), "\xEF\xBF\xBD" "x");
  EXPECT_EQ(u::sanitizeUtf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"); // surrogate
  EXPECT_EQ(u::sanitizeUtf8("\xF0\x9F\x98\x80"), "\xF0\x9F\x98\x80");
  const Fixtures &f = fixtures();
  auto bpe = Tokenizer::create(f.bpe);
  EXPECT_EQ(bpe->encode("ab\xff").ids, bpe->encode("ab\xEF\xBF\xBD").ids);
  // The token of the lone byte C3 (the lead byte of "é") decodes to U+FFFD.
  const auto &vocab = f.bpe.vocabulary;
  int64_t lead = std::find(vocab.begin(), vocab.end(), "\xC3\x83") - vocab.begin(); // "Ã"
  ASSERT_LT(lead, static_cast<int64_t>(vocab.size()));
  EXPECT_EQ(bpe->decode({lead}), "\xEF\xBF\xBD");
  EXPECT_EQ(bpe->decode({lead, lead}), "\xEF\xBF\xBD\xEF\xBF\xBD");
  auto wp = Tokenizer::create(f.wordPiece);
  EXPECT_EQ(wp->encode("a\xff" "b").tokens, (std::vector<std::string>{"[CLS]", "ab", "[SEP]"}));
}

TEST(Tokenizer, DecodeRejectsIdsOutsideTheVocabulary) {
  auto tok = Tokenizer::create(fixtures().bpe);
  int64_t n = static_cast<int64_t>(fixtures().bpe.vocabulary.size());
  for (int64_t id : {n, int64_t(-1)}) {
    try {
      tok->decode({1, id});
      ADD_FAILURE() << "no error for id " << id;
    } catch (const tfc::rt::Error &e) {
      EXPECT_EQ(e.code(), TFC_OUT_OF_RANGE);
      std::string want = "tokenizer: id " + std::to_string(id) + " is outside the vocabulary [0, " +
                         std::to_string(n) + ")";
      EXPECT_EQ(e.what(), want);
    }
  }
}

TEST(Tokenizer, ConfigurationErrorsNameTheProblem) {
  const Fixtures &f = fixtures();
  TokenizerConfig c = f.wordPiece;
  c.unkToken = "[NOPE]";
  EXPECT_EQ(errorOf(c), "tokenizer: unk_token '[NOPE]' is not in the vocabulary");
  c = f.wordPiece;
  c.unkToken.clear();
  EXPECT_EQ(errorOf(c), "tokenizer: WordPiece needs an unk_token");
  c = f.wordPiece;
  c.sepToken.clear();
  EXPECT_EQ(errorOf(c), "tokenizer: cls_token and sep_token must be given together");
  c = f.wordPiece;
  c.vocabulary.clear();
  EXPECT_EQ(errorOf(c), "tokenizer: the vocabulary is empty");
  c = f.wordPiece;
  c.vocabulary.push_back("the");
  EXPECT_EQ(errorOf(c), "tokenizer: duplicate token 'the' (ids 1996 and 30522)");
  c = f.wordPiece;
  c.maxLength = 1;
  EXPECT_EQ(errorOf(c), "tokenizer: max_length 1 is shorter than the 2 special tokens (cls, sep)");
  c = f.wordPiece;
  c.kind = TokenizerKind::None;
  EXPECT_EQ(errorOf(c), "tokenizer: no tokenizer kind given");
  c.kind = static_cast<TokenizerKind>(7);
  EXPECT_EQ(errorOf(c), "tokenizer: unknown tokenizer kind 7");

  TokenizerConfig b = f.bpe;
  const std::string last = std::to_string(f.bpe.merges.size()); // the index of an appended merge
  b.merges.push_back("Ġt zzzq");
  EXPECT_EQ(errorOf(b), "tokenizer: merge " + last + " 'Ġt zzzq': 'zzzq' is not in the vocabulary");
  b = f.bpe;
  b.merges.insert(b.merges.begin(), "a b c");
  EXPECT_EQ(errorOf(b), "tokenizer: merge 0 'a b c' is not two tokens 'left right'");
  b = f.bpe;
  b.merges.push_back("x q"); // both tokens, but "xq" is not one
  EXPECT_EQ(errorOf(b), "tokenizer: merge " + last + " 'x q': 'xq' is not in the vocabulary");
  b = f.bpe;
  b.vocabulary.erase(b.vocabulary.begin()); // the token of byte '!'
  EXPECT_EQ(errorOf(b).rfind("tokenizer: byte-level vocabulary lacks the token '!' of byte 0x21",
                             0),
            0u);
  b = f.bpe;
  b.vocabulary.clear();
  EXPECT_EQ(errorOf(b), "tokenizer: the vocabulary is empty");

  b = f.bpe;
  b.addedTokens.push_back({"<|nope|>"});
  EXPECT_EQ(errorOf(b), "tokenizer: added token '<|nope|>' is not in the vocabulary");
  b = f.bpe;
  b.addedTokens.push_back(b.addedTokens[0]);
  EXPECT_EQ(errorOf(b), "tokenizer: added token '<|endoftext|>' is listed twice");
  b = f.bpe;
  b.addedTokens.insert(b.addedTokens.begin(), AddedToken{});
  EXPECT_EQ(errorOf(b), "tokenizer: added token 0 is the empty string");
}

// A checkpoint whose embedding table has more rows than the tokenizer has tokens (vocab_size
// padded): the importer leaves those ids "" and the plan must still load (it was refused:
// "vocabulary entry N is the empty string"); they are never produced and decode to nothing.
TEST(Tokenizer, PaddedVocabularyIdsAreUnused) {
  for (TokenizerConfig c : {fixtures().wordPiece, fixtures().bpe}) {
    auto plain = Tokenizer::create(c);
    size_t n = c.vocabulary.size();
    c.vocabulary.resize(n + 7);  // 7 padding ids at the end
    auto padded = Tokenizer::create(c);
    for (const char *text : {"Hello world, how are you?", "unaffable [MASK] tokens"}) {
      std::vector<int64_t> ids = padded->encode(text).ids;
      EXPECT_EQ(ids, plain->encode(text).ids) << text;
      for (int64_t id : ids)
        EXPECT_LT(id, static_cast<int64_t>(n));
      std::vector<int64_t> withPad = ids;
      withPad.insert(withPad.begin() + 1, static_cast<int64_t>(n + 3));
      EXPECT_EQ(padded->decode(withPad, false), plain->decode(ids, false)) << text;
    }
  }
  TokenizerConfig none = fixtures().bpe;
  for (std::string &t : none.vocabulary)
    t.clear();
  none.addedTokens.clear();
  EXPECT_NE(errorOf(none).find("every vocabulary entry is the empty string"), std::string::npos);
}

} // namespace
