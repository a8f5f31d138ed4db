//===- fbs_frontend_model_writer.h - tiny model.fbs files for the frontend tests -*- C++ -*-===//
//
// Builds model.fbs buffers in memory with flatbuffers::FlatBufferBuilder and
// the generated tfc::model::Create* functions. `ModelDesc` holds every knob a
// test may want to break: hyperparameters as RAW schema values (so an unknown
// enum value or a negative count can be written), the format version, the
// presence of hparams, special tokens, the vocabulary size, and per tensor the
// name, dtype, shape, data size and presence of data.
//
// conventionTensors() lists the tensors of docs/MODEL_FORMAT.md's naming
// table for a description; it is written from the manual, independently of
// the frontend's WeightConvention.cpp, so the tests cross-check the two.
//
//===----------------------------------------------------------------------===//
#ifndef TFC_TESTS_UNIT_FBS_FRONTEND_MODEL_WRITER_H
#define TFC_TESTS_UNIT_FBS_FRONTEND_MODEL_WRITER_H

#include "tfc/schema/model_generated.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace tfc::testing {

namespace fbm = tfc::model;

struct TensorDesc {
  std::string name;
  std::vector<int64_t> shape;
  int32_t dtype = static_cast<int32_t>(fbm::DType::F32);  // raw value
  int64_t dataBytes = -1;  // -1: product(shape) * 4
  bool hasData = true;
};

struct ModelDesc {
  // Hyperparameters, raw schema values.
  int32_t family = static_cast<int32_t>(fbm::Family::Decoder);
  int32_t numLayers = 1, numDecoderLayers = 0;
  int32_t dModel = 8, numHeads = 2, dFF = 16, vocabSize = 16, maxPositions = 8;
  int32_t normPlacement = 0;     // Post
  int32_t activation = 0;        // Relu
  int32_t positionEncoding = 1;  // Learned
  int32_t typeVocabSize = 0;
  float embeddingScale = 1.0f;
  bool embeddingNorm = false, tiedEmbeddings = false, finalNorm = false;
  int32_t pooling = 0, numClasses = 0;
  float layerNormEpsilon = 1e-5f;
  // 2.0 fields, raw schema values (defaults: the schema's, i.e. the 1.x meaning).
  int32_t normKind = 0;  // LayerNorm
  float normWeightOffset = 0.0f;
  int32_t numKvHeads = 0, headDim = 0;
  bool ffnGated = false, qkvBias = true, attnOutBias = true, ffnBias = true;
  float rotaryBase = 10000.0f;
  int32_t rotaryDim = 0, slidingWindow = 0, positionPadId = -1, embeddingSize = 0;
  int32_t layerWeightGroups = 0;

  // Envelope and the rest.
  std::string identifier = "TFCM";
  uint32_t formatMajor = 1, formatMinor = 0;
  bool withHparams = true;
  std::string name = "tiny";
  std::optional<std::array<int32_t, 4>> specialTokens = std::array<int32_t, 4>{1, 2, 3, 0};
  int32_t vocabularyTokens = -1;  // -1: no vocabulary table
  std::vector<TensorDesc> tensors;

  TensorDesc *find(const std::string &tensor) {
    for (TensorDesc &t : tensors)
      if (t.name == tensor)
        return &t;
    return nullptr;
  }
  void remove(const std::string &tensor) {
    tensors.erase(std::remove_if(tensors.begin(), tensors.end(),
                                 [&](const TensorDesc &t) { return t.name == tensor; }),
                  tensors.end());
  }
};

/// The tensors docs/MODEL_FORMAT.md requires for `d` (plus lm_head.bias).
inline std::vector<TensorDesc> conventionTensors(const ModelDesc &d) {
  std::vector<TensorDesc> out;
  int64_t dm = d.dModel;
  // 2.0 widths (docs/MODEL_FORMAT.md): E, the head width, A = heads * dh, KV = kv heads * dh.
  int64_t e = d.embeddingSize > 0 ? d.embeddingSize : dm;
  int64_t dh = d.headDim > 0 ? d.headDim : dm / d.numHeads;
  int64_t aw = d.numHeads * dh, kvw = (d.numKvHeads > 0 ? d.numKvHeads : d.numHeads) * dh;
  auto add = [&](const std::string &n, std::vector<int64_t> s) { out.push_back({n, s}); };
  auto norm = [&](const std::string &p, int64_t width = 0) {
    add(p + ".weight", {width ? width : dm});
    if (d.normKind == 0)
      add(p + ".bias", {width ? width : dm});
  };
  auto linear = [&](const std::string &p, int64_t in, int64_t o, bool bias = true) {
    add(p + ".weight", {in, o});
    if (bias)
      add(p + ".bias", {o});
  };
  auto attention = [&](const std::string &p) {
    linear(p + ".q", dm, aw, d.qkvBias);
    linear(p + ".k", dm, kvw, d.qkvBias);
    linear(p + ".v", dm, kvw, d.qkvBias);
    linear(p + ".o", aw, dm, d.attnOutBias);
  };
  auto stack = [&](const std::string &p, int64_t layers, bool cross) {
    int64_t stored = d.layerWeightGroups > 0 ? d.layerWeightGroups : layers;
    for (int64_t i = 0; i < stored; ++i) {
      std::string l = p + ".layers." + std::to_string(i);
      attention(l + ".self_attn");
      norm(l + ".self_attn_norm");
      if (cross) {
        attention(l + ".cross_attn");
        norm(l + ".cross_attn_norm");
      }
      if (d.ffnGated)
        linear(l + ".ffn.gate", dm, d.dFF, d.ffnBias);
      linear(l + ".ffn.up", dm, d.dFF, d.ffnBias);
      linear(l + ".ffn.down", d.dFF, dm, d.ffnBias);
      if (d.normPlacement != 2)  // Parallel: one norm per block
        norm(l + ".ffn_norm");
    }
    if (d.finalNorm)
      norm(p + ".final_norm");
  };

  add("embeddings.token", {d.vocabSize, e});
  if (d.positionEncoding == 1)
    add("embeddings.position", {d.maxPositions, e});
  if (d.typeVocabSize > 0)
    add("embeddings.token_type", {d.typeVocabSize, e});
  if (d.embeddingNorm)
    norm("embeddings.norm", e);
  if (d.embeddingSize > 0)
    linear("embeddings.project", e, dm);
  switch (d.family) {
  case 0:  // Encoder
    stack("encoder", d.numLayers, false);
    break;
  case 3:  // Classifier
    stack("encoder", d.numLayers, false);
    linear("classifier", dm, d.numClasses);
    break;
  case 1:  // Decoder
  case 2:  // EncoderDecoder
    if (d.family == 2) {
      stack("encoder", d.numLayers, false);
      stack("decoder", d.numDecoderLayers ? d.numDecoderLayers : d.numLayers, true);
    } else {
      stack("decoder", d.numLayers, false);
    }
    if (!d.tiedEmbeddings)
      add("lm_head.weight", {dm, d.vocabSize});
    add("lm_head.bias", {d.vocabSize});
    break;
  default:
    break;
  }
  return out;
}

/// A valid 1-layer decoder, d_model 8, 2 heads, vocabulary 16, 8 positions.
inline ModelDesc tinyDecoder() {
  ModelDesc d;
  d.tensors = conventionTensors(d);
  return d;
}

/// Element i of every tensor: a small deterministic value.
inline float tensorValue(size_t i) { return 0.01f * static_cast<float>(i % 97) - 0.3f; }

inline flatbuffers::Offset<fbm::Tensor> writeTensor(flatbuffers::FlatBufferBuilder &fbb,
                                                    const TensorDesc &t) {
  int64_t elements = 1;
  for (int64_t dim : t.shape)
    elements *= dim > 0 ? dim : 0;
  size_t bytes = t.dataBytes >= 0 ? static_cast<size_t>(t.dataBytes)
                                  : static_cast<size_t>(elements) * sizeof(float);
  std::vector<uint8_t> data(bytes);
  for (size_t i = 0; i + sizeof(float) <= bytes; i += sizeof(float)) {
    float v = tensorValue(i / sizeof(float));
    std::memcpy(data.data() + i, &v, sizeof(float));
  }
  return fbm::CreateTensorDirect(fbb, t.name.c_str(), static_cast<fbm::DType>(t.dtype),
                                 &t.shape, t.hasData ? &data : nullptr);
}

inline flatbuffers::Offset<fbm::Hyperparameters>
writeHyperparameters(flatbuffers::FlatBufferBuilder &fbb, const ModelDesc &d) {
  return fbm::CreateHyperparameters(
      fbb, static_cast<fbm::Family>(d.family), d.numLayers, d.numDecoderLayers, d.dModel,
      d.numHeads, d.dFF, d.vocabSize, d.maxPositions,
      static_cast<fbm::NormPlacement>(d.normPlacement),
      static_cast<fbm::Activation>(d.activation),
      static_cast<fbm::PositionEncoding>(d.positionEncoding), d.typeVocabSize,
      d.embeddingScale, d.embeddingNorm, d.tiedEmbeddings, d.finalNorm,
      static_cast<fbm::Pooling>(d.pooling), d.numClasses, d.layerNormEpsilon,
      static_cast<fbm::NormKind>(d.normKind), d.normWeightOffset, d.numKvHeads, d.headDim,
      d.ffnGated, d.qkvBias, d.attnOutBias, d.ffnBias, d.rotaryBase, d.rotaryDim,
      d.slidingWindow, d.positionPadId, d.embeddingSize, d.layerWeightGroups);
}

/// The model file for `d`. The Model table is assembled field by field (not
/// with CreateModel) so that a model without hparams can be written.
inline std::vector<uint8_t> writeModel(const ModelDesc &d) {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<fbm::Tensor>> tensors;
  for (const TensorDesc &t : d.tensors)
    tensors.push_back(writeTensor(fbb, t));
  auto weights = fbb.CreateVector(tensors);
  flatbuffers::Offset<fbm::Vocabulary> vocabulary;
  if (d.vocabularyTokens >= 0) {
    std::vector<std::string> tokens;
    for (int32_t i = 0; i < d.vocabularyTokens; ++i)
      tokens.push_back("tok" + std::to_string(i));
    vocabulary = fbm::CreateVocabulary(fbb, fbb.CreateVectorOfStrings(tokens));
  }
  flatbuffers::Offset<fbm::Hyperparameters> hparams;
  if (d.withHparams)
    hparams = writeHyperparameters(fbb, d);
  auto name = fbb.CreateString(d.name);
  auto producer = fbb.CreateString("fbs_frontend_test");

  auto start = fbb.StartTable();
  fbb.AddElement<uint32_t>(fbm::Model::VT_FORMAT_MAJOR, d.formatMajor, 1);
  fbb.AddElement<uint32_t>(fbm::Model::VT_FORMAT_MINOR, d.formatMinor, 0);
  fbb.AddOffset(fbm::Model::VT_PRODUCER, producer);
  fbb.AddOffset(fbm::Model::VT_NAME, name);
  if (d.withHparams)
    fbb.AddOffset(fbm::Model::VT_HPARAMS, hparams);
  if (d.specialTokens) {
    const auto &s = *d.specialTokens;
    fbm::SpecialTokens tokens(s[0], s[1], s[2], s[3]);
    fbb.AddStruct(fbm::Model::VT_SPECIAL_TOKENS, &tokens);
  }
  fbb.AddOffset(fbm::Model::VT_WEIGHTS, weights);
  if (d.vocabularyTokens >= 0)
    fbb.AddOffset(fbm::Model::VT_VOCABULARY, vocabulary);
  flatbuffers::Offset<fbm::Model> root(fbb.EndTable(start));
  fbb.Finish(root, d.identifier.c_str());
  return std::vector<uint8_t>(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
}

} // namespace tfc::testing

#endif // TFC_TESTS_UNIT_FBS_FRONTEND_MODEL_WRITER_H
