//===- TokenizerFiles.cpp - HF tokenizer files -> model.fbs Tokenizer -----===//
//
// Prefers tokenizer.json (a `tokenizers` fast tokenizer: model WordPiece or
// BPE, BertNormalizer flags, the post-processor's [CLS]/[SEP], added_tokens);
// else vocab.txt (+ tokenizer_config.json do_lower_case, strip_accents) for
// WordPiece, or vocab.json + merges.txt for byte-level BPE, with the added
// tokens transformers would give them: tokenizer_config.json's
// added_tokens_decoder, then the special tokens named there and in
// special_tokens_map.json (special, matched in the raw text unless they say
// otherwise; those not in the vocabulary are left out). tokenizer_config.json
// gives model_max_length (capped at the model's max positions); a
// sentence-transformers sentence_bert_config.json's max_seq_length wins. No
// tokenizer files, or a tokenizer the runtime does not implement (SentencePiece /
// Unigram, a BPE without the plain ByteLevel pre-tokenizer: llama, gemma, qwen2,
// albert, xlm-roberta): the model takes ids only, and a note says so.
//
//===----------------------------------------------------------------------===//
#include "Internal.h"

#include "tfc/schema/model_generated.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringRef.h"

#include <filesystem>
#include <map>
#include <set>

namespace tfc::hf {

namespace {

namespace fs = std::filesystem;
namespace fb = tfc::model;

/// An added/special token string from tokenizer_config.json: a string or {"content": ...}.
std::string tokenString(const llvm::json::Object *o, llvm::StringRef key, std::string dflt) {
  if (!o)
    return dflt;
  const llvm::json::Value *v = o->get(key);
  if (!v)
    return dflt;
  if (auto s = v->getAsString())
    return s->str();
  if (const llvm::json::Object *obj = v->getAsObject())
    if (auto s = obj->getString("content"))
      return s->str();
  return dflt;
}

using AddedToken = decltype(ImportedModel::tokenizer)::Added;

/// An added token's options from a tokenizer.json / tokenizer_config.json object.
AddedToken addedToken(const llvm::json::Object &o, std::string content, bool special) {
  AddedToken t;
  t.content = std::move(content);
  t.special = o.getBoolean("special").value_or(special);
  t.singleWord = o.getBoolean("single_word").value_or(false);
  t.lstrip = o.getBoolean("lstrip").value_or(false);
  t.rstrip = o.getBoolean("rstrip").value_or(false);
  t.normalized = o.getBoolean("normalized").value_or(!t.special);
  return t;
}

bool listed(const std::vector<AddedToken> &tokens, const std::string &content) {
  for (const AddedToken &t : tokens)
    if (t.content == content)
      return true;
  return false;
}

/// Without tokenizer.json: tokenizer_config.json's added_tokens_decoder ({"id": {content, ...}},
/// by id; their ids join the vocabulary), then the special tokens of tokenizer_config.json and
/// special_tokens_map.json that are in the vocabulary, as transformers adds them to a converted
/// tokenizer (a string: special, matched in the raw text).
Status addedTokensFromConfig(const std::string &dir, const llvm::json::Object *config,
                             const llvm::json::Object *specialMap,
                             std::map<int64_t, std::string> &ids, std::vector<AddedToken> &out) {
  const llvm::json::Object *decoder = config ? config->getObject("added_tokens_decoder") : nullptr;
  if (decoder) {
    std::map<int64_t, AddedToken> byId;
    for (const auto &kv : *decoder) {
      int64_t id = -1;
      const llvm::json::Object *o = kv.second.getAsObject();
      auto content = o ? o->getString("content") : std::nullopt;
      if (!llvm::to_integer(kv.first.str(), id, 10) || id < 0 || !content || content->empty())
        return fail(dir + "/tokenizer_config.json",
                    "added_tokens_decoder entry '" + kv.first.str() +
                        "' is not an id with an object holding a non-empty content");
      byId[id] = addedToken(*o, content->str(), false);
    }
    for (auto &[id, token] : byId) {
      ids[id] = token.content;
      out.push_back(std::move(token));
    }
  }
  std::set<std::string> vocabulary;
  for (const auto &kv : ids)
    vocabulary.insert(kv.second);
  auto add = [&](const llvm::json::Value &v) {
    AddedToken t;
    if (auto s = v.getAsString())
      t.content = s->str();
    else if (const llvm::json::Object *o = v.getAsObject())
      t = addedToken(*o, o->getString("content").value_or("").str(), true);
    t.special = true;
    if (!t.content.empty() && vocabulary.count(t.content) && !listed(out, t.content))
      out.push_back(std::move(t));
  };
  for (const llvm::json::Object *o : {config, specialMap}) {
    if (!o)
      continue;
    for (const char *key : {"bos_token", "eos_token", "unk_token", "sep_token", "pad_token",
                            "cls_token", "mask_token"})
      if (const llvm::json::Value *v = o->get(key))
        add(*v);
    if (const llvm::json::Array *extra = o->getArray("additional_special_tokens"))
      for (const llvm::json::Value &v : *extra)
        add(v);
  }
  return {};
}

Status vocabFromMap(const std::string &file, const llvm::json::Object &vocab,
                    std::map<int64_t, std::string> &ids) {
  for (const auto &kv : vocab) {
    auto id = kv.second.getAsInteger();
    if (!id || *id < 0)
      return fail(file, "vocabulary entry '" + kv.first.str() + "' has no valid id");
    ids[*id] = kv.first.str();
  }
  return {};
}

Status mergesFromJson(const std::string &file, const llvm::json::Array &merges,
                      std::vector<std::string> &out) {
  for (const llvm::json::Value &m : merges) {
    if (auto s = m.getAsString()) {
      out.push_back(s->str());
    } else if (const llvm::json::Array *pair = m.getAsArray();
               pair && pair->size() == 2 && (*pair)[0].getAsString() &&
               (*pair)[1].getAsString()) {
      out.push_back((*pair)[0].getAsString()->str() + " " + (*pair)[1].getAsString()->str());
    } else {
      return fail(file, "model.merges has an entry that is neither \"a b\" nor [a, b]");
    }
  }
  return {};
}

Status readTokenizerJson(const std::string &file, ImportedModel &m,
                         std::map<int64_t, std::string> &ids) {
  llvm::json::Value root(nullptr);
  if (Status s = readJsonFile(file, root); !s.ok())
    return s;
  const llvm::json::Object *o = root.getAsObject();
  const llvm::json::Object *model = o ? o->getObject("model") : nullptr;
  if (!model)
    return fail(file, "missing key 'model'");
  auto &t = m.tokenizer;
  std::string type = model->getString("type").value_or("").str();
  const llvm::json::Object *vocab = model->getObject("vocab");
  if (!vocab)
    return fail(file, "missing key 'model.vocab' (an object token -> id)");
  if (Status s = vocabFromMap(file, *vocab, ids); !s.ok())
    return s;
  if (const llvm::json::Array *added = o->getArray("added_tokens"))
    for (const llvm::json::Value &a : *added) {
      const llvm::json::Object *ao = a.getAsObject();
      auto id = ao ? ao->getInteger("id") : std::nullopt;
      auto content = ao ? ao->getString("content") : std::nullopt;
      if (!id || *id < 0 || !content)
        return fail(file, "added_tokens has an entry without a valid id and a content");
      if (content->empty())
        continue;  // tokenizers ignores empty added tokens
      ids[*id] = content->str();
      if (!listed(m.tokenizer.addedTokens, content->str()))
        m.tokenizer.addedTokens.push_back(addedToken(*ao, content->str(), false));
    }

  if (type == "WordPiece") {
    t.kind = static_cast<int>(fb::TokenizerKind::WordPiece);
    t.unkToken = model->getString("unk_token").value_or("[UNK]").str();
    t.continuingSubwordPrefix = model->getString("continuing_subword_prefix").value_or("##").str();
    if (auto n = model->getInteger("max_input_chars_per_word"))
      t.maxInputCharsPerWord = static_cast<int32_t>(*n);
    const llvm::json::Object *norm = o->getObject("normalizer");
    std::string normType = norm ? norm->getString("type").value_or("").str() : "";
    if (norm && normType != "BertNormalizer")
      return fail(file, "normalizer type '" + normType +
                            "' is not supported for WordPiece (supported: BertNormalizer)");
    if (norm) {
      t.cleanText = norm->getBoolean("clean_text").value_or(true);
      t.handleChineseChars = norm->getBoolean("handle_chinese_chars").value_or(true);
      t.lowercase = norm->getBoolean("lowercase").value_or(true);
      t.stripAccents = norm->getBoolean("strip_accents").value_or(t.lowercase);
    }
    // [CLS] text [SEP] from the post-processor.
    if (const llvm::json::Object *pp = o->getObject("post_processor")) {
      std::string ppType = pp->getString("type").value_or("").str();
      if (ppType == "BertProcessing") {
        auto first = [](const llvm::json::Array *a) {
          return a && !a->empty() && (*a)[0].getAsString() ? (*a)[0].getAsString()->str()
                                                           : std::string();
        };
        t.clsToken = first(pp->getArray("cls"));
        t.sepToken = first(pp->getArray("sep"));
      } else if (ppType == "TemplateProcessing") {
        std::vector<std::string> specials;
        if (const llvm::json::Array *single = pp->getArray("single"))
          for (const llvm::json::Value &piece : *single)
            if (const llvm::json::Object *po = piece.getAsObject())
              if (const llvm::json::Object *sp = po->getObject("SpecialToken"))
                specials.push_back(sp->getString("id").value_or("").str());
        if (specials.size() == 2) {
          t.clsToken = specials[0];
          t.sepToken = specials[1];
        } else if (!specials.empty()) {
          return fail(file, "post_processor.single is not '[CLS] $A [SEP]'-shaped");
        }
      } else {
        return fail(file, "post_processor type '" + ppType +
                              "' is not supported for WordPiece (supported: BertProcessing, "
                              "TemplateProcessing)");
      }
    }
  } else if (type == "BPE") {
    t.kind = static_cast<int>(fb::TokenizerKind::ByteLevelBpe);
    const llvm::json::Object *pre = o->getObject("pre_tokenizer");
    if (!pre || pre->getString("type").value_or("") != "ByteLevel")
      return fail(file, "pre_tokenizer is not ByteLevel (only byte-level BPE is supported)");
    t.addPrefixSpace = pre->getBoolean("add_prefix_space").value_or(false);
    // <s> text </s> (RoBERTa).
    if (const llvm::json::Object *pp = o->getObject("post_processor");
        pp && pp->getString("type").value_or("") == "RobertaProcessing") {
      auto first = [](const llvm::json::Array *a) {
        return a && !a->empty() && (*a)[0].getAsString() ? (*a)[0].getAsString()->str()
                                                         : std::string();
      };
      t.clsToken = first(pp->getArray("cls"));
      t.sepToken = first(pp->getArray("sep"));
    }
    if (const llvm::json::Array *merges = model->getArray("merges")) {
      if (Status s = mergesFromJson(file, *merges, t.merges); !s.ok())
        return s;
    } else {
      return fail(file, "missing key 'model.merges'");
    }
  } else {
    return fail(file, "model.type '" + type + "' is not supported (supported: WordPiece, BPE)");
  }
  if (const llvm::json::Object *trunc = o->getObject("truncation"))
    if (auto n = trunc->getInteger("max_length"); n && *n > 0 && *n < (int64_t(1) << 31))
      t.maxLength = static_cast<int32_t>(*n);
  return {};
}

Status readVocabTxt(const std::string &file, const llvm::json::Object *config, ImportedModel &m,
                    std::map<int64_t, std::string> &ids) {
  std::string text;
  if (Status s = readTextFile(file, text); !s.ok())
    return s;
  llvm::SmallVector<llvm::StringRef> lines;
  llvm::StringRef(text).split(lines, '\n');
  if (!lines.empty() && lines.back().empty())
    lines.pop_back();
  for (size_t i = 0; i < lines.size(); ++i)
    ids[static_cast<int64_t>(i)] = lines[i].rtrim("\r").str();
  auto &t = m.tokenizer;
  t.kind = static_cast<int>(fb::TokenizerKind::WordPiece);
  t.lowercase = config ? config->getBoolean("do_lower_case").value_or(true) : true;
  t.stripAccents = t.lowercase;
  if (config)
    if (auto b = config->getBoolean("strip_accents"))
      t.stripAccents = *b;
  t.handleChineseChars = config ? config->getBoolean("tokenize_chinese_chars").value_or(true) : true;
  t.continuingSubwordPrefix = "##";
  t.unkToken = tokenString(config, "unk_token", "[UNK]");
  t.clsToken = tokenString(config, "cls_token", "[CLS]");
  t.sepToken = tokenString(config, "sep_token", "[SEP]");
  return {};
}

Status readVocabJsonMerges(const std::string &vocabFile, const std::string &mergesFile,
                           const llvm::json::Object *config, ImportedModel &m,
                           std::map<int64_t, std::string> &ids) {
  llvm::json::Value vocab(nullptr);
  if (Status s = readJsonFile(vocabFile, vocab); !s.ok())
    return s;
  if (!vocab.getAsObject())
    return fail(vocabFile, "not a JSON object token -> id");
  if (Status s = vocabFromMap(vocabFile, *vocab.getAsObject(), ids); !s.ok())
    return s;
  std::string text;
  if (Status s = readTextFile(mergesFile, text); !s.ok())
    return s;
  llvm::SmallVector<llvm::StringRef> lines;
  llvm::StringRef(text).split(lines, '\n');
  auto &t = m.tokenizer;
  for (size_t i = 0; i < lines.size(); ++i) {
    llvm::StringRef line = lines[i].rtrim("\r");
    if (line.empty() || (i == 0 && line.starts_with("#version")))
      continue;
    if (line.count(' ') != 1)
      return fail(mergesFile, "line " + std::to_string(i + 1) + " is not 'left right'");
    t.merges.push_back(line.str());
  }
  t.kind = static_cast<int>(fb::TokenizerKind::ByteLevelBpe);
  t.addPrefixSpace = config ? config->getBoolean("add_prefix_space").value_or(false) : false;
  return {};
}

/// Why the runtime cannot run tokenizer.json's tokenizer ("" when it can: WordPiece, or a BPE
/// whose only pre-tokenizer is ByteLevel with no normalizer).
std::string unsupportedTokenizer(const llvm::json::Object &root) {
  const llvm::json::Object *model = root.getObject("model");
  std::string type = model ? model->getString("type").value_or("").str() : "";
  if (type == "WordPiece")
    return "";
  if (type != "BPE")
    return "its model type '" + type + "'";
  const llvm::json::Object *pre = root.getObject("pre_tokenizer");
  std::string preType = pre ? pre->getString("type").value_or("").str() : "none";
  if (preType != "ByteLevel")
    return "a BPE with pre-tokenizer '" + preType + "' (not the plain ByteLevel one)";
  if (const llvm::json::Value *norm = root.get("normalizer");
      norm && norm->kind() != llvm::json::Value::Null)
    return "a BPE with a normalizer";
  if (model->getBoolean("byte_fallback").value_or(false))
    return "a BPE with byte_fallback";
  return "";
}

/// The SentencePiece model files transformers' slow tokenizers read.
const char *sentencePieceFile(const std::string &dir) {
  for (const char *name : {"tokenizer.model", "spiece.model", "sentencepiece.bpe.model"})
    if (fs::is_regular_file(fs::path(dir) / name))
      return name;
  return nullptr;
}

/// The kind of tokenizer an architecture must have when it has one the runtime implements
/// (TokenizerKind::None: either).
int expectedTokenizerKind(const std::string &modelType) {
  if (modelType == "bert" || modelType == "distilbert" || modelType == "electra")
    return static_cast<int>(fb::TokenizerKind::WordPiece);
  if (modelType == "gpt2" || modelType == "roberta")
    return static_cast<int>(fb::TokenizerKind::ByteLevelBpe);
  return static_cast<int>(fb::TokenizerKind::None);
}

int32_t idOf(const std::map<int64_t, std::string> &ids, const std::string &token) {
  if (token.empty())
    return -1;
  for (const auto &[id, s] : ids)
    if (s == token)
      return static_cast<int32_t>(id);
  return -1;
}

} // namespace

Status readTokenizerFiles(const std::string &dir, const std::string &modelType,
                          ImportedModel &m) {
  auto path = [&](const char *name) { return (fs::path(dir) / name).string(); };
  auto exists = [&](const char *name) { return fs::is_regular_file(path(name)); };
  llvm::json::Value configValue(nullptr);
  const llvm::json::Object *config = nullptr;
  if (exists("tokenizer_config.json")) {
    if (Status s = readJsonFile(path("tokenizer_config.json"), configValue); !s.ok())
      return s;
    config = configValue.getAsObject();
  }
  std::map<int64_t, std::string> ids;
  Status s;
  bool fast = exists("tokenizer.json");
  auto idsOnly = [&](const std::string &file, const std::string &why) {
    m.notes.push_back(file + ": the tokenizer (" + why +
                      ") is not one the runtime implements (WordPiece, byte-level BPE): the "
                      "model is imported without it and takes token ids only");
    return Status{};
  };
  if (fast) {
    llvm::json::Value root(nullptr);
    if (Status s = readJsonFile(path("tokenizer.json"), root); !s.ok())
      return s;
    if (!root.getAsObject())
      return fail(path("tokenizer.json"), "not a JSON object");
    if (std::string why = unsupportedTokenizer(*root.getAsObject()); !why.empty())
      return idsOnly(path("tokenizer.json"), why);
  } else if (!exists("vocab.txt") && !(exists("vocab.json") && exists("merges.txt"))) {
    if (const char *sp = sentencePieceFile(dir))
      return idsOnly(path(sp), "SentencePiece");
  }
  if (fast)
    s = readTokenizerJson(path("tokenizer.json"), m, ids);
  else if (exists("vocab.txt"))
    s = readVocabTxt(path("vocab.txt"), config, m, ids);
  else if (exists("vocab.json") && exists("merges.txt"))
    s = readVocabJsonMerges(path("vocab.json"), path("merges.txt"), config, m, ids);
  else
    return {};  // no tokenizer: ids only
  if (!s.ok())
    return s;
  if (!fast) {
    llvm::json::Value mapValue(nullptr);
    if (exists("special_tokens_map.json"))
      if (Status s = readJsonFile(path("special_tokens_map.json"), mapValue); !s.ok())
        return s;
    if (Status s = addedTokensFromConfig(dir, config, mapValue.getAsObject(), ids,
                                         m.tokenizer.addedTokens);
        !s.ok())
      return s;
  }

  auto &t = m.tokenizer;
  bool wordPiece = t.kind == static_cast<int>(fb::TokenizerKind::WordPiece);
  if (int kind = expectedTokenizerKind(modelType);
      kind != static_cast<int>(fb::TokenizerKind::None) && kind != t.kind)
    return fail(dir, std::string("the tokenizer is ") + (wordPiece ? "WordPiece" : "BPE") +
                         ", which model_type '" + modelType + "' does not use");
  // The vocabulary: ids [0, vocab_size); ids the tokenizer lacks stay "" (padded embeddings).
  if (!ids.empty() && ids.rbegin()->first >= m.vocabSize)
    return fail(dir, "the tokenizer has id " + std::to_string(ids.rbegin()->first) +
                         " ('" + ids.rbegin()->second + "'), outside vocab_size " +
                         std::to_string(m.vocabSize));
  m.vocabulary.assign(static_cast<size_t>(m.vocabSize), std::string());
  for (const auto &[id, token] : ids)
    m.vocabulary[static_cast<size_t>(id)] = token;
  if (!wordPiece) {
    std::string file = exists("tokenizer.json") ? path("tokenizer.json") : path("merges.txt");
    std::string vocabFile = exists("tokenizer.json") ? file : path("vocab.json");
    if (Status s = checkByteLevelBpe(vocabFile, file, m.vocabulary, t.merges); !s.ok())
      return s;
  }

  if (wordPiece) {
    if (t.clsToken.empty())
      t.clsToken = tokenString(config, "cls_token", "[CLS]");
    if (t.sepToken.empty())
      t.sepToken = tokenString(config, "sep_token", "[SEP]");
    t.padToken = tokenString(config, "pad_token", "[PAD]");
    m.startId = idOf(ids, t.clsToken);
    m.endId = idOf(ids, t.sepToken);
    m.unkId = idOf(ids, t.unkToken);
    m.padId = idOf(ids, t.padToken);
    if (m.unkId < 0)
      return fail(dir, "the unk token '" + t.unkToken + "' is not in the vocabulary");
  } else if (!t.clsToken.empty() && !t.sepToken.empty()) {
    // <s> text </s> (RoBERTa): the post-processor's tokens start and end a sequence.
    m.startId = idOf(ids, t.clsToken);
    m.endId = idOf(ids, t.sepToken);
    m.padId = idOf(ids, tokenString(config, "pad_token", ""));
    m.unkId = idOf(ids, tokenString(config, "unk_token", ""));
  } else {
    std::string eos = tokenString(config, "eos_token", "<|endoftext|>");
    m.startId = m.endId = idOf(ids, eos);
  }
  int64_t maxLength = m.maxPositions;
  if (config)
    if (auto n = config->getNumber("model_max_length"); n && *n > 0 && *n < double(maxLength))
      maxLength = static_cast<int64_t>(*n);
  if (t.maxLength <= 0 || t.maxLength > maxLength)
    t.maxLength = static_cast<int32_t>(maxLength);
  // A sentence-transformers checkpoint truncates at its max_seq_length (it overrides the
  // tokenizer's own truncation, e.g. all-MiniLM-L6-v2: 256 vs tokenizer.json's 128).
  if (exists("sentence_bert_config.json")) {
    llvm::json::Value st(nullptr);
    if (Status s = readJsonFile(path("sentence_bert_config.json"), st); !s.ok())
      return s;
    if (const llvm::json::Object *o = st.getAsObject())
      if (auto n = o->getInteger("max_seq_length")) {
        if (*n < 1)
          return fail(dir, "sentence_bert_config.json: max_seq_length " + std::to_string(*n) +
                               " is not positive");
        t.maxLength = static_cast<int32_t>(std::min<int64_t>(*n, m.maxPositions));
      }
  }
  return {};
}

} // namespace tfc::hf
