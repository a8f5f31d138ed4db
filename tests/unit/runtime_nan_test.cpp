//===- runtime_nan_test.cpp - NaN and infinity propagate through the CPU kernels --------------===//
//
// A NaN (or an infinity) must come out of each kernel where ONNX Runtime and PyTorch give one,
// never a plausible finite number: softmax of a row holding a NaN is NaN (and of an all -inf row
// NaN, as ORT's Softmax; the fused attention keeps zeros for a row whose keys are all hidden by
// its mask), Relu(NaN) and Max(NaN, x) are NaN, and a NaN in the scores of a kept key reaches
// the attention output. References are plain loops in double with IEEE semantics (what numpy,
// ORT and PyTorch compute); the expected values of the special cases were checked against
// onnxruntime 1.32 (Softmax, Relu, Max) and are spelled out beside each case.
//
//===----------------------------------------------------------------------------------------===//
#include "runtime_kernel_harness.h"

#include <limits>

using namespace rtt;
using K = fb::KernelKind;

namespace {

const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kInf = std::numeric_limits<float>::infinity();

/// Element by element: NaN where ref is NaN, the same infinity where ref is infinite, else
/// within 1e-4 * max(1, max finite |ref|).
void expectSame(const std::vector<float> &got, const std::vector<float> &ref,
                const std::string &what) {
  ASSERT_EQ(got.size(), ref.size()) << what;
  float mx = 1.f;
  for (float v : ref)
    if (std::isfinite(v))
      mx = std::max(mx, std::fabs(v));
  for (size_t i = 0; i < ref.size(); ++i) {
    if (std::isnan(ref[i]))
      EXPECT_TRUE(std::isnan(got[i])) << what << " at element " << i << ": got " << got[i]
                                      << ", expected NaN";
    else if (std::isinf(ref[i]))
      EXPECT_EQ(got[i], ref[i]) << what << " at element " << i;
    else
      EXPECT_NEAR(got[i], ref[i], 1e-4f * mx) << what << " at element " << i;
  }
}

/// Softmax of one line as numpy computes it: m = max (NaN if any NaN), e = exp(x - m), e / sum.
std::vector<double> refSoftmaxLine(const std::vector<double> &x) {
  double m = -std::numeric_limits<double>::infinity();
  for (double v : x)
    m = std::isnan(v) || std::isnan(m) ? std::nan("") : std::max(m, v);
  std::vector<double> e(x.size());
  double sum = 0;
  for (size_t j = 0; j < x.size(); ++j)
    sum += e[j] = std::exp(x[j] - m);
  for (double &v : e)
    v /= sum;
  return e;
}

/// Rows of `n` floats with the special cases, then ordinary rows.
std::vector<std::vector<float>> specialRows(int64_t n) {
  std::vector<std::vector<float>> rows;
  auto base = randomFloats(n, 7, -3.f, 3.f);
  rows.push_back(std::vector<float>(size_t(n), kNaN));  // ORT: all NaN
  auto oneNaN = base;
  oneNaN[size_t(n / 2)] = kNaN;                          // ORT: all NaN
  rows.push_back(oneNaN);
  rows.push_back(std::vector<float>(size_t(n), -kInf)); // ORT: all NaN (0 / 0)
  auto plusInf = base;
  plusInf[0] = kInf;                                     // ORT: all NaN (inf - inf)
  rows.push_back(plusInf);
  auto nanAndMinusInf = std::vector<float>(size_t(n), -kInf);
  nanAndMinusInf[size_t(n - 1)] = kNaN;                  // ORT: all NaN
  rows.push_back(nanAndMinusInf);
  auto someMinusInf = base;
  someMinusInf[1] = -kInf;                               // finite, 0 at the -inf
  rows.push_back(someMinusInf);
  rows.push_back(base);
  return rows;
}

TEST(RuntimeNaN, SoftmaxLastAxis) {
  // n = 3 takes the scalar tails of the row loops, n = 100 their vector bodies.
  for (int64_t n : {3, 100}) {
    auto rows = specialRows(n);
    int64_t R = int64_t(rows.size());
    std::vector<float> x;
    std::vector<float> ref;
    for (const auto &row : rows) {
      x.insert(x.end(), row.begin(), row.end());
      for (double v : refSoftmaxLine(std::vector<double>(row.begin(), row.end())))
        ref.push_back(float(v));
    }
    RunResult r = runKernel(K::Softmax, {F32({R, n}, x)}, TFC_F32, {R, n}, opt::softmax(-1));
    ASSERT_EQ(r.code, TFC_OK) << r.message;
    expectSame(r.as<float>(), ref, "softmax n " + std::to_string(n));
  }
}

TEST(RuntimeNaN, SoftmaxStridedAxis) {
  // The same lines as columns: softmax over axis 0 of [n, R].
  int64_t n = 5;
  auto rows = specialRows(n);
  int64_t R = int64_t(rows.size());
  std::vector<float> x(size_t(n * R)), ref(size_t(n * R));
  for (int64_t c = 0; c < R; ++c) {
    auto line = refSoftmaxLine(std::vector<double>(rows[c].begin(), rows[c].end()));
    for (int64_t j = 0; j < n; ++j) {
      x[size_t(j * R + c)] = rows[c][size_t(j)];
      ref[size_t(j * R + c)] = float(line[size_t(j)]);
    }
  }
  RunResult r = runKernel(K::Softmax, {F32({n, R}, x)}, TFC_F32, {n, R}, opt::softmax(0));
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  expectSame(r.as<float>(), ref, "softmax axis 0");
}

TEST(RuntimeNaN, UnaryOps) {
  // Relu: ORT gives [nan, 0, 1, inf, 0] for [nan, -1, 1, inf, -inf]; the others follow libm.
  std::vector<float> x = {kNaN, -1.f, 1.f, kInf, -kInf, 0.5f, -0.25f};
  int64_t n = int64_t(x.size());
  for (int op = 0; op < 9; ++op) {
    std::vector<float> ref;
    for (float f : x) {
      double v = f;
      switch (op) {
      case 0: ref.push_back(float(std::sqrt(v))); break;
      case 1: ref.push_back(float(std::erf(v))); break;
      case 2: ref.push_back(float(std::tanh(v))); break;
      case 3: ref.push_back(float(std::isnan(v) ? v : v < 0 ? 0.0 : v)); break;
      case 4: ref.push_back(float(std::exp(v))); break;
      case 5: ref.push_back(float(-v)); break;
      case 6: ref.push_back(float(0.5 * v * (1 + std::erf(v / std::sqrt(2.0))))); break;
      case 7:
        ref.push_back(float(0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)))));
        break;
      case 8: ref.push_back(float(std::log(v))); break;
      }
    }
    RunResult r = runKernel(K::Unary, {F32({n}, x)}, TFC_F32, {n}, opt::unary(fb::UnaryOp(op)));
    ASSERT_EQ(r.code, TFC_OK) << r.message;
    auto got = r.as<float>();
    if (op == 6 || op == 7) { // GELU(+-inf): the formula's inf * 0 is not a case to pin down
      got.erase(got.begin() + 3, got.begin() + 5);
      ref.erase(ref.begin() + 3, ref.begin() + 5);
    }
    expectSame(got, ref, "unary op " + std::to_string(op));
  }
}

TEST(RuntimeNaN, BinaryMax) {
  // ORT: Max([nan, 0, 1], [0, nan, nan]) = [nan, nan, nan].
  std::vector<float> a = {kNaN, 0.f, 1.f, 2.f, -kInf}, b = {0.f, kNaN, kNaN, 1.f, 3.f};
  RunResult r = runKernel(K::Binary, {F32({5}, a), F32({5}, b)}, TFC_F32, {5}, opt::binary(fb::BinaryOp::Max));
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  expectSame(r.as<float>(), {kNaN, kNaN, kNaN, 2.f, 3.f}, "max");
  // The broadcast paths (one operand a scalar).
  r = runKernel(K::Binary, {F32({5}, a), F32({}, {0.5f})}, TFC_F32, {5}, opt::binary(fb::BinaryOp::Max));
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  expectSame(r.as<float>(), {kNaN, 0.5f, 1.f, 2.f, 0.5f}, "max scalar b");
  r = runKernel(K::Binary, {F32({}, {kNaN}), F32({5}, b)}, TFC_F32, {5}, opt::binary(fb::BinaryOp::Max));
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  expectSame(r.as<float>(), std::vector<float>(5, kNaN), "max scalar NaN a");
}

TEST(RuntimeNaN, LinearActivations) {
  // A NaN in row 1 of x makes all of y's row 1 NaN, through every activation (oneDNN's
  // eltwise post-ops included: Relu(NaN) is NaN).
  int64_t M = 4, Kd = 8, N = 6;
  auto x = randomFloats(M * Kd, 3), w = randomFloats(Kd * N, 4), bias = randomFloats(N, 5);
  x[size_t(1 * Kd + 3)] = kNaN;
  for (int act = 0; act < 4; ++act) {
    // M rows, 1 row (x's row 1) and 24 rows (x's rows repeated: above the small-M layout, the
    // plan's padded copy of the weight).
    for (int64_t m : {M, int64_t(1), int64_t(24)}) {
      std::vector<float> xm;
      for (int64_t i = 0; i < m; ++i) {
        int64_t row = m == 1 ? 1 : i % M;
        xm.insert(xm.end(), x.begin() + row * Kd, x.begin() + (row + 1) * Kd);
      }
      RunResult r = runKernel(K::Linear, {F32({m, Kd}, xm), F32({Kd, N}, w, true),
                                          F32({N}, bias, true)},
                              TFC_F32, {m, N}, opt::linear(fb::Activation(act)));
      ASSERT_EQ(r.code, TFC_OK) << r.message;
      std::vector<float> ref;
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < N; ++j) {
          double s = bias[size_t(j)];
          for (int64_t k = 0; k < Kd; ++k)
            s += double(xm[size_t(i * Kd + k)]) * w[size_t(k * N + j)];
          double v = s; // NaN stays NaN through each formula
          if (act == 1)
            v = s < 0 ? 0.0 : s;
          else if (act == 2)
            v = 0.5 * s * (1 + std::erf(s / std::sqrt(2.0)));
          else if (act == 3)
            v = 0.5 * s * (1 + std::tanh(std::sqrt(2 / M_PI) * (s + 0.044715 * s * s * s)));
          ref.push_back(float(v));
        }
      expectSame(r.as<float>(), ref,
                 "linear act " + std::to_string(act) + " M " + std::to_string(m));
    }
  }
}

TEST(RuntimeNaN, MatMul) {
  // A NaN in row 1 of a gives NaN in row 1 of c, whatever b holds (0 * NaN is NaN).
  int64_t M = 3, Kd = 4, N = 5;
  auto a = randomFloats(M * Kd, 8), b = randomFloats(Kd * N, 9);
  a[size_t(1 * Kd + 2)] = kNaN;
  for (int64_t j = 0; j < N; ++j)
    b[size_t(2 * N + j)] = 0.f; // the NaN meets zeros only
  RunResult r = runKernel(K::MatMul, {F32({M, Kd}, a), F32({Kd, N}, b)}, TFC_F32, {M, N});
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  std::vector<float> ref;
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double acc = 0;
      for (int64_t k = 0; k < Kd; ++k)
        acc += double(a[size_t(i * Kd + k)]) * b[size_t(k * N + j)];
      ref.push_back(float(acc));
    }
  expectSame(r.as<float>(), ref, "matmul");
}

// ---- attention (also run with TFC_ATTENTION=onednn: runtime.cmake) ------------------------
/// Plain attention in double: keys hidden by the causal rule or a false mask entry are left out
/// (PyTorch's masked_fill with -inf); a NaN score of a kept key makes its row NaN.
std::vector<float> refAttention(int64_t B, int64_t Sq, int64_t Sk, int64_t D, int64_t H,
                                bool causal, const std::vector<uint8_t> &keep,
                                const std::vector<float> &q, const std::vector<float> &k,
                                const std::vector<float> &v, double scale) {
  int64_t dh = D / H;
  std::vector<float> o(size_t(B * Sq * D), 0.f);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t i = 0; i < Sq; ++i) {
        std::vector<double> s;
        std::vector<int64_t> keys;
        for (int64_t j = 0; j < Sk; ++j) {
          if ((causal && j > i + (Sk - Sq)) || (!keep.empty() && !keep[size_t(b * Sk + j)]))
            continue;
          double dot = 0;
          for (int64_t d = 0; d < dh; ++d)
            dot += double(q[size_t((b * Sq + i) * D + h * dh + d)]) *
                   k[size_t((b * Sk + j) * D + h * dh + d)];
          s.push_back(dot * scale);
          keys.push_back(j);
        }
        if (keys.empty())
          continue; // every key hidden: zeros (the fused kernel's documented rule)
        std::vector<double> p = refSoftmaxLine(s);
        for (int64_t d = 0; d < dh; ++d) {
          double acc = 0;
          for (size_t t = 0; t < keys.size(); ++t)
            acc += p[t] * v[size_t((b * Sk + keys[t]) * D + h * dh + d)];
          o[size_t((b * Sq + i) * D + h * dh + d)] = float(acc);
        }
      }
  return o;
}

TEST(RuntimeNaN, AttentionNaNQueryReachesTheOutput) {
  // Query (b 0, i 1) has a NaN in head 0's columns: its head-0 output is NaN, nothing else is.
  // Query (b 1, i 2) has a NaN in head 1 and every key of batch 1 but key 0 is hidden; the
  // NaN score of the kept key still makes that output NaN.
  int64_t B = 2, Sq = 4, Sk = 4, D = 8, H = 2;
  float scale = 0.5f;
  for (int kind : {0, 1, 2, 3}) { // none, causal, padding, causal + padding
    auto q = randomFloats(B * Sq * D, 11), k = randomFloats(B * Sk * D, 12),
         v = randomFloats(B * Sk * D, 13);
    q[size_t((0 * Sq + 1) * D + 2)] = kNaN;     // b 0, i 1, head 0
    q[size_t((1 * Sq + 2) * D + 4 + 1)] = kNaN; // b 1, i 2, head 1
    std::vector<Arg> args = {F32({B, Sq, D}, q), F32({B, Sk, D}, k), F32({B, Sk, D}, v)};
    std::vector<uint8_t> keep;
    bool padding = kind >= 2;
    if (padding) {
      keep = {1, 1, 1, 0, 1, 0, 0, 0};
      args.push_back(Bool({B, 1, 1, Sk}, keep));
    }
    auto ref = refAttention(B, Sq, Sk, D, H, kind == 1 || kind == 3, keep, q, k, v, scale);
    RunResult r = runKernel(K::Attention, args, TFC_F32, {B, Sq, D},
                            opt::attention(int32_t(H), fb::MaskKind(kind), scale));
    ASSERT_EQ(r.code, TFC_OK) << r.message;
    expectSame(r.as<float>(), ref, "attention kind " + std::to_string(kind));
  }
}

TEST(RuntimeNaN, AttentionAllNaNScoresAreNaNNotZero) {
  // Every query NaN: every output NaN (ORT/PyTorch), where the all-NaN score rows used to
  // come out as zeros.
  int64_t B = 1, Sq = 3, Sk = 3, D = 4, H = 1;
  std::vector<float> q(size_t(B * Sq * D), kNaN);
  auto k = randomFloats(B * Sk * D, 2), v = randomFloats(B * Sk * D, 3);
  RunResult r = runKernel(K::Attention, {F32({B, Sq, D}, q), F32({B, Sk, D}, k),
                                         F32({B, Sk, D}, v)},
                          TFC_F32, {B, Sq, D},
                          opt::attention(int32_t(H), fb::MaskKind::Causal, 0.5f));
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  for (float y : r.as<float>())
    EXPECT_TRUE(std::isnan(y)) << y;
}

TEST(RuntimeNaN, LayerNormAndReduce) {
  // A NaN or infinity in a row makes that row's statistics NaN: the whole row is NaN.
  int64_t R = 3, C = 16;
  auto x = randomFloats(R * C, 21), g = randomFloats(C, 22), b = randomFloats(C, 23);
  x[size_t(0 * C + 5)] = kNaN;
  x[size_t(1 * C + 9)] = kInf;
  RunResult r = runKernel(K::LayerNorm, {F32({R, C}, x), F32({C}, g, true), F32({C}, b, true)},
                          TFC_F32, {R, C}, opt::layerNorm(1e-5f));
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  auto y = r.as<float>();
  for (int64_t j = 0; j < 2 * C; ++j)
    EXPECT_TRUE(std::isnan(y[size_t(j)])) << j;
  for (int64_t j = 2 * C; j < 3 * C; ++j)
    EXPECT_TRUE(std::isfinite(y[size_t(j)])) << j;
  r = runKernel(K::Reduce, {F32({R, C}, x)}, TFC_F32, {R},
                opt::reduce(fb::ReduceOp::Sum, false, {1})); // sum over axis 1
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  auto s = r.as<float>();
  EXPECT_TRUE(std::isnan(s[0]));
  EXPECT_EQ(s[1], kInf);
  EXPECT_TRUE(std::isfinite(s[2]));
}

} // namespace
