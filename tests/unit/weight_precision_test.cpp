//===- weight_precision_test.cpp - cpu --precision bf16 / int8: the weights of the plan ------===//
//
// compiler/lower/cpu/WeightPrecision.h on lowered plans:
// * bf16: the plan computes in f32 (precision F32, f32 IR), records weight_precision BF16, and
//   every Linear / GatedLinear constant weight is the round-to-nearest-even bf16 of the fp32
//   plan's bytes (support/Float16.h, itself checked against numpy/torch); embeddings, norms and
//   biases stay f32; each weight is converted once for all the functions of the plan.
// * int8: each weight becomes i8 with its f32 scale [N] ("<weight>/scale") as the kernel's scale
//   input; the bytes are support/Int8Weights.h's of the fp32 bytes, and q * scale is within
//   scale / 2 of every f32 weight.
// * A constant also read by another kernel keeps its f32 copy; a weight that is not finite is an
//   error naming it (int8).
// * The plan verifier and the runtime accept the plans, and refuse one whose int8 scale input is
//   missing or mis-shaped, naming the kernel and the weight.
//
//===----------------------------------------------------------------------------------------===//
#include "plan_test_util.h"

#include "tfc/lower/cpu/LowerToPlan.h"
#include "tfc/plan/PlanWriter.h"
#include "tfc/schema/PlanKernels.h"
#include "tfc/support/Float16.h"
#include "tfc/support/Int8Weights.h"
#include "tfc/target/Target.h"

#include "mlir/Parser/Parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <unistd.h>

namespace {

namespace fb = tfc::plan;
using ::testing::HasSubstr;
using tfc::planner::Plan;

tfc::driver::CompileOptions cpuOptions(fb::DType precision) {
  tfc::driver::CompileOptions o;
  o.precision = precision;
  o.maxBatch = 2;
  return o;
}

std::string tempFile(const std::string &name) {
  return (std::filesystem::temp_directory_path() /
          ("tfc_weight_precision_" + std::to_string(getpid()) + "_" + name))
      .string();
}

const tfc::planner::Constant *constantNamed(const Plan &plan, const std::string &name) {
  for (const auto &c : plan.constants)
    if (c.name == name)
      return &c;
  return nullptr;
}

std::vector<float> floatsOf(const tfc::planner::Constant &c) {
  std::vector<float> v(c.bytes.size / 4);
  std::memcpy(v.data(), c.bytes.data(), c.bytes.size);
  return v;
}

/// Every weight input of every Linear / GatedLinear kernel of every function: (function,
/// kernel index, weight input, scale input).
struct WeightUse {
  size_t function, kernel;
  int32_t weight, scale;
};
std::vector<WeightUse> weightUses(const Plan &plan) {
  std::vector<WeightUse> out;
  for (size_t f = 0; f < plan.functions.size(); ++f)
    for (size_t k = 0; k < plan.functions[f].kernels.size(); ++k) {
      fb::WeightInputs w = fb::weightInputsOf(plan.functions[f].kernels[k].kind);
      for (int j = 0; j < w.count; ++j)
        out.push_back({f, k, w.list[j].weight, w.list[j].scale});
    }
  return out;
}

TEST(WeightPrecision, Bf16ConvertsTheLinearWeightsOfEveryFunctionOnce) {
  mlir::MLIRContext c32, c16;
  tfc::driver::CompileResult r32, r16;
  Plan p32, p16;
  plantest::compileExample(c32, "decoder", true, r32, p32, cpuOptions(fb::DType::F32));
  plantest::compileExample(c16, "decoder", true, r16, p16, cpuOptions(fb::DType::BF16));
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_EQ(p16.target, fb::Target::Cpu);
  EXPECT_EQ(p16.precision, fb::DType::F32);
  EXPECT_EQ(p16.weightPrecision, fb::DType::BF16);
  EXPECT_EQ(p32.weightPrecision, fb::DType::F32);
  ASSERT_EQ(p16.functions.size(), 3u); // forward, prefill, decode_step
  std::set<int32_t> converted;
  for (const WeightUse &u : weightUses(p16)) {
    const auto &fn = p16.functions[u.function];
    const auto &k = fn.kernels[u.kernel];
    const auto &v = fn.values[size_t(k.inputs[size_t(u.weight)])];
    ASSERT_EQ(v.kind, fb::ValueKind::Constant) << k.name;
    EXPECT_EQ(v.dtype, fb::DType::BF16) << k.name;
    EXPECT_LE(k.inputs.size(), 4u) << k.name << ": a bf16 weight has no scale";
    converted.insert(v.constant);
  }
  EXPECT_EQ(converted.size(), r16.plan.weights.weights);
  EXPECT_GT(converted.size(), 8u); // 2 layers of q, k, v, out, fc1, fc2 and the LM head
  // Each converted constant: the bf16 of the fp32 plan's bytes of the same name; the rest
  // (embeddings, norms, biases) as in the fp32 plan.
  ASSERT_EQ(p16.constants.size(), p32.constants.size());
  for (const auto &c : p16.constants) {
    SCOPED_TRACE(c.name);
    const auto *f = constantNamed(p32, c.name);
    ASSERT_NE(f, nullptr);
    if (c.dtype != fb::DType::BF16) {
      EXPECT_EQ(c.bytes.size, f->bytes.size);
      EXPECT_EQ(std::memcmp(c.bytes.data(), f->bytes.data(), c.bytes.size), 0);
      continue;
    }
    std::vector<float> w = floatsOf(*f);
    ASSERT_EQ(c.bytes.size, w.size() * 2);
    for (size_t i = 0; i < w.size(); ++i) {
      uint16_t got;
      std::memcpy(&got, c.bytes.data() + 2 * i, 2);
      ASSERT_EQ(got, tfc::support::floatToBFloat16(w[i], tfc::support::Overflow::Saturate)) << i;
    }
  }
  EXPECT_EQ(r16.plan.weights.bytesAfter * 2, r16.plan.weights.bytesBefore);
}

TEST(WeightPrecision, Int8WeightsComeWithOneScalePerOutputColumn) {
  mlir::MLIRContext c32, c8;
  tfc::driver::CompileResult r32, r8;
  Plan p32, p8;
  plantest::compileExample(c32, "decoder", true, r32, p32, cpuOptions(fb::DType::F32));
  plantest::compileExample(c8, "decoder", true, r8, p8, cpuOptions(fb::DType::I8));
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_EQ(p8.precision, fb::DType::F32);
  EXPECT_EQ(p8.weightPrecision, fb::DType::I8);
  std::set<int32_t> weights;
  for (const WeightUse &u : weightUses(p8)) {
    const auto &fn = p8.functions[u.function];
    const auto &k = fn.kernels[u.kernel];
    SCOPED_TRACE(fn.name + ": " + k.name);
    const auto &w = fn.values[size_t(k.inputs[size_t(u.weight)])];
    ASSERT_EQ(w.dtype, fb::DType::I8);
    ASSERT_GT(k.inputs.size(), size_t(u.scale));
    ASSERT_GE(k.inputs[size_t(u.scale)], 0);
    const auto &s = fn.values[size_t(k.inputs[size_t(u.scale)])];
    EXPECT_EQ(s.kind, fb::ValueKind::Constant);
    EXPECT_EQ(s.dtype, fb::DType::F32);
    ASSERT_EQ(s.dims.size(), 1u);
    EXPECT_EQ(s.dims[0].size, w.dims[1].size);
    const auto &q = p8.constants[size_t(w.constant)];
    const auto &scale = p8.constants[size_t(s.constant)];
    EXPECT_EQ(scale.name, q.name + "/scale");
    if (!weights.insert(w.constant).second)
      continue;
    // The bytes: Int8Weights.h of the fp32 plan's, and q * scale within scale / 2 of them.
    const auto *f = constantNamed(p32, q.name);
    ASSERT_NE(f, nullptr);
    const int64_t K = q.shape[0], N = q.shape[1];
    std::vector<int8_t> wantQ(size_t(K * N));
    std::vector<float> wantS(static_cast<size_t>(N));
    ASSERT_EQ(tfc::support::quantizeColumns(f->bytes.data(), K, N, wantQ.data(), wantS.data()), -1);
    ASSERT_EQ(q.bytes.size, wantQ.size());
    EXPECT_EQ(std::memcmp(q.bytes.data(), wantQ.data(), wantQ.size()), 0);
    std::vector<float> gotS = floatsOf(scale), w32 = floatsOf(*f);
    ASSERT_EQ(gotS, wantS);
    for (int64_t i = 0; i < K * N; ++i) {
      int8_t qi = int8_t(q.bytes.data()[i]);
      ASSERT_GE(qi, -127);
      ASSERT_LE(std::fabs(qi * gotS[size_t(i % N)] - w32[size_t(i)]), gotS[size_t(i % N)] * 0.5001f)
          << i;
    }
  }
  EXPECT_EQ(weights.size(), r8.plan.weights.weights);
}

/// A linear layer whose weight a matmul also reads, and a gated projection.
constexpr const char *kShared = R"mlir(
func.func @forward(%x: tensor<?x4xf32> {tfc.dims = ["batch", ""], tfc.name = "x"})
    -> (tensor<?x4xf32> {tfc.name = "y"}, tensor<?x4xf32> {tfc.name = "z"},
        tensor<?x4xf32> {tfc.name = "g"}) {
  %w = tfc.weight "w" : tensor<4x4xf32> loc("fc.weight")
  %u = tfc.weight "u" : tensor<4x4xf32> loc("up.weight")
  %y = tfc.linear %x, %w : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32> loc("fc")
  %z = tfc.matmul %x, %w : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32> loc("mm")
  %g = tfc.gated_linear %x, %w, %u {activation = #tfc<gate silu>}
         : (tensor<?x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32> loc("glu")
  return %y, %z, %g : tensor<?x4xf32>, tensor<?x4xf32>, tensor<?x4xf32>
}
)mlir";

tfc::lower::WeightLookup lookup(std::map<std::string, std::vector<float>> weights) {
  auto store = std::make_shared<std::map<std::string, std::shared_ptr<std::vector<uint8_t>>>>();
  for (auto &[name, v] : weights) {
    auto bytes = std::make_shared<std::vector<uint8_t>>(v.size() * 4);
    std::memcpy(bytes->data(), v.data(), bytes->size());
    (*store)[name] = bytes;
  }
  return [store](const std::string &name, tfc::lower::WeightData &out) {
    auto it = store->find(name);
    if (it == store->end())
      return false;
    out.shape = {4, 4};
    out.bytes.storage = it->second;
    out.bytes.size = it->second->size();
    return true;
  };
}

Plan lowerShared(fb::DType precision, std::vector<float> w, std::string &error) {
  mlir::MLIRContext context;
  tfc::driver::prepareContext(context);
  auto module = mlir::parseSourceString<mlir::ModuleOp>(kShared, &context);
  EXPECT_TRUE(module);
  tfc::lower::LowerOptions options;
  options.precision = precision;
  std::vector<float> u(16);
  for (int i = 0; i < 16; ++i)
    u[size_t(i)] = 0.25f * float(i - 8);
  Plan plan;
  error = tfc::lower::lowerToPlan(*module, lookup({{"w", std::move(w)}, {"u", u}}), options, plan)
              .error;
  return plan;
}

std::vector<float> ramp() {
  std::vector<float> w(16);
  for (int i = 0; i < 16; ++i)
    w[size_t(i)] = 0.1f * float(i) - 0.7f;
  return w;
}

TEST(WeightPrecision, AConstantAlsoReadElsewhereKeepsItsF32Copy) {
  std::string error;
  Plan plan = lowerShared(fb::DType::I8, ramp(), error);
  ASSERT_EQ(error, "");
  // "w" (f32, read by the matmul), "w@i8" and its scale (the linear and the gated linear),
  // "u" (i8) and its scale.
  std::map<std::string, fb::DType> names;
  for (const auto &c : plan.constants)
    names[c.name] = c.dtype;
  EXPECT_EQ(names, (std::map<std::string, fb::DType>{{"w", fb::DType::F32},
                                                     {"w@i8", fb::DType::I8},
                                                     {"w@i8/scale", fb::DType::F32},
                                                     {"u", fb::DType::I8},
                                                     {"u/scale", fb::DType::F32}}));
  const auto &fn = plan.functions[0];
  for (const auto &k : fn.kernels) {
    SCOPED_TRACE(k.name);
    if (k.kind == fb::KernelKind::MatMul) {
      EXPECT_EQ(fn.values[size_t(k.inputs[1])].dtype, fb::DType::F32);
    } else if (k.kind == fb::KernelKind::Linear) {
      EXPECT_EQ(fn.values[size_t(k.inputs[1])].dtype, fb::DType::I8);
      ASSERT_EQ(k.inputs.size(), 5u);
      EXPECT_EQ(plan.constants[size_t(fn.values[size_t(k.inputs[4])].constant)].name, "w@i8/scale");
    } else if (k.kind == fb::KernelKind::GatedLinear) {
      ASSERT_EQ(k.inputs.size(), 5u);
      EXPECT_EQ(plan.constants[size_t(fn.values[size_t(k.inputs[3])].constant)].name, "w@i8/scale");
      EXPECT_EQ(plan.constants[size_t(fn.values[size_t(k.inputs[4])].constant)].name, "u/scale");
    }
  }
  // The target accepts every kernel.
  for (const auto &k : fn.kernels)
    EXPECT_EQ(tfc::target::checkKernelOf(fb::Target::Cpu, fn, k), "") << k.name;
}

TEST(WeightPrecision, ANonFiniteWeightCannotBeInt8) {
  std::vector<float> w = ramp();
  w[6] = INFINITY;
  std::string error;
  lowerShared(fb::DType::I8, w, error);
  EXPECT_EQ(error, "function 'forward': weight 'w' has a value that is not finite (at [1, 2]): "
                   "it cannot be quantized to int8");
  // bf16 keeps it (bf16 has infinities).
  lowerShared(fb::DType::BF16, w, error);
  EXPECT_EQ(error, "");
}

// ---- the verifier and the runtime on written plans ------------------------------------------

TEST(WeightPrecision, VerifierAndRuntimeAcceptTheInt8PlanAndRefuseAMissingScale) {
  mlir::MLIRContext context;
  tfc::driver::CompileResult result;
  Plan plan;
  plantest::compileExample(context, "decoder", true, result, plan, cpuOptions(fb::DType::I8));
  ASSERT_FALSE(HasFatalFailure());
  std::string path = tempFile("dec8.plan");
  ASSERT_EQ(tfc::driver::writePlanFile(plan, path).error, "");
  EXPECT_EQ(tfc::driver::checkPlanFile(path, true).error, "");
  // The first Linear of forward loses its scale.
  Plan broken = plan;
  auto &fn = broken.functions[0];
  size_t k = 0;
  while (fn.kernels[k].kind != fb::KernelKind::Linear)
    ++k;
  std::string weight = fn.values[size_t(fn.kernels[k].inputs[1])].name;
  fn.kernels[k].inputs.resize(4);
  ASSERT_TRUE(tfc::planner::writePlanFile(broken, path, nullptr, nullptr).ok());
  EXPECT_THAT(tfc::driver::checkPlanFile(path, true).error,
              HasSubstr("function 'forward': kernel '" + fn.kernels[k].name + "' (Linear): weight '" +
                        weight + "' is i8 but has no scale (input 4)"));
  EXPECT_THAT(tfc::driver::verifyPlanFile(path).error,
              HasSubstr("the runtime refuses the plan: function 'forward': kernel '" +
                        fn.kernels[k].name + "' (Linear): weight '" + weight +
                        "' is i8 but has no scale (input 4: an f32 constant [N])"));
  // Its scale reads another weight's scale of another width: mis-shaped.
  broken = plan;
  auto &fn2 = broken.functions[0];
  int32_t otherScale = -1;
  for (const auto &kk : fn2.kernels)
    if (kk.kind == fb::KernelKind::Linear &&
        fn2.values[size_t(kk.inputs[4])].dims[0].size !=
            fn2.values[size_t(fn2.kernels[k].inputs[4])].dims[0].size)
      otherScale = kk.inputs[4];
  ASSERT_GE(otherScale, 0) << "the decoder has linear layers of two widths";
  fn2.kernels[k].inputs[4] = otherScale;
  ASSERT_TRUE(tfc::planner::writePlanFile(broken, path, nullptr, nullptr).ok());
  EXPECT_THAT(tfc::driver::checkPlanFile(path, true).error,
              HasSubstr("is not [N] (one per output column)"));
  EXPECT_THAT(tfc::driver::verifyPlanFile(path).error,
              HasSubstr("expected [" +
                        std::to_string(fn2.values[size_t(fn2.kernels[k].inputs[1])].dims[1].size) +
                        "] (one per output column)"));
  // int8 weights in a plan that says fp32 weights.
  broken = plan;
  broken.weightPrecision = fb::DType::F32;
  ASSERT_TRUE(tfc::planner::writePlanFile(broken, path, nullptr, nullptr).ok());
  EXPECT_THAT(tfc::driver::checkPlanFile(path, true).error,
              HasSubstr("' is i8 but the plan's weight precision is f32"));
  std::filesystem::remove(path);
}

} // namespace
