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
static_assert(static_cast<int>(NormPlacement::Parallel) ==
              static_cast<int>(fb::NormPlacement::Parallel));
static_assert(static_cast<int>(NormPlacement::Parallel) ==
              static_cast<int>(fb::NormPlacement::MAX));
static_assert(static_cast<int>(NormKind::RmsNorm) == static_cast<int>(fb::NormKind::RmsNorm));
static_assert(static_cast<int>(NormKind::RmsNorm) == static_cast<int>(fb::NormKind::MAX));
static_assert(static_cast<int>(Activation::GeluTanh) == static_cast<int>(fb::Activation::GeluTanh));
static_assert(static_cast<int>(Activation::Silu) == static_cast<int>(fb::Activation::Silu));
static_assert(static_cast<int>(Activation::Silu) == static_cast<int>(fb::Activation::MAX));
static_assert(static_cast<int>(PositionEncoding::Learned) ==
              static_cast<int>(fb::PositionEncoding::Learned));
static_assert(static_cast<int>(PositionEncoding::Rotary) ==
              static_cast<int>(fb::PositionEncoding::Rotary));
static_assert(static_cast<int>(PositionEncoding::Rotary) ==
              static_cast<int>(fb::PositionEncoding::MAX));
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
  if (hp.headDim == 0 && hp.dModel % hp.numHeads != 0)
    return fail(file, "hparams.num_heads " + llvm::Twine(hp.numHeads) +
                          " does not divide d_model " + llvm::Twine(hp.dModel));
  int64_t width = hp.embeddingWidth();
  if (hp.positionEncoding == PositionEncoding::Sinusoidal && width % 2 != 0)
    return fail(file, llvm::Twine("hparams.") +
                          (hp.embeddingSize > 0 ? "embedding_size " : "d_model ") +
                          llvm::Twine(width) + " must be even for Sinusoidal position encoding");
  return {};
}

/// The 2.0 fields as stored (0 = "derived"); resolveDescribed() fills the derived values.
Status checkDescribed(const Hyperparameters &hp, const std::string &file) {
  struct Rule {
    int64_t value, min;
    const char *field;
  };
  const Rule rules[] = {{hp.numKvHeads, 0, "num_kv_heads"},
                        {hp.headDim, 0, "head_dim"},
                        {hp.rotaryDim, 0, "rotary_dim"},
                        {hp.slidingWindow, 0, "sliding_window"},
                        {hp.positionPadId, -1, "position_pad_id"},
                        {hp.embeddingSize, 0, "embedding_size"},
                        {hp.layerWeightGroups, 0, "layer_weight_groups"}};
  for (const Rule &r : rules)
    if (Status s = atLeast(r.value, r.min, r.field, file); !s.ok())
      return s;
  if (!std::isfinite(hp.normWeightOffset))
    return fail(file, "hparams.norm_weight_offset is " + formatFloat(hp.normWeightOffset) +
                          ", expected a finite value");
  if (Status s = finitePositive(hp.rotaryBase, "rotary_base", file); !s.ok())
    return s;
  bool encoderDecoder = hp.family == Family::EncoderDecoder;
  auto refuse = [&](const llvm::Twine &what) {
    return fail(file, what + " is not supported for an EncoderDecoder");
  };
  if (encoderDecoder && hp.normPlacement == NormPlacement::Parallel)
    return refuse("hparams.norm_placement Parallel");
  if (encoderDecoder && hp.positionEncoding == PositionEncoding::Rotary)
    return refuse("hparams.position_encoding Rotary");
  if (encoderDecoder && hp.layerWeightGroups > 0)
    return refuse("hparams.layer_weight_groups");
  if (hp.slidingWindow > 0 && hp.family != Family::Decoder)
    return fail(file, "hparams.sliding_window " + llvm::Twine(hp.slidingWindow) +
                          " needs a Decoder (causal self-attention), the family is " +
                          familySchemaName(hp.family));
  if (hp.tiedEmbeddings && hp.embeddingSize > 0 && hp.embeddingSize != hp.dModel)
    return fail(file, "hparams.tied_embeddings needs embedding_size " +
                          llvm::Twine(hp.embeddingSize) + " to equal d_model " +
                          llvm::Twine(hp.dModel));
  if (hp.layerWeightGroups > hp.numLayers)
    return fail(file, "hparams.layer_weight_groups " + llvm::Twine(hp.layerWeightGroups) +
                          " exceeds num_layers " + llvm::Twine(hp.numLayers));
  if (hp.positionPadId >= 0) {
    if (hp.positionEncoding != PositionEncoding::Learned)
      return fail(file, "hparams.position_pad_id needs Learned position encoding");
    if (hp.positionPadId >= hp.vocabSize || hp.positionPadId >= hp.maxPositions)
      return fail(file, "hparams.position_pad_id " + llvm::Twine(hp.positionPadId) +
                            " is not a token id below vocab_size " + llvm::Twine(hp.vocabSize) +
                            " and a position below max_positions " +
                            llvm::Twine(hp.maxPositions));
  }
  return {};
}

/// How the 2.0 counts relate once resolved (0 = derived).
Status checkDescribedRelations(const Hyperparameters &hp, const std::string &file) {
  if (hp.numHeads % hp.kvHeads() != 0)
    return fail(file, "hparams.num_kv_heads " + llvm::Twine(hp.numKvHeads) +
                          " does not divide num_heads " + llvm::Twine(hp.numHeads));
  if (hp.headWidth() < 1)
    return fail(file, "hparams.head_dim resolves to " + llvm::Twine(hp.headWidth()) +
                          ", expected >= 1");
  if (hp.positionEncoding == PositionEncoding::Rotary &&
      (hp.rotaryWidth() % 2 != 0 || hp.rotaryWidth() > hp.headWidth()))
    return fail(file, "hparams.rotary_dim " + llvm::Twine(hp.rotaryWidth()) +
                          " must be even and at most the head width " +
                          llvm::Twine(hp.headWidth()));
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
  if (Status s = checkDescribed(hp, file); !s.ok())
    return s;
  if (Status s = checkDescribedRelations(hp, file); !s.ok())
    return s;
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
  if (s.ok())
    s = decodeEnum(t.norm_kind(), "norm_kind", file, hp.normKind);
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
  hp.normWeightOffset = t.norm_weight_offset();
  hp.numKvHeads = t.num_kv_heads();
  hp.headDim = t.head_dim();
  hp.ffnGated = t.ffn_gated();
  hp.qkvBias = t.attention_qkv_bias();
  hp.attnOutBias = t.attention_out_bias();
  hp.ffnBias = t.ffn_bias();
  hp.rotaryBase = t.rotary_base();
  hp.rotaryDim = t.rotary_dim();
  hp.slidingWindow = t.sliding_window();
  hp.positionPadId = t.position_pad_id();
  hp.embeddingSize = t.embedding_size();
  hp.layerWeightGroups = t.layer_weight_groups();

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
