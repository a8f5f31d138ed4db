//===- Internal.h - shared declarations of frontends/hf -------------------===//
#ifndef TFC_FRONTENDS_HF_INTERNAL_H
#define TFC_FRONTENDS_HF_INTERNAL_H

#include "tfc/frontends/HfImporter.h"

#include "llvm/Support/JSON.h"

#include <string>
#include <vector>

namespace tfc::hf {

/// One weight in model.fbs terms: f32, tfc's layout ([in, out] for linears).
struct OutWeight {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> data;
};

/// The hyperparameters and everything else that goes into model.fbs.
struct ImportedModel {
  std::string name;
  int family = 0;  // tfc::model::Family
  int64_t numLayers = 0, dModel = 0, numHeads = 0, dFF = 0, vocabSize = 0, maxPositions = 0;
  int normPlacement = 0, activation = 0;  // tfc::model::NormPlacement / Activation
  int64_t typeVocabSize = 0;
  bool embeddingNorm = false, tiedEmbeddings = false, finalNorm = false;
  float layerNormEpsilon = 1e-5f;
  // model.fbs 2.0: the described architecture (defaults: what 1.x meant).
  int positionEncoding = 1;  // tfc::model::PositionEncoding (Learned)
  float embeddingScale = 1.0f;
  int normKind = 0;          // tfc::model::NormKind
  float normWeightOffset = 0.0f;
  int64_t numKvHeads = 0, headDim = 0;
  bool ffnGated = false, qkvBias = true, attnOutBias = true, ffnBias = true;
  float rotaryBase = 10000.0f;
  int64_t rotaryDim = 0, slidingWindow = 0, positionPadId = -1, embeddingSize = 0;
  int64_t layerWeightGroups = 0;
  /// What the user should know about the import (converted dtypes, a tokenizer left out).
  std::vector<std::string> notes;
  int32_t startId = -1, endId = -1, unkId = -1, padId = -1;
  std::vector<OutWeight> weights;
  std::vector<std::string> vocabulary;
  // Tokenizer (model.fbs 1.1).
  struct {
    int kind = 0;  // tfc::model::TokenizerKind
    bool lowercase = false, stripAccents = false, handleChineseChars = true, cleanText = true;
    std::string continuingSubwordPrefix, unkToken, clsToken, sepToken, padToken;
    int32_t maxInputCharsPerWord = 100;
    std::vector<std::string> merges;
    bool addPrefixSpace = false;
    int32_t maxLength = 0;
    struct Added {  // model.fbs 1.2 AddedToken
      std::string content;
      bool special = true, singleWord = false, lstrip = false, rstrip = false, normalized = false;
    };
    std::vector<Added> addedTokens;
  } tokenizer;
};

Status fail(const std::string &file, const std::string &message);
Status readTextFile(const std::string &path, std::string &out);
/// JSON nesting beyond this is refused before parsing (Json.cpp: the parser recurses).
constexpr int kMaxJsonDepth = 128;
/// "" when `text` nests at most `maxDepth` arrays/objects, else a message with the offset.
std::string checkJsonNesting(llvm::StringRef text, int maxDepth);
/// Parses `text` (of `file`; `what` names it in messages: "header", "the file").
Status parseJsonText(llvm::StringRef text, const std::string &file, const std::string &what,
                     llvm::json::Value &out);
Status readJsonFile(const std::string &path, llvm::json::Value &out);

/// The model_type values mapArchitecture knows, sorted.
constexpr const char *kModelTypes[] = {"albert",  "bert", "distilbert", "electra",
                                       "gemma",   "gpt2", "llama",      "mistral",
                                       "phi",     "qwen2", "roberta",   "xlm-roberta"};
bool isSupportedModelType(llvm::StringRef type);
/// "albert, bert, ...": the list messages give.
std::string supportedModelTypes();

/// config.json + the safetensors weights -> hyperparameters and tfc weights.
Status mapArchitecture(const std::string &dir, const llvm::json::Object &config,
                       const SafeTensors &weights, ImportedModel &model);
/// Tokenizer files -> vocabulary, special tokens, tokenizer fields.
Status readTokenizerFiles(const std::string &dir, const std::string &modelType,
                          ImportedModel &model);
/// What the runtime checks when it builds a byte-level BPE tokenizer: every byte's token and
/// both parts and the result of every merge are in the vocabulary. Errors name the file.
Status checkByteLevelBpe(const std::string &vocabFile, const std::string &mergesFile,
                         const std::vector<std::string> &vocabulary,
                         const std::vector<std::string> &merges);
/// All weights of `dir`: model.safetensors, or the shards model.safetensors.index.json names
/// (merged; messages name the index or the shard). Notes a conversion from F16/BF16.
Status readCheckpointWeights(const std::string &dir, SafeTensors &out,
                             std::vector<std::string> &notes);
/// model.fbs bytes (format 2.0).
std::vector<uint8_t> writeModelFbs(const ImportedModel &model);

} // namespace tfc::hf

#endif
