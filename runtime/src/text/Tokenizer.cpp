//===- Tokenizer.cpp - Tokenizer::create, added tokens, truncation, decode --------------------===//
//
// The model-independent part of the tokenizers (see TokenizerImpl.h). Configuration errors
// throw tfc::rt::Error(TFC_INVALID_PLAN) with a message naming the problem.
//
//===----------------------------------------------------------------------------------------===//
#include "text/TokenizerImpl.h"

#include "Error.h"
#include "text/Unicode.h"

#include <cstdint>
#include <functional>

namespace tfc::text {

using rt::fail;

std::unique_ptr<Tokenizer> Tokenizer::create(TokenizerConfig config) {
  std::unique_ptr<TokenizerBase> t;
  switch (config.kind) {
  case TokenizerKind::WordPiece:
    t = makeWordPiece(std::move(config));
    break;
  case TokenizerKind::ByteLevelBpe:
    t = makeByteLevelBpe(std::move(config));
    break;
  case TokenizerKind::None:
    fail(TFC_INVALID_PLAN, "tokenizer: no tokenizer kind given");
  default:
    fail(TFC_INVALID_PLAN, "tokenizer: unknown tokenizer kind %d", static_cast<int>(config.kind));
  }
  t->indexAddedTokens();
  return t;
}

VocabIndex::VocabIndex(const std::vector<std::string> &vocabulary) : vocabulary_(vocabulary) {
  if (vocabulary.size() > size_t(INT32_MAX) / 2)
    fail(TFC_INVALID_PLAN, "tokenizer: the vocabulary has %zu tokens, more than %d",
         vocabulary.size(), INT32_MAX / 2);
  size_t n = 16;
  while (n < 2 * vocabulary.size())
    n *= 2;
  slots_.assign(n, -1);
  mask_ = n - 1;
}

int64_t VocabIndex::insert(int64_t id) {
  const std::string &token = vocabulary_[size_t(id)];
  for (size_t i = std::hash<std::string_view>()(token) & mask_;; i = (i + 1) & mask_) {
    if (slots_[i] < 0) {
      slots_[i] = int32_t(id);
      return -1;
    }
    if (vocabulary_[size_t(slots_[i])] == token)
      return slots_[i];
  }
}

int64_t VocabIndex::find(std::string_view token) const {
  for (size_t i = std::hash<std::string_view>()(token) & mask_;; i = (i + 1) & mask_) {
    if (slots_[i] < 0)
      return -1;
    if (vocabulary_[size_t(slots_[i])] == token)
      return slots_[i];
  }
}

TokenizerBase::TokenizerBase(TokenizerConfig config) : config_(std::move(config)) {
  const auto &vocab = config_.vocabulary;
  if (vocab.empty())
    fail(TFC_INVALID_PLAN, "tokenizer: the vocabulary is empty");
  size_t used = 0;
  for (size_t i = 0; i < vocab.size(); ++i) {
    // An empty entry is an id the tokenizer does not have: a checkpoint whose embedding table
    // has more rows than its vocabulary (padded to a multiple of 64, say). It is never produced
    // by tokenize and decodes to nothing, as Hugging Face's id_to_token gives None for it.
    if (vocab[i].empty())
      continue;
    ++used;
    if (int64_t earlier = vocab_.insert(static_cast<int64_t>(i)); earlier >= 0)
      fail(TFC_INVALID_PLAN, "tokenizer: duplicate token '%s' (ids %lld and %zu)",
           vocab[i].c_str(), static_cast<long long>(earlier), i);
  }
  if (used == 0)
    fail(TFC_INVALID_PLAN, "tokenizer: every vocabulary entry is the empty string");
  if (config_.maxLength < 0)
    fail(TFC_INVALID_PLAN, "tokenizer: max_length %d is negative", config_.maxLength);
  for (size_t i = 0; i < config_.addedTokens.size(); ++i) {
    const AddedToken &t = config_.addedTokens[i];
    if (t.content.empty())
      fail(TFC_INVALID_PLAN, "tokenizer: added token %zu is the empty string", i);
    int64_t id = idOf(t.content);
    if (id < 0)
      fail(TFC_INVALID_PLAN, "tokenizer: added token '%s' is not in the vocabulary",
           t.content.c_str());
    for (const auto &a : added_)
      if (a.second == id)
        fail(TFC_INVALID_PLAN, "tokenizer: added token '%s' is listed twice", t.content.c_str());
    added_.emplace_back(t, id);
  }
  // The configured special tokens are special added tokens matched in the raw text, as Hugging
  // Face's converted tokenizers have them, unless listed with other options.
  auto special = [&](const std::string &token, const char *what) {
    if (token.empty())
      return int64_t(-1);
    int64_t id = requireToken(token, what);
    bool listed = false;
    for (const auto &a : added_)
      listed |= a.second == id;
    if (!listed) {
      AddedToken t;
      t.content = token;
      added_.emplace_back(std::move(t), id);
    }
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
  isSpecial_.assign(vocab.size(), false);
  for (const auto &[token, id] : added_)
    isSpecial_[static_cast<size_t>(id)] = token.special;
}

void TokenizerBase::indexAddedTokens() {
  // Special tokens first, then the others (tokenizers' pattern order: equal patterns go to the
  // first); each set in the order listed.
  for (bool special : {true, false})
    for (const auto &[token, id] : added_) {
      if (token.special != special)
        continue;
      AddedTokenMatcher::Pattern p;
      p.text = token.normalized ? normalize(unicode::sanitizeUtf8(token.content))
                                : token.content;
      p.id = id;
      p.singleWord = token.singleWord;
      p.lstrip = token.lstrip;
      p.rstrip = token.rstrip;
      (token.normalized ? normalized_ : raw_).add(std::move(p)); // an empty pattern never matches
    }
}

int64_t TokenizerBase::requireToken(const std::string &token, const char *what) const {
  int64_t id = idOf(token);
  if (id < 0)
    fail(TFC_INVALID_PLAN, "tokenizer: %s '%s' is not in the vocabulary", what, token.c_str());
  return id;
}

Encoding TokenizerBase::encode(std::string_view text, bool addSpecial, bool truncate) const {
  std::string clean = unicode::sanitizeUtf8(text);
  std::string_view all(clean);
  Encoding body;
  for (const AddedTokenMatcher::Piece &piece : raw_.split(all)) {
    if (piece.id >= 0) {
      push(body, piece.id);
      continue;
    }
    if (piece.begin == piece.end)
      continue;
    std::string norm = normalize(all.substr(piece.begin, piece.end - piece.begin));
    std::string_view normView(norm);
    for (const AddedTokenMatcher::Piece &part : normalized_.split(normView)) {
      if (part.id >= 0)
        push(body, part.id);
      else if (part.begin < part.end)
        encodeNormalized(normView.substr(part.begin, part.end - part.begin), body);
    }
  }

  bool wrap = addSpecial && clsId_ >= 0;
  size_t untruncated = body.ids.size() + (wrap ? 2 : 0);
  if (truncate && config_.maxLength > 0) {
    size_t keep = static_cast<size_t>(config_.maxLength) - (wrap ? 2 : 0);
    if (body.ids.size() > keep) {
      body.ids.resize(keep);
      body.tokens.resize(keep);
    }
  }
  if (!wrap) {
    body.untruncatedSize = untruncated;
    return body;
  }
  Encoding out;
  out.untruncatedSize = untruncated;
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
    if (config_.vocabulary[static_cast<size_t>(id)].empty())
      continue;  // an id the tokenizer does not have (padding rows): decodes to nothing
    tokens.push_back(&config_.vocabulary[static_cast<size_t>(id)]);
  }
  return decodeTokens(tokens);
}

} // namespace tfc::text
