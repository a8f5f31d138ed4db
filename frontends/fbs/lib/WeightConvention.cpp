//===- WeightConvention.cpp - the weight-naming convention of each family --===//
//
// The table "Weight-naming convention" of docs/MODEL_FORMAT.md as code:
// weightConvention() lists every tensor a model may hold with its exact
// shape; checkWeightConvention() reports the first required tensor that is
// missing or misshapen, then the first tensor outside the list (a misspelled
// name must not be silently ignored).
//
// The list is produced through a visitor that can stop early, so a file
// claiming two billion layers costs one missing-weight message, not memory.
// validateModel() chains these checks for a Model made by hand.
//
//===----------------------------------------------------------------------===//
#include "FrontendInternal.h"

#include <functional>
#include <set>

namespace tfc::fbs {
namespace {

/// Calls `visit` for every spec of the convention in canonical order until it
/// returns false.
class ConventionWalker {
public:
  using Visitor = std::function<bool(const WeightSpec &)>;
  ConventionWalker(const Hyperparameters &hp, Visitor visit)
      : hp(hp), d(hp.dModel), visit(std::move(visit)) {}

  void run() {
    embeddings();
    switch (hp.family) {
    case Family::Encoder:
      stack("encoder", hp.numLayers, /*cross=*/false);
      break;
    case Family::Classifier:
      stack("encoder", hp.numLayers, /*cross=*/false);
      add("classifier.weight", {d, hp.numClasses});
      add("classifier.bias", {hp.numClasses});
      break;
    case Family::Decoder:
      stack("decoder", hp.numLayers, /*cross=*/false);
      lmHead();
      break;
    case Family::EncoderDecoder:
      stack("encoder", hp.numLayers, /*cross=*/false);
      stack("decoder", hp.numDecoderLayers, /*cross=*/true);
      lmHead();
      break;
    }
  }

private:
  void add(std::string name, std::vector<int64_t> shape, bool required = true) {
    if (!stopped)
      stopped = !visit(WeightSpec{std::move(name), std::move(shape), required});
  }

  /// A norm over `width` features: LayerNorm has weight and bias, RmsNorm a weight.
  void norm(const std::string &prefix, int64_t width = 0) {
    width = width ? width : d;
    add(prefix + ".weight", {width});
    if (hp.normKind == NormKind::LayerNorm)
      add(prefix + ".bias", {width});
  }

  void linear(const std::string &prefix, int64_t in, int64_t out, bool bias = true) {
    add(prefix + ".weight", {in, out});
    if (bias)
      add(prefix + ".bias", {out});
  }

  void attention(const std::string &prefix) {
    linear(prefix + ".q", d, hp.attentionWidth(), hp.qkvBias);
    linear(prefix + ".k", d, hp.kvWidth(), hp.qkvBias);
    linear(prefix + ".v", d, hp.kvWidth(), hp.qkvBias);
    linear(prefix + ".o", hp.attentionWidth(), d, hp.attnOutBias);
  }

  void embeddings() {
    int64_t e = hp.embeddingWidth();
    add("embeddings.token", {hp.vocabSize, e});
    if (hp.positionEncoding == PositionEncoding::Learned)
      add("embeddings.position", {hp.maxPositions, e});
    if (hp.typeVocabSize > 0)
      add("embeddings.token_type", {hp.typeVocabSize, e});
    if (hp.embeddingNorm)
      norm("embeddings.norm", e);
    if (hp.embeddingSize > 0)
      linear("embeddings.project", e, d);
  }

  void stack(const std::string &p, int64_t layers, bool cross) {
    bool parallel = hp.normPlacement == NormPlacement::Parallel;
    for (int64_t i = 0; i < hp.storedLayers(layers) && !stopped; ++i) {
      std::string layer = p + ".layers." + std::to_string(i);
      attention(layer + ".self_attn");
      norm(layer + ".self_attn_norm");
      if (cross) {
        attention(layer + ".cross_attn");
        norm(layer + ".cross_attn_norm");
      }
      if (hp.ffnGated)
        linear(layer + ".ffn.gate", d, hp.dFF, hp.ffnBias);
      linear(layer + ".ffn.up", d, hp.dFF, hp.ffnBias);
      linear(layer + ".ffn.down", hp.dFF, d, hp.ffnBias);
      if (!parallel)  // a parallel block's FFN reads the self_attn_norm
        norm(layer + ".ffn_norm");
    }
    if (hp.finalNorm)
      norm(p + ".final_norm");
  }

  void lmHead() {
    if (!hp.tiedEmbeddings)
      add("lm_head.weight", {d, hp.vocabSize});
    add("lm_head.bias", {hp.vocabSize}, /*required=*/false);
  }

  const Hyperparameters &hp;
  int64_t d;
  Visitor visit;
  bool stopped = false;
};

const char *article(const char *noun) {
  return std::string("AEIOUaeiou").find(noun[0]) != std::string::npos ? "an " : "a ";
}

} // namespace

std::vector<WeightSpec> weightConvention(const Hyperparameters &hp) {
  std::vector<WeightSpec> specs;
  ConventionWalker(hp, [&](const WeightSpec &spec) {
    specs.push_back(spec);
    return true;
  }).run();
  return specs;
}

Status checkWeightConvention(const Model &model) {
  std::set<std::string> known;
  Status status;
  ConventionWalker(model.hparams, [&](const WeightSpec &spec) {
    known.insert(spec.name);
    auto it = model.weights.find(spec.name);
    if (it == model.weights.end()) {
      if (spec.required)
        status = fail(model.path, "missing weight '" + spec.name + "' (shape " +
                                      formatShape(spec.shape) + ")");
    } else if (it->second.shape != spec.shape) {
      status = fail(model.path, "weight '" + spec.name + "' has shape " +
                                    formatShape(it->second.shape) + ", expected " +
                                    formatShape(spec.shape));
    }
    return status.ok();
  }).run();
  if (!status.ok())
    return status;
  const char *family = familySchemaName(model.hparams.family);
  for (const auto &entry : model.weights)
    if (!known.count(entry.first))
      return fail(model.path, "unused weight '" + entry.first + "' (not part of " +
                                  article(family) + family + " model; misspelled?)");
  return {};
}

Status validateModel(const Model &model) {
  if (Status s = checkHyperparameters(model.hparams, model.path); !s.ok())
    return s;
  if (Status s = checkWeightConvention(model); !s.ok())
    return s;
  for (const auto &[name, weight] : model.weights)
    if (!weight.data)
      return fail(model.path, "weight '" + name + "' has no data");
  return {};
}

} // namespace tfc::fbs
