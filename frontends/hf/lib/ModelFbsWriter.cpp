//===- ModelFbsWriter.cpp - ImportedModel -> model.fbs bytes (format 2.0) ===//
//
// Uses the generated FlatBuffers builder; weight data vectors are forced to
// 64-byte alignment (the schema's force_align, which the generated
// CreateVector alone does not apply).
//
//===----------------------------------------------------------------------===//
#include "Internal.h"

#include "tfc/schema/model_generated.h"
#include "tfc/support/Progress.h"

#include <string>

namespace tfc::hf {

namespace fb = tfc::model;

std::vector<uint8_t> writeModelFbs(const ImportedModel &m) {
  flatbuffers::FlatBufferBuilder b(1 << 20);
  std::vector<flatbuffers::Offset<fb::Tensor>> tensors;
  tensors.reserve(m.weights.size());
  // "importing weights 120/200 MB" on a terminal's stderr (tfc/support/Progress.h).
  tfc::support::ProgressLine progress;
  double totalMb = 0, doneMb = 0;
  for (const OutWeight &w : m.weights)
    totalMb += double(w.data.size() * sizeof(float)) / 1e6;
  for (const OutWeight &w : m.weights) {
    doneMb += double(w.data.size() * sizeof(float)) / 1e6;
    progress.update("importing weights " + std::to_string(int64_t(doneMb)) + "/" +
                    std::to_string(int64_t(totalMb)) + " MB");
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
  fb::HyperparametersBuilder hp(b);
  hp.add_family(static_cast<fb::Family>(m.family));
  hp.add_num_layers(static_cast<int32_t>(m.numLayers));
  hp.add_d_model(static_cast<int32_t>(m.dModel));
  hp.add_num_heads(static_cast<int32_t>(m.numHeads));
  hp.add_d_ff(static_cast<int32_t>(m.dFF));
  hp.add_vocab_size(static_cast<int32_t>(m.vocabSize));
  hp.add_max_positions(static_cast<int32_t>(m.maxPositions));
  hp.add_norm_placement(static_cast<fb::NormPlacement>(m.normPlacement));
  hp.add_activation(static_cast<fb::Activation>(m.activation));
  hp.add_position_encoding(static_cast<fb::PositionEncoding>(m.positionEncoding));
  hp.add_type_vocab_size(static_cast<int32_t>(m.typeVocabSize));
  hp.add_embedding_scale(m.embeddingScale);
  hp.add_embedding_norm(m.embeddingNorm);
  hp.add_tied_embeddings(m.tiedEmbeddings);
  hp.add_final_norm(m.finalNorm);
  hp.add_layer_norm_epsilon(m.layerNormEpsilon);
  hp.add_norm_kind(static_cast<fb::NormKind>(m.normKind));
  hp.add_norm_weight_offset(m.normWeightOffset);
  hp.add_num_kv_heads(static_cast<int32_t>(m.numKvHeads));
  hp.add_head_dim(static_cast<int32_t>(m.headDim));
  hp.add_ffn_gated(m.ffnGated);
  hp.add_attention_qkv_bias(m.qkvBias);
  hp.add_attention_out_bias(m.attnOutBias);
  hp.add_ffn_bias(m.ffnBias);
  hp.add_rotary_base(m.rotaryBase);
  hp.add_rotary_dim(static_cast<int32_t>(m.rotaryDim));
  hp.add_sliding_window(static_cast<int32_t>(m.slidingWindow));
  hp.add_position_pad_id(static_cast<int32_t>(m.positionPadId));
  hp.add_embedding_size(static_cast<int32_t>(m.embeddingSize));
  hp.add_layer_weight_groups(static_cast<int32_t>(m.layerWeightGroups));
  auto hparams = hp.Finish();
  fb::SpecialTokens special(m.startId, m.endId, m.unkId, m.padId);
  auto producer = b.CreateString("tfc import");
  auto name = b.CreateString(m.name);
  auto root = fb::CreateModel(b, 2, 0, producer, name, hparams, &special, weights, vocabulary,
                              tokenizer);
  fb::FinishModelBuffer(b, root);
  return std::vector<uint8_t>(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize());
}

} // namespace tfc::hf
