//===- target_corpus_test.cpp - every model the CPU runs, compiled for cuda fp16 and bf16 ===//
//
// CudaPlans.<model>_<fp16|bf16>: `tfc compile --target cuda --precision fp16|bf16` (in-process,
// --max-batch 2) of every model of the repository that runs on the CPU:
//   * examples/models/*.fbs,
//   * the architecture corpus: tests/onnx/arch/ (the models its expectations.json says "pass")
//     and the checkpoints of tests/hf/arch/ (likewise),
//   * the ONNX corpus of tests/onnx/manifest.json.
// Each must give a plan that the plan verifier accepts (writePlanFile runs it), or fail with a
// compile error naming the op the target cannot run; today the cuda target runs every kernel
// kind, so every model must give a plan. The plan must also be what --precision promises: the
// fp32 signature of the model (float inputs and outputs f32), every heavy kernel (Linear,
// GatedLinear, MatMul, the norms, Embedding, Softmax, Rotary, CacheStore; Attention's and
// CachedAttention's q, k, v and output) in the precision with float attention masks in f32,
// every constant a Linear / GatedLinear / Embedding reads in the precision, and KV cache slots
// of the precision, and no kernel whose inputs are all constants (the conversion happens at
// compile time). The outcome of each model is printed ("[ cuda     ] ...").
//
// Whether the kernels compute the right numbers is the CUDA backend's to test on a GPU; the
// conversion of the weights is checked against a reference in target_test and
// support_float16_test.
//
//===----------------------------------------------------------------------===//
#include "CorpusHarness.h"

#include "tfc/plan/PlanWriter.h"
#include "tfc/target/Target.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
namespace fb = tfc::plan;
namespace target = tfc::target;
using tfc::minijson::Value;
using namespace tfc::testutil::corpus;

const std::string kSource = TFC_SOURCE_DIR;

/// The names that `file` (an expectations.json) says "pass".
std::vector<std::string> passing(const std::string &file, std::string &error) {
  Value root;
  std::vector<std::string> out;
  if (!readJson(file, root, error))
    return out;
  for (const auto &[name, v] : root["models"].object)
    if (v.kind == Value::String && v.string == "pass")
      out.push_back(name);
  return out;
}

/// "" or what is wrong with `plan` as a `precision` plan for the cuda target.
std::string checkPlan(const tfc::planner::Plan &plan, fb::DType precision) {
  auto dtype = [](fb::DType d) { return std::string(tfc::planner::dtypeName(d)); };
  if (plan.target != fb::Target::Cuda || plan.precision != precision)
    return "the plan records target/precision " + std::string(target::targetName(plan.target)) +
           "/" + target::precisionName(plan.precision);
  for (const auto &slot : plan.caches)
    if (slot.dtype != precision)
      return "cache slot '" + slot.name + "' holds " + dtype(slot.dtype);
  for (const auto &fn : plan.functions) {
    std::string in = "function '" + fn.name + "': ";
    // Values read only as attention masks, directly or through kernels whose outputs are all
    // such values (T5's position bias, DeBERTa's c2p/p2c scores), are computed in f32 by design
    // (tfc-convert-precision): the kernels add the mask to f32 scores.
    std::vector<std::vector<std::pair<size_t, size_t>>> readers(fn.values.size());
    for (size_t ki = 0; ki < fn.kernels.size(); ++ki)
      for (size_t i = 0; i < fn.kernels[ki].inputs.size(); ++i)
        if (fn.kernels[ki].inputs[i] >= 0)
          readers[size_t(fn.kernels[ki].inputs[i])].push_back({ki, i});
    std::vector<bool> maskOnlyKernel(fn.kernels.size(), false);
    for (size_t ki = fn.kernels.size(); ki-- > 0;) {
      const auto &k = fn.kernels[ki];
      bool all = !k.outputs.empty();
      for (int32_t o : k.outputs) {
        bool portOut = fn.values[o].kind == fb::ValueKind::Output;
        all = all && !portOut && !readers[size_t(o)].empty();
        for (auto [rk, ri] : readers[size_t(o)]) {
          auto rkind = fn.kernels[rk].kind;
          bool mask = ri == 3 && (rkind == fb::KernelKind::Attention ||
                                  rkind == fb::KernelKind::CachedAttention);
          all = all && (mask || (rk > ki && maskOnlyKernel[rk]));
        }
      }
      maskOnlyKernel[ki] = all;
    }
    for (const auto *ports : {&fn.inputs, &fn.outputs})
      for (const auto &p : *ports)
        if (target::isFloat(fn.values[p.value].dtype) && fn.values[p.value].dtype != fb::DType::F32)
          return in + "port '" + p.name + "' is " + dtype(fn.values[p.value].dtype);
    for (size_t ki = 0; ki < fn.kernels.size(); ++ki) {
      const auto &k = fn.kernels[ki];
      std::string kernel = in + "kernel '" + k.name + "' (" + fb::EnumNameKernelKind(k.kind) + ")";
      auto valueDtype = [&](size_t i) { return fn.values[k.inputs[i]].dtype; };
      target::DTypeSet floats = target::floatDtypesOf(fn, k);
      if (!floats.minus({fb::DType::F32, precision}).empty())
        return kernel + " reads or writes " + floats.str();
      switch (k.kind) {
      case fb::KernelKind::Linear:
      case fb::KernelKind::GatedLinear:
      case fb::KernelKind::MatMul:
      case fb::KernelKind::LayerNorm:
      case fb::KernelKind::LayerNormalization:
      case fb::KernelKind::RmsNorm:
      case fb::KernelKind::Embedding:
      case fb::KernelKind::Softmax:
      case fb::KernelKind::Rotary:
      case fb::KernelKind::CacheStore:
        if (!(floats == target::DTypeSet({precision})) &&
            !(maskOnlyKernel[ki] && floats == target::DTypeSet({fb::DType::F32})))
          return kernel + " computes in " + floats.str();
        break;
      case fb::KernelKind::Attention:
      case fb::KernelKind::CachedAttention:
        for (size_t i = 0; i < k.inputs.size() && i < 3; ++i)
          if (k.inputs[i] >= 0 && valueDtype(i) != precision)
            return kernel + " input " + std::to_string(i) + " is " + dtype(valueDtype(i));
        if (fn.values[k.outputs[0]].dtype != precision)
          return kernel + " writes " + dtype(fn.values[k.outputs[0]].dtype);
        if (k.inputs.size() > 3 && k.inputs[3] >= 0 && target::isFloat(valueDtype(3)) &&
            valueDtype(3) != fb::DType::F32)
          return kernel + " has a " + dtype(valueDtype(3)) + " mask";
        break;
      default:
        break;
      }
      if (k.kind == fb::KernelKind::Linear || k.kind == fb::KernelKind::GatedLinear ||
          k.kind == fb::KernelKind::Embedding)
        for (int32_t v : k.inputs)
          if (v >= 0 && fn.values[v].kind == fb::ValueKind::Constant &&
              plan.constants[fn.values[v].constant].dtype != precision)
            return kernel + " reads constant '" + plan.constants[fn.values[v].constant].name +
                   "' in " + dtype(plan.constants[fn.values[v].constant].dtype);
    }
  }
  return "";
}

/// Compiles `path` for cuda in `precision`, writes the plan (verified) and checks it.
void compileForCuda(const std::string &name, const std::string &path, fb::DType precision) {
  mlir::MLIRContext context;
  tfc::driver::CompileOptions options;
  options.maxBatch = 2;
  options.target = target::Target::Cuda;
  options.precision = precision;
  tfc::driver::CompileResult result;
  auto s = tfc::driver::compileModel(context, path, options, result);
  ASSERT_TRUE(s.ok()) << s.error;
  tfc::planner::Plan plan;
  s = tfc::driver::buildPlan(result, options, plan);
  ASSERT_TRUE(s.ok()) << s.error;
  std::string file = tempPath("tfc_cuda_" + identifier(name)) + ".plan";
  s = tfc::driver::writePlanFile(plan, file);
  fs::remove(file);
  ASSERT_TRUE(s.ok()) << s.error;
  EXPECT_EQ(checkPlan(plan, precision), "");
  // Weights and constants are converted at compile time: no Cast (or other kernel) of constants
  // alone runs at every call.
  EXPECT_TRUE(result.plan.constantInputKernels.empty())
      << result.plan.constantInputKernels.front();
  size_t casts = 0, kernels = 0;
  uint64_t low = 0, f32 = 0;
  for (const auto &fn : plan.functions)
    for (const auto &k : fn.kernels) {
      ++kernels;
      casts += k.kind == fb::KernelKind::Cast;
    }
  for (const auto &c : plan.constants) {
    if (c.dtype == precision)
      low += c.bytes.size;
    else if (c.dtype == fb::DType::F32)
      f32 += c.bytes.size;
  }
  std::printf("[ cuda     ] %s %s: verified plan, %zu function(s), %zu kernels (%zu casts), "
              "constants %.2f MiB %s + %.3f MiB f32, %zu cache slot(s), %zu warning(s)\n",
              name.c_str(), target::precisionName(precision), plan.functions.size(), kernels,
              casts, low / 1048576.0, tfc::planner::dtypeName(precision), f32 / 1048576.0,
              plan.caches.size(), result.warnings.size());
  for (const std::string &w : result.warnings)
    std::printf("[ cuda     ]   warning: %s\n", w.c_str());
}

struct Entry {
  std::string name, path;
};

std::vector<Entry> models(std::vector<std::string> &errors) {
  std::vector<Entry> out;
  for (const char *e : {"encoder", "decoder", "encdec", "classifier", "chargpt"})
    out.push_back({std::string("example_") + e, kSource + "/examples/models/" + e + ".fbs"});
  std::string error;
  std::vector<Model> arch = loadManifest(kSource + "/tests/onnx/arch", &error);
  if (!error.empty())
    errors.push_back(error);
  std::vector<std::string> pass = passing(kSource + "/tests/onnx/arch/expectations.json", error);
  for (const Model &m : arch)
    if (std::find(pass.begin(), pass.end(), m.name) != pass.end())
      out.push_back({"arch_" + m.name, kSource + "/tests/onnx/arch/" + m.path});
  for (const std::string &n : passing(kSource + "/tests/hf/arch/expectations.json", error))
    out.push_back({"hf_" + n, kSource + "/tests/hf/arch/" + n});
  for (const Model &m : loadManifest(kSource + "/tests/onnx", &error))
    out.push_back({"onnx_" + m.name, kSource + "/tests/onnx/" + m.path});
  if (!error.empty())
    errors.push_back(error);
  return out;
}

void registerAll() {
  std::vector<std::string> errors;
  std::vector<Entry> all = models(errors);
  ::testing::RegisterTest("CudaPlans", "CorpusLoads", nullptr, nullptr, __FILE__, __LINE__,
                          [=]() -> ::testing::Test * {
                            struct T : ::testing::Test {
                              std::vector<std::string> errors;
                              size_t count = 0;
                              void TestBody() override {
                                EXPECT_TRUE(errors.empty()) << errors.front();
                                // 5 examples, 24 + 9 of the architecture corpus, 9 ONNX.
                                EXPECT_GE(count, 47u);
                              }
                            };
                            auto *t = new T;
                            t->errors = errors;
                            t->count = all.size();
                            return t;
                          });
  for (const Entry &e : all)
    for (fb::DType precision : {fb::DType::F16, fb::DType::BF16}) {
      std::string test = identifier(e.name) + "_" + target::precisionName(precision);
      ::testing::RegisterTest("CudaPlans", test.c_str(), nullptr, nullptr, __FILE__, __LINE__,
                              [=]() -> ::testing::Test * {
                                struct T : ::testing::Test {
                                  Entry e;
                                  fb::DType p;
                                  void TestBody() override { compileForCuda(e.name, e.path, p); }
                                };
                                auto *t = new T;
                                t->e = e;
                                t->p = precision;
                                return t;
                              });
    }
}

} // namespace

int main(int argc, char **argv) {
  ::testing::InitGoogleTest(&argc, argv);
  registerAll();
  return RUN_ALL_TESTS();
}
