//===- runtime_breadth_ops_test.cpp - the issue-11 kernels against plain reference loops ------===//
//
// Runs the kernel code of runtime/src/cpu/ElementwiseMath, Indexing and Conv directly on tensors
// (the plan's kernels call these functions) and compares each with a reference written for
// clarity: one output element at a time, from the op's definition in the ONNX specification.
//
//===----------------------------------------------------------------------------------------===//
#include "cpu/Conv.h"
#include "cpu/ElementwiseMath.h"
#include "cpu/Indexing.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

using namespace tfc::rt;

namespace {

const float kNaN = std::numeric_limits<float>::quiet_NaN();

Shape shapeOf(std::vector<int64_t> dims) {
  Shape s;
  s.rank = int32_t(dims.size());
  for (size_t i = 0; i < dims.size(); ++i)
    s.d[i] = dims[i];
  return s;
}

/// A tensor over `v`'s storage (which must outlive it).
template <typename T> Tensor view(std::vector<T> &v, tfc_dtype dtype, std::vector<int64_t> dims) {
  Tensor t;
  t.data = v.data();
  t.dtype = dtype;
  t.shape = shapeOf(std::move(dims));
  EXPECT_EQ(size_t(t.shape.numel()), v.size()) << "test setup: storage and shape differ";
  return t;
}

std::vector<float> randomFloats(size_t n, uint32_t seed, float lo = -3.f, float hi = 3.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float &x : v)
    x = dist(rng);
  return v;
}

std::vector<int64_t> unflatten(int64_t flat, const std::vector<int64_t> &shape) {
  std::vector<int64_t> idx(shape.size());
  for (size_t k = shape.size(); k-- > 0;) {
    idx[k] = flat % shape[k];
    flat /= shape[k];
  }
  return idx;
}

int64_t flatten(const std::vector<int64_t> &idx, const std::vector<int64_t> &shape) {
  int64_t f = 0;
  for (size_t k = 0; k < shape.size(); ++k)
    f = f * shape[k] + idx[k];
  return f;
}

int64_t product(const std::vector<int64_t> &s) {
  int64_t n = 1;
  for (int64_t d : s)
    n *= d;
  return n;
}

/// The element of a tensor of shape `in` that NumPy broadcasting puts at output index `idx`.
int64_t broadcastOffset(const std::vector<int64_t> &idx, const std::vector<int64_t> &in) {
  std::vector<int64_t> j(in.size());
  for (size_t k = 0; k < in.size(); ++k) {
    size_t i = idx.size() - in.size() + k;
    j[k] = in[k] == 1 ? 0 : idx[i];
  }
  return flatten(j, in);
}

/// Same value, NaN equal to NaN.
void expectSameFloat(float got, float ref, const std::string &what) {
  if (std::isnan(ref))
    EXPECT_TRUE(std::isnan(got)) << what << ": got " << got << ", want NaN";
  else
    EXPECT_EQ(got, ref) << what;
}

// ---- Elementwise ------------------------------------------------------------------------------

TEST(BreadthOps, UnaryFloat) {
  std::vector<float> x = randomFloats(40, 1);
  for (float s : {0.f, -0.f, 2.f, -2.f, 2.5f, -2.5f, 1e30f, kNaN})
    x.push_back(s);
  int64_t n = int64_t(x.size());
  struct Case {
    UnaryOp op;
    const char *name;
    float (*ref)(float);
  };
  const Case cases[] = {
      {UnaryOp::Abs, "Abs", [](float v) { return v < 0 ? -v : (v == 0 ? 0.f : v); }},
      {UnaryOp::Sign, "Sign",
       [](float v) { return v != v ? v : v > 0 ? 1.f : v < 0 ? -1.f : 0.f; }},
      {UnaryOp::Ceil, "Ceil", [](float v) { return float(std::ceil(double(v))); }},
      {UnaryOp::Floor, "Floor", [](float v) { return float(std::floor(double(v))); }},
      {UnaryOp::Sin, "Sin", [](float v) { return float(std::sin(double(v))); }},
      {UnaryOp::Cos, "Cos", [](float v) { return float(std::cos(double(v))); }},
  };
  for (const Case &c : cases) {
    std::vector<float> y(x.size(), -7.f);
    ASSERT_TRUE(unaryMath(c.op, view(x, TFC_F32, {2, n / 2}), view(y, TFC_F32, {2, n / 2})));
    for (size_t i = 0; i < x.size(); ++i) {
      float ref = c.ref(x[i]);
      std::string what = std::string(c.name) + "(" + std::to_string(x[i]) + ")";
      if (c.op == UnaryOp::Sin || c.op == UnaryOp::Cos) {
        if (std::isnan(ref) || std::fabs(x[i]) > 1e6f) // sin(1e30) in f32: any value in [-1, 1]
          EXPECT_TRUE(std::isnan(ref) ? std::isnan(y[i]) : std::fabs(y[i]) <= 1.f) << what;
        else
          EXPECT_NEAR(y[i], ref, 1e-6f) << what;
      } else {
        expectSameFloat(y[i], ref, what);
      }
    }
  }
}

TEST(BreadthOps, UnaryIntegers) {
  std::vector<int64_t> x = {-5, 0, 7, -1, 1, -123456789012LL};
  std::vector<int64_t> y(x.size());
  ASSERT_TRUE(unaryMath(UnaryOp::Abs, view(x, TFC_I64, {6}), view(y, TFC_I64, {6})));
  EXPECT_EQ(y, (std::vector<int64_t>{5, 0, 7, 1, 1, 123456789012LL}));
  ASSERT_TRUE(unaryMath(UnaryOp::Sign, view(x, TFC_I64, {6}), view(y, TFC_I64, {6})));
  EXPECT_EQ(y, (std::vector<int64_t>{-1, 0, 1, -1, 1, -1}));
  std::vector<int32_t> xi = {-3, 4, 0}, yi(3);
  ASSERT_TRUE(unaryMath(UnaryOp::Abs, view(xi, TFC_I32, {3}), view(yi, TFC_I32, {3})));
  EXPECT_EQ(yi, (std::vector<int32_t>{3, 4, 0}));
  // Ceil, Floor, Sin, Cos are float-only: the function says so instead of computing.
  EXPECT_FALSE(unaryMath(UnaryOp::Floor, view(x, TFC_I64, {6}), view(y, TFC_I64, {6})));
  std::vector<uint8_t> b = {1, 0}, bo(2);
  EXPECT_FALSE(unaryMath(UnaryOp::Abs, view(b, TFC_BOOL, {2}), view(bo, TFC_BOOL, {2})));
}

TEST(BreadthOps, MinBroadcastsAndPropagatesNaN) {
  const std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>> shapes = {
      {{2, 3, 4}, {2, 3, 4}}, {{2, 3, 4}, {4}}, {{2, 1, 4}, {3, 1}}, {{1}, {2, 3}}, {{}, {5}}};
  uint32_t seed = 10;
  for (auto &[sa, sb] : shapes) {
    std::vector<float> a = randomFloats(size_t(product(sa)), seed++),
                       b = randomFloats(size_t(product(sb)), seed++);
    a[0] = kNaN;
    std::vector<int64_t> so(std::max(sa.size(), sb.size()));
    for (size_t i = 0; i < so.size(); ++i) {
      int64_t da = i + sa.size() >= so.size() ? sa[i + sa.size() - so.size()] : 1;
      int64_t db = i + sb.size() >= so.size() ? sb[i + sb.size() - so.size()] : 1;
      so[i] = std::max(da, db);
    }
    std::vector<float> y(size_t(product(so)));
    ASSERT_TRUE(minimum(view(a, TFC_F32, sa), view(b, TFC_F32, sb), view(y, TFC_F32, so)));
    for (int64_t i = 0; i < product(so); ++i) {
      auto idx = unflatten(i, so);
      float u = a[broadcastOffset(idx, sa)], v = b[broadcastOffset(idx, sb)];
      float ref = std::isnan(u) || std::isnan(v) ? kNaN : (u < v ? u : v);
      expectSameFloat(y[i], ref, "min at " + std::to_string(i));
    }
  }
  std::vector<int64_t> a = {5, -2, 9}, b = {3}, y(3);
  ASSERT_TRUE(minimum(view(a, TFC_I64, {3}), view(b, TFC_I64, {1}), view(y, TFC_I64, {3})));
  EXPECT_EQ(y, (std::vector<int64_t>{3, -2, 3}));
}

TEST(BreadthOps, ComparisonsBroadcastWithNaNFalse) {
  std::vector<float> a = {1.f, 2.f, kNaN, -1.f, 0.f, 3.f}; // [2, 3]
  std::vector<float> b = {2.f, 2.f, 1.f};                  // [3]
  struct Case {
    CompareOp op;
    const char *name;
    bool (*ref)(float, float);
  };
  const Case cases[] = {{CompareOp::Equal, "Equal", [](float x, float z) { return x == z; }},
                        {CompareOp::Less, "Less", [](float x, float z) { return x < z; }},
                        {CompareOp::LessOrEqual, "LessOrEqual",
                         [](float x, float z) { return !(x > z) && x == x && z == z; }},
                        {CompareOp::Greater, "Greater", [](float x, float z) { return z < x; }},
                        {CompareOp::GreaterOrEqual, "GreaterOrEqual",
                         [](float x, float z) { return !(x < z) && x == x && z == z; }}};
  for (const Case &c : cases) {
    std::vector<uint8_t> y(6, 7);
    ASSERT_TRUE(compare(c.op, view(a, TFC_F32, {2, 3}), view(b, TFC_F32, {3}),
                        view(y, TFC_BOOL, {2, 3})));
    for (int i = 0; i < 6; ++i)
      EXPECT_EQ(y[i], c.ref(a[i], b[i % 3]) ? 1 : 0) << c.name << " at " << i;
  }
  // i64 positions: [seq, 1] against [1, seq] (the relative-position tables of T5).
  std::vector<int64_t> q = {0, 1, 2}, k = {0, 1, 2, 3};
  std::vector<uint8_t> y(12);
  ASSERT_TRUE(compare(CompareOp::LessOrEqual, view(q, TFC_I64, {3, 1}), view(k, TFC_I64, {1, 4}),
                      view(y, TFC_BOOL, {3, 4})));
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j)
      EXPECT_EQ(y[i * 4 + j], i <= j ? 1 : 0) << i << ", " << j;
  // Bools: equality only.
  std::vector<uint8_t> p = {1, 0, 1}, r = {1, 1, 0}, e(3);
  ASSERT_TRUE(compare(CompareOp::Equal, view(p, TFC_BOOL, {3}), view(r, TFC_BOOL, {3}),
                      view(e, TFC_BOOL, {3})));
  EXPECT_EQ(e, (std::vector<uint8_t>{1, 0, 0}));
  EXPECT_FALSE(compare(CompareOp::Less, view(p, TFC_BOOL, {3}), view(r, TFC_BOOL, {3}),
                       view(e, TFC_BOOL, {3})));
}

// ---- CumSum, Tile, GatherElements, ArgMax, Trilu ----------------------------------------------

TEST(BreadthOps, CumSumEveryAxisAndMode) {
  const std::vector<int64_t> shape = {2, 3, 4};
  std::vector<float> x = randomFloats(24, 3);
  std::vector<int64_t> xi(24);
  for (int i = 0; i < 24; ++i)
    xi[i] = (i * 7) % 5 - 2;
  for (int axis = 0; axis < 3; ++axis)
    for (int exclusive = 0; exclusive < 2; ++exclusive)
      for (int reverse = 0; reverse < 2; ++reverse) {
        std::vector<float> y(24);
        std::vector<int64_t> yi(24);
        ASSERT_TRUE(cumSum(view(x, TFC_F32, shape), view(y, TFC_F32, shape), axis, exclusive,
                           reverse));
        ASSERT_TRUE(cumSum(view(xi, TFC_I64, shape), view(yi, TFC_I64, shape), axis, exclusive,
                           reverse));
        for (int64_t i = 0; i < 24; ++i) {
          auto idx = unflatten(i, shape);
          double ref = 0;
          int64_t refi = 0;
          for (int64_t j = 0; j < shape[axis]; ++j) {
            bool in = reverse ? (exclusive ? j > idx[axis] : j >= idx[axis])
                              : (exclusive ? j < idx[axis] : j <= idx[axis]);
            if (!in)
              continue;
            auto src = idx;
            src[axis] = j;
            ref += x[flatten(src, shape)];
            refi += xi[flatten(src, shape)];
          }
          std::string what = "axis " + std::to_string(axis) + " exclusive " +
                             std::to_string(exclusive) + " reverse " + std::to_string(reverse) +
                             " at " + std::to_string(i);
          EXPECT_NEAR(y[i], ref, 1e-5) << what;
          EXPECT_EQ(yi[i], refi) << what;
        }
      }
}

TEST(BreadthOps, CumSumOfAMaskGivesPositions) {
  // BLOOM: positions = cumsum(attention_mask, axis=1) - 1 on a right-padded batch.
  std::vector<int64_t> m = {1, 1, 1, 1, 1, 1, 0, 0}, y(8);
  ASSERT_TRUE(cumSum(view(m, TFC_I64, {2, 4}), view(y, TFC_I64, {2, 4}), 1, false, false));
  EXPECT_EQ(y, (std::vector<int64_t>{1, 2, 3, 4, 1, 2, 2, 2}));
}

TEST(BreadthOps, TileAnyDtype) {
  const std::vector<int64_t> xs = {2, 1, 3};
  const int64_t reps[] = {2, 3, 2};
  Shape ys = tileShape(shapeOf(xs), reps);
  ASSERT_EQ(ys, shapeOf({4, 3, 6}));
  std::vector<int64_t> yv(ys.d, ys.d + ys.rank);
  std::vector<float> x = randomFloats(6, 4), y(72);
  tile(view(x, TFC_F32, xs), view(y, TFC_F32, yv));
  std::vector<uint8_t> b = {1, 0, 0, 1, 1, 0}, yb(72);
  tile(view(b, TFC_BOOL, xs), view(yb, TFC_BOOL, yv));
  for (int64_t i = 0; i < 72; ++i) {
    auto idx = unflatten(i, yv);
    for (size_t k = 0; k < idx.size(); ++k)
      idx[k] %= xs[k];
    EXPECT_EQ(y[i], x[flatten(idx, xs)]) << i;
    EXPECT_EQ(yb[i], b[flatten(idx, xs)]) << i;
  }
  // GPT-J's rotary table: [seq, 1, d] tiled along the last axis.
  std::vector<float> r = {1, 2, 3, 4}, ry(8);
  const int64_t rr[] = {1, 1, 2};
  ASSERT_EQ(tileShape(shapeOf({2, 1, 2}), rr), shapeOf({2, 1, 4}));
  tile(view(r, TFC_F32, {2, 1, 2}), view(ry, TFC_F32, {2, 1, 4}));
  EXPECT_EQ(ry, (std::vector<float>{1, 2, 1, 2, 3, 4, 3, 4}));
}

TEST(BreadthOps, GatherElementsEveryAxis) {
  const std::vector<int64_t> ds = {3, 4, 2};
  std::vector<float> data = randomFloats(24, 5);
  for (int axis = 0; axis < 3; ++axis) {
    // Indices smaller than the data on the other axes (allowed by ONNX), with negatives.
    std::vector<int64_t> is = {2, 3, 2};
    is[axis] = 5;
    std::vector<int64_t> idx(size_t(product(is)));
    for (size_t i = 0; i < idx.size(); ++i)
      idx[i] = int64_t((i * 5 + 1) % (2 * ds[axis])) - ds[axis]; // [-dim, dim)
    std::vector<float> y(idx.size());
    ASSERT_EQ(gatherElements(view(data, TFC_F32, ds), view(idx, TFC_I64, is), axis,
                             view(y, TFC_F32, is)),
              "");
    for (int64_t i = 0; i < product(is); ++i) {
      auto at = unflatten(i, is);
      int64_t v = idx[i] < 0 ? idx[i] + ds[axis] : idx[i];
      at[axis] = v;
      EXPECT_EQ(y[i], data[flatten(at, ds)]) << "axis " << axis << " at " << i;
    }
  }
  // i32 indices, and an index out of range is an error naming it and its position.
  std::vector<int32_t> i32 = {0, 3, -4, 1};
  std::vector<float> y(4);
  EXPECT_EQ(gatherElements(view(data, TFC_F32, ds), view(i32, TFC_I32, {1, 4, 1}), 1,
                           view(y, TFC_F32, {1, 4, 1})),
            "");
  EXPECT_EQ(y, (std::vector<float>{data[0], data[6], data[0], data[2]}));
  std::vector<int64_t> bad = {0, 4};
  std::vector<float> yb(2);
  EXPECT_EQ(gatherElements(view(data, TFC_F32, ds), view(bad, TFC_I64, {1, 2, 1}), 1,
                           view(yb, TFC_F32, {1, 2, 1})),
            "index 4 at [0, 1, 0] is out of range for axis 1 of size 4");
}

TEST(BreadthOps, ArgMaxTiesNaNAndKeepdims) {
  EXPECT_EQ(argMaxShape(shapeOf({2, 3, 4}), 1, true), shapeOf({2, 1, 4}));
  EXPECT_EQ(argMaxShape(shapeOf({2, 3, 4}), 2, false), shapeOf({2, 3}));
  // Rows: a tie of the maximum, a NaN, distinct values.
  std::vector<float> x = {1, 5, 5, 2, /**/ 3, kNaN, 9, kNaN, /**/ -1, -3, -0.5f, -2};
  std::vector<int64_t> first(3), last(3);
  ASSERT_TRUE(argMax(view(x, TFC_F32, {3, 4}), 1, false, view(first, TFC_I64, {3})));
  ASSERT_TRUE(argMax(view(x, TFC_F32, {3, 4}), 1, true, view(last, TFC_I64, {3})));
  EXPECT_EQ(first, (std::vector<int64_t>{1, 1, 2}));
  EXPECT_EQ(last, (std::vector<int64_t>{2, 3, 2}));
  // A random tensor over every axis against a reference scan.
  const std::vector<int64_t> s = {3, 4, 5};
  std::vector<float> r = randomFloats(60, 6);
  for (int axis = 0; axis < 3; ++axis) {
    Shape os = argMaxShape(shapeOf(s), axis, false);
    std::vector<int64_t> ov(os.d, os.d + os.rank), y(size_t(product(ov)));
    ASSERT_TRUE(argMax(view(r, TFC_F32, s), axis, false, view(y, TFC_I64, ov)));
    for (int64_t i = 0; i < product(ov); ++i) {
      auto idx = unflatten(i, ov);
      idx.insert(idx.begin() + axis, 0);
      int64_t best = 0;
      float bv = -std::numeric_limits<float>::infinity();
      for (int64_t j = 0; j < s[axis]; ++j) {
        idx[axis] = j;
        if (r[flatten(idx, s)] > bv) {
          bv = r[flatten(idx, s)];
          best = j;
        }
      }
      EXPECT_EQ(y[i], best) << "axis " << axis << " at " << i;
    }
  }
  std::vector<int64_t> xi = {4, -1, 4, 7, 7, 0}, yi(2);
  ASSERT_TRUE(argMax(view(xi, TFC_I64, {2, 3}), 1, false, view(yi, TFC_I64, {2})));
  EXPECT_EQ(yi, (std::vector<int64_t>{0, 0}));
}

TEST(BreadthOps, TriluUpperLowerEveryDiagonal) {
  const std::vector<int64_t> s = {2, 3, 5};
  std::vector<float> x = randomFloats(30, 7);
  for (float &v : x)
    if (v == 0)
      v = 1; // so that a kept element is never 0
  for (int upper = 0; upper < 2; ++upper)
    for (int64_t k = -3; k <= 5; ++k) {
      std::vector<float> y(30, -9.f);
      trilu(view(x, TFC_F32, s), upper, k, view(y, TFC_F32, s));
      for (int64_t i = 0; i < 30; ++i) {
        auto idx = unflatten(i, s);
        int64_t row = idx[1], col = idx[2];
        bool keep = upper ? col >= row + k : col <= row + k;
        EXPECT_EQ(y[i], keep ? x[i] : 0.f) << "upper " << upper << " k " << k << " at " << i;
      }
    }
  // A boolean causal mask: tril of ones.
  std::vector<uint8_t> ones(9, 1), m(9);
  trilu(view(ones, TFC_BOOL, {3, 3}), false, 0, view(m, TFC_BOOL, {3, 3}));
  EXPECT_EQ(m, (std::vector<uint8_t>{1, 0, 0, 1, 1, 0, 1, 1, 1}));
}

// ---- Conv -------------------------------------------------------------------------------------

/// Direct convolution from the definition (double accumulation), NC* layouts.
std::vector<float> refConv(const std::vector<float> &x, const std::vector<int64_t> &xs,
                           const std::vector<float> &w, const std::vector<int64_t> &ws,
                           const std::vector<float> *b, const ConvParams &p,
                           const std::vector<int64_t> &ys) {
  int sp = p.spatial;
  int64_t cg = ws[1], mg = ws[0] / p.group;
  std::vector<float> y(size_t(product(ys)));
  for (int64_t o = 0; o < product(ys); ++o) {
    auto yi = unflatten(o, ys);
    int64_t n = yi[0], m = yi[1], g = m / mg;
    double acc = b ? (*b)[m] : 0.0;
    int64_t kn = product(std::vector<int64_t>(ws.begin() + 2, ws.end()));
    for (int64_t c = 0; c < cg; ++c)
      for (int64_t kk = 0; kk < kn; ++kk) {
        auto ki = unflatten(kk, std::vector<int64_t>(ws.begin() + 2, ws.end()));
        std::vector<int64_t> xi = {n, g * cg + c};
        bool inside = true;
        for (int d = 0; d < sp; ++d) {
          int64_t pos = yi[2 + d] * p.strides[d] - p.padBegin[d] + ki[d] * p.dilations[d];
          inside &= pos >= 0 && pos < xs[2 + d];
          xi.push_back(pos);
        }
        if (!inside)
          continue;
        std::vector<int64_t> wi = {m, c};
        wi.insert(wi.end(), ki.begin(), ki.end());
        acc += double(x[flatten(xi, xs)]) * w[flatten(wi, ws)];
      }
    y[o] = float(acc);
  }
  return y;
}

void checkConv(const std::vector<int64_t> &xs, const std::vector<int64_t> &ws, bool bias,
               const ConvParams &p, const std::vector<int64_t> &expectShape, uint32_t seed) {
  std::vector<float> x = randomFloats(size_t(product(xs)), seed),
                     w = randomFloats(size_t(product(ws)), seed + 1, -0.5f, 0.5f),
                     b = randomFloats(size_t(ws[0]), seed + 2);
  Shape os;
  ASSERT_EQ(convOutputShape(shapeOf(xs), shapeOf(ws), p, os), "");
  ASSERT_EQ(os, shapeOf(expectShape));
  std::vector<float> y(size_t(product(expectShape)), kNaN);
  DnnlEnv env;
  ConvState state;
  Tensor bt = view(b, TFC_F32, {ws[0]});
  for (int run = 0; run < 2; ++run) // the second run reuses the cached primitive
    convForward(env, state, 2, view(x, TFC_F32, xs), view(w, TFC_F32, ws), bias ? &bt : nullptr,
                p, view(y, TFC_F32, expectShape));
  EXPECT_EQ(state.cache.size(), 1u);
  std::vector<float> ref = refConv(x, xs, w, ws, bias ? &b : nullptr, p, expectShape);
  float mx = 1.f;
  for (float v : ref)
    mx = std::max(mx, std::fabs(v));
  for (size_t i = 0; i < ref.size(); ++i)
    ASSERT_NEAR(y[i], ref[i], 1e-4f * mx) << "element " << i;
}

TEST(BreadthOps, Conv2DPatchEmbedding) {
  // ViT: kernel = stride = patch, no padding, bias.
  ConvParams p;
  p.spatial = 2;
  p.strides[0] = p.strides[1] = 4;
  checkConv({2, 3, 16, 12}, {8, 3, 4, 4}, true, p, {2, 8, 4, 3}, 20);
}

TEST(BreadthOps, Conv2DStridePadDilation) {
  ConvParams p;
  p.spatial = 2;
  p.strides[0] = 2;
  p.strides[1] = 1;
  p.padBegin[0] = 1;
  p.padBegin[1] = 0;
  p.padEnd[0] = 2;
  p.padEnd[1] = 1;
  p.dilations[0] = 1;
  p.dilations[1] = 2;
  // H: (7 + 3 - 3) / 2 + 1 = 4; W: (6 + 1 - 5) / 1 + 1 = 3
  checkConv({1, 4, 7, 6}, {5, 4, 3, 3}, false, p, {1, 5, 4, 3}, 30);
}

TEST(BreadthOps, Conv1DWhisperFrontEndAndGroups) {
  // Whisper: conv1 (k 3, pad 1) then conv2 (k 3, stride 2, pad 1), both with bias.
  ConvParams p;
  p.spatial = 1;
  p.padBegin[0] = p.padEnd[0] = 1;
  checkConv({2, 10, 16}, {12, 10, 3}, true, p, {2, 12, 16}, 40);
  p.strides[0] = 2;
  checkConv({2, 12, 16}, {12, 12, 3}, true, p, {2, 12, 8}, 50);
  // Grouped, dilated.
  ConvParams g;
  g.spatial = 1;
  g.group = 2;
  g.dilations[0] = 2;
  g.padBegin[0] = 1;
  g.padEnd[0] = 2;
  checkConv({1, 8, 11}, {16, 4, 3}, true, g, {1, 16, 10}, 60);
}

TEST(BreadthOps, ConvShapeErrors) {
  ConvParams p;
  p.spatial = 1;
  Shape out;
  EXPECT_EQ(convOutputShape(shapeOf({1, 3, 8}), shapeOf({4, 2, 3}), p, out),
            "input [1, 3, 8] and weight [4, 2, 3] do not go together with group 1");
  EXPECT_EQ(convOutputShape(shapeOf({1, 3, 2}), shapeOf({4, 3, 3}), p, out),
            "spatial dim 0 of input [1, 3, 2] (padded to 2) is smaller than the dilated kernel (3)");
  EXPECT_EQ(convOutputShape(shapeOf({1, 3, 2, 2}), shapeOf({4, 3, 3}), p, out),
            "input [1, 3, 2, 2] and weight [4, 3, 3] must both have rank 3");
}

} // namespace
