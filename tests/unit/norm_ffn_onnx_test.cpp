//===- norm_ffn_onnx_test.cpp - RMS norms and gated feed-forwards vs ONNX Runtime ------------===//
//
// The models of tests/onnx/norm_ffn/manifest.json (make_norm_ffn.py): norm_ffn.onnx holds
// transformers' LlamaRMSNorm, T5LayerNorm, GemmaRMSNorm, LlamaMLP (SwiGLU) and T5's gated GELU
// feed-forwards as torch exports them; rms_reciprocal.onnx an RMS norm written with Reciprocal
// and an ungated SiLU (x * Sigmoid(x)). Every RMS norm and gated projection fuses (the manifest's
// counts), nothing is left unfused, and the fused and --no-fuse plans both match the ONNX
// Runtime references of every case:
// max |out - ref| <= 1e-4 * max(1, max |ref|).
//
//===----------------------------------------------------------------------------------------===//
#include "MiniJson.h"
#include "RuntimeTestUtil.h"
#include "../common/NpyTfcDtype.h"
#include "tfc/support/Npy.h"

#include "tfc/IR/TfcDialect.h"
#include "tfc/driver/Compiler.h"
#include "tfc/tfc_runtime.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <ostream>
#include <string>
#include <unistd.h>
#include <utility>
#include <vector>

namespace {

namespace fs = std::filesystem;
using tfc::testutil::maxAbs;
using tfc::testutil::take;
using tfc::support::NpyArray;

const std::string kDir = TFC_SOURCE_DIR "/tests/onnx/norm_ffn";

struct Model {
  std::string name, path, input, output;
  int64_t rmsNorm = -1, gatedLinear = -1, sigmoid = -1;
  std::vector<std::pair<std::string, std::string>> cases;  // input file, reference file
};

std::vector<Model> loadManifest() {
  std::ifstream in(kDir + "/manifest.json");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  tfc::minijson::Value root;
  std::string why;
  if (!tfc::minijson::Parser(text).parse(root, why)) {
    ADD_FAILURE() << kDir << "/manifest.json: " << why;
    return {};
  }
  std::vector<Model> models;
  for (const auto &m : root["models"].array) {
    Model model{m["name"].string, m["model"].string, m["input"].string, m["output"].string};
    model.rmsNorm = int64_t(m["rms_norm"].number);
    model.gatedLinear = int64_t(m["gated_linear"].number);
    model.sigmoid = int64_t(m["sigmoid"].number);
    for (const auto &c : m["cases"].array)
      model.cases.emplace_back(c["files"][model.input].string, c["files"]["output"].string);
    models.push_back(std::move(model));
  }
  return models;
}

std::string testName(const ::testing::TestParamInfo<Model> &info) { return info.param.name; }
void PrintTo(const Model &m, std::ostream *os) { *os << m.name; }

class NormFfnOnnx : public ::testing::TestWithParam<Model> {};

TEST_P(NormFfnOnnx, EveryRmsNormAndGatedProjectionFuses) {
  const Model &m = GetParam();
  mlir::MLIRContext context;
  tfc::driver::CompileResult result;
  auto status = tfc::driver::compileModel(context, kDir + "/" + m.path, {}, result);
  ASSERT_TRUE(status.ok()) << status.error;
  EXPECT_EQ(result.fusions.rmsNorm, m.rmsNorm);
  EXPECT_EQ(result.fusions.gatedLinear, m.gatedLinear);
  int64_t sigmoids = 0;
  result.module->walk([&](mlir::tfc::SigmoidOp) { ++sigmoids; });
  EXPECT_EQ(sigmoids, m.sigmoid) << "sigmoids outside a gated projection";
  for (const auto &u : result.unfused)
    ADD_FAILURE() << "unfused " << u.pattern << " at " << u.op << ": " << u.reason;
}

TEST_P(NormFfnOnnx, FusedAndUnfusedPlansMatchOnnxRuntime) {
  const Model &m = GetParam();
  ASSERT_FALSE(m.cases.empty());
  fs::path dir = fs::temp_directory_path() /
                 ("tfc_norm_ffn_" + m.name + "_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  for (bool fuse : {true, false}) {
    SCOPED_TRACE(fuse ? "fused" : "--no-fuse");
    std::string planPath = (dir / (fuse ? "fused.plan" : "unfused.plan")).string();
    {
      mlir::MLIRContext context;
      tfc::driver::CompileOptions options;
      options.fuse = fuse;
      options.maxBatch = 3;
      tfc::driver::CompileResult result;
      auto s = tfc::driver::compileModel(context, kDir + "/" + m.path, options, result);
      ASSERT_TRUE(s.ok()) << s.error;
      tfc::planner::Plan plan;
      auto b = tfc::driver::buildPlan(result, options, plan);
      ASSERT_TRUE(b.ok()) << b.error;
      ASSERT_TRUE(tfc::driver::writePlanFile(plan, planPath).ok());
    }
    tfc_plan *plan = nullptr;
    ASSERT_EQ(take(tfc_plan_open(planPath.c_str(), nullptr, &plan)), "");
    std::unique_ptr<tfc_plan, void (*)(tfc_plan *)> planGuard(plan, tfc_plan_release);
    tfc_session *session = nullptr;
    ASSERT_EQ(take(tfc_session_create(plan, nullptr, &session)), "");
    std::unique_ptr<tfc_session, void (*)(tfc_session *)> sessionGuard(session,
                                                                       tfc_session_release);
    double worst = 0;
    for (const auto &[inputFile, refFile] : m.cases) {
      SCOPED_TRACE(inputFile);
      NpyArray x, ref;
      auto s = tfc::support::readNpy(kDir + "/" + inputFile, x);
      ASSERT_TRUE(s.ok()) << s.error;
      s = tfc::support::readNpy(kDir + "/" + refFile, ref);
      ASSERT_TRUE(s.ok()) << s.error;
      tfc_dtype dtype;
      ASSERT_TRUE(tfc::testutil::tfcDtypeOf(x.dtype, dtype));
      tfc_tensor in{m.input.c_str(), dtype, int32_t(x.shape.size()), x.shape.data(),
                    x.data.data()};
      tfc_outputs *outputs = nullptr;
      ASSERT_EQ(take(tfc_session_run(session, "forward", &in, 1, &outputs)), "");
      std::unique_ptr<tfc_outputs, void (*)(tfc_outputs *)> guard(outputs, tfc_outputs_free);
      ASSERT_EQ(tfc_outputs_count(outputs), 1u);
      tfc_tensor t{};
      ASSERT_EQ(take(tfc_outputs_get(outputs, 0, &t)), "");
      ASSERT_EQ(std::string(t.name), m.output);
      ASSERT_EQ(t.dtype, TFC_F32);
      ASSERT_EQ(std::vector<int64_t>(t.dims, t.dims + t.rank), ref.shape);
      size_t n = size_t(ref.numElements());
      const auto *want = reinterpret_cast<const float *>(ref.data.data());
      const auto *got = static_cast<const float *>(t.data);
      double allowed = 1e-4 * std::max(1.0, maxAbs(want, n)), err = 0;
      for (size_t i = 0; i < n; ++i) {
        double d = std::fabs(double(got[i]) - double(want[i]));
        err = std::isnan(d) ? INFINITY : std::max(err, d);
      }
      EXPECT_LE(err, allowed);
      worst = std::max(worst, err);
    }
    std::printf("[ norm_ffn ] %s (%s): max abs error %.3g\n", m.name.c_str(),
                fuse ? "fused" : "--no-fuse", worst);
  }
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Models, NormFfnOnnx, ::testing::ValuesIn(loadManifest()), testName);

} // namespace
