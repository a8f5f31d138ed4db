//===- fbs_frontend_test.cpp - tests of the model.fbs frontend -------------===//
//
// 1. The four example models load, build, verify, and hold the primitive
//    patterns of docs/PRIMITIVE_PATTERNS.md in the numbers countArchitecture
//    implies (and no fused op).
// 2. A matrix of tiny models (every family, both norm placements, every
//    activation and position encoding, the head variants) does the same.
// 3. Malformed files, one broken thing each, fail with a message naming it.
// 4. Byte-level corruption (truncation, flipped bytes, bad offsets) never
//    crashes: each load either succeeds or returns a message.
//
//===----------------------------------------------------------------------===//
#include "fbs_frontend_ir_checks.h"
#include "fbs_frontend_model_writer.h"

#include "tfc/frontends/FbsFrontend.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/raw_ostream.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <random>
#include <set>

using namespace tfc::fbs;
using namespace tfc::testing;
using ::testing::HasSubstr;
using ::testing::StartsWith;

namespace {

constexpr const char *kTinyName = "tiny.fbs";

std::string examplePath(const std::string &name) {
  return std::string(TFC_SOURCE_DIR) + "/examples/models/" + name + ".fbs";
}

/// The message of loading `desc` ("" when it loads).
std::string loadError(const ModelDesc &desc) {
  Model model;
  return loadModelBuffer(writeModel(desc), kTinyName, model).error;
}

/// Expected op counts, derived from the hyperparameters alone.
struct Expected {
  int64_t attention, layerNorm, ffn, linears;
};

Expected expectedFor(const Hyperparameters &hp) {
  ArchitectureCounts arch = countArchitecture(hp);
  int64_t ffn = hp.numLayers + hp.numDecoderLayers;
  int64_t head = (hp.family == Family::Encoder) ? 0
                 : (hp.family == Family::Classifier || !hp.tiedEmbeddings) ? 1
                                                                           : 0;
  return {arch.attention, arch.layerNorm, ffn, arch.attention * 4 + ffn * 2 + head};
}

/// Checks every pattern of the contract in a built module.
void checkPrimitiveIR(mlir::ModuleOp module, const Model &model) {
  const Hyperparameters &hp = model.hparams;
  Expected want = expectedFor(hp);
  auto counts = opHistogram(module);
  for (const char *fused : {"tfc.attention", "tfc.layer_norm", "tfc.linear", "tfc.gelu",
                            "tfc.embedding", "tfc.layer_normalization"})
    EXPECT_EQ(counts[fused], 0) << fused << " in the primitive IR";

  // Attention: one 4-D softmax per block, each a full contract chain.
  int64_t attention = 0, mulScale = 0, divScale = 0, causal = 0, padding = 0;
  for (auto softmax : collect<mlir::tfc::SoftmaxOp>(module)) {
    if (softmax.getType().getRank() != 4)
      continue;
    ++attention;
    AttentionShape shape = inspectAttention(softmax, hp.numHeads, hp.dModel);
    EXPECT_EQ(shape.mismatch, "") << "at " << locName(softmax);
    mulScale += shape.multiplyScale;
    divScale += shape.divideScale;
    causal += shape.causal;
    padding += shape.padding;
    EXPECT_THAT(locName(softmax), ::testing::MatchesRegex(".*\\.layers\\.[0-9]+\\.(self|cross)_attn"));
  }
  EXPECT_EQ(attention, want.attention);
  int64_t decoderSelf = hp.family == Family::Decoder          ? hp.numLayers
                        : hp.family == Family::EncoderDecoder ? hp.numDecoderLayers
                                                              : 0;
  EXPECT_EQ(divScale, decoderSelf) << "decoder self-attention divides by sqrt(dh)";
  EXPECT_EQ(mulScale, want.attention - decoderSelf) << "the rest multiply by 1/sqrt(dh)";
  EXPECT_EQ(causal, decoderSelf);
  EXPECT_EQ(padding, want.attention - decoderSelf);

  // Layer norms: every reduce_mean over the last axis is one of the two of a chain.
  int64_t layerNorms = 0, lastAxisMeans = 0;
  std::set<std::string> normPrefixes;
  for (auto mean : collect<mlir::tfc::ReduceMeanOp>(module)) {
    lastAxisMeans += mean.getAxes() == llvm::ArrayRef<int64_t>{-1};
    if (!startsLayerNorm(mean))
      continue;
    ++layerNorms;
    std::string prefix;
    EXPECT_EQ(inspectLayerNorm(mean, hp.layerNormEpsilon, prefix), "") << "at " << locName(mean);
    normPrefixes.insert(prefix);
  }
  EXPECT_EQ(layerNorms, want.layerNorm);
  EXPECT_EQ(lastAxisMeans, 2 * want.layerNorm);

  // Activations, decomposed.
  int64_t relus = counts["tfc.relu"], erfs = 0, tanhs = 0;
  for (auto erf : collect<mlir::tfc::ErfOp>(module)) {
    ++erfs;
    EXPECT_EQ(inspectGeluErf(erf), "") << "at " << locName(erf);
  }
  for (auto tanh : collect<mlir::tfc::TanhOp>(module)) {
    ++tanhs;
    EXPECT_EQ(inspectGeluTanh(tanh), "") << "at " << locName(tanh);
  }
  EXPECT_EQ(relus, hp.activation == Activation::Relu ? want.ffn : 0);
  EXPECT_EQ(erfs, hp.activation == Activation::GeluErf ? want.ffn : 0);
  EXPECT_EQ(tanhs, hp.activation == Activation::GeluTanh ? want.ffn : 0);

  // Linears: matmul by a weight, then its bias.
  int64_t linears = 0;
  for (auto matmul : collect<mlir::tfc::MatMulOp>(module)) {
    if (!matmul.getRhs().getDefiningOp<mlir::tfc::WeightOp>())
      continue;
    ++linears;
    EXPECT_EQ(inspectLinear(matmul), "") << "at " << locName(matmul);
  }
  EXPECT_EQ(linears, want.linears);

  // Weights: one tfc.weight per model weight, each with the stored shape.
  std::set<std::string> weightNames;
  for (auto w : collect<mlir::tfc::WeightOp>(module)) {
    EXPECT_TRUE(weightNames.insert(w.getName().str()).second) << "twice: " << w.getName().str();
    auto it = model.weights.find(w.getName().str());
    ASSERT_NE(it, model.weights.end()) << w.getName().str();
    EXPECT_EQ(w.getType().getShape(), llvm::ArrayRef<int64_t>(it->second.shape));
  }
  EXPECT_EQ(weightNames.size(), model.weights.size());

  // Every op inside @forward names its layer.
  module->walk([&](mlir::Operation *op) {
    if (op->getDialect() && op->getDialect()->getNamespace() == "tfc") {
      EXPECT_NE(locName(op), "") << op->getName().getStringRef().str() << " has no NameLoc";
    }
  });
}

/// The @forward signature: argument names/dims and the result name/type.
void checkSignature(mlir::ModuleOp module, const Model &model,
                    const std::vector<std::string> &inputs, const std::string &output) {
  auto forward = module.lookupSymbol<mlir::func::FuncOp>("forward");
  ASSERT_TRUE(forward);
  ASSERT_EQ(forward.getNumArguments(), inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    auto name = forward.getArgAttrOfType<mlir::StringAttr>(i, "tfc.name");
    auto dims = forward.getArgAttrOfType<mlir::ArrayAttr>(i, "tfc.dims");
    ASSERT_TRUE(name && dims);
    EXPECT_EQ(name.getValue(), inputs[i]);
    EXPECT_EQ(dims.size(), 2u);
    EXPECT_EQ(forward.getArgument(i).getType(),
              mlir::RankedTensorType::get({mlir::ShapedType::kDynamic, mlir::ShapedType::kDynamic},
                                          mlir::IntegerType::get(module.getContext(), 64)));
  }
  auto result = forward.getResultAttrOfType<mlir::StringAttr>(0, "tfc.name");
  ASSERT_TRUE(result);
  EXPECT_EQ(result.getValue(), output);
  auto family = module->getAttrOfType<mlir::StringAttr>("tfc.family");
  ASSERT_TRUE(family);
  EXPECT_EQ(family.getValue(), familyAttrName(model.hparams.family));
  auto tokens = module->getAttrOfType<mlir::DenseI32ArrayAttr>("tfc.special_tokens");
  ASSERT_TRUE(tokens);
  const SpecialTokens &t = model.specialTokens;
  std::vector<int32_t> want = {t.startId, t.endId, t.unkId, t.padId};
  EXPECT_EQ(std::vector<int32_t>(tokens.asArrayRef()), want);
  EXPECT_TRUE(module->getAttrOfType<mlir::StringAttr>("tfc.model_name"));
}

/// Loads + builds + verifies; the module is null on failure (with a test failure).
mlir::OwningOpRef<mlir::ModuleOp> buildOrFail(mlir::MLIRContext &context, const Model &model) {
  std::string error;
  auto module = buildModule(context, model, error);
  EXPECT_TRUE(module) << error;
  EXPECT_EQ(error, "");
  if (module) {
    EXPECT_TRUE(mlir::succeeded(mlir::verify(*module)));
  }
  return module;
}

//===----------------------------------------------------------------------===//
// 1. The example models
//===----------------------------------------------------------------------===//

struct ExampleCase {
  const char *name;
  Family family;
  std::vector<std::string> inputs;
  const char *output;
};

class ExampleModelTest : public ::testing::TestWithParam<ExampleCase> {};

TEST_P(ExampleModelTest, LoadsBuildsAndHoldsThePrimitivePatterns) {
  const ExampleCase &c = GetParam();
  Model model;
  Status status = loadModelFile(examplePath(c.name), model);
  ASSERT_TRUE(status.ok()) << status.error;
  EXPECT_EQ(model.hparams.family, c.family);
  EXPECT_EQ(model.name, c.name);
  EXPECT_EQ(model.formatMajor, 1u);
  EXPECT_EQ(model.vocabulary.size(), static_cast<size_t>(model.hparams.vocabSize));
  EXPECT_EQ(model.vocabulary.at(0), "<PAD>");
  EXPECT_EQ(model.specialTokens.padId, 0);
  EXPECT_EQ(model.specialTokens.startId, 1);

  mlir::MLIRContext context;
  auto module = buildOrFail(context, model);
  ASSERT_TRUE(module);
  checkSignature(*module, model, c.inputs, c.output);
  checkPrimitiveIR(*module, model);

  // The printed IR parses back (lit tests of the passes start from it).
  std::string text;
  llvm::raw_string_ostream os(text);
  module->print(os);
  auto reparsed = mlir::parseSourceString<mlir::ModuleOp>(text, &context);
  ASSERT_TRUE(reparsed);
  EXPECT_TRUE(mlir::succeeded(mlir::verify(*reparsed)));
  EXPECT_EQ(opHistogram(*reparsed), opHistogram(*module));
}

INSTANTIATE_TEST_SUITE_P(
    Examples, ExampleModelTest,
    ::testing::Values(
        ExampleCase{"encoder", Family::Encoder,
                    {"input_ids", "attention_mask", "token_type_ids"}, "last_hidden_state"},
        ExampleCase{"decoder", Family::Decoder, {"input_ids"}, "logits"},
        ExampleCase{"encdec", Family::EncoderDecoder, {"src_ids", "src_mask", "tgt_ids"},
                    "logits"},
        ExampleCase{"classifier", Family::Classifier, {"input_ids", "attention_mask"}, "probs"}),
    [](const auto &info) { return std::string(info.param.name); });

TEST(ExampleModels, ArchitectureCountsOfTheExamples) {
  struct Want {
    const char *name;
    int64_t attention, layerNorm;
  };
  // encoder: 2 layers x 2 norms + embedding norm; decoder (pre-LN): 2 x 2 + final;
  // encdec: 2 encoder + 2 x 2 decoder attentions, 2 x 2 + 2 x 3 norms.
  for (const Want &w : {Want{"encoder", 2, 5}, Want{"decoder", 2, 5}, Want{"encdec", 6, 10},
                        Want{"classifier", 2, 4}}) {
    Model model;
    ASSERT_TRUE(loadModelFile(examplePath(w.name), model).ok()) << w.name;
    ArchitectureCounts c = countArchitecture(model.hparams);
    EXPECT_EQ(c.attention, w.attention) << w.name;
    EXPECT_EQ(c.layerNorm, w.layerNorm) << w.name;
  }
}

TEST(ExampleModels, WeightsPointIntoTheFileBuffer) {
  Model model;
  ASSERT_TRUE(loadModelFile(examplePath("encoder"), model).ok());
  const uint8_t *begin = model.buffer->data(), *end = begin + model.buffer->size();
  for (const auto &[name, w] : model.weights) {
    auto p = reinterpret_cast<const uint8_t *>(w.data);
    EXPECT_TRUE(p >= begin && p + w.numElements() * sizeof(float) <= end) << name;
    EXPECT_EQ((p - begin) % 64, 0) << name << " is not 64-byte aligned in the file";
  }
  // The buffer outlives copies of the Model.
  Model copy = model;
  model = Model();
  EXPECT_EQ(copy.weights.at("embeddings.token").shape, (std::vector<int64_t>{512, 64}));
  EXPECT_TRUE(std::isfinite(copy.weights.at("embeddings.token").data[0]));
}

//===----------------------------------------------------------------------===//
// 2. Tiny models of every variant
//===----------------------------------------------------------------------===//

struct VariantCase {
  const char *name;
  std::function<void(ModelDesc &)> configure;
  bool lmHeadBias = true;
};

ModelDesc variant(const VariantCase &c) {
  ModelDesc d;
  c.configure(d);
  d.tensors = conventionTensors(d);
  if (!c.lmHeadBias)
    d.remove("lm_head.bias");
  return d;
}

class VariantTest : public ::testing::TestWithParam<VariantCase> {};

TEST_P(VariantTest, BuildsThePrimitivePatterns) {
  ModelDesc desc = variant(GetParam());
  Model model;
  Status status = loadModelBuffer(writeModel(desc), kTinyName, model);
  ASSERT_TRUE(status.ok()) << status.error;

  // The frontend's convention agrees with the manual's (as the test writes it).
  std::map<std::string, std::vector<int64_t>> want;
  for (const TensorDesc &t : conventionTensors(desc))
    want[t.name] = t.shape;
  std::map<std::string, std::vector<int64_t>> got;
  for (const WeightSpec &s : weightConvention(model.hparams))
    got[s.name] = s.shape;
  EXPECT_EQ(got, want);

  mlir::MLIRContext context;
  auto module = buildOrFail(context, model);
  ASSERT_TRUE(module);
  checkPrimitiveIR(*module, model);
}

using F = ModelDesc;
INSTANTIATE_TEST_SUITE_P(
    Tiny, VariantTest,
    ::testing::Values(
        VariantCase{"EncoderPostGeluErfTokenTypes",
                    [](F &d) {
                      d.family = 0, d.activation = 1, d.typeVocabSize = 2, d.embeddingNorm = true;
                    }},
        VariantCase{"EncoderPreReluSinusoidalScaled",
                    [](F &d) {
                      d.family = 0, d.normPlacement = 1, d.positionEncoding = 0;
                      d.finalNorm = true, d.embeddingScale = 2.0f, d.numLayers = 2;
                    }},
        VariantCase{"DecoderPreGeluTanhTied",
                    [](F &d) { d.normPlacement = 1, d.activation = 2, d.tiedEmbeddings = true; },
                    /*lmHeadBias=*/false},
        VariantCase{"DecoderTiedWithBias", [](F &d) { d.tiedEmbeddings = true, d.finalNorm = true; }},
        VariantCase{"DecoderPostSinusoidalUntied", [](F &d) { d.positionEncoding = 0; },
                    /*lmHeadBias=*/false},
        VariantCase{"DecoderFourHeadsThreeLayers",
                    [](F &d) { d.numHeads = 4, d.numLayers = 3, d.maxPositions = 3; }},
        VariantCase{"EncDecPostReluSinusoidal",
                    [](F &d) {
                      d.family = 2, d.positionEncoding = 0, d.numDecoderLayers = 2;
                      d.embeddingScale = std::sqrt(8.0f), d.embeddingNorm = true;
                    }},
        VariantCase{"EncDecPreGeluErfTiedFinalNorm",
                    [](F &d) {
                      d.family = 2, d.normPlacement = 1, d.activation = 1, d.numLayers = 2;
                      d.tiedEmbeddings = true, d.finalNorm = true;
                    }},
        VariantCase{"ClassifierMean", [](F &d) { d.family = 3, d.pooling = 1, d.numClasses = 3; }},
        VariantCase{"ClassifierFirstTokenPreTanh",
                    [](F &d) {
                      d.family = 3, d.pooling = 2, d.numClasses = 2, d.normPlacement = 1;
                      d.activation = 2, d.typeVocabSize = 3, d.finalNorm = true;
                    }}),
    [](const auto &info) { return std::string(info.param.name); });

TEST(Variants, EncoderDecoderResolvesDecoderLayers) {
  ModelDesc d;
  d.family = 2, d.numLayers = 3, d.numDecoderLayers = 0;
  d.tensors = conventionTensors(d);
  Model model;
  ASSERT_TRUE(loadModelBuffer(writeModel(d), kTinyName, model).ok());
  EXPECT_EQ(model.hparams.numDecoderLayers, 3);
  ArchitectureCounts c = countArchitecture(model.hparams);
  EXPECT_EQ(c.attention, 3 + 3 * 2);
  EXPECT_EQ(c.layerNorm, 3 * 2 + 3 * 3);
}

TEST(Variants, CountArchitectureCountsSharedNormsPerStack) {
  Hyperparameters hp;
  hp.family = Family::EncoderDecoder;
  hp.numLayers = 2, hp.numDecoderLayers = 1;
  hp.embeddingNorm = true, hp.finalNorm = true;
  ArchitectureCounts c = countArchitecture(hp);
  EXPECT_EQ(c.attention, 2 + 1 * 2);
  EXPECT_EQ(c.layerNorm, 2 * 2 + 1 * 3 + 2 + 2);
  hp.family = Family::Decoder;
  c = countArchitecture(hp);
  EXPECT_EQ(c.attention, 2);
  EXPECT_EQ(c.layerNorm, 2 * 2 + 1 + 1);
}

TEST(Variants, SinusoidalTableIsTheManualsFormula) {
  ModelDesc d;
  d.positionEncoding = 0;
  d.tensors = conventionTensors(d);
  Model model;
  ASSERT_TRUE(loadModelBuffer(writeModel(d), kTinyName, model).ok());
  mlir::MLIRContext context;
  auto module = buildOrFail(context, model);
  ASSERT_TRUE(module);
  mlir::DenseFPElementsAttr table;
  for (auto c : collect<mlir::tfc::ConstantOp>(*module))
    if (auto t = llvm::dyn_cast<mlir::DenseFPElementsAttr>(c.getValue()))
      if (t.getType().getShape() == llvm::ArrayRef<int64_t>{8, 8})
        table = t;
  ASSERT_TRUE(table);
  auto values = llvm::to_vector(table.getValues<float>());
  for (int p = 0; p < 8; ++p)
    for (int i = 0; i < 8; i += 2) {
      double angle = p / std::pow(10000.0, double(i) / 8);
      EXPECT_NEAR(values[p * 8 + i], std::sin(angle), 1e-6);
      EXPECT_NEAR(values[p * 8 + i + 1], std::cos(angle), 1e-6);
    }
}

TEST(Variants, WeightDataMatchesTheFile) {
  ModelDesc d = tinyDecoder();
  Model model;
  ASSERT_TRUE(loadModelBuffer(writeModel(d), kTinyName, model).ok());
  const Weight &w = model.weights.at("embeddings.token");
  ASSERT_EQ(w.numElements(), 16 * 8);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(w.data) % alignof(float), 0u);
  for (int64_t i = 0; i < w.numElements(); ++i)
    ASSERT_EQ(w.data[i], tensorValue(static_cast<size_t>(i))) << i;
}

TEST(Variants, VocabularyAndNewerMinorVersionAreAccepted) {
  ModelDesc d = tinyDecoder();
  d.vocabularyTokens = 16;
  d.formatMinor = 7;
  Model model;
  Status s = loadModelBuffer(writeModel(d), kTinyName, model);
  ASSERT_TRUE(s.ok()) << s.error;
  EXPECT_EQ(model.formatMinor, 7u);
  ASSERT_EQ(model.vocabulary.size(), 16u);
  EXPECT_EQ(model.vocabulary[15], "tok15");
}

//===----------------------------------------------------------------------===//
// 3. Malformed files, one problem each
//===----------------------------------------------------------------------===//

struct MalformedCase {
  const char *name;
  std::function<void(ModelDesc &)> breakIt;
  const char *message;
};

class MalformedModelTest : public ::testing::TestWithParam<MalformedCase> {};

TEST_P(MalformedModelTest, FailsNamingTheProblem) {
  ModelDesc desc = tinyDecoder();
  GetParam().breakIt(desc);
  std::string error = loadError(desc);
  EXPECT_THAT(error, StartsWith(std::string(kTinyName) + ": "));
  EXPECT_THAT(error, HasSubstr(GetParam().message));
}

TensorDesc &tensor(ModelDesc &d, const std::string &name) {
  static TensorDesc missing;
  TensorDesc *t = d.find(name);
  if (!t) {
    ADD_FAILURE() << "test bug: no tensor " << name;
    return missing;
  }
  return *t;
}

INSTANTIATE_TEST_SUITE_P(
    Broken, MalformedModelTest,
    ::testing::Values(
        MalformedCase{"WrongIdentifier", [](F &d) { d.identifier = "ONNX"; },
                      "not a tfc model file (identifier 'ONNX', expected 'TFCM')"},
        MalformedCase{"Version3", [](F &d) { d.formatMajor = 3; },
                      "model format version 3.0 is not supported by this reader (supports 1.x "
                      "and 2.x)"},
        MalformedCase{"Version0", [](F &d) { d.formatMajor = 0, d.formatMinor = 9; },
                      "model format version 0.9 is not supported"},
        MalformedCase{"MissingHparams", [](F &d) { d.withHparams = false; }, "missing hparams"},
        MalformedCase{"HeadsDoNotDivideWidth", [](F &d) { d.numHeads = 3; },
                      "hparams.num_heads 3 does not divide d_model 8"},
        MalformedCase{"UnknownActivation", [](F &d) { d.activation = 7; },
                      "hparams.activation: unknown value 7"},
        MalformedCase{"UnknownFamily", [](F &d) { d.family = 4; }, "hparams.family: unknown value 4"},
        MalformedCase{"NegativeEnum", [](F &d) { d.normPlacement = -1; },
                      "hparams.norm_placement: unknown value -1"},
        MalformedCase{"NegativeLayerCount", [](F &d) { d.numLayers = -2; },
                      "hparams.num_layers is -2, expected >= 1"},
        MalformedCase{"ZeroWidth", [](F &d) { d.dModel = 0; }, "hparams.d_model is 0, expected >= 1"},
        MalformedCase{"NegativeDecoderLayers", [](F &d) { d.family = 2, d.numDecoderLayers = -1; },
                      "hparams.num_decoder_layers is -1, expected >= 0"},
        MalformedCase{"ZeroEpsilon", [](F &d) { d.layerNormEpsilon = 0.0f; },
                      "hparams.layer_norm_epsilon is 0, expected a finite value > 0"},
        MalformedCase{"NanEmbeddingScale", [](F &d) { d.embeddingScale = std::nanf(""); },
                      "hparams.embedding_scale is nan, expected a finite value > 0"},
        MalformedCase{"OddSinusoidalWidth",
                      [](F &d) { d.positionEncoding = 0, d.dModel = 9, d.numHeads = 3; },
                      "hparams.d_model 9 must be even for Sinusoidal position encoding"},
        MalformedCase{"ClassifierWithoutPooling", [](F &d) { d.family = 3, d.numClasses = 2; },
                      "hparams.pooling is None, a Classifier needs Mean or FirstToken"},
        MalformedCase{"ClassifierWithoutClasses", [](F &d) { d.family = 3, d.pooling = 1; },
                      "hparams.num_classes is 0, expected >= 1"},
        MalformedCase{"SpecialTokenOutOfRange", [](F &d) { d.specialTokens = {{1, 2, 3, 16}}; },
                      "special_tokens.pad_id is 16, expected -1 (none) or an id in [0, 16)"},
        MalformedCase{"SpecialTokenBelowMinusOne", [](F &d) { d.specialTokens = {{-5, 2, 3, 0}}; },
                      "special_tokens.start_id is -5"},
        MalformedCase{"VocabularySizeMismatch", [](F &d) { d.vocabularyTokens = 10; },
                      "vocabulary has 10 tokens, expected vocab_size 16"},
        MalformedCase{"MissingWeight", [](F &d) { d.remove("decoder.layers.0.ffn.up.bias"); },
                      "missing weight 'decoder.layers.0.ffn.up.bias' (shape [16])"},
        MalformedCase{"MissingLmHeadWhenUntied", [](F &d) { d.remove("lm_head.weight"); },
                      "missing weight 'lm_head.weight'"},
        MalformedCase{"WrongWeightShape",
                      [](F &d) { tensor(d, "decoder.layers.0.ffn.up.weight").shape = {8, 32}; },
                      "weight 'decoder.layers.0.ffn.up.weight' has shape [8x32], expected [8x16]"},
        MalformedCase{"WrongDType",
                      [](F &d) { tensor(d, "embeddings.token").dtype = 1; },
                      "weight 'embeddings.token' has dtype F16, expected F32"},
        MalformedCase{"UnknownDType", [](F &d) { tensor(d, "embeddings.token").dtype = 42; },
                      "weight 'embeddings.token' has unknown dtype value 42"},
        MalformedCase{"DataSizeMismatch",
                      [](F &d) { tensor(d, "embeddings.token").dataBytes = 100; },
                      "weight 'embeddings.token' has 100 data bytes, expected 512 for shape "
                      "[16x8] F32"},
        MalformedCase{"MissingData", [](F &d) { tensor(d, "lm_head.bias").hasData = false; },
                      "weight 'lm_head.bias' has no data"},
        MalformedCase{"NegativeDim",
                      [](F &d) { tensor(d, "embeddings.position").shape = {-8, 8}; },
                      "weight 'embeddings.position' has shape [-8x8]: every dim must be >= 1"},
        MalformedCase{"ZeroDim", [](F &d) { tensor(d, "lm_head.bias").shape = {0}; },
                      "weight 'lm_head.bias' has shape [0]: every dim must be >= 1"},
        MalformedCase{"DuplicateWeight",
                      [](F &d) {
                        TensorDesc copy = tensor(d, "embeddings.token");
                        d.tensors.push_back(copy);
                      },
                      "weight 'embeddings.token' is listed twice"},
        MalformedCase{"UnusedWeight",
                      [](F &d) { d.tensors.push_back({"decoder.layers.0.ffn.upp.weight", {8, 16}}); },
                      "unused weight 'decoder.layers.0.ffn.upp.weight' (not part of a Decoder "
                      "model; misspelled?)"},
        MalformedCase{"CrossAttentionInADecoder",
                      [](F &d) { d.tensors.push_back({"decoder.layers.0.cross_attn.q.bias", {8}}); },
                      "unused weight 'decoder.layers.0.cross_attn.q.bias'"},
        MalformedCase{"EmptyWeightName", [](F &d) { d.tensors.push_back({"", {8}}); },
                      "has an empty name"}),
    [](const auto &info) { return std::string(info.param.name); });

TEST(MalformedFiles, NonexistentFile) {
  Model model;
  std::string path = std::string(TFC_SOURCE_DIR) + "/examples/models/no_such_model.fbs";
  Status s = loadModelFile(path, model);
  EXPECT_EQ(s.error, path + ": cannot open file (No such file or directory)");
}

TEST(MalformedFiles, DirectoryEmptyFileAndTooSmallFile) {
  Model model;
  std::string dir = std::string(TFC_SOURCE_DIR) + "/examples/models";
  EXPECT_THAT(loadModelFile(dir, model).error, HasSubstr("cannot open file (it is a directory)"));

  std::string path = ::testing::TempDir() + "fbs_frontend_empty.fbs";
  { std::ofstream(path, std::ios::binary); }
  EXPECT_EQ(loadModelFile(path, model).error,
            path + ": file is too small to be a tfc model (0 bytes)");
  std::remove(path.c_str());
  EXPECT_THAT(loadModelBuffer({'T', 'F', 'C'}, "x.fbs", model).error,
              HasSubstr("x.fbs: file is too small to be a tfc model (3 bytes)"));
}

TEST(MalformedFiles, NonPrintableIdentifierIsEscaped) {
  std::vector<uint8_t> bytes = writeModel(tinyDecoder());
  bytes[4] = 0x00, bytes[5] = 0xff;
  Model model;
  EXPECT_THAT(loadModelBuffer(bytes, kTinyName, model).error,
              HasSubstr("(identifier '\\x00\\xffCM', expected 'TFCM')"));
}

TEST(MalformedFiles, Truncated) {
  std::vector<uint8_t> bytes = writeModel(tinyDecoder());
  bytes.resize(bytes.size() / 2);
  Model model;
  EXPECT_THAT(loadModelBuffer(bytes, kTinyName, model).error,
              HasSubstr("tiny.fbs: corrupted or truncated model file"));
}

TEST(MalformedFiles, BuildModuleRejectsAHandMadeInvalidModel) {
  Model model;  // default: no weights, zero sizes
  model.path = "hand-made";
  mlir::MLIRContext context;
  std::string error;
  EXPECT_FALSE(buildModule(context, model, error));
  EXPECT_THAT(error, HasSubstr("hand-made: hparams.num_layers is 0, expected >= 1"));
}

TEST(MalformedFiles, CausalTableLimitIsAnErrorNotACrash) {
  ModelDesc d = tinyDecoder();
  d.maxPositions = 20000;
  d.tensors = conventionTensors(d);
  Model model;
  ASSERT_TRUE(loadModelBuffer(writeModel(d), kTinyName, model).ok());
  mlir::MLIRContext context;
  std::string error;
  EXPECT_FALSE(buildModule(context, model, error));
  EXPECT_THAT(error, HasSubstr("hparams.max_positions 20000 is too large for the causal mask "
                               "table (at most 8192)"));
}

//===----------------------------------------------------------------------===//
// 4. Byte-level corruption: no crash, a message or a valid model
//===----------------------------------------------------------------------===//

/// Loads `bytes` (on success also builds the module when `build` is set);
/// a failure must come with a message naming the file. Returns whether it loaded.
bool loadNeverCrashes(const std::vector<uint8_t> &bytes, mlir::MLIRContext &context, bool build,
                      const std::string &what) {
  Model model;
  Status s = loadModelBuffer(bytes, kTinyName, model);
  if (!s.ok()) {
    EXPECT_THAT(s.error, StartsWith(std::string(kTinyName) + ": ")) << what;
    return false;
  }
  if (build) {
    std::string error;
    auto module = buildModule(context, model, error);
    EXPECT_TRUE(module || !error.empty()) << what;
  }
  return true;
}

TEST(CorruptBytes, TruncationAtManyLengths) {
  std::vector<uint8_t> valid = writeModel(tinyDecoder());
  for (size_t n = 0; n < valid.size(); n += (n < 512 || n + 128 > valid.size() ? 1 : 37)) {
    std::vector<uint8_t> bytes(valid.begin(), valid.begin() + n);
    Model model;
    Status s = loadModelBuffer(bytes, kTinyName, model);
    // The last bytes of a FlatBuffer may be string padding no verifier reads:
    // cutting those may leave a valid model. Any deeper cut must fail.
    if (n + 8 <= valid.size()) {
      EXPECT_FALSE(s.ok()) << "a truncation to " << n << " of " << valid.size() << " bytes loaded";
    }
    if (!s.ok()) {
      EXPECT_THAT(s.error, StartsWith(std::string(kTinyName) + ": ")) << n;
    }
  }
}

TEST(CorruptBytes, EverySingleByteFlip) {
  std::vector<uint8_t> valid = writeModel(tinyDecoder());
  mlir::MLIRContext context;
  int loaded = 0;
  for (size_t pos = 0; pos < valid.size(); ++pos)
    for (uint8_t mask : {0x01, 0x04, 0x08, 0x10, 0x80, 0xff}) {
      std::vector<uint8_t> bytes = valid;
      bytes[pos] ^= mask;
      // Building is slower: build for flips in the first 1 KiB (metadata) only.
      loaded += loadNeverCrashes(bytes, context, pos < 1024, "flip at " + std::to_string(pos));
    }
  EXPECT_GT(loaded, 0) << "flips inside weight data should still load";
}

TEST(CorruptBytes, RandomMultiByteCorruption) {
  std::vector<uint8_t> valid = writeModel(tinyDecoder());
  mlir::MLIRContext context;
  std::mt19937 rng(20261123);
  for (int round = 0; round < 3000; ++round) {
    std::vector<uint8_t> bytes = valid;
    int flips = 1 + static_cast<int>(rng() % 8);
    for (int i = 0; i < flips; ++i)
      bytes[rng() % bytes.size()] = static_cast<uint8_t>(rng());
    loadNeverCrashes(bytes, context, round % 8 == 0, "round " + std::to_string(round));
  }
}

TEST(CorruptBytes, BadRootOffsets) {
  std::vector<uint8_t> valid = writeModel(tinyDecoder());
  auto size = static_cast<uint32_t>(valid.size());
  auto withRoot = [&](uint32_t offset) {
    std::vector<uint8_t> bytes = valid;
    std::memcpy(bytes.data(), &offset, sizeof(offset));
    return bytes;
  };
  // Outside the buffer, self-pointing or misaligned: the root is refused.
  for (uint32_t offset : {0u, 1u, 3u, size - 1, size, size + 4, 0x7fffffffu, 0x80000000u,
                          0xffffffffu}) {
    Model model;
    EXPECT_THAT(loadModelBuffer(withRoot(offset), kTinyName, model).error,
                HasSubstr("tiny.fbs: corrupted or truncated model file"))
        << "root offset " << offset;
  }
  // Inside it: whatever lies there, no crash.
  mlir::MLIRContext context;
  for (uint32_t offset = 4; offset + 4 <= size; offset += 4)
    loadNeverCrashes(withRoot(offset), context, /*build=*/true, "root " + std::to_string(offset));
}

} // namespace
