//===- cuda_gemm_test.cpp - CUDA Linear, MatMul, GatedLinear and Conv against the CPU kernels --===//
//
// Each case runs one kernel in a one-kernel plan twice (cuda_test_util.h): on the CPU at fp32
// (the reference) and on the GPU at fp32, fp16 and bf16, with the float inputs rounded to the
// precision under test first, so both see the same numbers. Shapes are odd on purpose (K, N, M
// not multiples of 8), batch dims broadcast every way MatMul allows, Linear runs every
// activation with and without bias and residual (full, row and broadcast), Conv runs 1-D and
// 2-D with stride, padding, dilation and groups.
//
// Tolerances, relative to max(1, max|reference|): fp32 1e-4 (the brief; f32 accumulation on
// both sides, no TF32). fp16 4e-3 and bf16 3e-2: a 16-bit plan stores a value up to four times
// on its way out (the GEMM's output, the activation or gate, the residual sum, the gate product),
// each store rounding by at most 2^-11 (f16) or 2^-8 (bf16) of the value, and the activations'
// slopes are at most 1.13; four roundings are 1.95e-3 and 1.56e-2: the tolerances leave a factor
// two for the accumulation order and cuBLASLt's tanh-form GELU epilogue (fp16/bf16 GeluTanh).
//
//===----------------------------------------------------------------------------------------===//
#include "cuda_test_util.h"

using namespace rtt;
using K = fb::KernelKind;

namespace {

constexpr fb::DType kPrecisions[] = {fb::DType::F32, fb::DType::F16, fb::DType::BF16};

float tolerance(fb::DType p) {
  return p == fb::DType::F32 ? 1e-4f : p == fb::DType::F16 ? 4e-3f : 3e-2f;
}

const char *precisionName(fb::DType p) {
  return p == fb::DType::F32 ? "fp32" : p == fb::DType::F16 ? "fp16" : "bf16";
}

/// A random F32 argument (values in [-1, 1]).
Arg rnd(std::vector<int64_t> shape, uint32_t seed, bool constant = false) {
  return F32(shape, randomFloats(numel(shape), seed), constant);
}

/// Runs `kind` on the CPU (fp32) and on the GPU at precision p with the same (rounded) inputs
/// and compares the outputs.
void compareWithCpu(K kind, const std::vector<Arg> &args, const std::vector<int64_t> &outShape,
                    const Options &options, fb::DType p, const std::string &what) {
  const tfc_dtype d = dtypeOf(p);
  std::vector<Arg> cpuArgs, gpuArgs;
  for (const Arg &a : args) {
    Arg r = a;
    if (!a.absent && a.dtype == TFC_F32) {
      std::vector<float> v(a.bytes.size() / 4);
      std::memcpy(v.data(), a.bytes.data(), a.bytes.size());
      r = F32(a.shape, roundTo(d, v), a.constant);
    }
    cpuArgs.push_back(r);
    gpuArgs.push_back(toDtype(r, d));
  }
  std::string at = what + " (" + precisionName(p) + ")";
  RunResult ref = runKernel(kind, cpuArgs, TFC_F32, outShape, options);
  ASSERT_EQ(ref.code, TFC_OK) << at << ": CPU: " << ref.message;
  RunResult got = runKernelOn(PlanTarget{fb::Target::Cuda, p}, kind, gpuArgs, d, outShape, options);
  ASSERT_EQ(got.code, TFC_OK) << at << ": CUDA: " << got.message;
  ASSERT_EQ(got.shape, outShape) << at;
  ASSERT_EQ(got.dtype, d) << at;
  expectCloseRel(floatsOf(got), ref.as<float>(), tolerance(p), at);
}

std::string shapeStr(const std::vector<int64_t> &s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i)
    r += (i ? "," : "") + std::to_string(s[i]);
  return r + "]";
}

} // namespace

TEST(CudaGemm, LinearEveryActivationBiasAndResidual) {
  TFC_REQUIRE_CUDA();
  const fb::Activation acts[] = {fb::Activation::None, fb::Activation::Relu,
                                 fb::Activation::GeluErf, fb::Activation::GeluTanh};
  struct LinearShape {
    std::vector<int64_t> x;
    int64_t n;
  } shapes[] = {{{2, 3, 37}, 29}, {{1, 64}, 128}, {{5, 1, 17}, 1}, {{130, 96}, 50}};
  uint32_t seed = 1;
  for (const LinearShape &s : shapes) {
    const int64_t k = s.x.back();
    std::vector<int64_t> out = s.x;
    out.back() = s.n;
    // Residuals: none, the output's shape, one row [N], and a broadcast over the leading dim.
    std::vector<int64_t> bcast = out;
    bcast[0] = 1;
    const std::vector<std::vector<int64_t>> residuals = {{}, out, {s.n}, bcast};
    for (fb::Activation act : acts)
      for (bool bias : {false, true})
        for (size_t ri = 0; ri < residuals.size(); ++ri)
          for (fb::DType p : kPrecisions) {
            ++seed;
            std::vector<Arg> args = {rnd(s.x, seed), rnd({k, s.n}, seed + 1000, true),
                                     bias ? rnd({s.n}, seed + 2000, true) : Absent()};
            if (ri)
              args.push_back(rnd(residuals[ri], seed + 3000));
            compareWithCpu(K::Linear, args, out, opt::linear(act),
                           p, "Linear x " + shapeStr(s.x) + " N " + std::to_string(s.n) +
                                  " act " + fb::EnumNameActivation(act) + (bias ? " bias" : "") +
                                  (ri ? " residual " + shapeStr(residuals[ri]) : ""));
            if (HasFatalFailure())
              return;
          }
  }
}

TEST(CudaGemm, LinearWeightComputedAtRunTime) {
  TFC_REQUIRE_CUDA();
  // The weight as a function input (not a constant): cuBLASLt reads it from the arena.
  for (fb::DType p : kPrecisions)
    compareWithCpu(K::Linear, {rnd({7, 33}, 11), rnd({33, 21}, 12), rnd({21}, 13)}, {7, 21},
                   opt::linear(fb::Activation::GeluErf), p, "Linear runtime weight");
}

TEST(CudaGemm, LinearRefusesWhatTheCpuRefuses) {
  TFC_REQUIRE_CUDA();
  // K disagrees: the shared shape logic gives the same code and message on both targets.
  std::vector<Arg> args = {rnd({2, 8}, 1), rnd({9, 4}, 2, true)};
  RunResult cpu = runKernel(K::Linear, args, TFC_F32, {2, 4}, opt::linear(fb::Activation::None));
  RunResult gpu = runKernelOn(PlanTarget{fb::Target::Cuda, fb::DType::F32}, K::Linear, args,
                              TFC_F32, {2, 4}, opt::linear(fb::Activation::None));
  EXPECT_EQ(cpu.code, TFC_INVALID_ARGUMENT) << cpu.message;
  EXPECT_EQ(gpu.code, cpu.code) << gpu.message;
  EXPECT_NE(gpu.message.find("do not agree on K"), std::string::npos) << gpu.message;
}

TEST(CudaGemm, MatMulBroadcastingBatchDims) {
  TFC_REQUIRE_CUDA();
  struct Case {
    std::vector<int64_t> a, b, out;
  } cases[] = {
      {{3, 5, 7}, {7, 4}, {3, 5, 4}},                // b without batch: folded into M
      {{2, 3, 5, 7}, {2, 3, 7, 4}, {2, 3, 5, 4}},    // equal batches: strided
      {{5, 7}, {3, 7, 4}, {3, 5, 4}},                // a without batch: batch stride 0
      {{1, 5, 7}, {3, 7, 4}, {3, 5, 4}},             // a's batch of one: batch stride 0
      {{2, 1, 5, 7}, {1, 3, 7, 4}, {2, 3, 5, 4}},    // both broadcast: looped
      {{4, 1, 9, 1}, {3, 1, 6}, {4, 3, 9, 6}},       // K = 1
      {{12, 65, 33}, {12, 33, 65}, {12, 65, 65}},    // attention-like odd sizes
      {{1, 1}, {1, 1}, {1, 1}},
  };
  uint32_t seed = 100;
  for (const Case &c : cases)
    for (fb::DType p : kPrecisions) {
      seed += 2;
      compareWithCpu(K::MatMul, {rnd(c.a, seed), rnd(c.b, seed + 1)}, c.out, Options(), p,
                     "MatMul " + shapeStr(c.a) + " x " + shapeStr(c.b));
      if (HasFatalFailure())
        return;
    }
}

TEST(CudaGemm, GatedLinearEveryActivation) {
  TFC_REQUIRE_CUDA();
  const fb::GateActivation acts[] = {fb::GateActivation::Silu, fb::GateActivation::GeluErf,
                                     fb::GateActivation::GeluTanh};
  struct Case {
    std::vector<int64_t> x;
    int64_t n;
  } cases[] = {{{2, 5, 24}, 40}, {{1, 33}, 17}, {{67, 64}, 96}};
  uint32_t seed = 300;
  for (const Case &c : cases)
    for (fb::GateActivation act : acts)
      for (fb::DType p : kPrecisions) {
        seed += 3;
        std::vector<int64_t> out = c.x;
        out.back() = c.n;
        compareWithCpu(K::GatedLinear,
                       {rnd(c.x, seed), rnd({c.x.back(), c.n}, seed + 1, true),
                        rnd({c.x.back(), c.n}, seed + 2, true)},
                       out, opt::gatedLinear(act), p,
                       "GatedLinear x " + shapeStr(c.x) + " act " +
                           fb::EnumNameGateActivation(act));
        if (HasFatalFailure())
          return;
      }
}

TEST(CudaGemm, Conv1dAnd2d) {
  TFC_REQUIRE_CUDA();
  struct Case {
    std::vector<int64_t> x, w;
    std::vector<int64_t> strides, pads, dilations;
    int64_t group;
    bool bias;
    std::vector<int64_t> out;
  } cases[] = {
      // 1-D: stride 2, asymmetric padding, bias (Whisper's front end is stride 1 / 2, pad 1).
      {{2, 4, 11}, {6, 4, 3}, {2}, {1, 2}, {1}, 1, true, {2, 6, 6}},
      {{1, 4, 13}, {6, 4, 3}, {1}, {2, 2}, {2}, 1, false, {1, 6, 13}},
      {{2, 4, 9}, {6, 2, 3}, {1}, {1, 1}, {1}, 2, true, {2, 6, 9}},
      // 2-D: stride, padding, dilation; groups; a depthwise 3x3; a patch embedding; a 1x1.
      {{2, 3, 9, 8}, {4, 3, 3, 2}, {2, 1}, {1, 0, 1, 1}, {1, 2}, 1, true, {2, 4, 5, 7}},
      {{1, 4, 7, 7}, {4, 1, 3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}, 4, true, {1, 4, 7, 7}},
      {{2, 4, 6, 5}, {6, 2, 2, 2}, {1, 2}, {0, 0, 0, 1}, {1, 1}, 2, false, {2, 6, 5, 3}},
      {{1, 3, 16, 16}, {8, 3, 4, 4}, {4, 4}, {0, 0, 0, 0}, {1, 1}, 1, true, {1, 8, 4, 4}},
      {{2, 6, 5, 5}, {3, 6, 1, 1}, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1, true, {2, 3, 5, 5}},
  };
  uint32_t seed = 500;
  for (const Case &c : cases)
    for (fb::DType p : kPrecisions) {
      seed += 3;
      fb::ConvOptionsT o;
      o.strides = c.strides;
      o.pads = c.pads;
      o.dilations = c.dilations;
      o.group = c.group;
      compareWithCpu(K::Conv,
                     {rnd(c.x, seed), rnd(c.w, seed + 1, true),
                      c.bias ? rnd({c.w[0]}, seed + 2, true) : Absent()},
                     c.out, opt::make(o), p,
                     "Conv x " + shapeStr(c.x) + " w " + shapeStr(c.w) + " group " +
                         std::to_string(c.group));
      if (HasFatalFailure())
        return;
    }
}
