//===- runtime_int8_gemm_test.cpp - int8 x int8 products (cpu/Int8Gemm.h) and their Linear ----===//
//
// * Per-row, per-block activation quantization (scalar and AVX2, the ones this CPU runs) against
//   the formula of Int8Gemm.h computed here: the same int16 values and block scales, bit for bit;
//   rows of zeros; rows with NaN or infinity flagged (not quantized).
// * The product of both code paths against a plain reference over the same quantized values
//   (double accumulation of qx * qw per block, times its xs, times ws, plus the epilogue): the
//   int32 sums are exact, so the bound is the few f32 roundings of the blocks' sum and the
//   epilogue. Random shapes with K odd and even, one block or several, N not a multiple of the
//   panel, M not a multiple of the tile, 1 to 3 threads, every epilogue (bias, a residual of full
//   rows, of one row, in place).
// * Against the fp32 product: within the bound the two quantizations allow,
//   sum_k (xs_b/2 |w_kn| + |x_k| ws/2 + xs_b ws/4) (|x - qx xs_b| <= xs_b/2, |w - qw ws| <= ws/2).
// * Rows holding NaN or infinity come out as the f32 product of the dequantized weight.
// * The Linear kernel of an int8 plan with prompt-sized M (one-kernel plans), every activation,
//   against the reference on the quantized values.
//
//===----------------------------------------------------------------------------------------===//
#include "cpu/Int8Gemm.h"
#include "cpu/LinearInt8.h"
#include "runtime_kernel_harness.h"

#include "tfc/support/Int8Weights.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace {

using namespace tfc::rt::int8gemm;
namespace fb = tfc::plan;

/// The formula of Int8Gemm.h, written out: q and the block scales of one row.
void quantizeRowReference(const float *x, int64_t K, std::vector<int16_t> &q,
                          std::vector<float> &scales) {
  q.assign(size_t(K), 0);
  scales.clear();
  for (int64_t k0 = 0; k0 < K; k0 += kBlock) {
    const int64_t k1 = std::min<int64_t>(K, k0 + kBlock);
    float amax = 0.f;
    for (int64_t k = k0; k < k1; ++k)
      amax = std::max(amax, std::fabs(x[k]));
    scales.push_back(amax / 127.f);
    const float inv = amax > 0.f ? 127.f / amax : 0.f;
    for (int64_t k = k0; k < k1; ++k)
      q[size_t(k)] = int16_t(std::fmin(127.f, std::fmax(-127.f, std::nearbyint(x[k] * inv))));
  }
}

struct Weight {
  int64_t K, N;
  std::vector<float> f32, scale;
  std::vector<int8_t> q;
};

Weight makeWeight(int64_t K, int64_t N, uint32_t seed) {
  Weight w{K, N, rtt::randomFloats(K * N, seed), std::vector<float>(size_t(N)),
           std::vector<int8_t>(size_t(K * N))};
  for (int64_t k = 0; k < K; ++k) { // columns of different ranges, one of zeros
    w.f32[size_t(k * N)] *= 8.f;
    if (N > 2)
      w.f32[size_t(k * N + 2)] = 0.f;
  }
  EXPECT_EQ(tfc::support::quantizeColumns(w.f32.data(), K, N, w.q.data(), w.scale.data()), -1);
  return w;
}

/// The quantized value at (m, k): int16 for the pairs paths, byte - 128 for VNNI.
int quantized(const QuantizedRows &rows, Isa isa, int64_t m, int64_t k) {
  const size_t i = size_t(m * rows.stride + k);
  return isa == Isa::Avx512Vnni ? int(rows.u[i]) - 128 : int(rows.q[i]);
}

class Int8GemmIsa : public ::testing::TestWithParam<Isa> {
protected:
  void SetUp() override {
    if (!cpuSupports(GetParam()))
      GTEST_SKIP() << "this CPU does not run the " << isaName(GetParam()) << " code";
  }
};

TEST_P(Int8GemmIsa, QuantizedRowsAreTheFormulasBitForBit) {
  for (int64_t K : {1, 7, 8, 16, 17, 45, 64, 65, 130, 385}) {
    SCOPED_TRACE("K=" + std::to_string(K));
    const int64_t M = 5, ldx = K + 3;
    std::vector<float> x = rtt::randomFloats(M * ldx, uint32_t(K), -3.f, 3.f);
    for (int64_t k = 0; k < K; ++k)
      x[size_t(1 * ldx + k)] = 0.f; // a row of zeros
    x[size_t(2 * ldx + K / 2)] = 1e6f; // one large value: its block's scale only
    x[size_t(3 * ldx + K - 1)] = NAN;
    x[size_t(4 * ldx)] = -INFINITY;
    QuantizedRows rows;
    quantizeRows(x.data(), M, K, ldx, rows, GetParam(), 2);
    const int64_t blocks = (K + kBlock - 1) / kBlock;
    ASSERT_EQ(rows.blocks, blocks);
    ASSERT_EQ(rows.stride, blocks * kBlock);
    for (int64_t m = 0; m < M; ++m) {
      SCOPED_TRACE("row " + std::to_string(m));
      if (m >= 3) {
        EXPECT_EQ(rows.finite[size_t(m)], 0);
        continue;
      }
      ASSERT_EQ(rows.finite[size_t(m)], 1);
      std::vector<int16_t> q;
      std::vector<float> scales;
      quantizeRowReference(x.data() + m * ldx, K, q, scales);
      for (int64_t b = 0; b < blocks; ++b)
        EXPECT_EQ(rows.scale[size_t(m * blocks + b)], scales[size_t(b)]) << "block " << b;
      for (int64_t k = 0; k < K; ++k)
        ASSERT_EQ(quantized(rows, GetParam(), m, k), q[size_t(k)]) << "k " << k;
      for (int64_t k = K; k < rows.stride; ++k)
        ASSERT_EQ(quantized(rows, GetParam(), m, k), 0) << "padding at k " << k;
    }
  }
}

struct Case {
  int64_t M, K, N;
  bool bias;
  int residual; // 0 none, 1 full rows, 2 one row, 3 in place
  int threads;
};

/// Runs `isa` on `c`; checks against the quantized-value reference and the fp32 bound.
void runCase(Isa isa, const Case &c, uint32_t seed) {
  SCOPED_TRACE("M=" + std::to_string(c.M) + " K=" + std::to_string(c.K) + " N=" +
               std::to_string(c.N) + " bias=" + std::to_string(c.bias) +
               " residual=" + std::to_string(c.residual) + " threads=" + std::to_string(c.threads));
  Weight w = makeWeight(c.K, c.N, seed);
  std::vector<float> x = rtt::randomFloats(c.M * c.K, seed + 1, -2.f, 2.f);
  std::vector<float> bias = rtt::randomFloats(c.N, seed + 2), res = rtt::randomFloats(c.M * c.N, seed + 3);
  PackedWeight pw = pack(w.q.data(), c.K, c.N, isa);
  QuantizedRows rows;
  quantizeRows(x.data(), c.M, c.K, c.K, rows, isa, c.threads);
  std::vector<float> y(size_t(c.M * c.N), -777.f);
  Epilogue e;
  e.weightScale = w.scale.data();
  e.bias = c.bias ? bias.data() : nullptr;
  if (c.residual == 1 || c.residual == 2) {
    e.residual = res.data();
    e.residualStride = c.residual == 1 ? c.N : 0;
  } else if (c.residual == 3) {
    y = res;
    e.residual = y.data();
    e.residualStride = c.N;
  }
  multiply(pw, rows, x.data(), c.K, w.q.data(), y.data(), c.N, e, isa, c.threads);
  for (int64_t m = 0; m < c.M; ++m) {
    std::vector<int16_t> q;
    std::vector<float> xs;
    quantizeRowReference(x.data() + m * c.K, c.K, q, xs);
    for (int64_t n = 0; n < c.N; ++n) {
      const double ws = w.scale[size_t(n)];
      double sum = 0, mag = 0, f32 = 0, quantBound = 0, acc = 0;
      for (int64_t k = 0; k < c.K; ++k) {
        const size_t wi = size_t(k * c.N + n);
        const double s = xs[size_t(k / kBlock)];
        acc += double(q[size_t(k)]) * double(w.q[wi]);
        if ((k + 1) % kBlock == 0 || k + 1 == c.K) { // the block's exact sum, scaled
          sum += acc * s;
          mag += std::fabs(acc * s);
          acc = 0;
        }
        f32 += double(x[size_t(m * c.K + k)]) * double(w.f32[wi]);
        quantBound += s / 2.0 * std::fabs(double(w.q[wi]) * ws) +
                      std::fabs(double(x[size_t(m * c.K + k)])) * ws / 2.0 + s * ws / 4.0;
      }
      double epi = 0, epiAbs = 0;
      if (c.bias) {
        epi += bias[size_t(n)];
        epiAbs += std::fabs(bias[size_t(n)]);
      }
      if (c.residual) {
        epi += res[size_t((c.residual == 2 ? 0 : m) * c.N + n)];
        epiAbs += std::fabs(res[size_t((c.residual == 2 ? 0 : m) * c.N + n)]);
      }
      const double want = sum * ws + epi;
      const double got = y[size_t(m * c.N + n)];
      // float(block sum) (exact below 2^24), an f32 sum over the blocks, the epilogue's
      // product and two sums: f32 roundings.
      const int64_t blocks = (c.K + kBlock - 1) / kBlock;
      const double bound = double(blocks + 4) * std::ldexp(1.0, -24) * (mag * ws + epiAbs);
      ASSERT_LE(std::fabs(got - want), bound + 1e-30)
          << "quantized reference at [" << m << ", " << n << "]: " << got << " vs " << want;
      ASSERT_LE(std::fabs(got - (f32 + epi)), quantBound + bound + 1e-6)
          << "fp32 product at [" << m << ", " << n << "]";
    }
  }
}

TEST_P(Int8GemmIsa, RandomShapesEveryEpilogue) {
  uint32_t seed = 100;
  std::mt19937 rng(7);
  for (int i = 0; i < 24; ++i) {
    Case c;
    c.M = 1 + int64_t(rng() % 40);
    c.K = 1 + int64_t(rng() % 200);
    c.N = 1 + int64_t(rng() % 70);
    c.bias = rng() % 2;
    c.residual = int(rng() % 4);
    c.threads = 1 + int(rng() % 3);
    runCase(GetParam(), c, seed += 10);
  }
}

TEST_P(Int8GemmIsa, MiniLmShapesAndRowBlocks) {
  // The encoder's products (M = batch x seq) and a K large enough for several row blocks.
  for (Case c : {Case{128, 384, 384, true, 1, 2}, Case{77, 384, 1536, true, 0, 2},
                 Case{130, 1536, 384, true, 3, 2}, Case{400, 1536, 40, false, 0, 3}})
    runCase(GetParam(), c, uint32_t(c.M + c.K + c.N));
}

TEST_P(Int8GemmIsa, RowsThatAreNotFiniteComeOutAsTheFloatProduct) {
  const int64_t M = 20, K = 33, N = 21;
  Weight w = makeWeight(K, N, 9);
  std::vector<float> x = rtt::randomFloats(M * K, 10);
  x[size_t(3 * K + 4)] = NAN;
  x[size_t(7 * K)] = INFINITY;
  std::vector<float> bias = rtt::randomFloats(N, 11), y(size_t(M * N), 0.f);
  PackedWeight pw = pack(w.q.data(), K, N, GetParam());
  QuantizedRows rows;
  quantizeRows(x.data(), M, K, K, rows, GetParam(), 2);
  Epilogue e;
  e.weightScale = w.scale.data();
  e.bias = bias.data();
  multiply(pw, rows, x.data(), K, w.q.data(), y.data(), N, e, GetParam(), 2);
  for (int64_t n = 0; n < N; ++n) {
    EXPECT_TRUE(std::isnan(y[size_t(3 * N + n)])) << n;
    // inf times the weight: +-inf, or NaN where the column's int8 value is 0 (column 2).
    double s = 0;
    for (int64_t k = 0; k < K; ++k)
      s += double(x[size_t(7 * K + k)]) * (double(w.q[size_t(k * N + n)]) * w.scale[size_t(n)]);
    float got = y[size_t(7 * N + n)];
    if (std::isnan(s))
      EXPECT_TRUE(std::isnan(got)) << n;
    else
      EXPECT_EQ(got, float(s + bias[size_t(n)])) << n;
    EXPECT_TRUE(std::isfinite(y[size_t(8 * N + n)])) << n; // the other rows are unaffected
  }
}

INSTANTIATE_TEST_SUITE_P(Paths, Int8GemmIsa, ::testing::Values(Isa::Scalar, Isa::Avx2, Isa::Avx512Vnni),
                         [](const ::testing::TestParamInfo<Isa> &i) {
                           return std::string(isaName(i.param));
                         });

TEST(Int8Gemm, PackedLayoutIsPairsOfRowsPerPanelZeroPadded) {
  const int64_t K = 3, N = 18; // K padded to one block (32 pairs), 2 panels (the second padded)
  std::vector<int8_t> w(size_t(K * N));
  for (int64_t i = 0; i < K * N; ++i)
    w[size_t(i)] = int8_t(i % 100 - 50);
  PackedWeight pw = pack(w.data(), K, N, Isa::Avx2);
  ASSERT_EQ(pw.pairs, kBlock / 2);
  ASSERT_EQ(pw.panels, 2);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(pw.panel(0)) % 64, 0u);
  for (int64_t p = 0; p < 2; ++p)
    for (int64_t j = 0; j < pw.pairs; ++j)
      for (int64_t c = 0; c < kPanel; ++c) {
        const int64_t n = p * kPanel + c;
        const int16_t *slot = pw.panel(p) + j * 2 * kPanel + 2 * c;
        for (int64_t h = 0; h < 2; ++h) {
          const int64_t k = 2 * j + h;
          int16_t want = n < N && k < K ? w[size_t(k * N + n)] : 0;
          EXPECT_EQ(slot[h], want) << "panel " << p << " pair " << j << " column " << c;
        }
      }
}

TEST(Int8Gemm, VnniLayoutIsQuadsOfRowsPerPanelWithBlockColumnSums) {
  // K = 70: two blocks (the second padded), N = 18: two panels (the second padded).
  const int64_t K = 70, N = 18;
  std::vector<int8_t> w(size_t(K * N));
  for (int64_t i = 0; i < K * N; ++i)
    w[size_t(i)] = int8_t((i * 37) % 255 - 127);
  PackedWeight pw = pack(w.data(), K, N, Isa::Avx512Vnni);
  ASSERT_EQ(pw.pairs, kBlock); // K padded to 128, halved
  ASSERT_EQ(pw.panels, 2);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(pw.quadPanel(0)) % 64, 0u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(pw.quadPanel(1)) % 64, 0u);
  for (int64_t p = 0; p < 2; ++p)
    for (int64_t c = 0; c < kPanel; ++c) {
      const int64_t n = p * kPanel + c;
      for (int64_t blk = 0; blk < 2; ++blk) {
        int64_t sum = 0;
        for (int64_t k = blk * kBlock; k < (blk + 1) * kBlock; ++k) {
          const int want = n < N && k < K ? w[size_t(k * N + n)] : 0;
          sum += want;
          ASSERT_EQ(pw.quadPanel(p)[(k / 4) * 4 * kPanel + 4 * c + k % 4], want)
              << "panel " << p << " column " << c << " k " << k;
        }
        EXPECT_EQ(pw.compPanel(p)[blk * kPanel + c], 128 * sum) << "panel " << p << " c " << c;
      }
    }
}

// ---- the Linear kernel of an int8 plan -------------------------------------------------------

double gelu(double v) { return 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0))); }

TEST(Int8Linear, PromptSizedProductsQuantizeTheActivationsPerRow) {
  uint32_t seed = 500;
  rtt::PlanTarget target;
  target.weightPrecision = fb::DType::I8;
  for (int64_t M : {tfc::rt::kInt8GemmMinRows, int64_t(64)})
    for (fb::Activation act : {fb::Activation::None, fb::Activation::GeluErf, fb::Activation::Relu})
      for (bool residual : {false, true}) {
        SCOPED_TRACE("M " + std::to_string(M) + " act " + fb::EnumNameActivation(act) +
                     " residual " + std::to_string(residual));
        const int64_t K = 150, N = 70; // three blocks of activation scales
        Weight w = makeWeight(K, N, seed++);
        std::vector<float> x = rtt::randomFloats(M * K, seed++, -2.f, 2.f),
                           b = rtt::randomFloats(N, seed++), r = rtt::randomFloats(M * N, seed++);
        std::vector<rtt::Arg> args = {rtt::F32({1, M, K}, x),
                                      rtt::makeArg(TFC_I8, {K, N}, w.q, true),
                                      rtt::F32({N}, b, true)};
        args.push_back(residual ? rtt::F32({1, M, N}, r) : rtt::Absent());
        args.push_back(rtt::F32({N}, w.scale, true));
        rtt::RunResult res = rtt::runKernelOn(target, fb::KernelKind::Linear, args, TFC_F32,
                                              {1, M, N}, rtt::opt::linear(act));
        ASSERT_EQ(res.code, TFC_OK) << res.message;
        std::vector<float> y = res.as<float>();
        for (int64_t m = 0; m < M; ++m) {
          std::vector<int16_t> q;
          std::vector<float> xs;
          quantizeRowReference(x.data() + m * K, K, q, xs);
          for (int64_t n = 0; n < N; ++n) {
            double acc = 0;
            for (int64_t k = 0; k < K; ++k)
              acc += double(q[size_t(k)]) * xs[size_t(k / kBlock)] * w.q[size_t(k * N + n)];
            double v = acc * w.scale[size_t(n)] + b[size_t(n)];
            if (act == fb::Activation::GeluErf)
              v = gelu(v);
            else if (act == fb::Activation::Relu)
              v = v < 0 ? 0 : v;
            if (residual)
              v += r[size_t(m * N + n)];
            // A few f32 roundings, and oneDNN's GELU (within a few f32 ulps).
            ASSERT_NEAR(y[size_t(m * N + n)], v, 1e-5 * (1 + std::fabs(v))) << m << ", " << n;
          }
        }
      }
}

} // namespace
