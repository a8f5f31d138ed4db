//===- runtime_rms_norm_test.cpp - the RmsNorm kernel's math against a plain reference -------===//
//
// rmsNormRows (runtime/src/cpu/RmsNorm.h) against a reference written straight from the formula
// y = v / sqrt(mean(v^2) + eps) * w (v = x + r), in double, one element at a time; and one row
// worked out by hand.
//
//===----------------------------------------------------------------------------------------===//
#include "cpu/RmsNorm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace {

std::vector<float> reference(const std::vector<float> &x, const std::vector<float> *r,
                             int64_t rows, int64_t cols, const std::vector<float> &w,
                             bool unitOffset, double eps) {
  std::vector<float> y(x.size());
  for (int64_t i = 0; i < rows; ++i) {
    auto v = [&](int64_t j) {
      double a = x[i * cols + j];
      return r ? a + (*r)[i * cols + j] : a;
    };
    double meanSquare = 0;
    for (int64_t j = 0; j < cols; ++j)
      meanSquare += v(j) * v(j) / double(cols);
    double rms = std::sqrt(meanSquare + eps);
    for (int64_t j = 0; j < cols; ++j)
      y[i * cols + j] = float(v(j) / rms * (unitOffset ? 1.0 + w[j] : double(w[j])));
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

void expectNear(const std::vector<float> &got, const std::vector<float> &want, float tol) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], tol * std::max(1.0f, std::fabs(want[i]))) << "element " << i;
}

TEST(RmsNormKernel, OneRowByHand) {
  // v = [3, 4]: mean(v^2) = 12.5; with eps 0.5 the RMS is sqrt(13) = 3.6055513.
  std::vector<float> x = {3.0f, 4.0f}, w = {2.0f, -1.0f}, y(2);
  tfc::rt::rmsNormRows(x.data(), nullptr, y.data(), 1, 2, w.data(), false, 0.5f);
  EXPECT_NEAR(y[0], 3.0 / std::sqrt(13.0) * 2.0, 1e-6);
  EXPECT_NEAR(y[1], 4.0 / std::sqrt(13.0) * -1.0, 1e-6);
  // (1 + w): the same row scaled by 3 and 0.
  tfc::rt::rmsNormRows(x.data(), nullptr, y.data(), 1, 2, w.data(), true, 0.5f);
  EXPECT_NEAR(y[0], 3.0 / std::sqrt(13.0) * 3.0, 1e-6);
  EXPECT_EQ(y[1], 0.0f);
}

TEST(RmsNormKernel, MatchesReferenceWithAndWithoutResidualAndOffset) {
  std::mt19937 gen(7);
  // A small shape and one large enough for the parallel loop (rows * cols >= 16384).
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{5, 64}, {96, 384}, {3, 1}}) {
    auto x = randomVector(rows * cols, gen, 3.0f), r = randomVector(rows * cols, gen, 1.0f);
    auto w = randomVector(cols, gen, 0.5f);
    for (bool residual : {false, true})
      for (bool unitOffset : {false, true}) {
        SCOPED_TRACE(testing::Message() << rows << "x" << cols << " residual " << residual
                                        << " unit offset " << unitOffset);
        std::vector<float> y(x.size());
        tfc::rt::rmsNormRows(x.data(), residual ? r.data() : nullptr, y.data(), rows, cols,
                             w.data(), unitOffset, 1e-6f);
        expectNear(y, reference(x, residual ? &r : nullptr, rows, cols, w, unitOffset, 1e-6),
                   1e-5f);
      }
  }
}

TEST(RmsNormKernel, InPlaceAndZeroRow) {
  // y aliasing x (the executor may reuse the input's buffer); an all-zero row gives zeros (the
  // eps keeps the RMS positive), not NaN.
  std::vector<float> x = {0, 0, 0, 0, 1, -2, 3, -4}, w = {1, 1, 1, 1};
  auto want = reference(x, nullptr, 2, 4, w, false, 1e-5);
  tfc::rt::rmsNormRows(x.data(), nullptr, x.data(), 2, 4, w.data(), false, 1e-5f);
  expectNear(x, want, 1e-6f);
  for (int j = 0; j < 4; ++j)
    EXPECT_EQ(x[j], 0.0f);
}

} // namespace
