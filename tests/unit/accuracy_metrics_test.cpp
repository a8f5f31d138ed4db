//===- accuracy_metrics_test.cpp - the accuracy check's figures (tools/tfc/AccuracyCheck.h) ---===//
//
// compareValues against values worked out by hand: cosine, max abs error, max relative error
// (|x - r| / max(|r|, 1e-3 max|r|)), values finite in one plan and not the other.
//
//===----------------------------------------------------------------------------------------===//
#include "AccuracyCheck.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace {

using tfc::accuracy::compareValues;
using tfc::accuracy::Figures;

TEST(AccuracyFigures, EqualValuesHaveCosineOneAndNoError) {
  std::vector<float> r = {1.f, -2.f, 3.5f, 0.f};
  Figures f = compareValues(r.data(), r.data(), 4);
  EXPECT_NEAR(f.cosine, 1.0, 1e-15);
  EXPECT_EQ(f.maxAbsError, 0.0);
  EXPECT_EQ(f.maxRelError, 0.0);
  EXPECT_EQ(f.nonFiniteMismatches, 0);
  EXPECT_EQ(f.elements, 4);
}

TEST(AccuracyFigures, HandWorkedValues) {
  // x = (1, 2, 2), r = (1, 2, 3): dot 11, |x| 3, |r| sqrt(14).
  std::vector<float> x = {1.f, 2.f, 2.f}, r = {1.f, 2.f, 3.f};
  Figures f = compareValues(x.data(), r.data(), 3);
  EXPECT_NEAR(f.cosine, 11.0 / (3.0 * std::sqrt(14.0)), 1e-15);
  EXPECT_EQ(f.maxAbsError, 1.0);
  EXPECT_NEAR(f.maxRelError, 1.0 / 3.0, 1e-15);
  // A scaled copy: cosine 1, the errors of the scale.
  std::vector<float> y = {2.f, 4.f, 6.f};
  f = compareValues(y.data(), r.data(), 3);
  EXPECT_NEAR(f.cosine, 1.0, 1e-15);
  EXPECT_EQ(f.maxAbsError, 3.0);
  EXPECT_NEAR(f.maxRelError, 1.0, 1e-15);
  // Orthogonal: cosine 0; the reference's 0 is judged against 1e-3 of its largest magnitude.
  std::vector<float> a = {1.f, 0.f}, b = {0.f, 2.f};
  f = compareValues(a.data(), b.data(), 2);
  EXPECT_EQ(f.cosine, 0.0);
  EXPECT_EQ(f.maxAbsError, 2.0);
  EXPECT_NEAR(f.maxRelError, 1.0 / 2e-3, 1e-9);
}

TEST(AccuracyFigures, ValuesNotFiniteInOnePlanFailEveryThreshold) {
  std::vector<float> x = {1.f, NAN, INFINITY, -INFINITY}, r = {1.f, 1.f, INFINITY, INFINITY};
  Figures f = compareValues(x.data(), r.data(), 4);
  EXPECT_EQ(f.nonFiniteMismatches, 2); // NaN vs 1, -inf vs inf; inf vs inf agrees
  EXPECT_EQ(f.cosine, -1.0);
  EXPECT_EQ(f.maxAbsError, 0.0); // over the finite pairs
  std::vector<float> same = {INFINITY, 2.f};
  f = compareValues(same.data(), same.data(), 2);
  EXPECT_EQ(f.nonFiniteMismatches, 0);
  EXPECT_NEAR(f.cosine, 1.0, 1e-15);
}

TEST(AccuracyFigures, ZeroVectors) {
  std::vector<float> z = {0.f, 0.f}, x = {1.f, 0.f};
  EXPECT_EQ(compareValues(z.data(), z.data(), 2).cosine, 1.0);
  EXPECT_EQ(compareValues(x.data(), z.data(), 2).cosine, 0.0);
  EXPECT_EQ(compareValues(z.data(), z.data(), 0).elements, 0);
}

} // namespace
