//===- HyperparameterRules.cpp - decode and check model hyperparameters ---===//
//
// Turns the FlatBuffer `Hyperparameters` table into the plain struct of
// FbsFrontend.h and applies the "checked" column of docs/MODEL_FORMAT.md:
// enum values must be known (enums are 32-bit, so a newer writer's value is
// reported, not misread), counts must be in range, num_heads must divide
// d_model, floats must be finite and positive. Messages name the field as
// `hparams.<field>`.
//
//===----------------------------------------------------------------------===//
#include "FrontendInternal.h"

#include "tfc/schema/model_generated.h"

#include <cmath>

namespace fb = tfc::model;

namespace tfc::fbs {
namespace {

// The frontend's enums mirror the schema's value for value.
static_assert(static_cast<int>(Family::Classifier) == static_cast<int>(fb::Family::Classifier));
static_assert(static_cast<int>(NormPlacement::Pre) == static_cast<int>(fb::NormPlacement::Pre));
static_assert(static_cast<int>(Activation::GeluTanh) == static_cast<int>(fb::Activation::GeluTanh));
static_assert(static_cast<int>(PositionEncoding::Learned) ==
              static_cast<int>(fb::PositionEncoding::Learned));
static_assert(static_cast<int>(Pooling::FirstToken) == static_cast<int>(fb::Pooling::FirstToken));

/// Converts a raw schema enum to the frontend's enum when the value is known.
template <typename Out, typename FbEnum>
Status decodeEnum(FbEnum raw, const char *field, const std::string &file, Out &out) {
  auto value = static_cast<int32_t>(raw);
  if (value < static_cast<int32_t>(FbEnum::MIN) || value > static_cast<int32_t>(FbEnum::MAX))
    return fail(file, llvm::Twine("hparams.") + field + ": unknown value " + llvm::Twine(value));
  out = static_cast<Out>(value);
  return {};
}

Status atLeast(int64_t value, int64_t min, const char *field, const std::string &file) {
  if (value >= min)
    return {};
  return fail(file, llvm::Twine("hparams.") + field + " is " + llvm::Twine(value) +
                        ", expected >= " + llvm::Twine(min));
}

Status finitePositive(float value, const char *field, const std::string &file) {
  if (std::isfinite(value) && value > 0.0f)
    return {};
  return fail(file, llvm::Twine("hparams.") + field + " is " + formatFloat(value) +
                        ", expected a finite value > 0");
}

Status checkCounts(const Hyperparameters &hp, const std::string &file) {
  struct Rule {
    int64_t value, min;
    const char *field;
  };
  const Rule rules[] = {
      {hp.numLayers, 1, "num_layers"},         {hp.numDecoderLayers, 0, "num_decoder_layers"},
      {hp.dModel, 1, "d_model"},               {hp.numHeads, 1, "num_heads"},
      {hp.dFF, 1, "d_ff"},                     {hp.vocabSize, 1, "vocab_size"},
      {hp.maxPositions, 1, "max_positions"},   {hp.typeVocabSize, 0, "type_vocab_size"},
  };
  for (const Rule &r : rules)
    if (Status s = atLeast(r.value, r.min, r.field, file); !s.ok())
      return s;
  if (hp.dModel % hp.numHeads != 0)
    return fail(file, "hparams.num_heads " + llvm::Twine(hp.numHeads) +
                          " does not divide d_model " + llvm::Twine(hp.dModel));
  if (hp.positionEncoding == PositionEncoding::Sinusoidal && hp.dModel % 2 != 0)
    return fail(file, "hparams.d_model " + llvm::Twine(hp.dModel) +
                          " must be even for Sinusoidal position encoding");
  return {};
}

Status checkClassifier(const Hyperparameters &hp, const std::string &file) {
  if (hp.family != Family::Classifier)
    return {};
  if (hp.pooling == Pooling::None)
    return fail(file, "hparams.pooling is None, a Classifier needs Mean or FirstToken");
  return atLeast(hp.numClasses, 1, "num_classes", file);
}

} // namespace

Status checkHyperparameters(const Hyperparameters &hp, const std::string &file) {
  if (Status s = checkCounts(hp, file); !s.ok())
    return s;
  if (Status s = finitePositive(hp.embeddingScale, "embedding_scale", file); !s.ok())
    return s;
  if (Status s = finitePositive(hp.layerNormEpsilon, "layer_norm_epsilon", file); !s.ok())
    return s;
  if (hp.family == Family::EncoderDecoder && hp.numDecoderLayers < 1)
    return fail(file, "hparams.num_decoder_layers is unresolved (0); expected the decoder "
                      "layer count");
  return checkClassifier(hp, file);
}

Status readHyperparameters(const fb::Hyperparameters &t, const std::string &file,
                           Hyperparameters &out) {
  Hyperparameters hp;
  Status s = decodeEnum(t.family(), "family", file, hp.family);
  if (s.ok())
    s = decodeEnum(t.norm_placement(), "norm_placement", file, hp.normPlacement);
  if (s.ok())
    s = decodeEnum(t.activation(), "activation", file, hp.activation);
  if (s.ok())
    s = decodeEnum(t.position_encoding(), "position_encoding", file, hp.positionEncoding);
  if (s.ok())
    s = decodeEnum(t.pooling(), "pooling", file, hp.pooling);
  if (!s.ok())
    return s;

  hp.numLayers = t.num_layers();
  hp.numDecoderLayers = t.num_decoder_layers();
  hp.dModel = t.d_model();
  hp.numHeads = t.num_heads();
  hp.dFF = t.d_ff();
  hp.vocabSize = t.vocab_size();
  hp.maxPositions = t.max_positions();
  hp.typeVocabSize = t.type_vocab_size();
  hp.embeddingScale = t.embedding_scale();
  hp.embeddingNorm = t.embedding_norm();
  hp.tiedEmbeddings = t.tied_embeddings();
  hp.finalNorm = t.final_norm();
  hp.numClasses = t.num_classes();
  hp.layerNormEpsilon = t.layer_norm_epsilon();

  // num_decoder_layers is checked as stored (>= 0), then resolved: only an
  // EncoderDecoder has decoder layers besides num_layers.
  if (Status c = atLeast(hp.numDecoderLayers, 0, "num_decoder_layers", file); !c.ok())
    return c;
  if (hp.family != Family::EncoderDecoder)
    hp.numDecoderLayers = 0;
  else if (hp.numDecoderLayers == 0)
    hp.numDecoderLayers = hp.numLayers;

  if (Status c = checkHyperparameters(hp, file); !c.ok())
    return c;
  out = hp;
  return {};
}

} // namespace tfc::fbs
