//===- runtime_gated_linear_test.cpp - the GatedLinear kernel's math vs a plain reference ----===//
//
// GatedLinearPrimitives (runtime/src/cpu/GatedLinear.h) against loops written from the formula
// y = act(x @ Wg) * (x @ Wu) in double, for SiLU (x / (1 + exp(-x))), erf GELU and tanh GELU,
// and shapes from one row (decode) to a prompt; plus one product worked out by hand.
//
//===----------------------------------------------------------------------------------------===//
#include "cpu/GatedLinear.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace {

using tfc::rt::GateActivation;

double activate(double v, GateActivation act) {
  switch (act) {
  case GateActivation::Silu: return v / (1.0 + std::exp(-v));
  case GateActivation::GeluErf: return 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)));
  case GateActivation::GeluTanh:
    return 0.5 * v * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v)));
  }
  return NAN;
}

std::vector<float> reference(const std::vector<float> &x, const std::vector<float> &wg,
                             const std::vector<float> &wu, int64_t M, int64_t K, int64_t N,
                             GateActivation act) {
  std::vector<float> y(size_t(M * N));
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double g = 0, u = 0;
      for (int64_t k = 0; k < K; ++k) {
        g += double(x[i * K + k]) * wg[k * N + j];
        u += double(x[i * K + k]) * wu[k * N + j];
      }
      y[i * N + j] = float(activate(g, act) * u);
    }
  return y;
}

std::vector<float> randomVector(size_t n, std::mt19937 &gen, float scale) {
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float &f : v)
    f = dist(gen);
  return v;
}

TEST(GatedLinearKernel, OneProductByHand) {
  // x = [1, 2], Wg = [2, 1]^T, Wu = [-1, 2]^T: x @ Wg = 4, x @ Wu = 3, y = silu(4) * 3.
  tfc::rt::DnnlEnv env;
  tfc::rt::GatedLinearPrimitives prims;
  std::vector<float> x = {1, 2}, wg = {2, 1}, wu = {-1, 2}, y(1);
  prims.run(env, 1, x.data(), wg.data(), wu.data(), y.data(), 1, 2, 1, GateActivation::Silu);
  EXPECT_NEAR(y[0], 4.0 / (1.0 + std::exp(-4.0)) * 3.0, 1e-5);
}

TEST(GatedLinearKernel, MatchesReferenceForEachActivationAndShape) {
  std::mt19937 gen(3);
  for (GateActivation act :
       {GateActivation::Silu, GateActivation::GeluErf, GateActivation::GeluTanh}) {
    tfc::rt::DnnlEnv env;
    tfc::rt::GatedLinearPrimitives prims; // one per kernel: cached primitives across shapes
    for (auto [M, K, N] : {std::tuple<int64_t, int64_t, int64_t>{1, 64, 128}, {7, 64, 128},
                           {32, 64, 96}, {7, 64, 128}}) {
      SCOPED_TRACE(testing::Message() << "activation " << int(act) << " M " << M << " K " << K
                                      << " N " << N);
      auto x = randomVector(size_t(M * K), gen, 1.0f);
      auto wg = randomVector(size_t(K * N), gen, 0.3f), wu = randomVector(size_t(K * N), gen, 0.3f);
      std::vector<float> y(size_t(M * N));
      prims.run(env, 1, x.data(), wg.data(), wu.data(), y.data(), M, K, N, act);
      auto want = reference(x, wg, wu, M, K, N, act);
      float maxRef = 1;
      for (float v : want)
        maxRef = std::max(maxRef, std::fabs(v));
      for (size_t i = 0; i < y.size(); ++i)
        ASSERT_NEAR(y[i], want[i], 1e-4f * maxRef) << "element " << i;
    }
  }
}

} // namespace
