//===- fbs_frontend_v2_test.cpp - model.fbs 2.0: the described architecture ------===//
//
// 1. Described models (RMSNorm, rotary with a partial width, grouped KV heads, a gated SiLU
//    FFN, no biases, a sliding window; RoBERTa positions, a projected embedding, shared layers;
//    parallel blocks) load, build and verify, and hold the ops the described patterns need
//    in the numbers the hyperparameters imply; the constant tables (sliding-window causal
//    mask, rotary cos/sin) hold the manual's values.
// 2. The 2.0 rules: each broken field fails with a message naming it; the weight convention
//    follows the bias flags, the gate, the KV width and the shared layers.
// Numerics of these shapes against transformers: hf_arch_test.
//
//===----------------------------------------------------------------------===//
#include "fbs_frontend_ir_checks.h"
#include "fbs_frontend_model_writer.h"

#include "tfc/frontends/FbsFrontend.h"

#include "mlir/IR/BuiltinAttributes.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

using namespace tfc::fbs;
using namespace tfc::testing;
using ::testing::HasSubstr;

namespace {

constexpr const char *kName = "v2.fbs";

/// A Llama-shaped decoder: 2 layers, d_model 8, 2 heads of 4, 1 KV head, rotary over 2 of the 4
/// dims, RMSNorm, gated SiLU FFN, no biases, sliding window 3, 8 positions.
ModelDesc describedDecoder() {
  ModelDesc d;
  d.formatMajor = 2;
  d.numLayers = 2;
  d.normPlacement = 1;     // Pre
  d.finalNorm = true;
  d.normKind = 1;          // RmsNorm
  d.positionEncoding = 2;  // Rotary
  d.rotaryDim = 2;
  d.rotaryBase = 100.0f;
  d.numKvHeads = 1;
  d.ffnGated = true;
  d.activation = 3;        // Silu
  d.qkvBias = d.attnOutBias = d.ffnBias = false;
  d.slidingWindow = 3;
  d.tensors = conventionTensors(d);
  return d;
}

/// A RoBERTa/ALBERT-shaped encoder: RoBERTa positions (pad id 1), embeddings 4 wide projected
/// to 8, two layers sharing one set of weights.
ModelDesc describedEncoder() {
  ModelDesc d;
  d.formatMajor = 2;
  d.family = 0;  // Encoder
  d.numLayers = 2;
  d.embeddingNorm = true;
  d.positionPadId = 1;
  d.embeddingSize = 4;
  d.layerWeightGroups = 1;
  d.tensors = conventionTensors(d);
  return d;
}

struct Built {
  Model model;
  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
};

void build(const ModelDesc &d, Built &b) {
  Status s = loadModelBuffer(writeModel(d), kName, b.model);
  ASSERT_TRUE(s.ok()) << s.error;
  std::string error;
  b.module = buildModule(b.context, b.model, error);
  ASSERT_TRUE(b.module) << error;
}

/// The constants of the module with shape `shape` and element type `element`.
std::vector<mlir::DenseElementsAttr> constants(mlir::ModuleOp m, llvm::ArrayRef<int64_t> shape,
                                               mlir::Type element) {
  std::vector<mlir::DenseElementsAttr> out;
  m->walk([&](mlir::tfc::ConstantOp c) {
    auto v = llvm::dyn_cast<mlir::DenseElementsAttr>(c.getValue());
    if (v && v.getType().getShape() == shape && v.getType().getElementType() == element)
      out.push_back(v);
  });
  return out;
}

//===----------------------------------------------------------------------===//
// 1. Described models
//===----------------------------------------------------------------------===//

TEST(Described, DecoderResolvesItsCounts) {
  Built b;
  build(describedDecoder(), b);
  const Hyperparameters &hp = b.model.hparams;
  EXPECT_EQ(hp.kvHeads(), 1);
  EXPECT_EQ(hp.headWidth(), 4);
  EXPECT_EQ(hp.rotaryWidth(), 2);
  EXPECT_EQ(hp.attentionWidth(), 8);
  EXPECT_EQ(hp.kvWidth(), 4);
  ArchitectureCounts c = countArchitecture(hp);
  EXPECT_EQ(c.attention, 2);
  EXPECT_EQ(c.layerNorm, 0);
  EXPECT_EQ(c.rmsNorm, 5);  // 2 per layer + the final norm
}

TEST(Described, DecoderHoldsTheDescribedOps) {
  Built b;
  build(describedDecoder(), b);
  std::map<std::string, int64_t> ops = opHistogram(*b.module);
  // Per layer: K and V repeated to 2 heads (expand), q and k rotated (neg in rotate_half) and
  // SiLU's exp(-x) (one more neg); RMSNorm: one reduce_mean and no subtraction per norm.
  EXPECT_EQ(ops["tfc.expand"], 4);
  EXPECT_EQ(ops["tfc.neg"], 6);
  EXPECT_EQ(ops["tfc.exp"], 2);
  EXPECT_EQ(ops["tfc.reduce_mean"], 5);
  EXPECT_EQ(ops["tfc.sub"], 0);
  EXPECT_EQ(ops["tfc.softmax"], 2);
  // Linears without biases: matmuls q, k, v, o, gate, up, down per layer + the LM head + two
  // score/value matmuls per layer; no add of a bias weight.
  EXPECT_EQ(ops["tfc.matmul"], 2 * 7 + 1 + 2 * 2);
  for (const char *fused : {"tfc.layer_norm", "tfc.attention", "tfc.linear", "tfc.gelu"})
    EXPECT_EQ(ops[fused], 0) << fused;
  // No bias weight was created but the LM head's (optional, present in the convention).
  b.module->walk([&](mlir::tfc::WeightOp w) {
    if (w.getName() != "lm_head.bias")
      EXPECT_EQ(w.getName().find(".bias"), llvm::StringRef::npos) << w.getName().str();
  });
}

TEST(Described, SlidingWindowCausalTableIsTheManuals) {
  Built b;
  build(describedDecoder(), b);
  auto tables = constants(*b.module, {8, 8}, mlir::IntegerType::get(&b.context, 1));
  ASSERT_EQ(tables.size(), 1u);
  auto values = llvm::to_vector(tables[0].getValues<bool>());
  for (int64_t i = 0; i < 8; ++i)
    for (int64_t j = 0; j < 8; ++j)  // query i sees keys i - 3 .. i
      EXPECT_EQ(values[i * 8 + j], j <= i && j >= i - 3) << i << "," << j;
}

TEST(Described, RotaryTablesAreTheManuals) {
  Built b;
  build(describedDecoder(), b);
  // r = 2: inv[0] = 1 / 100^0 = 1; cos/sin [8, 2] of [p, p].
  auto tables = constants(*b.module, {8, 2}, mlir::Float32Type::get(&b.context));
  ASSERT_EQ(tables.size(), 2u);
  auto cosT = llvm::to_vector(tables[0].getValues<float>());
  auto sinT = llvm::to_vector(tables[1].getValues<float>());
  for (int64_t p = 0; p < 8; ++p)
    for (int64_t i = 0; i < 2; ++i) {
      EXPECT_FLOAT_EQ(cosT[p * 2 + i], std::cos(float(p))) << p;
      EXPECT_FLOAT_EQ(sinT[p * 2 + i], std::sin(float(p))) << p;
    }
}

TEST(Described, EncoderWithRobertaPositionsProjectionAndSharedLayers) {
  Built b;
  build(describedEncoder(), b);
  std::map<std::string, int64_t> ops = opHistogram(*b.module);
  // Positions: (ids != pad) from a [vocab] table, a running count by a matmul with the
  // [S, S] slice of the triangular table, then a gather of the position rows.
  auto notPad = constants(*b.module, {16}, mlir::Float32Type::get(&b.context));
  ASSERT_EQ(notPad.size(), 1u);
  auto np = llvm::to_vector(notPad[0].getValues<float>());
  for (int64_t v = 0; v < 16; ++v)
    EXPECT_EQ(np[v], v == 1 ? 0.0f : 1.0f) << v;
  auto upper = constants(*b.module, {8, 8}, mlir::IntegerType::get(&b.context, 1));
  ASSERT_EQ(upper.size(), 1u);
  auto u = llvm::to_vector(upper[0].getValues<bool>());
  for (int64_t j = 0; j < 8; ++j)
    for (int64_t i = 0; i < 8; ++i)
      EXPECT_EQ(u[j * 8 + i], j <= i);
  // Both layers use layer 0's weights: one weight op each, used twice.
  int64_t weights = 0;
  b.module->walk([&](mlir::tfc::WeightOp w) {
    ++weights;
    EXPECT_EQ(w.getName().find("layers.1"), llvm::StringRef::npos) << w.getName().str();
    if (w.getName() == "encoder.layers.0.self_attn.q.weight")
      EXPECT_EQ(std::distance(w->use_begin(), w->use_end()), 2);
  });
  EXPECT_EQ(weights, static_cast<int64_t>(b.model.weights.size()));
  EXPECT_EQ(ops["tfc.softmax"], 2);
  // The projection [4, 8] follows the embedding norm over 4 features.
  EXPECT_EQ(b.model.weights.at("embeddings.project.weight").shape,
            (std::vector<int64_t>{4, 8}));
  EXPECT_EQ(b.model.weights.at("embeddings.norm.weight").shape, (std::vector<int64_t>{4}));
}

TEST(Described, ParallelBlocksHaveOneNormEach) {
  ModelDesc d;
  d.formatMajor = 2;
  d.numLayers = 2;
  d.normPlacement = 2;  // Parallel
  d.finalNorm = true;
  d.tensors = conventionTensors(d);
  Built b;
  build(d, b);
  EXPECT_EQ(countArchitecture(b.model.hparams).layerNorm, 3);
  EXPECT_FALSE(b.model.weights.count("decoder.layers.0.ffn_norm.weight"));
  // Nine-op layer norms: one subtraction of the mean each.
  EXPECT_EQ(opHistogram(*b.module)["tfc.sub"], 3);
}

TEST(Described, GemmaNormOffsetAddsToTheWeight) {
  ModelDesc d = describedDecoder();
  d.normWeightOffset = 1.0f;
  d.headDim = 2;  // 2 heads of 2 (not d_model / heads)
  d.rotaryDim = 0;
  d.tensors = conventionTensors(d);
  Built b;
  build(d, b);
  EXPECT_EQ(b.model.weights.at("decoder.layers.0.self_attn.q.weight").shape,
            (std::vector<int64_t>{8, 4}));
  // Every RMSNorm weight gets tfc.add %w, c(1).
  int64_t offsets = 0;
  b.module->walk([&](mlir::tfc::AddOp add) {
    auto w = add.getLhs().getDefiningOp<mlir::tfc::WeightOp>();
    if (w && w.getName().ends_with("norm.weight"))
      ++offsets;
  });
  EXPECT_EQ(offsets, 5);
}

//===----------------------------------------------------------------------===//
// 2. The 2.0 rules
//===----------------------------------------------------------------------===//

struct BrokenCase {
  const char *name;
  std::function<void(ModelDesc &)> breakIt;
  bool rebuildTensors;
  const char *message;
};

class BrokenV2Test : public ::testing::TestWithParam<BrokenCase> {};

TEST_P(BrokenV2Test, FailsNamingTheField) {
  ModelDesc d = describedDecoder();
  GetParam().breakIt(d);
  if (GetParam().rebuildTensors)
    d.tensors = conventionTensors(d);
  Model model;
  std::string error = loadModelBuffer(writeModel(d), kName, model).error;
  EXPECT_THAT(error, HasSubstr(std::string(kName) + ": "));
  EXPECT_THAT(error, HasSubstr(GetParam().message));
}

using F = ModelDesc;
INSTANTIATE_TEST_SUITE_P(
    Rules, BrokenV2Test,
    ::testing::Values(
        BrokenCase{"KvHeadsDoNotDivide", [](F &d) { d.numKvHeads = 3; }, false,
                   "hparams.num_kv_heads 3 does not divide num_heads 2"},
        BrokenCase{"NegativeKvHeads", [](F &d) { d.numKvHeads = -1; }, false,
                   "hparams.num_kv_heads is -1, expected >= 0"},
        BrokenCase{"OddRotaryDim", [](F &d) { d.rotaryDim = 3; }, false,
                   "hparams.rotary_dim 3 must be even and at most the head width 4"},
        BrokenCase{"RotaryWiderThanHead", [](F &d) { d.rotaryDim = 6; }, false,
                   "hparams.rotary_dim 6 must be even and at most the head width 4"},
        BrokenCase{"UnknownNormKind", [](F &d) { d.normKind = 5; }, false,
                   "hparams.norm_kind: unknown value 5"},
        BrokenCase{"UnknownPositionEncoding", [](F &d) { d.positionEncoding = 9; }, false,
                   "hparams.position_encoding: unknown value 9"},
        BrokenCase{"ZeroRotaryBase", [](F &d) { d.rotaryBase = 0.0f; }, false,
                   "hparams.rotary_base is 0, expected a finite value > 0"},
        BrokenCase{"NanNormOffset", [](F &d) { d.normWeightOffset = std::nanf(""); }, false,
                   "hparams.norm_weight_offset is nan, expected a finite value"},
        BrokenCase{"WindowOnAnEncoder", [](F &d) { d.family = 0; }, true,
                   "hparams.sliding_window 3 needs a Decoder (causal self-attention), the "
                   "family is Encoder"},
        BrokenCase{"PadPositionsNeedLearned", [](F &d) { d.positionPadId = 1; }, false,
                   "hparams.position_pad_id needs Learned position encoding"},
        BrokenCase{"PadIdOutOfRange",
                   [](F &d) { d.positionEncoding = 1, d.positionPadId = 16; }, true,
                   "hparams.position_pad_id 16 is not a token id below vocab_size 16"},
        BrokenCase{"TooManyWeightGroups", [](F &d) { d.layerWeightGroups = 3; }, false,
                   "hparams.layer_weight_groups 3 exceeds num_layers 2"},
        BrokenCase{"TiedWithANarrowEmbedding",
                   [](F &d) { d.tiedEmbeddings = true, d.embeddingSize = 4; }, true,
                   "hparams.tied_embeddings needs embedding_size 4 to equal d_model 8"},
        BrokenCase{"RotaryEncoderDecoder", [](F &d) { d.family = 2, d.slidingWindow = 0; },
                   true, "hparams.position_encoding Rotary is not supported for an "
                         "EncoderDecoder"},
        BrokenCase{"MissingGate",
                   [](F &d) { d.remove("decoder.layers.1.ffn.gate.weight"); }, false,
                   "missing weight 'decoder.layers.1.ffn.gate.weight' (shape [8x16])"},
        BrokenCase{"BiasTheFlagsSayIsAbsent",
                   [](F &d) { d.tensors.push_back({"decoder.layers.0.self_attn.q.bias", {8}}); },
                   false, "unused weight 'decoder.layers.0.self_attn.q.bias'"},
        BrokenCase{"KeyWidthIsKvHeadsTimesHeadWidth",
                   [](F &d) { d.find("decoder.layers.0.self_attn.k.weight")->shape = {8, 8}; },
                   false,
                   "weight 'decoder.layers.0.self_attn.k.weight' has shape [8x8], expected "
                   "[8x4]"},
        BrokenCase{"RmsNormHasNoBias",
                   [](F &d) { d.tensors.push_back({"decoder.final_norm.bias", {8}}); }, false,
                   "unused weight 'decoder.final_norm.bias'"}),
    [](const ::testing::TestParamInfo<BrokenCase> &info) { return info.param.name; });

TEST(Described, OneXFilesKeepTheirMeaning) {
  // A 1.x file has none of the 2.0 fields: every default is the 1.x meaning.
  ModelDesc d;
  d.tensors = conventionTensors(d);
  Model model;
  ASSERT_TRUE(loadModelBuffer(writeModel(d), kName, model).ok());
  const Hyperparameters &hp = model.hparams;
  EXPECT_EQ(model.formatMajor, 1u);
  EXPECT_EQ(hp.normKind, NormKind::LayerNorm);
  EXPECT_EQ(hp.kvHeads(), hp.numHeads);
  EXPECT_EQ(hp.headWidth(), hp.dModel / hp.numHeads);
  EXPECT_TRUE(hp.qkvBias && hp.attnOutBias && hp.ffnBias);
  EXPECT_FALSE(hp.ffnGated);
  EXPECT_EQ(hp.slidingWindow, 0);
  EXPECT_EQ(hp.positionPadId, -1);
  EXPECT_EQ(hp.embeddingWidth(), hp.dModel);
  EXPECT_EQ(hp.layerWeightGroups, 0);
}

} // namespace
