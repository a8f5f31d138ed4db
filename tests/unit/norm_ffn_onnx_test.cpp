//===- norm_ffn_onnx_test.cpp - RMS norms and gated feed-forwards vs ONNX Runtime ------------===//
//
// tests/onnx/norm_ffn/norm_ffn.onnx (make_norm_ffn.py: transformers' LlamaRMSNorm, T5LayerNorm,
// GemmaRMSNorm, LlamaMLP (SwiGLU) and T5's gated GELU feed-forwards as torch exports them):
// every RMS norm and gated projection fuses, nothing is left unfused, and the fused and
// --no-fuse plans both match the ONNX Runtime references of every case:
// max |out - ref| <= 1e-4 * max(1, max |ref|).
//
//===----------------------------------------------------------------------------------------===//
#include "MiniJson.h"
#include "RuntimeTestUtil.h"
#include "tfrun/Npy.h"

#include "tfc/driver/Compiler.h"
#include "tfc/tfc_runtime.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using tfc::testutil::maxAbs;
using tfc::testutil::take;
using tfc::tfrun::NpyArray;

const std::string kDir = TFC_SOURCE_DIR "/tests/onnx/norm_ffn";

tfc::minijson::Value manifest() {
  std::ifstream in(kDir + "/manifest.json");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  tfc::minijson::Value root;
  std::string why;
  EXPECT_TRUE(tfc::minijson::Parser(text).parse(root, why)) << kDir << "/manifest.json: " << why;
  return root;
}

TEST(NormFfnOnnx, EveryRmsNormAndGatedProjectionFuses) {
  tfc::minijson::Value m = manifest();
  mlir::MLIRContext context;
  tfc::driver::CompileResult result;
  auto status = tfc::driver::compileModel(context, kDir + "/" + m["model"].string, {}, result);
  ASSERT_TRUE(status.ok()) << status.error;
  EXPECT_EQ(result.fusions.rmsNorm, int64_t(m["rms_norm"].number));
  EXPECT_EQ(result.fusions.gatedLinear, int64_t(m["gated_linear"].number));
  for (const auto &u : result.unfused)
    ADD_FAILURE() << "unfused " << u.pattern << " at " << u.op << ": " << u.reason;
}

TEST(NormFfnOnnx, FusedAndUnfusedPlansMatchOnnxRuntime) {
  tfc::minijson::Value m = manifest();
  fs::path dir = fs::temp_directory_path() / ("tfc_norm_ffn_" + std::to_string(::getpid()));
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
      auto s = tfc::driver::compileModel(context, kDir + "/" + m["model"].string, options, result);
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
    for (size_t k = 0; k < m["cases"].array.size(); ++k) {
      SCOPED_TRACE("case " + std::to_string(k));
      std::string prefix = kDir + "/refs/case" + std::to_string(k);
      NpyArray ids, ref;
      auto s = tfc::tfrun::readNpy(prefix + ".input_ids.npy", ids);
      ASSERT_TRUE(s.ok()) << s.message;
      s = tfc::tfrun::readNpy(prefix + ".logits.npy", ref);
      ASSERT_TRUE(s.ok()) << s.message;
      tfc_tensor in{"input_ids", TFC_I64, int32_t(ids.shape.size()), ids.shape.data(),
                    ids.data.data()};
      tfc_outputs *outputs = nullptr;
      ASSERT_EQ(take(tfc_session_run(session, "forward", &in, 1, &outputs)), "");
      std::unique_ptr<tfc_outputs, void (*)(tfc_outputs *)> guard(outputs, tfc_outputs_free);
      ASSERT_EQ(tfc_outputs_count(outputs), 1u);
      tfc_tensor t{};
      ASSERT_EQ(take(tfc_outputs_get(outputs, 0, &t)), "");
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
    std::printf("[ norm_ffn ] %s: max abs error %.3g\n", fuse ? "fused" : "--no-fuse", worst);
    RecordProperty(fuse ? "max_abs_error_fused" : "max_abs_error_unfused", std::to_string(worst));
  }
  fs::remove_all(dir);
}

} // namespace
