//===- Tokenizer.cpp - Tokenizer::create, special tokens, truncation, decode ------------------===//
//
// The model-independent part of the tokenizers (see TokenizerImpl.h). Configuration errors
// throw tfc::rt::Error(TFC_INVALID_PLAN) with a message naming the problem.
//
//===----------------------------------------------------------------------------------------===//
#include "text/TokenizerImpl.h"

#include "Error.h"
#include "text/Unicode.h"

namespace tfc::text {

using rt::fail;

std::unique_ptr<Tokenizer> Tokenizer::create(const TokenizerConfig &config) {
  switch (config.kind) {
  case TokenizerKind::WordPiece:
    return makeWordPiece(config);
  case TokenizerKind::ByteLevelBpe:
    return makeByteLevelBpe(config);
  case TokenizerKind::None:
    fail(TFC_INVALID_PLAN, "tokenizer: no tokenizer kind given");
  }
  fail(TFC_INVALID_PLAN, "tokenizer: unknown tokenizer kind %d", static_cast<int>(config.kind));
}

TokenizerBase::TokenizerBase(const TokenizerConfig &config) : config_(config) {
  const auto &vocab = config_.vocabulary;
  if (vocab.empty())
    fail(TFC_INVALID_PLAN, "tokenizer: the vocabulary is empty");
  vocab_.reserve(vocab.size());
  for (size_t i = 0; i < vocab.size(); ++i) {
    if (vocab[i].empty())
      fail(TFC_INVALID_PLAN, "tokenizer: vocabulary entry %zu is the empty string", i);
    auto [it, inserted] = vocab_.emplace(vocab[i], static_cast<int64_t>(i));
    if (!inserted)
      fail(TFC_INVALID_PLAN, "tokenizer: duplicate token '%s' (ids %lld and %zu)",
           vocab[i].c_str(), static_cast<long long>(it->second), i);
  }
  if (config_.maxLength < 0)
    fail(TFC_INVALID_PLAN, "tokenizer: max_length %d is negative", config_.maxLength);
  isSpecial_.assign(vocab.size(), false);
  auto special = [&](const std::string &token, const char *what) {
    if (token.empty())
      return int64_t(-1);
    int64_t id = requireToken(token, what);
    isSpecial_[static_cast<size_t>(id)] = true;
    bool seen = false;
    for (const auto &s : specials_)
      seen |= s == token;
    if (!seen)
      specials_.push_back(token);
    return id;
  };
  special(config_.unkToken, "unk_token");
  int64_t cls = special(config_.clsToken, "cls_token");
  int64_t sep = special(config_.sepToken, "sep_token");
  special(config_.padToken, "pad_token");
  if ((cls < 0) != (sep < 0))
    fail(TFC_INVALID_PLAN, "tokenizer: cls_token and sep_token must be given together");
  if (cls >= 0) {
    clsId_ = cls, sepId_ = sep;
    if (config_.maxLength == 1)
      fail(TFC_INVALID_PLAN,
           "tokenizer: max_length 1 is shorter than the 2 special tokens (cls, sep)");
  }
}

int64_t TokenizerBase::requireToken(const std::string &token, const char *what) const {
  int64_t id = idOf(token);
  if (id < 0)
    fail(TFC_INVALID_PLAN, "tokenizer: %s '%s' is not in the vocabulary", what, token.c_str());
  return id;
}

Encoding TokenizerBase::encode(std::string_view text, bool addSpecial) const {
  std::string clean = unicode::sanitizeUtf8(text);
  Encoding body;
  // Special tokens found verbatim (leftmost, then longest) are their own ids.
  size_t start = 0, i = 0;
  while (i < clean.size()) {
    size_t best = 0;
    const std::string *match = nullptr;
    for (const auto &s : specials_)
      if (s.size() > best && clean.compare(i, s.size(), s) == 0)
        best = s.size(), match = &s;
    if (!match) {
      ++i;
      continue;
    }
    if (i > start)
      encodeSegment(std::string_view(clean).substr(start, i - start), body);
    push(body, vocab_.at(*match));
    i += best;
    start = i;
  }
  if (start < clean.size())
    encodeSegment(std::string_view(clean).substr(start), body);

  bool wrap = addSpecial && clsId_ >= 0;
  if (config_.maxLength > 0) {
    size_t keep = static_cast<size_t>(config_.maxLength) - (wrap ? 2 : 0);
    if (body.ids.size() > keep) {
      body.ids.resize(keep);
      body.tokens.resize(keep);
    }
  }
  if (!wrap)
    return body;
  Encoding out;
  out.ids.reserve(body.ids.size() + 2);
  out.tokens.reserve(body.ids.size() + 2);
  push(out, clsId_);
  out.ids.insert(out.ids.end(), body.ids.begin(), body.ids.end());
  out.tokens.insert(out.tokens.end(), std::make_move_iterator(body.tokens.begin()),
                    std::make_move_iterator(body.tokens.end()));
  push(out, sepId_);
  return out;
}

std::string TokenizerBase::decode(const std::vector<int64_t> &ids, bool skipSpecial) const {
  std::vector<const std::string *> tokens;
  tokens.reserve(ids.size());
  for (int64_t id : ids) {
    if (id < 0 || static_cast<uint64_t>(id) >= config_.vocabulary.size())
      fail(TFC_OUT_OF_RANGE, "tokenizer: id %lld is outside the vocabulary [0, %zu)",
           static_cast<long long>(id), config_.vocabulary.size());
    if (skipSpecial && isSpecial_[static_cast<size_t>(id)])
      continue;
    tokens.push_back(&config_.vocabulary[static_cast<size_t>(id)]);
  }
  return decodeTokens(tokens);
}

} // namespace tfc::text
