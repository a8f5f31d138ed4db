//===- compile_driver_test.cpp - tfc compile on the shipped example models ===//
//
// For every example model: the fused graph has exactly as many tfc.attention
// and tfc.layer_norm ops as the architecture has attention blocks and layer
// norms (counted independently from the hyperparameters), nothing is left
// unfused, and --no-fuse leaves every count at 0 with every candidate listed.
//
//===----------------------------------------------------------------------===//
#include "tfc/driver/Compiler.h"

#include "llvm/Support/JSON.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

using ::testing::HasSubstr;

namespace {

std::string examplePath(const std::string &name) {
  return std::string(TFC_SOURCE_DIR) + "/examples/models/" + name + ".fbs";
}

/// Linear layers the architecture has: q, k, v, o and two FFN linears per
/// attention block stack layer, 4 more per cross-attention, plus the head.
int64_t expectedLinears(const tfc::fbs::Hyperparameters &hp) {
  using F = tfc::fbs::Family;
  int64_t n = 0;
  switch (hp.family) {
  case F::Encoder:
    return 6 * hp.numLayers;
  case F::Classifier:
    return 6 * hp.numLayers + 1;
  case F::Decoder:
    return 6 * hp.numLayers + 1;
  case F::EncoderDecoder:
    n = 6 * hp.numLayers + 10 * hp.numDecoderLayers + 1;
    return n;
  }
  return -1;
}

int64_t expectedGelus(const tfc::fbs::Hyperparameters &hp) {
  if (hp.activation == tfc::fbs::Activation::Relu)
    return 0;
  int64_t layers = hp.numLayers;
  if (hp.family == tfc::fbs::Family::EncoderDecoder)
    layers += hp.numDecoderLayers;
  return layers;
}

class ExampleModel : public ::testing::TestWithParam<std::string> {};

TEST_P(ExampleModel, FusesEveryAttentionAndLayerNorm) {
  tfc::fbs::Model model;
  ASSERT_TRUE(tfc::fbs::loadModelFile(examplePath(GetParam()), model).ok());
  const auto &hp = model.hparams;

  mlir::MLIRContext context;
  tfc::driver::CompileResult result;
  auto status = tfc::driver::compileModel(context, examplePath(GetParam()), {}, result);
  ASSERT_TRUE(status.ok()) << status.error;

  tfc::fbs::ArchitectureCounts arch = tfc::fbs::countArchitecture(hp);
  EXPECT_GT(arch.attention, 0);
  EXPECT_EQ(result.fusions.attention, arch.attention);
  EXPECT_EQ(result.fusions.layerNorm, arch.layerNorm);
  EXPECT_EQ(result.fusions.linear, expectedLinears(hp));
  EXPECT_EQ(result.fusions.gelu, expectedGelus(hp));
  for (const auto &u : result.unfused)
    ADD_FAILURE() << "unfused " << u.pattern << " at " << u.op << ": " << u.reason;

  // No primitive piece of those patterns survives (a classifier keeps its one
  // softmax over the class logits).
  std::string ir = tfc::driver::printModule(*result.module);
  size_t softmaxes = 0;
  for (size_t at = ir.find("tfc.softmax"); at != std::string::npos;
       at = ir.find("tfc.softmax", at + 1))
    ++softmaxes;
  EXPECT_EQ(softmaxes, hp.family == tfc::fbs::Family::Classifier ? 1u : 0u);
  EXPECT_THAT(ir, ::testing::Not(HasSubstr("tfc.reduce_mean")));
  EXPECT_THAT(ir, ::testing::Not(HasSubstr("tfc.erf")));
}

TEST_P(ExampleModel, NoFuseKeepsThePrimitiveGraph) {
  tfc::fbs::Model model;
  ASSERT_TRUE(tfc::fbs::loadModelFile(examplePath(GetParam()), model).ok());
  tfc::fbs::ArchitectureCounts arch = tfc::fbs::countArchitecture(model.hparams);

  mlir::MLIRContext context;
  tfc::driver::CompileOptions options;
  options.fuse = false;
  tfc::driver::CompileResult result;
  auto status = tfc::driver::compileModel(context, examplePath(GetParam()), options, result);
  ASSERT_TRUE(status.ok()) << status.error;
  EXPECT_EQ(result.fusions.attention, 0);
  EXPECT_EQ(result.fusions.layerNorm, 0);
  EXPECT_EQ(result.fusions.gelu, 0);
  EXPECT_EQ(result.fusions.linear, 0);
  int64_t attention = 0, layerNorm = 0;
  for (const auto &u : result.unfused) {
    attention += u.pattern == "attention";
    layerNorm += u.pattern == "layer_norm";
    EXPECT_FALSE(u.reason.empty()) << u.op;
  }
  EXPECT_EQ(attention, arch.attention);
  EXPECT_EQ(layerNorm, arch.layerNorm);
}

TEST_P(ExampleModel, ReportIsValidJson) {
  mlir::MLIRContext context;
  tfc::driver::CompileOptions options;
  tfc::driver::CompileResult result;
  ASSERT_TRUE(tfc::driver::compileModel(context, examplePath(GetParam()), options, result).ok());
  auto parsed = llvm::json::parse(tfc::driver::reportToJson(result, options));
  ASSERT_TRUE(bool(parsed)) << llvm::toString(parsed.takeError());
  auto *root = parsed->getAsObject();
  ASSERT_NE(root, nullptr);
  auto *fusions = root->getObject("fusions");
  ASSERT_NE(fusions, nullptr);
  EXPECT_EQ(fusions->getInteger("attention"), result.fusions.attention);
  EXPECT_EQ(fusions->getInteger("layer_norm"), result.fusions.layerNorm);
  EXPECT_EQ(fusions->getInteger("gelu"), result.fusions.gelu);
  EXPECT_EQ(fusions->getInteger("linear"), result.fusions.linear);
  auto *unfused = root->getArray("unfused");
  ASSERT_NE(unfused, nullptr);
  EXPECT_TRUE(unfused->empty());
}

// The report's op histogram is the IR the plan is built from: after the CPU packing pass (the
// encoder's and decoder's fused q/k/v projections are read in place, so their three slices per
// attention are gone) and without the derived prefill / decode_step functions (which repeat
// forward's attentions).
TEST(CompileDriver, OpHistogramCountsThePlannedModelFunctions) {
  for (const char *name : {"encoder", "decoder"}) {
    SCOPED_TRACE(name);
    tfc::fbs::Model model;
    ASSERT_TRUE(tfc::fbs::loadModelFile(examplePath(name), model).ok());
    tfc::fbs::ArchitectureCounts arch = tfc::fbs::countArchitecture(model.hparams);
    ASSERT_GT(arch.attention, 0);

    mlir::MLIRContext context;
    tfc::driver::CompileOptions options;
    tfc::driver::CompileResult result;
    ASSERT_TRUE(tfc::driver::compileModel(context, examplePath(name), options, result).ok());
    std::map<std::string, int64_t> ops(result.opHistogram.begin(), result.opHistogram.end());
    EXPECT_EQ(ops["tfc.attention"], arch.attention);
    // One slice may remain (the positions' rows); three per attention did before packing.
    EXPECT_LE(ops["tfc.slice"], 1);
    int64_t packed = 0;
    result.module->walk([&](mlir::Operation *op) {
      packed += op->getName().getStringRef() == "tfc.attention" && op->hasAttr("columns");
    });
    EXPECT_GE(packed, arch.attention); // forward's, and the derived functions' when present
  }
}

INSTANTIATE_TEST_SUITE_P(Examples, ExampleModel,
                         ::testing::Values("encoder", "decoder", "encdec", "classifier"));

TEST(CompileDriver, MissingFileIsAnErrorNamingIt) {
  mlir::MLIRContext context;
  tfc::driver::CompileResult result;
  auto status = tfc::driver::compileModel(context, "/nonexistent/model.fbs", {}, result);
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.error, HasSubstr("/nonexistent/model.fbs"));
}

TEST(CompileDriver, AtomicWriteReplacesAndNeverTruncatesOnFailure) {
  std::string dir = ::testing::TempDir();
  std::string path = dir + "/tfc_atomic_test.txt";
  ASSERT_TRUE(tfc::driver::writeFileAtomically(path, "first").ok());
  ASSERT_TRUE(tfc::driver::writeFileAtomically(path, "second").ok());
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), "second");
  std::remove(path.c_str());

  auto status = tfc::driver::writeFileAtomically("/nonexistent-dir/out.json", "x");
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.error, HasSubstr("/nonexistent-dir/out.json"));
}

} // namespace
