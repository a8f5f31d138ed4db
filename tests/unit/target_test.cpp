//===- target_test.cpp - --target / --precision: the capability table, lowering, the verifier ===//
//
// * The capability table (compiler/target): what each target runs, the names, the messages.
// * Lowering: an f16 kernel on the cpu target is an error naming the op and its location; on
//   the cuda target the plan records target and precision, and f16/bf16 weights are the
//   model's f32 bytes converted by support/Float16.h (itself checked against numpy/torch).
// * The driver: fp16 plans of the examples keep f32 signatures, compute their heavy kernels in
//   f16 (f32 index arithmetic and masks aside), hold every converted weight as the reference
//   conversion of the fp32 plan's bytes, and f16 KV cache slots.
// * The plan verifier: a cuda plan is checked without the runtime (its checksums too); a plan
//   whose kernels its target does not run is refused; the runtime reads the precision and
//   refuses an f16 cache slot it cannot hold.
//
//===----------------------------------------------------------------------===//
#include "plan_test_util.h"

#include "tfc/lower/cpu/LowerToPlan.h"
#include "tfc/plan/PlanWriter.h"
#include "tfc/schema/PlanFile.h"
#include "tfc/support/Float16.h"
#include "tfc/target/Target.h"
#include "tfc/tfc_runtime.h"

#include "mlir/Parser/Parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <unistd.h>

namespace {

namespace fb = tfc::plan;
namespace target = tfc::target;
using ::testing::HasSubstr;
using tfc::support::Overflow;

std::string tempFile(const std::string &name) {
  return (std::filesystem::temp_directory_path() /
          ("tfc_target_" + std::to_string(getpid()) + "_" + name))
      .string();
}

TEST(Capabilities, CpuRunsEveryKindInF32CudaInF32F16BF16) {
  const target::Capabilities &cpu = target::capabilities(target::Target::Cpu);
  const target::Capabilities &cuda = target::capabilities(target::Target::Cuda);
  // The cpu's bf16 and int8 are weight precisions (its kernels compute in f32).
  EXPECT_EQ(cpu.precisions, target::DTypeSet({fb::DType::F32, fb::DType::BF16, fb::DType::I8}));
  EXPECT_TRUE(cpu.weightOnly);
  EXPECT_FALSE(cuda.weightOnly);
  EXPECT_EQ(cuda.precisions, target::DTypeSet({fb::DType::F32, fb::DType::F16, fb::DType::BF16}));
  for (size_t k = 0; k < target::kNumKernelKinds; ++k) {
    SCOPED_TRACE(fb::EnumNameKernelKind(fb::KernelKind(k)));
    EXPECT_EQ(cpu.kernels[k], target::DTypeSet({fb::DType::F32}));
    bool weights = fb::KernelKind(k) == fb::KernelKind::Linear ||
                   fb::KernelKind(k) == fb::KernelKind::GatedLinear;
    EXPECT_EQ(cpu.weights[k], weights ? target::DTypeSet({fb::DType::F32, fb::DType::BF16,
                                                          fb::DType::I8})
                                      : target::DTypeSet());
    EXPECT_EQ(cuda.kernels[k], target::DTypeSet({fb::DType::F32, fb::DType::F16, fb::DType::BF16}));
  }
  EXPECT_EQ(cpu.cacheDtypes, target::DTypeSet({fb::DType::F32}));
  EXPECT_TRUE(cuda.cacheDtypes.contains(fb::DType::BF16));
}

TEST(Capabilities, NamesAndMessages) {
  EXPECT_EQ(target::parseTarget("cuda"), target::Target::Cuda);
  EXPECT_EQ(target::parseTarget("cpu"), target::Target::Cpu);
  EXPECT_EQ(target::parseTarget("gpu"), std::nullopt);
  EXPECT_EQ(target::parsePrecision("bf16"), fb::DType::BF16);
  EXPECT_EQ(target::parsePrecision("f16"), std::nullopt);
  EXPECT_EQ(target::targetNames(), "cpu, cuda");
  EXPECT_EQ(target::parsePrecision("int8"), fb::DType::I8);
  EXPECT_EQ(target::precisionNames(), "fp32, fp16, bf16, int8");
  EXPECT_EQ(target::checkPrecision(target::Target::Cpu, fb::DType::F16),
            "the cpu target runs fp32, bf16, int8 plans only, not fp16 (fp16 plans: --target cuda)");
  EXPECT_EQ(target::checkPrecision(target::Target::Cuda, fb::DType::I8),
            "the cuda target runs fp32, fp16, bf16 plans only, not int8 (int8 plans: --target cpu)");
  EXPECT_EQ(target::checkPrecision(target::Target::Cuda, fb::DType::BF16), "");
  // What the plans record: the cpu's weights, cuda's activations (and weights).
  EXPECT_EQ(target::planPrecisions(target::Target::Cpu, fb::DType::I8).activations, fb::DType::F32);
  EXPECT_EQ(target::planPrecisions(target::Target::Cpu, fb::DType::I8).weights, fb::DType::I8);
  EXPECT_EQ(target::planPrecisions(target::Target::Cuda, fb::DType::BF16).activations,
            fb::DType::BF16);
  EXPECT_EQ(target::planPrecisions(target::Target::Cuda, fb::DType::BF16).weights, fb::DType::F32);
  EXPECT_EQ(target::checkPlanPrecisions(target::Target::Cpu, fb::DType::F32, fb::DType::BF16), "");
  EXPECT_EQ(target::checkPlanPrecisions(target::Target::Cpu, fb::DType::BF16, fb::DType::F32),
            "a cpu plan cannot have precision bf16 with weight precision f32 (its activations "
            "are f32; its weights f32, bf16 or i8)");
  EXPECT_EQ(target::checkPlanPrecisions(target::Target::Cuda, fb::DType::F16, fb::DType::I8),
            "a cuda plan cannot have precision f16 with weight precision i8 (its weights follow "
            "its precision)");
  EXPECT_EQ(target::checkWeight(target::Target::Cpu, fb::KernelKind::Linear, fb::DType::I8), "");
  EXPECT_EQ(target::checkWeight(target::Target::Cpu, fb::KernelKind::Linear, fb::DType::F16),
            "the cpu target reads Linear weights in f32, bf16, i8 only, not f16");
  EXPECT_EQ(target::checkWeight(target::Target::Cuda, fb::KernelKind::GatedLinear, fb::DType::I8),
            "the cuda target reads GatedLinear weights in f32, f16, bf16 only, not i8");
  EXPECT_EQ(target::checkKernel(target::Target::Cpu, fb::KernelKind::Linear,
                                {fb::DType::F32, fb::DType::F16}),
            "the cpu target runs Linear kernels in f32 only, not f16");
  EXPECT_EQ(target::checkKernel(target::Target::Cpu, fb::KernelKind::Linear, {fb::DType::F32}),
            "");
  EXPECT_EQ(target::checkKernel(target::Target::Cuda, fb::KernelKind(999), {}),
            "the cuda target has no such kernel");
  EXPECT_EQ(target::checkCacheDtype(target::Target::Cpu, fb::DType::BF16),
            "the cpu target keeps KV cache slots in f32 only, not bf16");
}

// ---- lowering ---------------------------------------------------------------------------------

/// A linear layer already in f16 (what tfc-convert-precision makes), the op named "enc.fc".
constexpr const char *kHalfLinear = R"mlir(
func.func @forward(%x: tensor<?x4xf16> {tfc.dims = ["batch", ""], tfc.name = "x"})
    -> (tensor<?x4xf16> {tfc.name = "y"}) {
  %w = tfc.weight "w" : tensor<4x4xf16> loc("enc.fc.weight")
  %y = tfc.linear %x, %w : (tensor<?x4xf16>, tensor<4x4xf16>) -> tensor<?x4xf16> loc("enc.fc")
  return %y : tensor<?x4xf16>
}
)mlir";

/// The weight "w": f32 values with edge cases of the conversion (rounding ties, a subnormal,
/// values beyond the f16 range, the lowest f32).
const std::vector<float> kWeight = {1.0f,     1.0f + 1.0f / 2048, 65504.0f, 65520.0f,
                                    -1e9f,    3.0e-7f,            -0.0f,    0.333333f,
                                    1e-30f,   -65519.0f,          2.5f,     -3.40282347e38f,
                                    100000.f, 0.1f,               -7.0f,    6.1e-5f};

tfc::lower::WeightLookup weightLookup() {
  auto bytes = std::make_shared<std::vector<uint8_t>>(kWeight.size() * 4);
  std::memcpy(bytes->data(), kWeight.data(), bytes->size());
  return [bytes](const std::string &name, tfc::lower::WeightData &out) {
    if (name != "w")
      return false;
    out.shape = {4, 4};
    out.bytes.storage = bytes;
    out.bytes.size = bytes->size();
    return true;
  };
}

mlir::OwningOpRef<mlir::ModuleOp> parse(mlir::MLIRContext &context, const std::string &ir) {
  tfc::driver::prepareContext(context);
  return mlir::parseSourceString<mlir::ModuleOp>(ir, &context);
}

TEST(TargetLowering, AnF16KernelOnTheCpuTargetNamesTheOp) {
  mlir::MLIRContext context;
  auto module = parse(context, kHalfLinear);
  ASSERT_TRUE(module);
  tfc::lower::LowerOptions options;  // cpu, fp32
  tfc::planner::Plan plan;
  auto s = tfc::lower::lowerToPlan(*module, weightLookup(), options, plan);
  EXPECT_EQ(s.error, "function 'forward': 'tfc.linear' at 'enc.fc': the cpu target runs Linear "
                     "kernels in f32 only, not f16");
  // A precision the target does not run is refused first.
  options.precision = fb::DType::F16;
  s = tfc::lower::lowerToPlan(*module, weightLookup(), options, plan);
  EXPECT_EQ(s.error, "the cpu target runs fp32, bf16, int8 plans only, not fp16 (fp16 plans: "
                     "--target cuda)");
}

TEST(TargetLowering, CudaF16PlanConvertsTheWeightAtCompileTime) {
  for (fb::DType precision : {fb::DType::F16, fb::DType::BF16}) {
    SCOPED_TRACE(target::precisionName(precision));
    mlir::MLIRContext context;
    std::string ir = kHalfLinear;
    if (precision == fb::DType::BF16)
      for (size_t at; (at = ir.find("xf16>")) != std::string::npos;)
        ir.replace(at, 5, "xbf16>");
    auto module = parse(context, ir);
    ASSERT_TRUE(module);
    tfc::lower::LowerOptions options;
    options.target = target::Target::Cuda;
    options.precision = precision;
    std::vector<std::string> warnings;
    options.warnings = &warnings;
    tfc::planner::Plan plan;
    auto s = tfc::lower::lowerToPlan(*module, weightLookup(), options, plan);
    ASSERT_TRUE(s.ok()) << s.error;
    EXPECT_EQ(plan.target, fb::Target::Cuda);
    EXPECT_EQ(plan.precision, precision);
    ASSERT_EQ(plan.constants.size(), 1u);
    const tfc::planner::Constant &c = plan.constants[0];
    EXPECT_EQ(c.name, "w");
    EXPECT_EQ(c.dtype, precision);
    ASSERT_EQ(c.bytes.size, kWeight.size() * 2);
    bool bf16 = precision == fb::DType::BF16;
    size_t saturated = 0;
    for (size_t i = 0; i < kWeight.size(); ++i) {
      uint16_t got;
      std::memcpy(&got, c.bytes.data() + 2 * i, 2);
      uint16_t ieee = bf16 ? tfc::support::floatToBFloat16(kWeight[i])
                           : tfc::support::floatToHalf(kWeight[i]);
      uint16_t want = bf16 ? tfc::support::floatToBFloat16(kWeight[i], Overflow::Saturate)
                           : tfc::support::floatToHalf(kWeight[i], Overflow::Saturate);
      saturated += ieee != want;
      EXPECT_EQ(got, want) << "element " << i << " (" << kWeight[i] << ")";
    }
    // f16: 65520, -1e9, -3.4e38, 1e5 overflow; bf16: the lowest f32 only.
    EXPECT_EQ(saturated, bf16 ? 1u : 4u);
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_EQ(warnings[0], "weight 'w': " + std::to_string(saturated) + " value(s) beyond the " +
                               (bf16 ? "bf16" : "f16") +
                               " range saturated to the largest finite value");
    // The kernel and its values: all in the precision.
    ASSERT_EQ(plan.functions.size(), 1u);
    const auto &fn = plan.functions[0];
    ASSERT_EQ(fn.kernels.size(), 1u);
    EXPECT_EQ(target::floatDtypesOf(fn, fn.kernels[0]), target::DTypeSet({precision}));
  }
}

// ---- the driver on the examples ---------------------------------------------------------------

tfc::driver::CompileOptions cudaOptions(fb::DType precision) {
  tfc::driver::CompileOptions o;
  o.target = target::Target::Cuda;
  o.precision = precision;
  o.maxBatch = 2;
  return o;
}

TEST(TargetDriver, CpuFp16IsRefusedBeforeTheModelIsRead) {
  mlir::MLIRContext context;
  tfc::driver::CompileOptions o;
  o.precision = fb::DType::F16;
  tfc::driver::CompileResult result;
  auto s = tfc::driver::compileModel(context, "/nonexistent/model.fbs", o, result);
  EXPECT_EQ(s.error, "the cpu target runs fp32, bf16, int8 plans only, not fp16 (fp16 plans: "
                     "--target cuda)");
}

/// Heavy kernels whose every float value must be in the plan's precision.
bool isHeavy(fb::KernelKind k) {
  switch (k) {
  case fb::KernelKind::Linear:
  case fb::KernelKind::GatedLinear:
  case fb::KernelKind::MatMul:
  case fb::KernelKind::LayerNorm:
  case fb::KernelKind::RmsNorm:
  case fb::KernelKind::Embedding:
  case fb::KernelKind::Softmax:
  case fb::KernelKind::Rotary:
  case fb::KernelKind::CacheStore:
    return true;
  default:
    return false;
  }
}

/// What an fp16/bf16 plan must look like; `f32` is the same model's cpu fp32 plan.
void checkLowPrecisionPlan(const tfc::planner::Plan &low, const tfc::planner::Plan &f32,
                           fb::DType precision) {
  EXPECT_EQ(low.target, fb::Target::Cuda);
  EXPECT_EQ(low.precision, precision);
  ASSERT_EQ(low.functions.size(), f32.functions.size());
  for (size_t f = 0; f < low.functions.size(); ++f) {
    const auto &fn = low.functions[f], &ref = f32.functions[f];
    SCOPED_TRACE(fn.name);
    // The signature: the fp32 plan's, port for port.
    ASSERT_EQ(fn.inputs.size(), ref.inputs.size());
    ASSERT_EQ(fn.outputs.size(), ref.outputs.size());
    for (size_t i = 0; i < fn.inputs.size(); ++i)
      EXPECT_EQ(fn.values[fn.inputs[i].value].dtype, ref.values[ref.inputs[i].value].dtype);
    for (size_t i = 0; i < fn.outputs.size(); ++i)
      EXPECT_EQ(fn.values[fn.outputs[i].value].dtype, ref.values[ref.outputs[i].value].dtype);
    int heavy = 0, casts = 0;
    for (const auto &k : fn.kernels) {
      target::DTypeSet floats = target::floatDtypesOf(fn, k);
      EXPECT_TRUE(floats.minus({fb::DType::F32, precision}).empty()) << k.name;
      if (k.kind == fb::KernelKind::Cast)
        ++casts;
      if (isHeavy(k.kind)) {
        ++heavy;
        EXPECT_EQ(floats, target::DTypeSet({precision}))
            << k.name << " (" << fb::EnumNameKernelKind(k.kind) << ")";
      }
      if (k.kind == fb::KernelKind::Attention || k.kind == fb::KernelKind::CachedAttention) {
        for (size_t i = 0; i < 3 && i < k.inputs.size(); ++i)
          if (k.inputs[i] >= 0)
            EXPECT_EQ(fn.values[k.inputs[i]].dtype, precision) << k.name << " input " << i;
        EXPECT_EQ(fn.values[k.outputs[0]].dtype, precision) << k.name;
        if (k.inputs.size() > 3 && k.inputs[3] >= 0 &&
            target::isFloat(fn.values[k.inputs[3]].dtype))
          EXPECT_EQ(fn.values[k.inputs[3]].dtype, fb::DType::F32) << k.name << " mask";
      }
    }
    EXPECT_GT(heavy, 0);
    EXPECT_GT(casts, 0);  // at least the output's cast back to f32
  }
  // Every weight of the fp32 plan read in the precision is its bytes, converted.
  std::map<std::string, const tfc::planner::Constant *> ref;
  for (const auto &c : f32.constants)
    ref[c.name] = &c;
  size_t converted = 0;
  bool bf16 = precision == fb::DType::BF16;
  for (const auto &c : low.constants) {
    auto it = ref.find(c.name);
    if (c.dtype != precision || it == ref.end() || it->second->dtype != fb::DType::F32)
      continue;
    ASSERT_EQ(c.bytes.size * 2, it->second->bytes.size) << c.name;
    for (uint64_t i = 0; i < c.bytes.size / 2; ++i) {
      float v;
      uint16_t got;
      std::memcpy(&v, it->second->bytes.data() + 4 * i, 4);
      std::memcpy(&got, c.bytes.data() + 2 * i, 2);
      uint16_t want = bf16 ? tfc::support::floatToBFloat16(v, Overflow::Saturate)
                           : tfc::support::floatToHalf(v, Overflow::Saturate);
      ASSERT_EQ(got, want) << c.name << "[" << i << "] = " << v;
    }
    ++converted;
  }
  EXPECT_GT(converted, 0u);
  for (const auto &slot : low.caches)
    EXPECT_EQ(slot.dtype, precision) << slot.name;
}

TEST(TargetDriver, LowPrecisionPlansOfTheExamples) {
  for (const char *name : {"encoder", "decoder", "encdec", "classifier", "chargpt"})
    for (fb::DType precision : {fb::DType::F16, fb::DType::BF16}) {
      SCOPED_TRACE(std::string(name) + " " + target::precisionName(precision));
      mlir::MLIRContext c32, c16;
      tfc::driver::CompileResult r32, r16;
      tfc::planner::Plan p32, p16;
      tfc::driver::CompileOptions o32;
      o32.maxBatch = 2;
      plantest::compileExample(c32, name, true, r32, p32, o32);
      plantest::compileExample(c16, name, true, r16, p16, cudaOptions(precision));
      checkLowPrecisionPlan(p16, p32, precision);
      if (std::string(name) == "decoder" || std::string(name) == "encdec")
        EXPECT_FALSE(p16.caches.empty());
    }
}

// ---- the plan verifier ------------------------------------------------------------------------

/// Reads the written plan's FlatBuffer.
struct PlanFileView {
  std::vector<uint8_t> bytes;
  const fb::Plan *plan = nullptr;
  explicit PlanFileView(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
    if (bytes.size() >= sizeof(fb::PlanFileHeader))
      plan = fb::GetPlan(bytes.data() + sizeof(fb::PlanFileHeader));
  }
};

TEST(PlanVerifier, CudaPlansAreVerifiedWithoutTheRuntime) {
  mlir::MLIRContext context;
  tfc::driver::CompileResult result;
  tfc::planner::Plan plan;
  plantest::compileExample(context, "decoder", true, result, plan, cudaOptions(fb::DType::F16));
  std::string path = tempFile("dec16.plan");
  auto s = tfc::driver::writePlanFile(plan, path);
  ASSERT_TRUE(s.ok()) << s.error;
  EXPECT_TRUE(tfc::driver::runtimeRunsTarget(target::Target::Cpu));
  {
    PlanFileView view(path);
    ASSERT_TRUE(view.plan);
    EXPECT_EQ(view.plan->format_minor(), 5u);
    EXPECT_EQ(view.plan->target(), fb::Target::Cuda);
    EXPECT_EQ(view.plan->precision(), fb::DType::F16);
    ASSERT_TRUE(view.plan->caches());
    for (const fb::CacheSlot *c : *view.plan->caches())
      EXPECT_EQ(c->dtype(), fb::DType::F16);
  }
  EXPECT_TRUE(tfc::driver::checkPlanFile(path, true).ok());
  // A corrupted weight byte: the verifier checks the checksums the runtime would have checked.
  {
    PlanFileView view(path);
    fb::PlanFileHeader h;
    std::memcpy(&h, view.bytes.data(), sizeof h);
    const fb::Constant *c = view.plan->constants()->Get(0);
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(std::streamoff(h.weightsOffset + c->offset()));
    char byte = char(view.bytes[h.weightsOffset + c->offset()] ^ 0x5A);
    f.write(&byte, 1);
  }
  // (checked by the runtime instead where it runs cuda plans)
  s = tfc::driver::verifyPlanFile(path);
  EXPECT_THAT(s.error, HasSubstr("constant '"));
  EXPECT_THAT(s.error, HasSubstr("checksum mismatch"));
  EXPECT_THAT(tfc::driver::checkPlanFile(path, true).error, HasSubstr("checksum mismatch"));
  std::filesystem::remove(path);
}

TEST(PlanVerifier, KernelsTheTargetDoesNotRunAreRefused) {
  mlir::MLIRContext context;
  tfc::driver::CompileResult result;
  tfc::planner::Plan plan;
  plantest::compileExample(context, "encoder", true, result, plan, cudaOptions(fb::DType::F16));
  // The same kernels claimed for the cpu target (written without the writer's check).
  plan.target = fb::Target::Cpu;
  plan.precision = fb::DType::F32;
  std::string path = tempFile("enc16cpu.plan");
  auto w = tfc::planner::writePlanFile(plan, path, nullptr, nullptr);
  ASSERT_TRUE(w.ok()) << w.error;
  auto s = tfc::driver::checkPlanFile(path, true);
  EXPECT_THAT(s.error, HasSubstr("function 'forward': kernel '"));
  EXPECT_THAT(s.error, HasSubstr("the cpu target runs"));
  EXPECT_THAT(s.error, HasSubstr("kernels in f32 only, not f16"));
  EXPECT_FALSE(tfc::driver::verifyPlanFile(path).ok());
  // fp16 claimed for the cpu target.
  plan.precision = fb::DType::F16;
  ASSERT_TRUE(tfc::planner::writePlanFile(plan, path, nullptr, nullptr).ok());
  EXPECT_EQ(tfc::driver::checkPlanFile(path, true).error,
            "a cpu plan cannot have precision f16 with weight precision f32 (its activations are "
            "f32; its weights f32, bf16 or i8)");
  std::filesystem::remove(path);
}

TEST(PlanVerifier, TheRuntimeReadsThePrecisionAndRefusesF16CacheSlots) {
  mlir::MLIRContext context;
  tfc::driver::CompileResult result;
  tfc::planner::Plan plan;
  tfc::driver::CompileOptions o;
  o.maxBatch = 2;
  plantest::compileExample(context, "decoder", true, result, plan, o);
  std::string path = tempFile("dec32.plan");
  ASSERT_TRUE(tfc::driver::writePlanFile(plan, path).ok());
  tfc_plan *p = nullptr;
  tfc_status *st = tfc_plan_open(path.c_str(), nullptr, &p);
  ASSERT_EQ(st, nullptr) << tfc_status_message(st);
  EXPECT_STREQ(tfc_plan_precision(p), "fp32");
  tfc_plan_release(p);
  // An f16 slot in a plan the runtime otherwise runs: refused, naming the slot.
  ASSERT_FALSE(plan.caches.empty());
  plan.caches[0].dtype = fb::DType::F16;
  ASSERT_TRUE(tfc::planner::writePlanFile(plan, path, nullptr, nullptr).ok());
  st = tfc_plan_open(path.c_str(), nullptr, &p);
  ASSERT_NE(st, nullptr);
  EXPECT_EQ(tfc_status_code(st), TFC_UNSUPPORTED);
  EXPECT_THAT(tfc_status_message(st),
              HasSubstr("cache slot '" + plan.caches[0].name +
                        "' (#0): f16 keys/values are not supported by this runtime's cpu "
                        "backend"));
  tfc_status_free(st);
  std::filesystem::remove(path);
}

} // namespace
