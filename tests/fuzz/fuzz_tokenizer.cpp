//===- fuzz_tokenizer.cpp - libFuzzer: the runtime's tokenizers on any text (runtime/src/text) -===//
//
// Input: byte 0 picks the tokenizer and options, the rest is the text (any bytes: invalid
// UTF-8, control chars, added tokens). The tokenizers are BERT's WordPiece and GPT-2's byte-level
// BPE as the fixtures of tests/tokenizer/ configure them (vocabularies and merges read once).
// encode, then decode of the ids; a crash, a hang or a sanitizer report is a finding, and so is
// an id outside the vocabulary.
//
//===----------------------------------------------------------------------------------------===//
#include "text/Tokenizer.h"

#include "MiniJson.h"

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

using tfc::text::Tokenizer;
using tfc::text::TokenizerConfig;
using tfc::text::TokenizerKind;
namespace mj = tfc::minijson;

namespace {

const std::string kDir = TFC_SOURCE_DIR "/tests/tokenizer/";

std::string readFile(const std::string &path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

TokenizerConfig wordPiece(bool lowercase) {
  TokenizerConfig c;
  c.kind = TokenizerKind::WordPiece;
  std::istringstream vocab(readFile(kDir + "bert_vocab.txt"));
  for (std::string line; std::getline(vocab, line);)
    c.vocabulary.push_back(line);
  c.lowercase = c.stripAccents = lowercase;
  c.continuingSubwordPrefix = "##";
  c.unkToken = "[UNK]";
  c.clsToken = "[CLS]";
  c.sepToken = "[SEP]";
  c.padToken = "[PAD]";
  c.maxLength = lowercase ? 0 : 64;
  return c;
}

TokenizerConfig bpe(bool prefixSpace) {
  TokenizerConfig c;
  c.kind = TokenizerKind::ByteLevelBpe;
  mj::Value vocab;
  std::string error;
  if (!mj::Parser(readFile(kDir + "bpe_vocab.json")).parse(vocab, error))
    std::abort();
  c.vocabulary.resize(vocab.object.size());
  for (const auto &[token, id] : vocab.object)
    c.vocabulary.at(size_t(id.number)) = token;
  std::istringstream merges(readFile(kDir + "bpe_merges.txt"));
  for (std::string line; std::getline(merges, line);)
    if (!line.empty() && line.rfind("#version", 0) != 0)
      c.merges.push_back(line);
  c.addPrefixSpace = prefixSpace;
  return c;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const Tokenizer *tokenizers[4] = {
      Tokenizer::create(wordPiece(true)).release(), Tokenizer::create(wordPiece(false)).release(),
      Tokenizer::create(bpe(false)).release(), Tokenizer::create(bpe(true)).release()};
  static const size_t vocabSizes[4] = {wordPiece(true).vocabulary.size(),
                                       wordPiece(true).vocabulary.size(),
                                       bpe(false).vocabulary.size(), bpe(false).vocabulary.size()};
  if (size == 0)
    return 0;
  const int which = data[0] & 3;
  const bool addSpecial = (data[0] & 4) != 0;
  std::string_view text(reinterpret_cast<const char *>(data + 1), size - 1);
  try {
    auto encoding = tokenizers[which]->encode(text, addSpecial);
    for (int64_t id : encoding.ids)
      if (id < 0 || size_t(id) >= vocabSizes[which])
        std::abort(); // an id outside the vocabulary
    (void)tokenizers[which]->decode(encoding.ids, (data[0] & 8) != 0);
  } catch (const std::exception &) {
    // a refused text (e.g. rules of the tokenizer) is fine
  }
  return 0;
}
