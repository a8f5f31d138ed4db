//===- ModelFbsWriter.cpp - ImportedModel -> model.fbs bytes (format 1.2) ===//
//
// Uses the generated FlatBuffers builder; weight data vectors are forced to
// 64-byte alignment (the schema's force_align, which the generated
// CreateVector alone does not apply).
//
//===----------------------------------------------------------------------===//
#include "Internal.h"

#include "tfc/schema/model_generated.h"

namespace tfc::hf {

namespace fb = tfc::model;

std::vector<uint8_t> writeModelFbs(const ImportedModel &m) {
  flatbuffers::FlatBufferBuilder b(1 << 20);
  std::vector<flatbuffers::Offset<fb::Tensor>> tensors;
  tensors.reserve(m.weights.size());
  for (const OutWeight &w : m.weights) {
    auto name = b.CreateString(w.name);
    auto shape = b.CreateVector<int64_t>(w.shape);
    size_t bytes = w.data.size() * sizeof(float);
    b.ForceVectorAlignment(bytes, sizeof(uint8_t), 64);
    auto data = b.CreateVector(reinterpret_cast<const uint8_t *>(w.data.data()), bytes);
    tensors.push_back(fb::CreateTensor(b, name, fb::DType::F32, shape, data));
  }
  auto weights = b.CreateVector(tensors);

  flatbuffers::Offset<fb::Vocabulary> vocabulary = 0;
  if (!m.vocabulary.empty())
    vocabulary = fb::CreateVocabulary(b, b.CreateVectorOfStrings(m.vocabulary));

  flatbuffers::Offset<fb::Tokenizer> tokenizer = 0;
  const auto &t = m.tokenizer;
  if (t.kind != 0) {
    auto str = [&](const std::string &s) -> flatbuffers::Offset<flatbuffers::String> {
      return s.empty() ? 0 : b.CreateString(s);
    };
    auto prefix = str(t.continuingSubwordPrefix), unk = str(t.unkToken), cls = str(t.clsToken),
         sep = str(t.sepToken), pad = str(t.padToken);
    flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>> merges = 0;
    if (!t.merges.empty())
      merges = b.CreateVectorOfStrings(t.merges);
    std::vector<flatbuffers::Offset<fb::AddedToken>> addedList;
    for (const auto &a : t.addedTokens)
      addedList.push_back(fb::CreateAddedToken(b, b.CreateString(a.content), a.special,
                                               a.singleWord, a.lstrip, a.rstrip, a.normalized));
    auto added = addedList.empty() ? 0 : b.CreateVector(addedList);
    tokenizer = fb::CreateTokenizer(b, static_cast<fb::TokenizerKind>(t.kind), t.lowercase,
                                    t.stripAccents, t.handleChineseChars, t.cleanText, prefix,
                                    t.maxInputCharsPerWord, unk, cls, sep, pad, merges,
                                    t.addPrefixSpace, t.maxLength, added);
  }
  auto hp = fb::CreateHyperparameters(
      b, static_cast<fb::Family>(m.family), static_cast<int32_t>(m.numLayers), 0,
      static_cast<int32_t>(m.dModel), static_cast<int32_t>(m.numHeads),
      static_cast<int32_t>(m.dFF), static_cast<int32_t>(m.vocabSize),
      static_cast<int32_t>(m.maxPositions), static_cast<fb::NormPlacement>(m.normPlacement),
      static_cast<fb::Activation>(m.activation), fb::PositionEncoding::Learned,
      static_cast<int32_t>(m.typeVocabSize), 1.0f, m.embeddingNorm, m.tiedEmbeddings,
      m.finalNorm, fb::Pooling::None, 0, m.layerNormEpsilon);
  fb::SpecialTokens special(m.startId, m.endId, m.unkId, m.padId);
  auto producer = b.CreateString("tfc import");
  auto name = b.CreateString(m.name);
  auto root = fb::CreateModel(b, 1, 2, producer, name, hp, &special, weights, vocabulary,
                              tokenizer);
  fb::FinishModelBuffer(b, root);
  return std::vector<uint8_t>(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize());
}

} // namespace tfc::hf
