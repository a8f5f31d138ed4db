//===- runtime_kernels_test.cpp - every CPU kernel against a plain reference loop ------------===//
//
// Each test builds a one-kernel plan (runtime_kernel_harness.h), runs it with random inputs and
// compares with a reference written for clarity, tolerance 1e-4 * max(1, max|ref|).
//
//===----------------------------------------------------------------------------------------===//
#include "runtime_kernel_harness.h"

#include <array>

using namespace rtt;
using K = fb::KernelKind;

namespace {

// ---- Binary / Unary / Where / Cast / Expand ---------------------------------------------------
std::vector<int64_t> bshape(std::vector<int64_t> a, std::vector<int64_t> b) {
  size_t r = std::max(a.size(), b.size());
  std::vector<int64_t> out(r);
  for (size_t i = 0; i < r; ++i) {
    int64_t da = i + a.size() >= r ? a[i + a.size() - r] : 1;
    int64_t db = i + b.size() >= r ? b[i + b.size() - r] : 1;
    out[i] = da == 1 ? db : da;
  }
  return out;
}

float refBinary(int op, float x, float y) {
  switch (op) {
  case 0: return x + y;
  case 1: return x - y;
  case 2: return x * y;
  case 3: return x / y;
  case 4: return std::pow(x, y);
  default: return std::max(x, y);
  }
}

TEST(RuntimeKernels, BinaryBroadcastingAllOps) {
  std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>> shapes = {
      {{3, 17}, {3, 17}}, {{2, 3, 33}, {33}}, {{2, 1, 5}, {4, 1}}, {{4, 5}, {}},
      {{}, {2, 3}},       {{2, 3, 1, 7}, {3, 6, 1}}, {{1, 129, 40}, {2, 1, 40}}};
  for (int op = 0; op < 6; ++op)
    for (auto &[sa, sb] : shapes) {
      float lo = op == 4 ? 0.1f : -1.f; // pow of positive bases
      auto a = randomFloats(numel(sa), 1 + op, lo, 1.f);
      auto b = randomFloats(numel(sb), 2 + op, 0.5f, 1.5f);
      auto so = bshape(sa, sb);
      RunResult r = runKernel(K::Binary, {F32(sa, a), F32(sb, b)}, TFC_F32, so, opt::binary(fb::BinaryOp(op)));
      ASSERT_EQ(r.code, TFC_OK) << r.message;
      std::vector<float> ref(size_t(numel(so)));
      for (int64_t i = 0; i < numel(so); ++i) {
        auto idx = unflatten(i, so);
        ref[i] = refBinary(op, a[bcastOffset(idx, sa)], b[bcastOffset(idx, sb)]);
      }
      expectClose(r.as<float>(), ref, "op " + std::to_string(op));
    }
}

TEST(RuntimeKernels, BinaryIntegers) {
  RunResult r = runKernel(K::Binary, {I64({2, 2}, {1, 2, 3, 4}), I64({2}, {10, 20})}, TFC_I64,
                          {2, 2}, opt::binary(fb::BinaryOp::Mul));
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  EXPECT_EQ(r.as<int64_t>(), (std::vector<int64_t>{10, 40, 30, 80}));
  r = runKernel(K::Binary, {I32({3}, {7, -7, 9}), I32({}, {2})}, TFC_I32, {3},
                opt::binary(fb::BinaryOp::Div));
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  EXPECT_EQ(r.as<int32_t>(), (std::vector<int32_t>{3, -3, 4}));
  r = runKernel(K::Binary, {I64({2}, {1, 2}), I64({2}, {1, 0})}, TFC_I64, {2},
                opt::binary(fb::BinaryOp::Div));
  EXPECT_EQ(r.code, TFC_INVALID_ARGUMENT);
  EXPECT_NE(r.message.find("division by zero"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("kernel_under_test"), std::string::npos) << r.message;
}

TEST(RuntimeKernels, UnaryAllOps) {
  auto x = randomFloats(3 * 1000 + 7, 5, -3.f, 3.f);
  std::vector<int64_t> s = {3, 1000 + 7};
  s = {int64_t(x.size())};
  for (int op = 0; op < 10; ++op) {
    std::vector<float> in = x;
    if (op == 0 || op == 8)
      for (float &v : in)
        v = std::fabs(v);
    RunResult r = runKernel(K::Unary, {F32(s, in)}, TFC_F32, s, opt::unary(fb::UnaryOp(op)));
    ASSERT_EQ(r.code, TFC_OK) << r.message;
    std::vector<float> ref(in.size());
    for (size_t i = 0; i < in.size(); ++i) {
      double v = in[i];
      switch (op) {
      case 0: ref[i] = float(std::sqrt(v)); break;
      case 1: ref[i] = float(std::erf(v)); break;
      case 2: ref[i] = float(std::tanh(v)); break;
      case 3: ref[i] = float(v > 0 ? v : 0); break;
      case 4: ref[i] = float(std::exp(v)); break;
      case 5: ref[i] = float(-v); break;
      case 8: ref[i] = float(std::log(v)); break;
      case 9: ref[i] = float(1.0 / (1.0 + std::exp(-v))); break;  // Sigmoid
      case 6: ref[i] = float(0.5 * v * (1 + std::erf(v / std::sqrt(2.0)))); break;
      case 7:
        ref[i] = float(0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v))));
        break;
      }
    }
    expectClose(r.as<float>(), ref, "unary op " + std::to_string(op));
  }
}

TEST(RuntimeKernels, WhereBroadcasts) {
  std::vector<int64_t> sc = {2, 1, 5}, sa = {2, 3, 5}, sb = {}, so = {2, 3, 5};
  std::vector<uint8_t> c(10);
  for (size_t i = 0; i < c.size(); ++i)
    c[i] = (i * 7) % 3 == 0;
  auto a = randomFloats(30, 3);
  RunResult r = runKernel(K::Where, {Bool(sc, c), F32(sa, a), F32(sb, {-5.f})}, TFC_F32, so);
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  std::vector<float> ref(30);
  for (int64_t i = 0; i < 30; ++i) {
    auto idx = unflatten(i, so);
    ref[i] = c[bcastOffset(idx, sc)] ? a[i] : -5.f;
  }
  expectClose(r.as<float>(), ref);
}

TEST(RuntimeKernels, Cast) {
  RunResult r = runKernel(K::Cast, {F32({4}, {1.7f, -2.2f, 0.f, 3.f})}, TFC_I64, {4});
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  EXPECT_EQ(r.as<int64_t>(), (std::vector<int64_t>{1, -2, 0, 3}));
  r = runKernel(K::Cast, {I64({3}, {0, 5, -1})}, TFC_BOOL, {3});
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  EXPECT_EQ(r.as<uint8_t>(), (std::vector<uint8_t>{0, 1, 1}));
  r = runKernel(K::Cast, {Bool({3}, {1, 0, 1})}, TFC_F32, {3});
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  EXPECT_EQ(r.as<float>(), (std::vector<float>{1, 0, 1}));
}

TEST(RuntimeKernels, Expand) {
  auto x = randomFloats(4, 9);
  RunResult r = runKernel(K::Expand, {F32({1, 4}, x), I64({3}, {2, 3, 1})}, TFC_F32, {2, 3, 4});
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  std::vector<float> ref;
  for (int i = 0; i < 6; ++i)
    ref.insert(ref.end(), x.begin(), x.end());
  expectClose(r.as<float>(), ref);
  // The output value's shape must agree with what the shape input says.
  r = runKernel(K::Expand, {F32({1, 4}, x), I64({2}, {5, 4})}, TFC_F32, {3, 4});
  EXPECT_EQ(r.code, TFC_INVALID_ARGUMENT) << r.message;
}

// ---- MatMul ---------------------------------------------------------------------------------
void refMatMul(const std::vector<float> &a, const std::vector<int64_t> &sa,
               const std::vector<float> &b, const std::vector<int64_t> &sb,
               std::vector<float> &c, std::vector<int64_t> &sc) {
  int64_t M = sa[sa.size() - 2], K = sa.back(), N = sb.back();
  std::vector<int64_t> ba(sa.begin(), sa.end() - 2), bb(sb.begin(), sb.end() - 2);
  std::vector<int64_t> batch = bshape(ba, bb);
  sc = batch;
  sc.push_back(M);
  sc.push_back(N);
  c.assign(size_t(numel(sc)), 0.f);
  for (int64_t t = 0; t < numel(batch); ++t) {
    auto idx = unflatten(t, batch);
    int64_t oa = ba.empty() ? 0 : bcastOffset(idx, ba), ob = bb.empty() ? 0 : bcastOffset(idx, bb);
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        double s = 0;
        for (int64_t k = 0; k < K; ++k)
          s += double(a[(oa * M + i) * K + k]) * b[(ob * K + k) * N + j];
        c[(t * M + i) * N + j] = float(s);
      }
  }
}

TEST(RuntimeKernels, MatMulBatchedBroadcasting) {
  std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>> shapes = {
      {{5, 7}, {7, 3}},           {{2, 3, 5, 7}, {7, 4}},    {{2, 3, 5, 7}, {2, 3, 7, 4}},
      {{2, 1, 5, 7}, {3, 7, 4}},  {{5, 7}, {2, 7, 9}},       {{1, 33, 65}, {65, 17}},
      {{4, 1, 6}, {4, 6, 1}}};
  uint32_t seed = 10;
  for (auto &[sa, sb] : shapes) {
    auto a = randomFloats(numel(sa), seed++), b = randomFloats(numel(sb), seed++);
    std::vector<float> ref;
    std::vector<int64_t> sc;
    refMatMul(a, sa, b, sb, ref, sc);
    for (bool constB : {false, true}) {
      RunResult r = runKernel(K::MatMul, {F32(sa, a), F32(sb, b, constB)}, TFC_F32, sc);
      ASSERT_EQ(r.code, TFC_OK) << r.message;
      expectClose(r.as<float>(), ref, "matmul");
    }
  }
}

// ---- Linear ---------------------------------------------------------------------------------
float refAct(int act, float v) {
  double x = v;
  switch (act) {
  case 1: return float(x > 0 ? x : 0);
  case 2: return float(0.5 * x * (1 + std::erf(x / std::sqrt(2.0))));
  case 3: return float(0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x))));
  default: return v;
  }
}

TEST(RuntimeKernels, LinearActivationsBiasResidual) {
  struct Case {
    std::vector<int64_t> x;
    int64_t n;
  };
  // Up to 16 rows the weight is read in oneDNN's layout, above that in its layout or in rows
  // padded to a multiple of 16 plus 16 floats (N = 40, 16, 1024: a 4 KiB row stride).
  // Prompt-sized products on 2 threads: N = 256, 200 (not a multiple of 16), 1024 (a 4 KiB row
  // stride, padded).
  std::vector<Case> cases = {{{2, 5, 16}, 24}, {{7, 33}, 17},   {{1, 1, 64}, 96},
                             {{3, 128, 48}, 40}, {{1, 20, 12}, 16}, {{17, 8}, 1024},
                             {{2, 20, 24}, 200}, {{64, 16}, 256}, {{33, 12}, 1024}};
  uint32_t seed = 100;
  for (const Case &c : cases)
    for (int act = 0; act < 4; ++act)
      for (int variant = 0; variant < 4; ++variant) { // 0 plain, 1 bias, 2 bias+residual, 3 row residual
        int64_t K = c.x.back(), N = c.n, M = numel(c.x) / K;
        auto x = randomFloats(numel(c.x), seed++), w = randomFloats(K * N, seed++),
             bias = randomFloats(N, seed++);
        std::vector<int64_t> so = c.x;
        so.back() = N;
        std::vector<int64_t> sr = variant == 3 ? std::vector<int64_t>{N} : so;
        auto res = randomFloats(numel(sr), seed++);
        std::vector<Arg> args = {F32(c.x, x), F32({K, N}, w, true)};
        args.push_back(variant >= 1 && variant <= 2 ? F32({N}, bias, true) : Absent());
        if (variant >= 2)
          args.push_back(F32(sr, res));
        RunResult r = runKernel(K::Linear, args, TFC_F32, so, opt::linear(fb::Activation(act)));
        ASSERT_EQ(r.code, TFC_OK) << r.message;
        std::vector<float> ref(size_t(M * N));
        for (int64_t i = 0; i < M; ++i)
          for (int64_t j = 0; j < N; ++j) {
            double s = variant == 1 || variant == 2 ? bias[j] : 0.0;
            for (int64_t k = 0; k < K; ++k)
              s += double(x[i * K + k]) * w[k * N + j];
            float v = refAct(act, float(s));
            if (variant == 2)
              v += res[i * N + j];
            if (variant == 3)
              v += res[j];
            ref[i * N + j] = v;
          }
        expectClose(r.as<float>(), ref,
                    "linear act " + std::to_string(act) + " variant " + std::to_string(variant));
      }
}

// t = reshape(r); t = linear(x, W, b, residual = t) in place; out = reshape(t). Relu runs after
// oneDNN's matmul (a separate pass); without it (or with GELU) the residual is oneDNN's sum
// post-op; at 17+ rows the weight is read from the plan's padded copy.
void checkInPlaceResidual(int64_t M, int64_t K, int64_t N, fb::Activation act, int threads) {
  SCOPED_TRACE("M " + std::to_string(M) + " N " + std::to_string(N) + " threads " +
               std::to_string(threads));
  auto x = randomFloats(M * K, 1), w = randomFloats(K * N, 2), b = randomFloats(N, 3),
       res = randomFloats(M * N, 4);
  PlanBuilder pb;
  int vx = pb.addInput("x", TFC_F32, {S(M), S(K)});
  int vr = pb.addInput("r", TFC_F32, {S(M), S(N)});
  int vw = pb.addConstantValue(pb.addConstant("w", TFC_F32, {K, N}, w.data()));
  int vb = pb.addConstantValue(pb.addConstant("b", TFC_F32, {N}, b.data()));
  int vt = pb.addIntermediate("t", TFC_F32, {S(M), S(N)});
  int vo = pb.addOutput("y", TFC_F32, {S(M), S(N)});
  pb.addKernel(K::Reshape, {vr}, {vt});
  pb.addKernel(K::Linear, {vx, vw, vb, vt}, {vt}, opt::linear(act));
  pb.addKernel(K::Reshape, {vt}, {vo});
  tfc_plan *plan = nullptr;
  ASSERT_EQ(openBytes(pb.build(), &plan), nullptr);
  tfc_session_options so;
  tfc_session_options_init(&so);
  so.num_threads = threads;
  tfc_session *s = nullptr;
  ASSERT_EQ(tfc_session_create(plan, &so, &s), nullptr);
  int64_t dx[2] = {M, K}, dr[2] = {M, N};
  tfc_tensor in[2] = {{"x", TFC_F32, 2, dx, x.data()}, {"r", TFC_F32, 2, dr, res.data()}};
  tfc_outputs *out = nullptr;
  ASSERT_EQ(tfc_session_run(s, "forward", in, 2, &out), nullptr);
  tfc_tensor y;
  ASSERT_EQ(tfc_outputs_get(out, 0, &y), nullptr);
  std::vector<float> got(static_cast<const float *>(y.data),
                         static_cast<const float *>(y.data) + M * N);
  std::vector<float> ref(size_t(M * N));
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double v = b[j];
      for (int64_t k = 0; k < K; ++k)
        v += double(x[i * K + k]) * w[k * N + j];
      ref[i * N + j] = refAct(int(act), float(v)) + res[i * N + j];
    }
  expectClose(got, ref);
  tfc_outputs_free(out);
  tfc_session_release(s);
  tfc_plan_release(plan);
}

TEST(RuntimeKernels, LinearInPlaceResidual) {
  checkInPlaceResidual(6, 10, 12, fb::Activation::Relu, 2);
  checkInPlaceResidual(48, 20, 160, fb::Activation::None, 2);
  checkInPlaceResidual(40, 16, 200, fb::Activation::None, 3);
  checkInPlaceResidual(40, 16, 200, fb::Activation::GeluErf, 2);
  // A weight of 1.5 M floats: each thread its own columns (Linear.cpp, runSplitColumns).
  checkInPlaceResidual(24, 1024, 1536, fb::Activation::None, 2);
  checkInPlaceResidual(24, 1024, 1536, fb::Activation::Relu, 3);
}

// Weights from 1.5 M floats, above 16 rows, on 2 and 3 threads: each thread computes its own
// columns with its own packed copy of them; the bias, a full or row residual and the activation
// apply to the thread's column slices.
TEST(RuntimeKernels, LinearLargeWeightsSplitByColumns) {
  const int64_t M = 24, K = 1024, N = 1536;
  auto x = randomFloats(M * K, 7), w = randomFloats(K * N, 8), bias = randomFloats(N, 9);
  auto full = randomFloats(M * N, 10), row = randomFloats(N, 11);
  std::vector<double> product(size_t(M * N));
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double s = 0;
      for (int64_t k = 0; k < K; ++k)
        s += double(x[i * K + k]) * w[k * N + j];
      product[size_t(i * N + j)] = s;
    }
  for (int threads : {2, 3})
    for (int act : {0, 1, 2})
      for (int variant = 1; variant <= 3; ++variant) { // 1 bias, 2 bias + residual, 3 row residual
        std::vector<Arg> args = {F32({M, K}, x), F32({K, N}, w, true),
                                 variant <= 2 ? F32({N}, bias, true) : Absent()};
        if (variant == 2)
          args.push_back(F32({M, N}, full));
        if (variant == 3)
          args.push_back(F32({N}, row));
        RunResult r = runKernel(K::Linear, args, TFC_F32, {M, N}, opt::linear(fb::Activation(act)),
                                threads);
        ASSERT_EQ(r.code, TFC_OK) << r.message;
        std::vector<float> ref(size_t(M * N));
        for (int64_t i = 0; i < M; ++i)
          for (int64_t j = 0; j < N; ++j) {
            double s = product[size_t(i * N + j)] + (variant <= 2 ? bias[j] : 0.0);
            float v = refAct(act, float(s));
            ref[size_t(i * N + j)] = v + (variant == 2 ? full[i * N + j] : variant == 3 ? row[j] : 0.f);
          }
        expectClose(r.as<float>(), ref,
                    "threads " + std::to_string(threads) + " act " + std::to_string(act) +
                        " variant " + std::to_string(variant));
      }
}

// ---- LayerNorm / LayerNormalization / Softmax / Reduce -----------------------------------------
std::vector<float> refNorm(const std::vector<float> &x, int64_t rows, int64_t cols,
                           const std::vector<float> &g, const std::vector<float> *b, float eps) {
  std::vector<float> y(x.size());
  for (int64_t i = 0; i < rows; ++i) {
    double mean = 0, var = 0;
    for (int64_t j = 0; j < cols; ++j)
      mean += x[i * cols + j];
    mean /= double(cols);
    for (int64_t j = 0; j < cols; ++j)
      var += (x[i * cols + j] - mean) * (x[i * cols + j] - mean);
    var /= double(cols);
    for (int64_t j = 0; j < cols; ++j)
      y[i * cols + j] = float((x[i * cols + j] - mean) / std::sqrt(var + eps) *
                                  g[g.size() == 1 ? 0 : j] +
                              (b ? (*b)[b->size() == 1 ? 0 : j] : 0.f));
  }
  return y;
}

TEST(RuntimeKernels, LayerNormWithAndWithoutResidual) {
  for (std::vector<int64_t> s : {std::vector<int64_t>{2, 7, 33}, {1, 128, 384}, {5, 1}}) {
    int64_t cols = s.back(), rows = numel(s) / cols;
    auto x = randomFloats(numel(s), 1, -2.f, 3.f), r = randomFloats(numel(s), 2),
         g = randomFloats(cols, 3), b = randomFloats(cols, 4);
    for (bool residual : {false, true}) {
      std::vector<Arg> args = {F32(s, x), F32({cols}, g, true), F32({cols}, b, true)};
      if (residual)
        args.push_back(F32(s, r));
      RunResult out = runKernel(K::LayerNorm, args, TFC_F32, s, opt::layerNorm(1e-5f));
      ASSERT_EQ(out.code, TFC_OK) << out.message;
      std::vector<float> sum = x;
      if (residual)
        for (size_t i = 0; i < sum.size(); ++i)
          sum[i] += r[i];
      expectClose(out.as<float>(), refNorm(sum, rows, cols, g, &b, 1e-5f), "layer_norm");
    }
  }
}

// RmsNorm through a plan (loader, kernel table, options): y = v / sqrt(mean(v^2) + eps) * w
// (or * (1 + w)), v = x (+ r), against a reference loop in double.
TEST(RuntimeKernels, RmsNormResidualAndUnitOffset) {
  for (std::vector<int64_t> s : {std::vector<int64_t>{2, 7, 33}, {1, 128, 384}, {5, 1}}) {
    int64_t cols = s.back(), rows = numel(s) / cols;
    auto x = randomFloats(numel(s), 11, -2.f, 3.f), r = randomFloats(numel(s), 12),
         w = randomFloats(cols, 13);
    for (bool residual : {false, true})
      for (bool unitOffset : {false, true}) {
        std::vector<Arg> args = {F32(s, x), F32({cols}, w, true)};
        if (residual)
          args.push_back(F32(s, r));
        RunResult out = runKernel(K::RmsNorm, args, TFC_F32, s, opt::rmsNorm(1e-6f, unitOffset));
        ASSERT_EQ(out.code, TFC_OK) << out.message;
        std::vector<float> ref(x.size());
        for (int64_t i = 0; i < rows; ++i) {
          double ms = 0;
          auto v = [&](int64_t j) {
            return double(x[i * cols + j]) + (residual ? double(r[i * cols + j]) : 0.0);
          };
          for (int64_t j = 0; j < cols; ++j)
            ms += v(j) * v(j) / double(cols);
          for (int64_t j = 0; j < cols; ++j)
            ref[i * cols + j] =
                float(v(j) / std::sqrt(ms + 1e-6) * (unitOffset ? 1.0 + w[j] : double(w[j])));
        }
        expectClose(out.as<float>(), ref, "rms_norm");
      }
  }
  // A weight of the wrong size is refused at run time, naming the sizes.
  std::vector<int64_t> s = {2, 8};
  RunResult bad = runKernel(K::RmsNorm, {F32(s, randomFloats(16, 1)), F32({4}, {1, 1, 1, 1}, true)},
                            TFC_F32, s, opt::rmsNorm(1e-6f));
  EXPECT_EQ(bad.code, TFC_INVALID_ARGUMENT);
  EXPECT_NE(bad.message.find("must have 8 elements"), std::string::npos) << bad.message;
}

// GatedLinear through a plan: y = act(x @ Wg) * (x @ Wu), SiLU and both GELUs, against loops.
// Constant weights above 16 rows are read from the plan's copies in oneDNN's layout (or padded
// rows); weights that are inputs are read in place.
TEST(RuntimeKernels, GatedLinearActivations) {
  const int64_t Kd = 24;
  for (int64_t N : {40, 128}) { // 128: oneDNN's blocked layout on AVX-512
    auto wg = randomFloats(Kd * N, 21, -0.5f, 0.5f), wu = randomFloats(Kd * N, 22, -0.5f, 0.5f);
    for (std::vector<int64_t> s :
         {std::vector<int64_t>{1, 1, Kd}, {2, 9, Kd}, {5, Kd}, {40, Kd}, {2, 33, Kd}})
      for (bool constant : {true, false}) {
        int64_t M = numel(s) / Kd;
        auto x = randomFloats(numel(s), 23, -2.f, 2.f);
        std::vector<int64_t> os = s;
        os.back() = N;
        for (auto act : {fb::GateActivation::Silu, fb::GateActivation::GeluErf,
                         fb::GateActivation::GeluTanh}) {
          SCOPED_TRACE(testing::Message() << "M " << M << " N " << N
                                        << (constant ? " constant" : " input"));
          RunResult out =
              runKernel(K::GatedLinear,
                        {F32(s, x), F32({Kd, N}, wg, constant), F32({Kd, N}, wu, constant)},
                        TFC_F32, os, opt::gatedLinear(act));
          ASSERT_EQ(out.code, TFC_OK) << out.message;
          std::vector<float> ref(size_t(M * N));
          for (int64_t i = 0; i < M; ++i)
            for (int64_t j = 0; j < N; ++j) {
              double g = 0, u = 0;
              for (int64_t k = 0; k < Kd; ++k) {
                g += double(x[i * Kd + k]) * wg[k * N + j];
                u += double(x[i * Kd + k]) * wu[k * N + j];
              }
              double a = act == fb::GateActivation::Silu ? g / (1 + std::exp(-g))
                         : act == fb::GateActivation::GeluErf
                             ? 0.5 * g * (1 + std::erf(g / std::sqrt(2.0)))
                             : 0.5 * g * (1 + std::tanh(std::sqrt(2 / M_PI) * (g + 0.044715 * g * g * g)));
              ref[i * N + j] = float(a * u);
            }
          expectClose(out.as<float>(), ref, "gated_linear " + std::to_string(int(act)));
        }
      }
  }
}

TEST(RuntimeKernels, LayerNormalizationAxes) {
  std::vector<int64_t> s = {2, 3, 8};
  auto x = randomFloats(48, 7);
  for (int64_t axis : {-1, 1}) {
    int64_t cols = axis == 1 ? 24 : 8;
    auto g = randomFloats(cols, 8), b = randomFloats(cols, 9);
    std::vector<int64_t> gs = axis == 1 ? std::vector<int64_t>{3, 8} : std::vector<int64_t>{8};
    RunResult r = runKernel(K::LayerNormalization, {F32(s, x), F32(gs, g), F32(gs, b)}, TFC_F32,
                            s, opt::layerNormalization(int32_t(axis), 1e-5f));
    ASSERT_EQ(r.code, TFC_OK) << r.message;
    expectClose(r.as<float>(), refNorm(x, 48 / cols, cols, g, &b, 1e-5f));
    r = runKernel(K::LayerNormalization, {F32(s, x), F32(gs, g), Absent()}, TFC_F32, s, opt::layerNormalization(int32_t(axis), 1e-5f));
    ASSERT_EQ(r.code, TFC_OK) << r.message;
    expectClose(r.as<float>(), refNorm(x, 48 / cols, cols, g, nullptr, 1e-5f));
  }
}

TEST(RuntimeKernels, SoftmaxAnyAxis) {
  std::vector<int64_t> s = {2, 5, 3};
  auto x = randomFloats(30, 11, -4.f, 4.f);
  for (int64_t axis : {-1, 1, 0}) {
    RunResult r = runKernel(K::Softmax, {F32(s, x)}, TFC_F32, s, opt::softmax(int32_t(axis)));
    ASSERT_EQ(r.code, TFC_OK) << r.message;
    int64_t a = axis < 0 ? axis + 3 : axis;
    std::vector<float> ref(30);
    for (int64_t i = 0; i < 30; ++i) {
      auto idx = unflatten(i, s);
      double mx = -1e30, sum = 0;
      for (int64_t j = 0; j < s[a]; ++j) {
        auto k = idx;
        k[a] = j;
        mx = std::max(mx, double(x[(k[0] * 5 + k[1]) * 3 + k[2]]));
      }
      for (int64_t j = 0; j < s[a]; ++j) {
        auto k = idx;
        k[a] = j;
        sum += std::exp(x[(k[0] * 5 + k[1]) * 3 + k[2]] - mx);
      }
      ref[i] = float(std::exp(x[i] - mx) / sum);
    }
    expectClose(r.as<float>(), ref, "softmax axis " + std::to_string(axis));
  }
}

TEST(RuntimeKernels, ReduceMeanSum) {
  std::vector<int64_t> s = {2, 3, 4};
  auto x = randomFloats(24, 12);
  struct Case {
    int op;
    bool keep;
    std::vector<int64_t> axes, out;
  };
  for (const Case &c : {Case{0, true, {-1}, {2, 3, 1}}, Case{1, false, {0, 2}, {3}},
                        Case{0, false, {}, {}}, Case{1, true, {1}, {2, 1, 4}}}) {
    std::vector<int32_t> axes(c.axes.begin(), c.axes.end());
    RunResult r = runKernel(K::Reduce, {F32(s, x)}, TFC_F32, c.out,
                            opt::reduce(fb::ReduceOp(c.op), c.keep, axes));
    ASSERT_EQ(r.code, TFC_OK) << r.message;
    bool red[3] = {c.axes.empty(), c.axes.empty(), c.axes.empty()};
    for (int64_t a : c.axes)
      red[a < 0 ? a + 3 : a] = true;
    std::vector<double> acc(size_t(numel(c.out)), 0.0);
    std::vector<int64_t> keptShape;
    for (int d = 0; d < 3; ++d)
      keptShape.push_back(red[d] ? 1 : s[d]);
    for (int64_t i = 0; i < 24; ++i) {
      auto idx = unflatten(i, s);
      for (int d = 0; d < 3; ++d)
        if (red[d])
          idx[d] = 0;
      int64_t o = (idx[0] * keptShape[1] + idx[1]) * keptShape[2] + idx[2];
      acc[o] += x[i];
    }
    int64_t count = 24 / numel(keptShape);
    std::vector<float> ref;
    for (double v : acc)
      ref.push_back(float(c.op == 0 ? v / count : v));
    expectClose(r.as<float>(), ref);
  }
}

// ---- Attention ------------------------------------------------------------------------------
struct AttnCase {
  int64_t B, Sq, Sk, D, H;
  int kind;      // MaskKind
  int maskType;  // 0 none, 1 bool [B,1,1,Sk], 2 float [B,1,Sq,Sk], 3 bool [Sq,Sk]
};

std::vector<float> refAttention(const AttnCase &c, const std::vector<float> &q,
                                const std::vector<float> &k, const std::vector<float> &v,
                                const std::vector<uint8_t> &bm, const std::vector<float> &fm,
                                float scale) {
  int64_t dh = c.D / c.H;
  std::vector<float> o(size_t(c.B * c.Sq * c.D), 0.f);
  bool causal = c.kind == 1 || c.kind == 3, padding = c.kind == 2 || c.kind == 3;
  for (int64_t b = 0; b < c.B; ++b)
    for (int64_t h = 0; h < c.H; ++h)
      for (int64_t i = 0; i < c.Sq; ++i) {
        std::vector<double> s(size_t(c.Sk));
        std::vector<bool> hidden(size_t(c.Sk), false);
        for (int64_t j = 0; j < c.Sk; ++j) {
          double dot = 0;
          for (int64_t d = 0; d < dh; ++d)
            dot += double(q[(b * c.Sq + i) * c.D + h * dh + d]) * k[(b * c.Sk + j) * c.D + h * dh + d];
          s[j] = dot * scale;
          if (causal && j > i + (c.Sk - c.Sq))
            hidden[j] = true;
          if (padding && c.maskType == 1 && !bm[b * c.Sk + j])
            hidden[j] = true;
          if (padding && c.maskType == 3 && !bm[i * c.Sk + j])
            hidden[j] = true;
          if (padding && c.maskType == 2)
            s[j] += fm[(b * c.Sq + i) * c.Sk + j];
        }
        double mx = -1e300;
        for (int64_t j = 0; j < c.Sk; ++j)
          if (!hidden[j])
            mx = std::max(mx, s[j]);
        if (mx == -1e300)
          continue; // every key hidden: zeros
        double sum = 0;
        for (int64_t j = 0; j < c.Sk; ++j)
          sum += hidden[j] ? 0 : std::exp(s[j] - mx);
        for (int64_t j = 0; j < c.Sk; ++j) {
          double p = hidden[j] ? 0 : std::exp(s[j] - mx) / sum;
          for (int64_t d = 0; d < dh; ++d)
            o[(b * c.Sq + i) * c.D + h * dh + d] += float(p * v[(b * c.Sk + j) * c.D + h * dh + d]);
        }
      }
  return o;
}

TEST(RuntimeKernels, AttentionMasksAndShapes) {
  std::vector<AttnCase> cases = {
      {1, 5, 5, 12, 3, 0, 0},   {2, 5, 7, 12, 3, 0, 0},  {2, 6, 6, 16, 2, 1, 0},
      {2, 3, 7, 16, 4, 1, 0},   {2, 6, 6, 12, 3, 2, 1},  {2, 5, 9, 8, 2, 2, 2},
      {3, 4, 4, 24, 4, 3, 1},   {1, 7, 7, 12, 1, 2, 3},  {2, 128, 128, 64, 4, 2, 1},
      {1, 17, 33, 40, 5, 3, 2}, {1, 1, 10, 12, 3, 1, 0}};
  uint32_t seed = 50;
  for (const AttnCase &c : cases) {
    auto q = randomFloats(c.B * c.Sq * c.D, seed++), k = randomFloats(c.B * c.Sk * c.D, seed++),
         v = randomFloats(c.B * c.Sk * c.D, seed++);
    std::vector<uint8_t> bm;
    std::vector<float> fm;
    std::vector<Arg> args = {F32({c.B, c.Sq, c.D}, q), F32({c.B, c.Sk, c.D}, k),
                             F32({c.B, c.Sk, c.D}, v)};
    if (c.maskType == 1) {
      for (int64_t b = 0; b < c.B; ++b)
        for (int64_t j = 0; j < c.Sk; ++j)
          bm.push_back(j < c.Sk - b - 1 ? 1 : 0); // padding at the end, different per batch
      args.push_back(Bool({c.B, 1, 1, c.Sk}, bm));
    } else if (c.maskType == 2) {
      fm = randomFloats(c.B * c.Sq * c.Sk, seed++, -3.f, 0.f);
      args.push_back(F32({c.B, 1, c.Sq, c.Sk}, fm));
    } else if (c.maskType == 3) {
      for (int64_t i = 0; i < c.Sq; ++i)
        for (int64_t j = 0; j < c.Sk; ++j)
          bm.push_back((i + j) % 3 != 0 || i == 0 ? 1 : 0);
      bm[0] = 0, bm[1] = 0; // row 0 keeps only some keys
      args.push_back(Bool({c.Sq, c.Sk}, bm));
    }
    float scale = 1.f / std::sqrt(float(c.D / c.H));
    RunResult r = runKernel(K::Attention, args, TFC_F32, {c.B, c.Sq, c.D},
                            opt::attention(int32_t(c.H), fb::MaskKind(c.kind), scale));
    ASSERT_EQ(r.code, TFC_OK) << r.message;
    std::string what = "B" + std::to_string(c.B) + " Sq" + std::to_string(c.Sq) + " Sk" +
                       std::to_string(c.Sk) + " kind" + std::to_string(c.kind) + " mask" +
                       std::to_string(c.maskType);
    expectClose(r.as<float>(), refAttention(c, q, k, v, bm, fm, scale), what);
  }
}

/// opt::attention with packed projections (plan 2.5): head_dim and the q, k, v columns.
Options packedAttention(int32_t heads, fb::MaskKind kind, float scale, int32_t headDim,
                        int32_t qCol, int32_t kCol, int32_t vCol) {
  fb::AttentionOptionsT o;
  o.num_heads = heads, o.mask = kind, o.scale = scale;
  o.head_dim = headDim, o.q_column = qCol, o.k_column = kCol, o.v_column = vCol;
  return opt::make(std::move(o));
}

// Packed projections: q, k and v as column ranges of one wider [B, S, W] value (a fused q/k/v
// projection with columns around them), and of two values (q alone, k and v side by side, Sq !=
// Sk), against refAttention on the columns copied out.
TEST(RuntimeKernels, AttentionReadsPackedColumnsInPlace) {
  struct Packed {
    AttnCase c;
    bool oneValue;
  };
  uint32_t seed = 900;
  for (const Packed &pc : {Packed{{2, 9, 9, 24, 3, 2, 1}, true}, Packed{{1, 128, 128, 384, 12, 0, 0}, true},
                           Packed{{2, 5, 11, 16, 2, 2, 2}, false}}) {
    const AttnCase &c = pc.c;
    auto q = randomFloats(c.B * c.Sq * c.D, seed++), k = randomFloats(c.B * c.Sk * c.D, seed++),
         v = randomFloats(c.B * c.Sk * c.D, seed++);
    auto columns = [](std::vector<float> &dst, int64_t width, int64_t col, const std::vector<float> &src,
                      int64_t rows, int64_t cols) {
      for (int64_t r = 0; r < rows; ++r)
        std::copy(src.begin() + r * cols, src.begin() + (r + 1) * cols, dst.begin() + r * width + col);
    };
    std::vector<Arg> args;
    Options options;
    const float scale = 1.f / std::sqrt(float(c.D / c.H));
    const int32_t dh = int32_t(c.D / c.H), D = int32_t(c.D);
    if (pc.oneValue) {
      const int64_t W = 3 + 3 * c.D + 1;
      std::vector<float> qkv = randomFloats(c.B * c.Sq * W, seed++); // other columns: noise
      columns(qkv, W, 3, q, c.B * c.Sq, c.D);
      columns(qkv, W, 3 + c.D, k, c.B * c.Sk, c.D);
      columns(qkv, W, 3 + 2 * c.D, v, c.B * c.Sk, c.D);
      Arg a = F32({c.B, c.Sq, W}, qkv);
      args = {a, a, a};
      options = packedAttention(int32_t(c.H), fb::MaskKind(c.kind), scale, dh, 3, 3 + D, 3 + 2 * D);
    } else {
      const int64_t Wq = c.D + 2, Wkv = 2 * c.D;
      std::vector<float> qw = randomFloats(c.B * c.Sq * Wq, seed++), kv(size_t(c.B * c.Sk * Wkv));
      columns(qw, Wq, 2, q, c.B * c.Sq, c.D);
      columns(kv, Wkv, c.D, k, c.B * c.Sk, c.D); // v first, then k
      columns(kv, Wkv, 0, v, c.B * c.Sk, c.D);
      args = {F32({c.B, c.Sq, Wq}, qw), F32({c.B, c.Sk, Wkv}, kv), F32({c.B, c.Sk, Wkv}, kv)};
      options = packedAttention(int32_t(c.H), fb::MaskKind(c.kind), scale, dh, 2, D, 0);
    }
    std::vector<uint8_t> bm;
    std::vector<float> fm;
    if (c.maskType == 1) {
      for (int64_t b = 0; b < c.B; ++b)
        for (int64_t j = 0; j < c.Sk; ++j)
          bm.push_back(j < c.Sk - b - 1 ? 1 : 0);
      args.push_back(Bool({c.B, 1, 1, c.Sk}, bm));
    } else if (c.maskType == 2) {
      fm = randomFloats(c.B * c.Sq * c.Sk, seed++, -3.f, 0.f);
      args.push_back(F32({c.B, 1, c.Sq, c.Sk}, fm));
    }
    RunResult r = runKernel(K::Attention, args, TFC_F32, {c.B, c.Sq, c.D}, options);
    ASSERT_EQ(r.code, TFC_OK) << r.message;
    expectClose(r.as<float>(), refAttention(c, q, k, v, bm, fm, scale),
                "packed Sq" + std::to_string(c.Sq) + " Sk" + std::to_string(c.Sk));
  }
}

// Columns past an input's width are refused at run time, naming the input; negative options
// and columns without a head_dim are refused when the plan opens.
TEST(RuntimeKernels, AttentionPackedColumnsAreChecked) {
  auto x = randomFloats(2 * 3 * 12, 5);
  Arg a = F32({2, 3, 12}, x);
  RunResult r = runKernel(K::Attention, {a, a, a}, TFC_F32, {2, 3, 4},
                          packedAttention(2, fb::MaskKind::None, 0.5f, 2, 0, 4, 9));
  EXPECT_EQ(r.code, TFC_INVALID_ARGUMENT);
  EXPECT_NE(r.message.find("v 'in2': its heads' columns [9, 13) (head_dim 2) exceed its width 12"),
            std::string::npos)
      << r.message;
  r = runKernel(K::Attention, {a, a, a}, TFC_F32, {2, 3, 4},
                packedAttention(2, fb::MaskKind::None, 0.5f, -2, 0, 4, 8));
  EXPECT_EQ(r.code, TFC_INVALID_PLAN) << r.message;
  EXPECT_NE(r.message.find("head_dim -2 and columns 0, 4, 8 must not be negative"), std::string::npos)
      << r.message;
  r = runKernel(K::Attention, {a, a, a}, TFC_F32, {2, 3, 4},
                packedAttention(2, fb::MaskKind::None, 0.5f, 0, 0, 4, 8));
  EXPECT_EQ(r.code, TFC_INVALID_PLAN) << r.message;
  EXPECT_NE(r.message.find("columns 0, 4, 8 need a head_dim"), std::string::npos) << r.message;
  // In range: the output is [2, 3, 2 heads x 2].
  r = runKernel(K::Attention, {a, a, a}, TFC_F32, {2, 3, 4},
                packedAttention(2, fb::MaskKind::None, 0.5f, 2, 0, 4, 8));
  EXPECT_EQ(r.code, TFC_OK) << r.message;
}

TEST(RuntimeKernels, AttentionFullyMaskedRowIsZero) {
  AttnCase c{1, 2, 3, 4, 1, 2, 1};
  auto q = randomFloats(8, 1), k = randomFloats(12, 2), v = randomFloats(12, 3);
  RunResult r = runKernel(K::Attention,
                          {F32({1, 2, 4}, q), F32({1, 3, 4}, k), F32({1, 3, 4}, v),
                           Bool({1, 1, 1, 3}, {0, 0, 0})},
                          TFC_F32, {1, 2, 4}, opt::attention(1, fb::MaskKind::Padding, 0.5f));
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  for (float x : r.as<float>())
    EXPECT_EQ(x, 0.f);
}

// OPT and BLOOM clamp (or fill) the scores at the lowest float before the softmax; the fused op
// gets a float mask clamped at the lowest float (FuseAttention), so hidden keys score
// scale * q.k + lowest, which rounds to the lowest float. A row hiding every key then averages
// V over every key, as ONNX Runtime does for the graph, instead of the zeros of a -inf row.
// The reference is the graph's arithmetic: s = max(float(scale * q.k) + m, lowest) in float,
// then the softmax in double.
TEST(RuntimeKernels, AttentionLowestFloatMaskAveragesFullyHiddenRows) {
  const int64_t Sq = 3, Sk = 5, D = 8, H = 2, dh = D / H;
  const float low = std::numeric_limits<float>::lowest(), scale = 0.5f;
  auto q = randomFloats(Sq * D, 71), k = randomFloats(Sk * D, 72), v = randomFloats(Sk * D, 73);
  std::vector<float> m(size_t(Sq * Sk), 0.f);
  for (int64_t j = 0; j < Sk; ++j)
    m[j] = low;        // row 0: every key hidden
  m[Sk + 1] = m[Sk + 3] = low;  // row 1: keys 1 and 3 hidden; row 2: none
  RunResult r = runKernel(K::Attention,
                          {F32({1, Sq, D}, q), F32({1, Sk, D}, k), F32({1, Sk, D}, v),
                           F32({1, 1, Sq, Sk}, m)},
                          TFC_F32, {1, Sq, D}, opt::attention(int32_t(H), fb::MaskKind::Padding, scale));
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  std::vector<float> ref(size_t(Sq * D), 0.f);
  for (int64_t h = 0; h < H; ++h)
    for (int64_t i = 0; i < Sq; ++i) {
      std::vector<double> s(static_cast<size_t>(Sk));
      double mx = -1e300, sum = 0;
      for (int64_t j = 0; j < Sk; ++j) {
        float dot = 0.f;
        for (int64_t d = 0; d < dh; ++d)
          dot += q[i * D + h * dh + d] * k[j * D + h * dh + d];
        s[j] = std::max(dot * scale + m[i * Sk + j], low);
        mx = std::max(mx, s[j]);
      }
      for (int64_t j = 0; j < Sk; ++j)
        sum += std::exp(s[j] - mx);
      for (int64_t j = 0; j < Sk; ++j)
        for (int64_t d = 0; d < dh; ++d)
          ref[i * D + h * dh + d] += float(std::exp(s[j] - mx) / sum * v[j * D + h * dh + d]);
    }
  expectClose(r.as<float>(), ref, "lowest-float mask");
  // Row 0 is the plain mean of V over all keys.
  for (int64_t c = 0; c < D; ++c) {
    double mean = 0;
    for (int64_t j = 0; j < Sk; ++j)
      mean += v[j * D + c] / double(Sk);
    EXPECT_NEAR(r.as<float>()[c], mean, 1e-5) << "column " << c;
  }
}

// Grouped-query attention, a causal window and a hidden score, against a plain loop of the
// graph the fusion replaces: key j of query i (i' = i + Sk - Sq) is hidden when j > i' or
// j <= i' - window; a hidden key scores `hidden` (when given; else it is dropped), then the
// float mask is added, and the softmax runs over every key that is not dropped.
struct GqaCase {
  int64_t B, Sq, Sk, H, G, dh, window;
  bool hasHidden;
  bool padding;  // a float [B, 1, 1, Sk] mask: 0, or finfo.min on the last keys of row 1
};

std::vector<float> refGqaAttention(const GqaCase &c, const std::vector<float> &q,
                                   const std::vector<float> &k, const std::vector<float> &v,
                                   const std::vector<float> &mask, float scale, float hidden) {
  int64_t D = c.H * c.dh, Dk = c.G * c.dh;
  std::vector<float> o(size_t(c.B * c.Sq * D), 0.f);
  for (int64_t b = 0; b < c.B; ++b)
    for (int64_t h = 0; h < c.H; ++h) {
      int64_t g = h / (c.H / c.G);
      for (int64_t i = 0; i < c.Sq; ++i) {
        int64_t last = i + c.Sk - c.Sq;
        std::vector<float> s(size_t(c.Sk));
        std::vector<bool> dropped(size_t(c.Sk), false);
        for (int64_t j = 0; j < c.Sk; ++j) {
          bool hid = j > last || (c.window > 0 && j <= last - c.window);
          float m = c.padding ? mask[b * c.Sk + j] : 0.f;
          if (hid) {
            dropped[j] = !c.hasHidden;
            s[j] = hidden + m;  // float arithmetic, as the graph does it
            continue;
          }
          double dot = 0;
          for (int64_t d = 0; d < c.dh; ++d)
            dot += double(q[(b * c.Sq + i) * D + h * c.dh + d]) * k[(b * c.Sk + j) * Dk + g * c.dh + d];
          s[j] = float(dot) * scale + m;
        }
        double mx = -INFINITY;
        for (int64_t j = 0; j < c.Sk; ++j)
          if (!dropped[j])
            mx = std::max(mx, double(s[j]));
        if (mx == -INFINITY)
          continue;  // nothing visible: zeros
        double sum = 0;
        for (int64_t j = 0; j < c.Sk; ++j)
          sum += dropped[j] ? 0 : std::exp(double(s[j]) - mx);
        for (int64_t j = 0; j < c.Sk; ++j) {
          double p = dropped[j] ? 0 : std::exp(double(s[j]) - mx) / sum;
          for (int64_t d = 0; d < c.dh; ++d)
            o[(b * c.Sq + i) * D + h * c.dh + d] += float(p * v[(b * c.Sk + j) * Dk + g * c.dh + d]);
        }
      }
    }
  return o;
}

TEST(RuntimeKernels, AttentionGroupedQueryWindowAndHiddenScore) {
  const float kMin = -3.40282347e38f;
  std::vector<GqaCase> cases = {
      {2, 5, 5, 4, 2, 8, 0, false, false},  {1, 7, 7, 4, 1, 8, 0, false, false},  // GQA, MQA
      {2, 6, 6, 4, 4, 4, 3, false, false},  {2, 9, 9, 4, 2, 8, 4, false, true},   // windows
      {2, 3, 8, 6, 3, 4, 2, false, true},                                       // Sk > Sq
      // A window that holds only padding (row 1's last 5 keys are padding, window 3):
      // with the exporter's hidden score the row averages the keys scoring exactly finfo.min.
      {2, 9, 9, 4, 2, 8, 3, true, true},    {2, 12, 12, 2, 1, 16, 4, true, true},
      {1, 40, 40, 4, 2, 16, 5, true, false}};
  uint32_t seed = 900;
  for (const GqaCase &c : cases) {
    int64_t D = c.H * c.dh, Dk = c.G * c.dh;
    auto q = randomFloats(c.B * c.Sq * D, seed++), k = randomFloats(c.B * c.Sk * Dk, seed++),
         v = randomFloats(c.B * c.Sk * Dk, seed++);
    std::vector<Arg> args = {F32({c.B, c.Sq, D}, q), F32({c.B, c.Sk, Dk}, k),
                             F32({c.B, c.Sk, Dk}, v)};
    std::vector<float> mask(size_t(c.B * c.Sk), 0.f);
    for (int64_t j = c.Sk - 5; j < c.Sk && c.B > 1; ++j)
      mask[size_t(c.Sk + j)] = kMin;
    int kind = c.padding ? 3 : 1;  // CausalPadding / Causal
    if (c.padding)
      args.push_back(F32({c.B, 1, 1, c.Sk}, mask));
    float scale = c.window == 4 ? 1.f : 0.25f;
    RunResult r = runKernel(K::Attention, args, TFC_F32, {c.B, c.Sq, D},
                            opt::attention(int32_t(c.H), fb::MaskKind(kind), scale,
                                           int32_t(c.G), int32_t(c.window),
                                           c.hasHidden ? kMin : NAN));
    ASSERT_EQ(r.code, TFC_OK) << r.message;
    std::string what = "B" + std::to_string(c.B) + " Sq" + std::to_string(c.Sq) + " Sk" +
                       std::to_string(c.Sk) + " H" + std::to_string(c.H) + " G" +
                       std::to_string(c.G) + " window" + std::to_string(c.window) +
                       (c.hasHidden ? " hidden" : "");
    auto ref = refGqaAttention(c, q, k, v, mask, scale, kMin);
    expectClose(r.as<float>(), ref, what);
    if (c.hasHidden && c.padding) {
      // The padded window rows are not zeros: they average V over the keys at finfo.min.
      int64_t i = c.Sq - 1;
      float norm = 0.f;
      for (int64_t d = 0; d < D; ++d)
        norm += std::fabs(r.as<float>()[size_t((c.Sq + i) * D + d)]);
      EXPECT_GT(norm, 0.f) << what;
    }
  }
}

TEST(RuntimeKernels, AttentionRejectsKvHeadsThatDoNotDivide) {
  RunResult r = runKernel(K::Attention,
                          {F32({1, 2, 12}, randomFloats(24, 1)), F32({1, 2, 8}, randomFloats(16, 2)),
                           F32({1, 2, 8}, randomFloats(16, 3))},
                          TFC_F32, {1, 2, 12}, opt::attention(3, fb::MaskKind::None, 0.5f, 2));
  EXPECT_NE(r.code, TFC_OK);
  EXPECT_NE(r.message.find("num_kv_heads 2 does not divide num_heads 3"), std::string::npos)
      << r.message;
}

// ---- Gather / Embedding / movement ------------------------------------------------------------
TEST(RuntimeKernels, AttentionRefusesDeclaredFeaturesItDoesNotImplement) {
  // plan.fbs 2.0 declares an additive bias input so that plans using it are refused by name
  // here, not run wrongly (num_kv_heads and window are implemented).
  auto q = randomFloats(1 * 3 * 8, 1), k = randomFloats(1 * 3 * 8, 2);
  std::vector<Arg> args = {F32({1, 3, 8}, q), F32({1, 3, 8}, k), F32({1, 3, 8}, k)};
  std::vector<Arg> withBias = args;
  withBias.push_back(Absent()); // no mask
  withBias.push_back(F32({1, 4, 3, 3}, randomFloats(36, 3)));
  RunResult refused = runKernel(K::Attention, withBias, TFC_F32, {1, 3, 8},
                                opt::attention(4, fb::MaskKind::None, 0.5f));
  EXPECT_EQ(refused.code, TFC_UNSUPPORTED) << refused.message;
  EXPECT_NE(refused.message.find("kernel 'kernel_under_test' (Attention): an additive attention "
                                 "bias (input 4) is not supported by this runtime"),
            std::string::npos)
      << refused.message;
  // num_kv_heads == num_heads is plain multi-head attention, and an absent bias is no bias.
  withBias.back() = Absent();
  RunResult plain = runKernel(K::Attention, args, TFC_F32, {1, 3, 8},
                              opt::attention(4, fb::MaskKind::None, 0.5f));
  RunResult same = runKernel(K::Attention, withBias, TFC_F32, {1, 3, 8},
                             opt::attention(4, fb::MaskKind::None, 0.5f, 4));
  ASSERT_EQ(plain.code, TFC_OK) << plain.message;
  ASSERT_EQ(same.code, TFC_OK) << same.message;
  expectClose(same.as<float>(), refAttention(AttnCase{1, 3, 3, 8, 4, 0, 0}, q, k, k, {}, {},
                                             0.5f));
  expectClose(plain.as<float>(), same.as<float>());
  // A negative window is an error naming it.
  RunResult bad = runKernel(K::Attention, args, TFC_F32, {1, 3, 8},
                            opt::attention(4, fb::MaskKind::Causal, 0.5f, 0, -2));
  EXPECT_NE(bad.code, TFC_OK);
  EXPECT_NE(bad.message.find("window is -2"), std::string::npos) << bad.message;
}

// ---- Rotary -----------------------------------------------------------------------------------
/// Rotate-half rotary, written out per element: the first r features of each head rotate by
/// (cos, sin) of their position, the rest pass through.
std::vector<float> refRotary(const std::vector<float> &x, int64_t B, int64_t S, int64_t H,
                             int64_t dh, int64_t r, const std::vector<float> &cos,
                             const std::vector<float> &sin, bool perRow) {
  std::vector<float> y(x);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t s = 0; s < S; ++s)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t d = 0; d < r; ++d) {
          int64_t at = (b * S + s) * H * dh + h * dh;
          int64_t t = ((perRow ? b * S : 0) + s) * r + d;
          // rotate_half(x)[d] = -x[d + r/2] for d < r/2, x[d - r/2] otherwise.
          float rotated = d < r / 2 ? -x[at + d + r / 2] : x[at + d - r / 2];
          y[at + d] = x[at + d] * cos[t] + rotated * sin[t];
        }
  return y;
}

TEST(RuntimeKernels, RotaryMatchesReference) {
  struct Case {
    int64_t B, S, H, dh, r;
    int tableRank;  // 2: [S, r]; 3: [1, S, r]; 4 means [B, S, r]
  };
  uint32_t seed = 1200;
  for (Case c : {Case{2, 5, 4, 8, 8, 2}, Case{1, 7, 2, 16, 8, 3}, Case{3, 4, 3, 10, 4, 4},
                 Case{2, 1, 4, 8, 8, 2}}) {
    int64_t D = c.H * c.dh;
    bool perRow = c.tableRank == 4;
    int64_t rows = perRow ? c.B : 1;
    auto x = randomFloats(c.B * c.S * D, seed++);
    auto cs = randomFloats(rows * c.S * c.r, seed++), sn = randomFloats(rows * c.S * c.r, seed++);
    std::vector<int64_t> tshape = c.tableRank == 2 ? std::vector<int64_t>{c.S, c.r}
                                                   : std::vector<int64_t>{rows, c.S, c.r};
    RunResult res = runKernel(K::Rotary, {F32({c.B, c.S, D}, x), F32(tshape, cs), F32(tshape, sn)},
                              TFC_F32, {c.B, c.S, D},
                              opt::rotary(int32_t(c.H), int32_t(c.r)));
    ASSERT_EQ(res.code, TFC_OK) << res.message;
    expectClose(res.as<float>(), refRotary(x, c.B, c.S, c.H, c.dh, c.r, cs, sn, perRow),
                "B" + std::to_string(c.B) + " S" + std::to_string(c.S) + " r" +
                    std::to_string(c.r));
  }
  // Tables that do not fit the sequence, and a rotary_dim above the head size, are errors.
  auto x = randomFloats(2 * 3 * 8, 1), t = randomFloats(4 * 4, 2), t6 = randomFloats(3 * 6, 3),
       t3 = randomFloats(3 * 3, 4);
  RunResult bad = runKernel(K::Rotary, {F32({2, 3, 8}, x), F32({4, 4}, t), F32({4, 4}, t)},
                            TFC_F32, {2, 3, 8}, opt::rotary(2, 4));
  EXPECT_EQ(bad.code, TFC_INVALID_ARGUMENT);
  EXPECT_NE(bad.message.find("cos"), std::string::npos) << bad.message;
  bad = runKernel(K::Rotary, {F32({2, 3, 8}, x), F32({3, 6}, t6), F32({3, 6}, t6)}, TFC_F32,
                  {2, 3, 8}, opt::rotary(2, 6));
  EXPECT_EQ(bad.code, TFC_INVALID_ARGUMENT);
  EXPECT_NE(bad.message.find("rotary_dim 6"), std::string::npos) << bad.message;
  bad = runKernel(K::Rotary, {F32({2, 3, 8}, x), F32({3, 3}, t3), F32({3, 3}, t3)}, TFC_F32,
                  {2, 3, 8}, opt::rotary(2, 3));
  EXPECT_NE(bad.code, TFC_OK);
  EXPECT_NE(bad.message.find("rotary_dim 3 is not even"), std::string::npos) << bad.message;
}

/// GPT-J's interleaved rotary as transformers writes it: x * cos + rotate_every_two(x) * sin on
/// the first r features of each head, rotate_every_two(x) = flatten(stack(-x[1::2], x[0::2])).
std::vector<float> refRotaryEveryTwo(const std::vector<float> &x, int64_t B, int64_t S,
                                     int64_t H, int64_t dh, int64_t r,
                                     const std::vector<float> &cos,
                                     const std::vector<float> &sin) {
  std::vector<float> y(x);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t s = 0; s < S; ++s)
      for (int64_t h = 0; h < H; ++h) {
        int64_t at = (b * S + s) * H * dh + h * dh;
        std::vector<float> rot(r);
        for (int64_t j = 0; j < r / 2; ++j) {
          rot[2 * j] = -x[at + 2 * j + 1];
          rot[2 * j + 1] = x[at + 2 * j];
        }
        for (int64_t d = 0; d < r; ++d)
          y[at + d] = x[at + d] * cos[s * r + d] + rot[d] * sin[s * r + d];
      }
  return y;
}

TEST(RuntimeKernels, RotaryInterleavedMatchesReference) {
  uint32_t seed = 1300;
  // {B, S, H, dh, r}: full and partial (GPT-J: r < dh), tables [S, r] with distinct entries
  // per feature (so that a kernel pairing the wrong features cannot pass).
  for (auto [B, S, H, dh, r] : std::vector<std::array<int64_t, 5>>{
           {2, 5, 4, 8, 8}, {1, 7, 4, 16, 8}, {2, 3, 2, 6, 2}}) {
    int64_t D = H * dh;
    auto x = randomFloats(B * S * D, seed++);
    auto cs = randomFloats(S * r, seed++), sn = randomFloats(S * r, seed++);
    RunResult res = runKernel(K::Rotary, {F32({B, S, D}, x), F32({S, r}, cs), F32({S, r}, sn)},
                              TFC_F32, {B, S, D}, opt::rotary(int32_t(H), int32_t(r), true));
    ASSERT_EQ(res.code, TFC_OK) << res.message;
    expectClose(res.as<float>(), refRotaryEveryTwo(x, B, S, H, dh, r, cs, sn),
                "interleaved B" + std::to_string(B) + " r" + std::to_string(r));
    // The rotate-half result differs: the flag is read.
    RunResult half = runKernel(K::Rotary, {F32({B, S, D}, x), F32({S, r}, cs), F32({S, r}, sn)},
                               TFC_F32, {B, S, D}, opt::rotary(int32_t(H), int32_t(r)));
    ASSERT_EQ(half.code, TFC_OK) << half.message;
    if (r > 2) {
      std::vector<float> a = half.as<float>(), b = res.as<float>();
      float diff = 0;
      for (size_t i = 0; i < a.size(); ++i)
        diff = std::max(diff, std::abs(a[i] - b[i]));
      EXPECT_GT(diff, 1e-3f);
    }
  }
}

TEST(RuntimeKernels, Gather) {
  auto data = randomFloats(15, 1);
  RunResult r = runKernel(K::Gather, {F32({5, 3}, data), I64({2, 2}, {4, 0, -1, 2})}, TFC_F32,
                          {2, 2, 3}, opt::gather(0));
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  std::vector<float> ref;
  for (int64_t i : {4, 0, 4, 2})
    ref.insert(ref.end(), data.begin() + i * 3, data.begin() + i * 3 + 3);
  expectClose(r.as<float>(), ref);
  r = runKernel(K::Gather, {F32({5, 3}, data), I32({2}, {2, -3})}, TFC_F32, {5, 2},
                opt::gather(1));
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  ref.clear();
  for (int i = 0; i < 5; ++i)
    ref.insert(ref.end(), {data[i * 3 + 2], data[i * 3 + 0]});
  expectClose(r.as<float>(), ref);
  r = runKernel(K::Gather, {F32({5, 3}, data), I64({2}, {1, 5})}, TFC_F32, {2, 3},
                opt::gather(0));
  EXPECT_EQ(r.code, TFC_OUT_OF_RANGE);
  EXPECT_NE(r.message.find("kernel_under_test"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("index 5"), std::string::npos) << r.message;
}

TEST(RuntimeKernels, Embedding) {
  int64_t V = 11, P = 9, T = 2, D = 6, B = 2, Sq = 4;
  auto tok = randomFloats(V * D, 1), pos = randomFloats(P * D, 2), typ = randomFloats(T * D, 3);
  std::vector<int64_t> ids = {3, 10, 0, 5, 7, 7, 1, 2};
  std::vector<int64_t> tids = {0, 0, 1, 1, 0, 1, 0, 1};
  for (bool types : {false, true}) {
    std::vector<Arg> args = {I64({B, Sq}, ids), F32({V, D}, tok, true), F32({P, D}, pos, true)};
    if (types) {
      args.push_back(I64({B, Sq}, tids));
      args.push_back(F32({T, D}, typ, true));
    }
    RunResult r = runKernel(K::Embedding, args, TFC_F32, {B, Sq, D}, opt::embedding(2.f));
    ASSERT_EQ(r.code, TFC_OK) << r.message;
    std::vector<float> ref;
    for (int64_t i = 0; i < B * Sq; ++i)
      for (int64_t d = 0; d < D; ++d)
        ref.push_back(tok[ids[i] * D + d] * 2.f + pos[(i % Sq) * D + d] +
                      (types ? typ[tids[i] * D + d] : 0.f));
    expectClose(r.as<float>(), ref);
  }
  std::vector<int64_t> bad = ids;
  bad[5] = 11;
  RunResult r = runKernel(K::Embedding, {I64({B, Sq}, bad), F32({V, D}, tok, true),
                                         F32({P, D}, pos, true)},
                          TFC_F32, {B, Sq, D}, opt::embedding(1.f));
  // The ids are an input here: the session's input rule refuses them before the kernel runs
  // (the kernel's own check, for ids computed in the graph: runtime_input_rules_test).
  EXPECT_EQ(r.code, TFC_OUT_OF_RANGE);
  EXPECT_NE(r.message.find("input 'in0' element 5 (at [1, 1]) is 11: token ids must be in [0, 11)"),
            std::string::npos)
      << r.message;
}

TEST(RuntimeKernels, Transpose) {
  std::vector<int64_t> s = {2, 3, 4};
  auto x = randomFloats(24, 4);
  RunResult r = runKernel(K::Transpose, {F32(s, x)}, TFC_F32, {4, 2, 3},
                          opt::transpose({2, 0, 1}));
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  std::vector<float> ref;
  for (int k = 0; k < 4; ++k)
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 3; ++j)
        ref.push_back(x[(i * 3 + j) * 4 + k]);
  expectClose(r.as<float>(), ref);
  r = runKernel(K::Transpose, {I64({2, 2}, {1, 2, 3, 4})}, TFC_I64, {2, 2},
                opt::transpose({1, 0}));
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  EXPECT_EQ(r.as<int64_t>(), (std::vector<int64_t>{1, 3, 2, 4}));
}

TEST(RuntimeKernels, ReshapeConcatShape) {
  auto x = randomFloats(12, 5);
  RunResult r = runKernel(K::Reshape, {F32({2, 6}, x)}, TFC_F32, {3, 4});
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  expectClose(r.as<float>(), x);
  r = runKernel(K::Concat, {I64({2, 3}, {1, 2, 3, 4, 5, 6}), I64({2, 1}, {7, 8}),
                            I64({2, 2}, {9, 10, 11, 12})},
                TFC_I64, {2, 6}, opt::concat(1));
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  EXPECT_EQ(r.as<int64_t>(), (std::vector<int64_t>{1, 2, 3, 7, 9, 10, 4, 5, 6, 8, 11, 12}));
  r = runKernel(K::Concat, {F32({1, 2}, {1, 2}), F32({2, 2}, {3, 4, 5, 6})}, TFC_F32, {3, 2},
                 opt::concat(0));
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  EXPECT_EQ(r.as<float>(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  r = runKernel(K::Shape, {F32({2, 3, 2}, x)}, TFC_I64, {3});
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  EXPECT_EQ(r.as<int64_t>(), (std::vector<int64_t>{2, 3, 2}));
}

TEST(RuntimeKernels, SliceOnnxSemantics) {
  std::vector<float> x(30);
  for (int i = 0; i < 30; ++i)
    x[i] = float(i);
  // rows 1..3, columns from the last backwards by 2 (ends clamp).
  RunResult r = runKernel(K::Slice, {F32({5, 6}, x), I64({2}, {1, -1}), I64({2}, {4, -100})},
                          TFC_F32, {3, 3}, opt::slice({0, 1}, {1, -2}));
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  EXPECT_EQ(r.as<float>(), (std::vector<float>{11, 9, 7, 17, 15, 13, 23, 21, 19}));
  // Huge end clamps to the dim; negative start counts from the end.
  r = runKernel(K::Slice, {F32({5, 6}, x), I64({1}, {-2}), I64({1}, {INT64_MAX})}, TFC_F32,
                {5, 2}, opt::slice({1}, {1}));
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  EXPECT_EQ(r.as<float>(), (std::vector<float>{4, 5, 10, 11, 16, 17, 22, 23, 28, 29}));
  // Empty result.
  r = runKernel(K::Slice, {F32({5, 6}, x), I64({1}, {4}), I64({1}, {2})}, TFC_F32, {0, 6},
                 opt::slice({0}, {1}));
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  EXPECT_TRUE(r.bytes.empty());
}

} // namespace
