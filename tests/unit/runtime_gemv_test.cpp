//===- runtime_gemv_test.cpp - packed-weight products (cpu/Gemv.h) and the low-precision Linear -===//
//
// * Every code path of cpu/Gemv.h (scalar, AVX2, AVX-512: the ones this CPU runs; the others are
//   reported as skipped) against a plain reference loop in double, on random shapes with K and N
//   not multiples of the panel width, M = 1..9, strided rows, 1 to 3 threads, every epilogue
//   (scale, bias, ReLU / GELU erf / GELU tanh / SiLU, a multiplier, a residual of full rows, of
//   one row, in place):
//     - tight: the reference computed from the same (bf16-rounded / int8-quantized) weights; the
//       bound is the f32 summation error, (K + 2) * 2^-24 * sum |x_k w_kn| (+ the epilogue terms);
//     (activations, a multiplier: the bound follows them, see reference());
//     - loose: against the f32 weights; the bound adds the weights' own rounding, 2^-8 * sum
//       |x_k w_kn| for bf16 (round to nearest of 8 significant bits: unit roundoff 2^-8) and sum |x_k| *
//       scale_n / 2 for int8 (|w - q * scale| <= scale / 2).
// * The Linear and GatedLinear kernels through one-kernel plans with bf16 / int8 weights
//   (weight_precision set), decode-sized and prompt-sized M, activations and residuals, against
//   reference loops on the same weights; and the f32 decode path.
// * The loader refuses malformed low-precision weights, naming the tensor: an int8 weight
//   without its scale, a scale of the wrong shape or dtype, a weight of another dtype than the
//   plan's weight precision, a bf16 weight that is not a constant, weight_precision on cuda.
//
//===----------------------------------------------------------------------------------------===//
#include "cpu/Gemv.h"
#include "cpu/LinearGemv.h"
#include "cpu/LinearInt8.h"
#include "runtime_kernel_harness.h"

#include "tfc/support/Float16.h"
#include "tfc/support/Int8Weights.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace tfc::rt::gemv;
using rtt::Arg;
namespace fb = tfc::plan;

std::vector<float> randomVector(int64_t n, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  return rtt::randomFloats(n, seed, lo, hi);
}

/// A weight [K, N] in the three forms the kernels take, with what each form means exactly.
struct TestWeight {
  int64_t K, N;
  std::vector<float> f32;     // the original
  std::vector<uint16_t> bf16; // rounded to nearest even
  std::vector<int8_t> i8;     // quantized per column
  std::vector<float> scale;   // [N]
  /// The value the kernel multiplies by for (k, n), per type (the int8 scale apart).
  double value(WeightType t, int64_t k, int64_t n) const {
    size_t i = size_t(k * N + n);
    switch (t) {
    case WeightType::F32: return f32[i];
    case WeightType::BF16: return tfc::support::bfloat16ToFloat(bf16[i]);
    case WeightType::I8: return i8[i];
    }
    return 0;
  }
  const void *data(WeightType t) const {
    return t == WeightType::F32 ? static_cast<const void *>(f32.data())
           : t == WeightType::BF16 ? static_cast<const void *>(bf16.data())
                                   : static_cast<const void *>(i8.data());
  }
};

TestWeight makeWeight(int64_t K, int64_t N, uint32_t seed) {
  TestWeight w{K, N, randomVector(K * N, seed), {}, {}, {}};
  // A few columns with a larger range and one of zeros, so the scales differ.
  for (int64_t k = 0; k < K; ++k) {
    w.f32[size_t(k * N)] *= 8.f;
    if (N > 2)
      w.f32[size_t(k * N + 2)] = 0.f;
  }
  w.bf16.resize(w.f32.size());
  tfc::support::convertFloats(w.f32.data(), w.f32.size(), true,
                              tfc::support::Overflow::Saturate, w.bf16.data());
  w.i8.resize(w.f32.size());
  w.scale.resize(size_t(N));
  EXPECT_EQ(tfc::support::quantizeColumns(w.f32.data(), K, N, w.i8.data(), w.scale.data()), -1);
  return w;
}

struct Case {
  int64_t M, K, N, ldx;
  bool bias, scaleOn; // scaleOn: I8 only
  int residual;       // 0 none, 1 full rows, 2 one row, 3 in place (y holds it)
  int threads;
  Act act = Act::None;
  bool mul = false;   // the epilogue multiplies by a [M, N] operand
};

double activation(Act a, double v) {
  switch (a) {
  case Act::Relu: return v < 0 ? 0 : v;
  case Act::GeluErf: return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0)));
  case Act::GeluTanh: return 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
  case Act::Silu: return v / (1 + std::exp(-v));
  case Act::None: break;
  }
  return v;
}

/// The reference y (double) and the f32-error bound of each output, from `t`'s weight values.
/// The epilogue's activation and multiplier: the activations' slopes are at most 1.13 (GELU)
/// and 1.1 (SiLU), and ActivationMath.h's formulas are within about 1e-6 of exact.
void reference(const TestWeight &w, WeightType t, const Case &c, const std::vector<float> &x,
               const std::vector<float> &bias, const std::vector<float> &res,
               std::vector<double> &y, std::vector<double> &bound, bool f32Weights = false,
               const std::vector<float> &mul = {}, bool dot = false) {
  const WeightType use = f32Weights ? WeightType::F32 : t;
  y.assign(size_t(c.M * c.N), 0.0);
  bound.assign(y.size(), 0.0);
  for (int64_t m = 0; m < c.M; ++m)
    for (int64_t n = 0; n < c.N; ++n) {
      double s = 0, mag = 0, xmag = 0, dotErr = 0;
      for (int64_t k = 0; k < c.K; ++k) {
        double p = double(x[size_t(m * c.ldx + k)]) * w.value(use, k, n);
        s += p;
        mag += std::fabs(p);
        xmag += std::fabs(x[size_t(m * c.ldx + k)]);
        if (dot) { // x rounded to int16 per block of 64 (or split into two bf16): 2^-15 of amax
          double amax = 0;
          for (int64_t j = k / 64 * 64; j < std::min<int64_t>(c.K, k / 64 * 64 + 64); ++j)
            amax = std::max(amax, std::fabs(double(x[size_t(m * c.ldx + j)])));
          dotErr += std::ldexp(amax, -15) * std::fabs(w.value(t, k, n));
        }
      }
      double sc = (t == WeightType::I8 && !f32Weights) ? w.scale[size_t(n)] : 1.0;
      double v = s * sc, epi = 0;
      if (c.bias) {
        v += bias[size_t(n)];
        epi += std::fabs(bias[size_t(n)]);
      }
      // f32 summation of K products (fused or not) and the epilogue's roundings.
      double b = double(c.K + 3) * std::ldexp(1.0, -24) * (mag * sc + epi) + dotErr * sc + 1e-30;
      if (f32Weights && t == WeightType::BF16)
        b += std::ldexp(1.0, -8) * mag; // |w - bf16(w)| <= 2^-8 |w|
      if (f32Weights && t == WeightType::I8)
        b += xmag * w.scale[size_t(n)] / 2; // |w - q * scale| <= scale / 2
      if (c.act != Act::None) {
        b = 1.2 * b + 1e-6 * (1 + std::fabs(v));
        v = activation(c.act, v);
      }
      size_t i = size_t(m * c.N + n);
      if (c.mul) {
        double f = mul[i];
        v *= f;
        b = b * std::fabs(f) + std::ldexp(1.0, -24) * std::fabs(v);
      }
      if (c.residual) {
        double r = res[size_t((c.residual == 2 ? 0 : m) * c.N + n)];
        v += r;
        b += std::ldexp(1.0, -24) * (std::fabs(v) + std::fabs(r));
      }
      y[i] = v;
      bound[i] = b;
    }
}

/// Runs `isa`'s code on case `c` and compares with both references.
void runCase(Isa isa, WeightType t, const Case &c, uint32_t seed) {
  SCOPED_TRACE("M=" + std::to_string(c.M) + " K=" + std::to_string(c.K) + " N=" +
               std::to_string(c.N) + " ldx=" + std::to_string(c.ldx) +
               " bias=" + std::to_string(c.bias) + " residual=" + std::to_string(c.residual) +
               " act=" + std::to_string(int(c.act)) + " mul=" + std::to_string(c.mul) +
               " threads=" + std::to_string(c.threads) + " type=" + std::to_string(int(t)));
  TestWeight w = makeWeight(c.K, c.N, seed);
  std::vector<float> x = randomVector(c.M * c.ldx, seed + 1, -2.f, 2.f);
  std::vector<float> bias = randomVector(c.N, seed + 2);
  std::vector<float> res = randomVector(c.M * c.N, seed + 3);
  std::vector<float> mul = randomVector(c.M * c.N, seed + 4, -2.f, 2.f);
  PackedWeight p = pack(t, w.data(t), c.K, c.N, isa);
  ASSERT_EQ(p.P, panelWidth(isa));
  std::vector<float> y(size_t(c.M * c.N), -777.f);
  Epilogue e;
  e.scale = t == WeightType::I8 ? w.scale.data() : nullptr;
  e.bias = c.bias ? bias.data() : nullptr;
  e.act = c.act;
  if (c.mul) {
    e.mul = mul.data();
    e.mulStride = c.N;
  }
  if (c.residual == 1) {
    e.residual = res.data();
    e.residualStride = c.N;
  } else if (c.residual == 2) {
    e.residual = res.data();
    e.residualStride = 0;
  } else if (c.residual == 3) {
    y = res; // in place: y holds the residual
    e.residual = y.data();
    e.residualStride = c.N;
  }
  multiply(p, x.data(), c.M, c.ldx, y.data(), c.N, e, c.threads);
  std::vector<double> ref, bound;
  const bool dot = p.pairs;
  EXPECT_EQ(dot, isa == Isa::Avx512Dot && t != WeightType::F32);
  reference(w, t, c, x, bias, res, ref, bound, false, mul, dot);
  for (size_t i = 0; i < y.size(); ++i)
    ASSERT_LE(std::fabs(y[i] - ref[i]), bound[i]) << "tight, at " << i << ": " << y[i] << " vs " << ref[i];
  if (t != WeightType::F32) {
    reference(w, t, c, x, bias, res, ref, bound, /*f32Weights=*/true, mul, dot);
    for (size_t i = 0; i < y.size(); ++i)
      ASSERT_LE(std::fabs(y[i] - ref[i]), bound[i]) << "against f32 weights, at " << i;
  }
}

class GemvIsa : public ::testing::TestWithParam<Isa> {
protected:
  void SetUp() override {
    if (!cpuSupports(GetParam()))
      GTEST_SKIP() << "this CPU does not run the " << isaName(GetParam()) << " code";
  }
};

TEST_P(GemvIsa, RandomShapesEveryTypeAndEpilogue) {
  std::mt19937 rng(1234u + unsigned(GetParam()));
  const int64_t Ks[] = {1, 3, 17, 64, 100, 257};
  const int64_t Ns[] = {1, 5, 16, 31, 33, 64, 65, 100, 130};
  uint32_t seed = 1;
  for (WeightType t : {WeightType::F32, WeightType::BF16, WeightType::I8})
    for (int64_t K : Ks)
      for (int64_t N : Ns) {
        Case c;
        c.M = 1 + int64_t(rng() % 9);
        c.K = K;
        c.N = N;
        c.ldx = K + int64_t(rng() % 3); // rows of x may be longer than K
        c.bias = rng() % 2;
        c.residual = int(rng() % 4);
        c.threads = 1 + int(rng() % 3);
        c.act = Act(rng() % 5);
        c.mul = rng() % 3 == 0;
        runCase(GetParam(), t, c, seed++);
        if (HasFatalFailure())
          return;
      }
}

TEST_P(GemvIsa, EveryRowCountUpTo9AndPromptSizedM) {
  uint32_t seed = 500;
  for (WeightType t : {WeightType::F32, WeightType::BF16, WeightType::I8}) {
    for (int64_t M = 1; M <= 9; ++M) {
      runCase(GetParam(), t, {M, 96, 77, 96, true, false, 1, 2}, seed++);
      if (HasFatalFailure())
        return;
    }
    runCase(GetParam(), t, {37, 130, 200, 130, true, false, 3, 2}, seed++); // a prompt
    if (HasFatalFailure())
      return;
  }
}

TEST_P(GemvIsa, DecodeShapesOfGpt2Small) {
  uint32_t seed = 900;
  for (WeightType t : {WeightType::F32, WeightType::BF16, WeightType::I8})
    for (auto [K, N] : {std::pair<int64_t, int64_t>{768, 2304}, {3072, 768}}) {
      runCase(GetParam(), t, {1, K, N, K, true, false, 0, 2}, seed++);
      if (HasFatalFailure())
        return;
    }
}

TEST_P(GemvIsa, RowsWithNaNOrInfinityPropagateThemAsTheF32ProductDoes) {
  const int64_t M = 4, K = 70, N = 70;
  for (WeightType t : {WeightType::F32, WeightType::BF16, WeightType::I8}) {
    TestWeight w = makeWeight(K, N, 31);
    std::vector<float> x = randomVector(M * K, 32);
    x[size_t(1 * K + 5)] = NAN;
    x[size_t(2 * K + 3)] = INFINITY;
    PackedWeight p = pack(t, w.data(t), K, N, GetParam());
    std::vector<float> y(size_t(M * N));
    Epilogue e;
    e.scale = t == WeightType::I8 ? w.scale.data() : nullptr;
    multiply(p, x.data(), M, K, y.data(), N, e, 2);
    for (int64_t n = 0; n < N; ++n) {
      SCOPED_TRACE("type " + std::to_string(int(t)) + " column " + std::to_string(n));
      EXPECT_TRUE(std::isnan(y[size_t(1 * N + n)]));
      const double v = w.value(t, 3, n) * (e.scale ? e.scale[n] : 1.0);
      if (v == 0)
        EXPECT_TRUE(std::isnan(y[size_t(2 * N + n)])); // inf * 0
      else
        EXPECT_EQ(y[size_t(2 * N + n)], v > 0 ? INFINITY : -INFINITY);
      EXPECT_TRUE(std::isfinite(y[size_t(0 * N + n)]));
      EXPECT_TRUE(std::isfinite(y[size_t(3 * N + n)]));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Paths, GemvIsa,
                         ::testing::Values(Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Avx512Dot),
                         [](const ::testing::TestParamInfo<Isa> &i) {
                           return std::string(isaName(i.param));
                         });

TEST(Gemv, PackedLayoutIsPanelsOfColumnsZeroPadded) {
  // 3 x 5 weight, scalar layout (16 columns per panel): one panel, [K][16], zeros beyond N.
  std::vector<float> w = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  PackedWeight p = pack(WeightType::F32, w.data(), 3, 5, Isa::Scalar);
  ASSERT_EQ(p.P, 16);
  ASSERT_EQ(p.panels, 1);
  const float *q = static_cast<const float *>(p.panel(0));
  for (int k = 0; k < 3; ++k)
    for (int j = 0; j < 16; ++j)
      EXPECT_EQ(q[k * 16 + j], j < 5 ? w[size_t(k * 5 + j)] : 0.f) << k << "," << j;
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p.panel(0)) % 64, 0u);
}

TEST(Gemv, AnIsaThisCpuLacksRunsOnTheScalarCode) {
  // A layout packed for AVX-512 on a CPU without it still multiplies (the scalar loops read any
  // panel width): what a plan packed elsewhere would see; on an AVX-512 CPU this is the fast path.
  TestWeight w = makeWeight(40, 70, 77);
  std::vector<float> x = randomVector(2 * 40, 78);
  PackedWeight p = pack(WeightType::BF16, w.bf16.data(), 40, 70, Isa::Avx512);
  std::vector<float> y(2 * 70);
  multiply(p, x.data(), 2, 40, y.data(), 70, {}, 2);
  Case c{2, 40, 70, 40, false, false, 0, 2};
  std::vector<double> ref, bound;
  reference(w, WeightType::BF16, c, x, {}, {}, ref, bound);
  for (size_t i = 0; i < y.size(); ++i)
    ASSERT_LE(std::fabs(y[i] - ref[i]), bound[i]) << i;
}

TEST(Int8Weights, QuantizationIsSymmetricPerColumn) {
  // Column 0: max 127 -> scale 1, -63.5 -> -64 and 0.5 -> 0 (ties to even); column 1: zeros ->
  // scale 0, q 0; column 2: max 254 -> scale 2, 5 -> 2.5 -> 2, 3 -> 1.5 -> 2, the sign kept.
  const float w[] = {127.f, 0.f, -254.f, -63.5f, 0.f, 5.f, 0.5f, 0.f, 3.f};
  int8_t q[9];
  float s[3];
  ASSERT_EQ(tfc::support::quantizeColumns(w, 3, 3, q, s), -1);
  EXPECT_EQ(s[0], 1.f);
  EXPECT_EQ(s[1], 0.f);
  EXPECT_EQ(s[2], 2.f);
  const int8_t want[] = {127, 0, -127, -64, 0, 2, 0, 0, 2};
  for (int i = 0; i < 9; ++i)
    EXPECT_EQ(q[i], want[i]) << i;
  const float bad[] = {1.f, NAN};
  EXPECT_EQ(tfc::support::quantizeColumns(bad, 1, 2, q, s), 1);
}

// ---- the kernels through one-kernel plans --------------------------------------------------

rtt::PlanTarget cpuWeights(fb::DType weights) {
  rtt::PlanTarget t;
  t.weightPrecision = weights;
  return t;
}

Arg weightArg(const TestWeight &w, WeightType t) {
  if (t == WeightType::BF16)
    return rtt::makeArg(TFC_BF16, {w.K, w.N}, w.bf16, true);
  if (t == WeightType::I8)
    return rtt::makeArg(TFC_I8, {w.K, w.N}, w.i8, true);
  return rtt::F32({w.K, w.N}, w.f32, true);
}

double gelu(double v) { return 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0))); }

/// Whether the plans' GEMV of a `t` weight runs the dot kernels here (their x rounding bound).
bool dotKernels(WeightType t) { return t != WeightType::F32 && defaultIsa() == Isa::Avx512Dot; }

/// x rounded to bf16, to nearest even (the bf16 products of cpu/Linear.cpp, bf16ProductsInBf16).
std::vector<float> bf16Rounded(const std::vector<float> &x) {
  std::vector<float> out(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    uint32_t bits;
    std::memcpy(&bits, &x[i], sizeof bits);
    bits = (bits + 0x7fffu + ((bits >> 16) & 1u)) & 0xffff0000u; // finite inputs only
    std::memcpy(&out[i], &bits, sizeof bits);
  }
  return out;
}

/// x [M, K] as the int8 x int8 path sees it: q * amax / 127 per row and block of 64 k
/// (cpu/Int8Gemm.h).
std::vector<float> rowQuantized(const std::vector<float> &x, int64_t M, int64_t K) {
  std::vector<float> out(x.size());
  for (int64_t m = 0; m < M; ++m)
    for (int64_t k0 = 0; k0 < K; k0 += 64) {
      const int64_t k1 = std::min<int64_t>(K, k0 + 64);
      float amax = 0.f;
      for (int64_t k = k0; k < k1; ++k)
        amax = std::max(amax, std::fabs(x[size_t(m * K + k)]));
      const float inv = amax > 0.f ? 127.f / amax : 0.f;
      for (int64_t k = k0; k < k1; ++k) // q * scale rounded to f32: within the bound (2^-24 each)
        out[size_t(m * K + k)] = std::nearbyint(x[size_t(m * K + k)] * inv) * (amax / 127.f);
    }
  return out;
}

TEST(LowPrecisionLinear, KernelMatchesTheReferenceOnItsWeights) {
  uint32_t seed = 3000;
  for (WeightType t : {WeightType::BF16, WeightType::I8, WeightType::F32})
    for (int64_t M : {1, 3, 20}) // decode steps, and a prompt (above kGemvMaxRows)
      for (fb::Activation act : {fb::Activation::None, fb::Activation::GeluErf, fb::Activation::Relu}) {
        SCOPED_TRACE("type " + std::to_string(int(t)) + " M " + std::to_string(M) + " act " +
                     fb::EnumNameActivation(act));
        const int64_t K = 45, N = 70;
        TestWeight w = makeWeight(K, N, seed++);
        std::vector<float> x = randomVector(M * K, seed++), b = randomVector(N, seed++),
                           r = randomVector(M * N, seed++);
        std::vector<Arg> args = {rtt::F32({1, M, K}, x), weightArg(w, t), rtt::F32({N}, b, true),
                                 rtt::F32({1, M, N}, r)};
        if (t == WeightType::I8)
          args.push_back(rtt::F32({N}, w.scale, true));
        fb::DType wp = t == WeightType::BF16 ? fb::DType::BF16
                       : t == WeightType::I8 ? fb::DType::I8
                                             : fb::DType::F32;
        rtt::RunResult res = rtt::runKernelOn(cpuWeights(wp), fb::KernelKind::Linear, args,
                                              TFC_F32, {1, M, N}, rtt::opt::linear(act));
        ASSERT_EQ(res.code, TFC_OK) << res.message;
        std::vector<float> y = res.as<float>();
        Case c{M, K, N, K, true, false, 0, 2};
        std::vector<double> ref, bound;
        // From kInt8GemmMinRows rows an int8 weight's product quantizes x per row too
        // (cpu/LinearInt8.h): the reference takes those values (runtime_int8_gemm_test).
        // Decode-sized products on Avx512Dot round x a little (Gemv.h): its bound term.
        // Above kGemvMaxRows rows a bf16 weight's product rounds x to bf16 where the CPU
        // multiplies bf16 (but with Relu, which keeps the f32 copy).
        const bool bf16x = t == WeightType::BF16 && M > tfc::rt::kGemvMaxRows &&
                           act != fb::Activation::Relu && tfc::rt::bf16ProductsInBf16();
        reference(w, t, c, t == WeightType::I8 && M >= tfc::rt::kInt8GemmMinRows ? rowQuantized(x, M, K)
                           : bf16x                                                ? bf16Rounded(x)
                                                                                  : x,
                  b, {}, ref, bound, false, {}, dotKernels(t));
        for (size_t i = 0; i < y.size(); ++i) {
          double v = ref[i];
          if (act == fb::Activation::GeluErf)
            v = gelu(v);
          else if (act == fb::Activation::Relu)
            v = v < 0 ? 0 : v;
          v += r[i];
          // The product's bound, and oneDNN's GELU (within a few f32 ulps).
          ASSERT_NEAR(y[i], v, bound[i] + 1e-5 * (1 + std::fabs(v))) << i;
        }
      }
}

TEST(LowPrecisionLinear, GatedLinearMatchesTheReference) {
  uint32_t seed = 4000;
  for (WeightType t : {WeightType::BF16, WeightType::I8, WeightType::F32})
    for (int64_t M : {1, 18}) {
      SCOPED_TRACE("type " + std::to_string(int(t)) + " M " + std::to_string(M));
      const int64_t K = 33, N = 50;
      TestWeight wg = makeWeight(K, N, seed++), wu = makeWeight(K, N, seed++);
      std::vector<float> x = randomVector(M * K, seed++);
      std::vector<Arg> args = {rtt::F32({M, K}, x), weightArg(wg, t), weightArg(wu, t)};
      if (t == WeightType::I8) {
        args.push_back(rtt::F32({N}, wg.scale, true));
        args.push_back(rtt::F32({N}, wu.scale, true));
      }
      fb::DType wp = t == WeightType::BF16 ? fb::DType::BF16
                     : t == WeightType::I8 ? fb::DType::I8
                                           : fb::DType::F32;
      const fb::GateActivation act = M == 1 ? fb::GateActivation::Silu : fb::GateActivation::GeluErf;
      rtt::RunResult res = rtt::runKernelOn(cpuWeights(wp), fb::KernelKind::GatedLinear, args,
                                            TFC_F32, {M, N}, rtt::opt::gatedLinear(act));
      ASSERT_EQ(res.code, TFC_OK) << res.message;
      std::vector<float> y = res.as<float>();
      Case c{M, K, N, K, false, false, 0, 2};
      std::vector<double> g, gb, u, ub;
      // Above kGemvMaxRows rows bf16 weights round x to bf16 where the CPU multiplies bf16.
      const std::vector<float> xs = t == WeightType::BF16 && M > tfc::rt::kGemvMaxRows &&
                                            tfc::rt::bf16ProductsInBf16()
                                        ? bf16Rounded(x)
                                        : x;
      reference(wg, t, c, xs, {}, {}, g, gb, false, {}, dotKernels(t));
      reference(wu, t, c, xs, {}, {}, u, ub, false, {}, dotKernels(t));
      for (size_t i = 0; i < y.size(); ++i) {
        double a = act == fb::GateActivation::Silu ? g[i] / (1 + std::exp(-g[i])) : gelu(g[i]);
        double v = a * u[i];
        ASSERT_NEAR(y[i], v, 2 * (gb[i] * std::fabs(u[i]) + ub[i] * std::fabs(g[i])) +
                                 1e-5 * (1 + std::fabs(v))) << i;
      }
    }
}

TEST(LowPrecisionLinear, InPlaceResidualWithAndWithoutActivation) {
  // t = reshape(r); t = linear(x, W (bf16), b, residual = t) in place; out = reshape(t): the
  // residual in the epilogue (no activation), or after the activation from a scratch (GELU).
  const int64_t M = 2, K = 37, N = 41;
  TestWeight w = makeWeight(K, N, 7000);
  std::vector<float> x = randomVector(M * K, 7001), b = randomVector(N, 7002),
                     res = randomVector(M * N, 7003);
  for (fb::Activation act : {fb::Activation::None, fb::Activation::GeluTanh}) {
    SCOPED_TRACE(fb::EnumNameActivation(act));
    rtt::PlanBuilder pb;
    pb.weightPrecision = fb::DType::BF16;
    int vx = pb.addInput("x", TFC_F32, {rtt::S(M), rtt::S(K)});
    int vr = pb.addInput("r", TFC_F32, {rtt::S(M), rtt::S(N)});
    int vw = pb.addConstantValue(pb.addConstant("w", TFC_BF16, {K, N}, w.bf16.data()));
    int vb = pb.addConstantValue(pb.addConstant("b", TFC_F32, {N}, b.data()));
    int vt = pb.addIntermediate("t", TFC_F32, {rtt::S(M), rtt::S(N)});
    int vo = pb.addOutput("y", TFC_F32, {rtt::S(M), rtt::S(N)});
    pb.addKernel(fb::KernelKind::Reshape, {vr}, {vt});
    pb.addKernel(fb::KernelKind::Linear, {vx, vw, vb, vt}, {vt}, rtt::opt::linear(act));
    pb.addKernel(fb::KernelKind::Reshape, {vt}, {vo});
    tfc_plan *plan = nullptr;
    ASSERT_EQ(rtt::openBytes(pb.build(), &plan, "inplace"), nullptr);
    tfc_session *s = nullptr;
    ASSERT_EQ(tfc_session_create(plan, nullptr, &s), nullptr);
    int64_t dx[2] = {M, K}, dr[2] = {M, N};
    tfc_tensor in[2] = {{"x", TFC_F32, 2, dx, x.data()}, {"r", TFC_F32, 2, dr, res.data()}};
    tfc_outputs *out = nullptr;
    ASSERT_EQ(tfc_session_run(s, "forward", in, 2, &out), nullptr);
    tfc_tensor y;
    ASSERT_EQ(tfc_outputs_get(out, 0, &y), nullptr);
    const float *got = static_cast<const float *>(y.data);
    Case c{M, K, N, K, true, false, 0, 1};
    std::vector<double> ref, bound;
    reference(w, WeightType::BF16, c, x, b, {}, ref, bound);
    for (size_t i = 0; i < ref.size(); ++i) {
      double v = ref[i];
      if (act == fb::Activation::GeluTanh)
        v = 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
      v += res[i];
      EXPECT_NEAR(got[i], v, bound[i] + 1e-5 * (1 + std::fabs(v))) << i;
    }
    tfc_outputs_free(out);
    tfc_session_release(s);
    tfc_plan_release(plan);
  }
}

// ---- the loader's checks of low-precision weights ------------------------------------------

/// A Linear with an int8 weight [4, 3] and its scale, as the compiler writes it.
rtt::PlanBuilder int8LinearPlan(std::vector<int64_t> scaleShape = {3},
                                tfc_dtype scaleDtype = TFC_F32) {
  rtt::PlanBuilder pb;
  pb.weightPrecision = fb::DType::I8;
  int x = pb.addInput("x", TFC_F32, {rtt::S(1), rtt::S(4)});
  std::vector<int8_t> q(12, 1);
  int w = pb.addConstantValue(pb.addConstant("fc.weight", TFC_I8, {4, 3}, q.data()));
  std::vector<float> s(8, 0.5f);
  int sc = pb.addConstantValue(pb.addConstant("fc.weight/scale", scaleDtype, scaleShape, s.data()));
  int y = pb.addOutput("y", TFC_F32, {rtt::S(1), rtt::S(3)});
  pb.addKernel(fb::KernelKind::Linear, {x, w, -1, -1, sc}, {y}, rtt::opt::linear(fb::Activation::None),
               "fc");
  return pb;
}

std::string openError(const rtt::PlanBuilder &pb) {
  tfc_plan *plan = nullptr;
  tfc_status *s = rtt::openBytes(pb.build(), &plan, "lowp");
  std::string m = s ? tfc_status_message(s) : "";
  tfc_status_free(s);
  tfc_plan_release(plan);
  return m;
}

TEST(LowPrecisionLoader, AWellFormedInt8PlanOpensAndRuns) {
  rtt::PlanBuilder pb = int8LinearPlan();
  EXPECT_EQ(openError(pb), "");
  tfc_plan *plan = nullptr;
  ASSERT_EQ(rtt::openBytes(pb.build(), &plan, "lowp"), nullptr);
  EXPECT_STREQ(tfc_plan_weight_precision(plan), "int8");
  EXPECT_STREQ(tfc_plan_precision(plan), "fp32");
  tfc_session *session = nullptr;
  ASSERT_EQ(tfc_session_create(plan, nullptr, &session), nullptr);
  float x[4] = {1, 2, 3, 4};
  int64_t dims[2] = {1, 4};
  tfc_tensor in{"x", TFC_F32, 2, dims, x};
  tfc_outputs *outs = nullptr;
  ASSERT_EQ(tfc_session_run(session, "forward", &in, 1, &outs), nullptr);
  tfc_tensor y;
  ASSERT_EQ(tfc_outputs_get(outs, 0, &y), nullptr);
  for (int n = 0; n < 3; ++n)
    EXPECT_FLOAT_EQ(static_cast<const float *>(y.data)[n], 10.f * 0.5f); // sum(x) * q * scale
  tfc_outputs_free(outs);
  tfc_session_release(session);
  tfc_plan_release(plan);
}

TEST(LowPrecisionLoader, MalformedScalesAndWeightsAreRefusedNamingThem) {
  rtt::PlanBuilder pb = int8LinearPlan();
  pb.kernels[0].inputs.resize(4); // no scale
  EXPECT_NE(openError(pb).find("kernel 'fc' (Linear): weight 'fc.weight' is i8 but has no scale "
                               "(input 4: an f32 constant [N])"),
            std::string::npos)
      << openError(pb);
  EXPECT_NE(openError(int8LinearPlan({4})).find(
                "scale 'fc.weight/scale' of weight 'fc.weight' has shape [4]; expected [3]"),
            std::string::npos)
      << openError(int8LinearPlan({4}));
  EXPECT_NE(openError(int8LinearPlan({1, 3})).find("has shape [1, 3]; expected [3]"),
            std::string::npos);
  EXPECT_NE(openError(int8LinearPlan({3}, TFC_BF16)).find(
                "scale 'fc.weight/scale' of weight 'fc.weight' has dtype bf16; expected f32"),
            std::string::npos);
  // The weight's dtype must be the plan's weight precision.
  pb = int8LinearPlan();
  pb.weightPrecision = fb::DType::BF16;
  EXPECT_NE(openError(pb).find("weight 'fc.weight' is i8 but the plan's weight precision is bf16"),
            std::string::npos)
      << openError(pb);
  pb = int8LinearPlan();
  pb.weightPrecision = fb::DType::F32;
  EXPECT_NE(openError(pb).find("weight 'fc.weight' is i8 but the plan's weight precision is f32"),
            std::string::npos);
  // A weight precision that is no weight format, and one on a cuda plan.
  pb = int8LinearPlan();
  pb.weightPrecision = fb::DType::I64;
  EXPECT_NE(openError(pb).find("weight_precision 4 is not F32, BF16 or I8"), std::string::npos);
}

TEST(LowPrecisionLoader, Bf16WeightsMustBeConstantsWithoutScale) {
  rtt::PlanBuilder pb;
  pb.weightPrecision = fb::DType::BF16;
  int x = pb.addInput("x", TFC_F32, {rtt::S(1), rtt::S(4)});
  int w = pb.addInput("w", TFC_BF16, {rtt::S(4), rtt::S(3)});
  int y = pb.addOutput("y", TFC_F32, {rtt::S(1), rtt::S(3)});
  pb.addKernel(fb::KernelKind::Linear, {x, w}, {y}, rtt::opt::linear(fb::Activation::None), "fc");
  EXPECT_NE(openError(pb).find("weight 'w' is bf16 but not a plan constant"), std::string::npos)
      << openError(pb);
  rtt::PlanBuilder pc;
  pc.weightPrecision = fb::DType::BF16;
  x = pc.addInput("x", TFC_F32, {rtt::S(1), rtt::S(4)});
  std::vector<uint16_t> bits(12, 0x3F80);
  w = pc.addConstantValue(pc.addConstant("fc.weight", TFC_BF16, {4, 3}, bits.data()));
  std::vector<float> s(3, 1.f);
  int sc = pc.addConstantValue(pc.addConstant("fc.scale", TFC_F32, {3}, s.data()));
  y = pc.addOutput("y", TFC_F32, {rtt::S(1), rtt::S(3)});
  pc.addKernel(fb::KernelKind::Linear, {x, w, -1, -1, sc}, {y},
               rtt::opt::linear(fb::Activation::None), "fc");
  EXPECT_NE(openError(pc).find("input 4 (a scale, value 'fc.scale') is given but weight "
                               "'fc.weight' is bf16: only an i8 weight has a scale"),
            std::string::npos)
      << openError(pc);
}

} // namespace
