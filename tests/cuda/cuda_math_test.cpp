//===- cuda_math_test.cpp - the CUDA element-wise, reduction, norm and index kernels vs the CPU -===//
//
// Each kind (runtime/src/cuda/CudaElementwise.cu, CudaReduce.cu, CudaNorm.cu, CudaIndex.cu) in a
// one-kernel cuda plan, compared with the same plan on the CPU (cuda_test_util.h) on random
// inputs: broadcasting, odd sizes, ranks 1 to 4, rows above 1024 (the block-per-row paths) and
// NaN / infinity edge cases.
//
// Tolerances: fp32 1e-4 relative (to max(1, max|ref|)). In fp16/bf16 plans both sides see the
// same rounded inputs and the GPU computes in f32; what differs is the rounding of the result to
// 16 bits (half an ulp: 2^-11 relative for f16, 2^-8 for bf16) plus f32 reordering (~1e-6), so
// f16 gets 1e-3 and bf16 8e-3 (about twice the half ulp). Integer, bool and data-movement
// results must be bit-exact; Cast is compared bit for bit with tfc/support/Float16.h.
//
//===----------------------------------------------------------------------------------------===//
#include "cuda_test_util.h"

#include <limits>

using namespace rtt;
using K = fb::KernelKind;

namespace {

constexpr float kNan = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

struct Precision {
  fb::DType p;
  float tol;
};
const Precision kPrecisions[] = {
    {fb::DType::F32, 1e-4f}, {fb::DType::F16, 1e-3f}, {fb::DType::BF16, 8e-3f}};

std::vector<float> floatsOfArg(const Arg &a) {
  std::vector<float> v(a.bytes.size() / 4);
  std::memcpy(v.data(), a.bytes.data(), a.bytes.size());
  return v;
}

/// `a` with its f32 values rounded to `d` (still f32): what the CPU reference sees.
Arg roundedArg(const Arg &a, tfc_dtype d) {
  if (a.absent || a.dtype != TFC_F32)
    return a;
  Arg r = a;
  std::vector<float> v = roundTo(d, floatsOfArg(a));
  std::memcpy(r.bytes.data(), v.data(), r.bytes.size());
  return r;
}

/// Runs `kind` on the CPU (fp32, inputs rounded to each precision) and on the GPU (each
/// precision) and compares: float outputs within the precision's tolerance, others exactly.
/// `floatOut`: the output is the plan's float dtype (else `outDtype` on both).
void expectMatchesCpu(K kind, const std::vector<Arg> &args, std::vector<int64_t> outShape,
                      const Options &o, const std::string &what, bool floatOut = true,
                      tfc_dtype outDtype = TFC_F32, bool allPrecisions = true) {
  for (const Precision &pr : kPrecisions) {
    if (!allPrecisions && pr.p != fb::DType::F32)
      continue;
    tfc_dtype d = dtypeOf(pr.p);
    std::vector<Arg> cpuArgs, gpuArgs;
    for (const Arg &a : args) {
      cpuArgs.push_back(roundedArg(a, d));
      gpuArgs.push_back(toDtype(cpuArgs.back(), d));
    }
    std::string at = what + " (" + fb::EnumNameDType(pr.p) + ")";
    RunResult ref = runKernel(kind, cpuArgs, floatOut ? TFC_F32 : outDtype, outShape, o);
    ASSERT_EQ(ref.code, TFC_OK) << at << ": " << ref.message;
    RunResult got = runKernelOn(PlanTarget{fb::Target::Cuda, pr.p}, kind, gpuArgs,
                                floatOut ? d : outDtype, outShape, o);
    ASSERT_EQ(got.code, TFC_OK) << at << ": " << got.message;
    ASSERT_EQ(got.shape, ref.shape) << at;
    if (floatOut) {
      std::vector<float> g = floatsOf(got), r = ref.as<float>();
      ASSERT_EQ(g.size(), r.size()) << at;
      // NaN where the CPU has NaN; the rest within tolerance.
      std::vector<float> gf, rf;
      for (size_t i = 0; i < r.size(); ++i) {
        ASSERT_EQ(std::isnan(g[i]), std::isnan(r[i])) << at << " NaN at element " << i;
        if (std::isinf(r[i])) {
          ASSERT_EQ(g[i], r[i]) << at << " inf at element " << i;
        } else if (!std::isnan(r[i])) {
          gf.push_back(g[i]);
          rf.push_back(r[i]);
        }
      }
      expectCloseRel(gf, rf, pr.tol, at);
    } else {
      ASSERT_EQ(got.dtype, ref.dtype) << at;
      ASSERT_EQ(got.bytes, ref.bytes) << at;
    }
  }
}

std::vector<float> rnd(const std::vector<int64_t> &s, uint32_t seed, float lo = -2.f,
                       float hi = 2.f) {
  return randomFloats(numel(s), seed, lo, hi);
}
template <typename T> std::vector<T> rndInts(int64_t n, uint32_t seed, int lo, int hi) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(lo, hi);
  std::vector<T> v(static_cast<size_t>(n));
  for (T &x : v)
    x = T(dist(rng));
  return v;
}

// ---- Binary, Unary, Compare, Where ----------------------------------------------------------
struct BShapes {
  std::vector<int64_t> a, b, out;
};
const BShapes kBroadcasts[] = {
    {{37}, {37}, {37}},                       // flat, odd
    {{3, 5, 7}, {3, 5, 7}, {3, 5, 7}},        // same shape (merged to rank 1)
    {{}, {2, 3}, {2, 3}},                     // scalar
    {{4, 1, 6}, {5, 1}, {4, 5, 6}},           // both broadcast
    {{2, 3, 4, 5}, {3, 1, 5}, {2, 3, 4, 5}},  // rank 4, middle broadcast
    {{2, 1, 1, 9}, {1, 7, 1, 1}, {2, 7, 1, 9}}};

TEST(CudaMath, BinaryFloatEveryOpBroadcasting) {
  TFC_REQUIRE_CUDA();
  for (int op = 0; op <= int(fb::BinaryOp::Min); ++op)
    for (const BShapes &s : kBroadcasts) {
      bool positive = op == int(fb::BinaryOp::Pow) || op == int(fb::BinaryOp::Div);
      auto a = rnd(s.a, 1 + op, positive ? 0.5f : -2.f, 2.f);
      auto b = rnd(s.b, 100 + op, positive ? 0.5f : -2.f, 2.f);
      if (op == int(fb::BinaryOp::Max) || op == int(fb::BinaryOp::Min))
        a[0] = kNan; // NaN wins both ways
      expectMatchesCpu(K::Binary, {F32(s.a, a), F32(s.b, b)}, s.out,
                       opt::binary(fb::BinaryOp(op)),
                       std::string("Binary ") + fb::EnumNameBinaryOp(fb::BinaryOp(op)));
    }
}

TEST(CudaMath, BinaryIntegersExact) {
  TFC_REQUIRE_CUDA();
  for (int op = 0; op <= int(fb::BinaryOp::Min); ++op)
    for (const BShapes &s : kBroadcasts) {
      bool div = op == int(fb::BinaryOp::Div), pow = op == int(fb::BinaryOp::Pow);
      auto a32 = rndInts<int32_t>(numel(s.a), 7 + op, -50, 50);
      auto b32 = rndInts<int32_t>(numel(s.b), 9 + op, pow ? 0 : 1, pow ? 3 : 9);
      if (div)
        for (size_t i = 0; i < b32.size(); i += 2)
          b32[i] = -b32[i]; // negative divisors truncate toward zero
      std::string what = std::string("Binary ") + fb::EnumNameBinaryOp(fb::BinaryOp(op));
      expectMatchesCpu(K::Binary, {I32(s.a, a32), I32(s.b, b32)}, s.out,
                       opt::binary(fb::BinaryOp(op)), what + " i32", false, TFC_I32, false);
      std::vector<int64_t> a64(a32.begin(), a32.end()), b64(b32.begin(), b32.end());
      for (int64_t &v : a64)
        v *= int64_t(1) << (pow ? 0 : 33); // beyond 32 bits
      expectMatchesCpu(K::Binary, {I64(s.a, a64), I64(s.b, b64)}, s.out,
                       opt::binary(fb::BinaryOp(op)), what + " i64", false, TFC_I64, false);
    }
}

TEST(CudaMath, BinaryIntegerDivisionByZeroIsAnError) {
  TFC_REQUIRE_CUDA();
  RunResult r = runKernelOn(PlanTarget{fb::Target::Cuda, fb::DType::F32}, K::Binary,
                            {I64({3}, {4, 5, 6}), I64({3}, {1, 0, 2})}, TFC_I64, {3},
                            opt::binary(fb::BinaryOp::Div));
  EXPECT_EQ(r.code, TFC_INVALID_ARGUMENT);
  EXPECT_NE(r.message.find("integer division by zero"), std::string::npos) << r.message;
}

TEST(CudaMath, UnaryFloatEveryOp) {
  TFC_REQUIRE_CUDA();
  for (int op = 0; op <= int(fb::UnaryOp::Cos); ++op)
    for (std::vector<int64_t> s : {std::vector<int64_t>{1}, {5, 7}, {2, 3, 4, 33}}) {
      bool positive = op == int(fb::UnaryOp::Sqrt) || op == int(fb::UnaryOp::Log);
      auto x = rnd(s, 20 + op, positive ? 0.1f : -4.f, 4.f);
      if (x.size() > 3)
        x[1] = kNan, x[2] = -kInf, x[3] = kInf;
      expectMatchesCpu(K::Unary, {F32(s, x)}, s, opt::unary(fb::UnaryOp(op)),
                       std::string("Unary ") + fb::EnumNameUnaryOp(fb::UnaryOp(op)));
    }
}

TEST(CudaMath, UnaryAbsSignOnIntegers) {
  TFC_REQUIRE_CUDA();
  for (fb::UnaryOp op : {fb::UnaryOp::Abs, fb::UnaryOp::Sign}) {
    auto v = rndInts<int32_t>(41, 3, -9, 9);
    expectMatchesCpu(K::Unary, {I32({41}, v)}, {41}, opt::unary(op), "Unary int32", false,
                     TFC_I32, false);
    std::vector<int64_t> w(v.begin(), v.end());
    expectMatchesCpu(K::Unary, {I64({41}, w)}, {41}, opt::unary(op), "Unary int64", false,
                     TFC_I64, false);
  }
}

TEST(CudaMath, CompareEveryOpAndDtype) {
  TFC_REQUIRE_CUDA();
  for (int op = 0; op <= int(fb::CompareOp::GreaterOrEqual); ++op) {
    fb::CompareOptionsT o;
    o.op = fb::CompareOp(op);
    Options opts = opt::make(o);
    std::string what = std::string("Compare ") + fb::EnumNameCompareOp(fb::CompareOp(op));
    for (const BShapes &s : kBroadcasts) {
      // Few distinct values, so that equality happens; a NaN compares false.
      auto a = rndInts<int32_t>(numel(s.a), 5 + op, -3, 3), b = rndInts<int32_t>(numel(s.b), 6, -3, 3);
      std::vector<float> fa(a.begin(), a.end()), fb_(b.begin(), b.end());
      fa[0] = kNan;
      expectMatchesCpu(K::Compare, {F32(s.a, fa), F32(s.b, fb_)}, s.out, opts, what + " float",
                       false, TFC_BOOL);
      expectMatchesCpu(K::Compare, {I32(s.a, a), I32(s.b, b)}, s.out, opts, what + " i32", false,
                       TFC_BOOL, false);
      std::vector<int64_t> la(a.begin(), a.end()), lb(b.begin(), b.end());
      expectMatchesCpu(K::Compare, {I64(s.a, la), I64(s.b, lb)}, s.out, opts, what + " i64",
                       false, TFC_BOOL, false);
      std::vector<int8_t> ca(a.begin(), a.end()), cb(b.begin(), b.end());
      expectMatchesCpu(K::Compare, {makeArg(TFC_I8, s.a, ca), makeArg(TFC_I8, s.b, cb)}, s.out,
                       opts, what + " i8", false, TFC_BOOL, false);
      if (op == int(fb::CompareOp::Equal)) {
        std::vector<uint8_t> ba(a.size()), bb(b.size());
        for (size_t i = 0; i < a.size(); ++i)
          ba[i] = a[i] > 0;
        for (size_t i = 0; i < b.size(); ++i)
          bb[i] = b[i] > 0;
        expectMatchesCpu(K::Compare, {Bool(s.a, ba), Bool(s.b, bb)}, s.out, opts, what + " bool",
                         false, TFC_BOOL, false);
      }
    }
  }
}

TEST(CudaMath, WhereBroadcastsEveryElementSize) {
  TFC_REQUIRE_CUDA();
  std::vector<int64_t> cs = {2, 1, 5}, as = {3, 1}, bs = {1, 1, 5}, out = {2, 3, 5};
  auto c = rndInts<uint8_t>(numel(cs), 1, 0, 1);
  expectMatchesCpu(K::Where, {Bool(cs, c), F32(as, rnd(as, 2)), F32(bs, rnd(bs, 3))}, out, {},
                   "Where float"); // exact values: the tolerance is not needed but harmless
  std::vector<int64_t> ia = {1, 2, 3}, ib = {int64_t(1) << 40};
  expectMatchesCpu(K::Where, {Bool({3}, {1, 0, 1}), I64({3}, ia), I64({1}, ib)}, {3}, {},
                   "Where i64", false, TFC_I64, false);
  expectMatchesCpu(K::Where, {Bool(cs, c), Bool(as, {1, 0, 1}), Bool(bs, {0, 1, 0, 1, 1})}, out,
                   {}, "Where bool", false, TFC_BOOL, false);
}

// ---- Cast -----------------------------------------------------------------------------------
/// Values that exercise rounding: halfway cases of f16 and bf16 (ties to even both ways),
/// subnormals, overflow, infinities, NaN, and integers.
std::vector<float> castValues() {
  using tfc::support::floatFromBits;
  std::vector<float> v = {0.f, -0.f, 1.f, -1.f, 0.5f, 2.5f, -3.75f, 100.f, 65504.f, 65520.f,
                          70000.f, -1e6f, 1e-8f, 6e-8f, 3e-5f, kInf, -kInf, kNan, 1e38f};
  v.push_back(1.f + 1.f / 2048);     // f16 tie: rounds down to 1 (even)
  v.push_back(1.f + 3.f / 2048);     // f16 tie: rounds up
  v.push_back(floatFromBits(0x3F808000u)); // bf16 tie: rounds down (even)
  v.push_back(floatFromBits(0x3F818000u)); // bf16 tie: rounds up
  v.push_back(floatFromBits(0x3F808001u)); // just above a bf16 tie
  auto r = randomFloats(64, 11, -300.f, 300.f);
  v.insert(v.end(), r.begin(), r.end());
  return v;
}

TEST(CudaMath, CastFloatTo16BitRoundsToNearestEven) {
  TFC_REQUIRE_CUDA();
  std::vector<float> v = castValues();
  std::vector<int64_t> s = {int64_t(v.size())};
  for (tfc_dtype d : {TFC_F16, TFC_BF16}) {
    fb::DType p = d == TFC_F16 ? fb::DType::F16 : fb::DType::BF16;
    RunResult r = runKernelOn(PlanTarget{fb::Target::Cuda, p}, K::Cast, {F32(s, v)}, d, s, {});
    ASSERT_EQ(r.code, TFC_OK) << r.message;
    std::vector<uint16_t> got = r.as<uint16_t>();
    for (size_t i = 0; i < v.size(); ++i) {
      uint16_t want = d == TFC_F16 ? tfc::support::floatToHalf(v[i])
                                   : tfc::support::floatToBFloat16(v[i]);
      bool bothNan = std::isnan(v[i]) && (got[i] & 0x7FFF) > (d == TFC_F16 ? 0x7C00 : 0x7F80);
      EXPECT_TRUE(got[i] == want || bothNan)
          << tfc_dtype_name(d) << " of " << v[i] << ": got 0x" << std::hex << got[i] << ", want 0x"
          << want;
    }
  }
}

TEST(CudaMath, CastFrom16BitToEveryDtype) {
  TFC_REQUIRE_CUDA();
  std::vector<float> v = castValues();
  v.erase(std::remove_if(v.begin(), v.end(), [](float x) { return !(std::fabs(x) < 100.f); }),
          v.end()); // integer targets: in range only (out of range is undefined on the CPU too)
  std::vector<int64_t> s = {int64_t(v.size())};
  for (tfc_dtype from : {TFC_F16, TFC_BF16}) {
    fb::DType p = from == TFC_F16 ? fb::DType::F16 : fb::DType::BF16;
    Arg x = toDtype(F32(s, v), from);
    std::vector<float> exact = roundTo(from, v); // the 16-bit values as f32 (exact)
    for (tfc_dtype to : {TFC_F32, TFC_I32, TFC_I64, TFC_I8, TFC_BOOL}) {
      RunResult r = runKernelOn(PlanTarget{fb::Target::Cuda, p}, K::Cast, {x}, to, s, {});
      ASSERT_EQ(r.code, TFC_OK) << r.message;
      for (size_t i = 0; i < v.size(); ++i) {
        float e = exact[i];
        switch (to) {
        case TFC_F32: EXPECT_EQ(r.as<float>()[i], e) << i; break;
        case TFC_I32: EXPECT_EQ(r.as<int32_t>()[i], int32_t(e)) << i; break;
        case TFC_I64: EXPECT_EQ(r.as<int64_t>()[i], int64_t(e)) << i; break;
        case TFC_I8: EXPECT_EQ(r.as<int8_t>()[i], int8_t(e)) << i; break;
        default: EXPECT_EQ(r.as<uint8_t>()[i], e != 0.f ? 1 : 0) << i; break;
        }
      }
    }
    // And integers and bool into the 16-bit type (through f32: exact below 2^11 / 2^8).
    std::vector<int64_t> ints = {0, 1, -1, 7, 255, 256, 257, 2049, -4097, 70000};
    RunResult r = runKernelOn(PlanTarget{fb::Target::Cuda, p}, K::Cast,
                              {I64({int64_t(ints.size())}, ints)}, from, {int64_t(ints.size())}, {});
    ASSERT_EQ(r.code, TFC_OK) << r.message;
    for (size_t i = 0; i < ints.size(); ++i) {
      float f = float(ints[i]);
      uint16_t want = from == TFC_F16 ? tfc::support::floatToHalf(f)
                                      : tfc::support::floatToBFloat16(f);
      EXPECT_EQ(r.as<uint16_t>()[i], want) << ints[i];
    }
  }
}

TEST(CudaMath, CastBetweenCpuDtypesMatchesCpu) {
  TFC_REQUIRE_CUDA();
  std::vector<float> f = {0.f, -0.f, 1.5f, -2.5f, 99.9f, -99.9f, 3.f, kNan};
  std::vector<int64_t> s = {int64_t(f.size())};
  std::vector<int32_t> i32 = {0, 1, -1, 127, -128, 100000, -7, 3};
  std::vector<int64_t> i64 = {0, 1, -1, (int64_t(1) << 40) + 3, -(int64_t(1) << 35), 16777217, 5, -5};
  std::vector<int8_t> i8 = {0, 1, -1, 127, -128, 5, -5, 2};
  std::vector<uint8_t> b = {0, 1, 1, 0, 1, 0, 0, 1};
  std::vector<Arg> from = {F32(s, f), I32(s, i32), I64(s, i64), makeArg(TFC_I8, s, i8), Bool(s, b)};
  for (const Arg &x : from)
    for (tfc_dtype to : {TFC_F32, TFC_I32, TFC_I64, TFC_I8, TFC_BOOL}) {
      if (x.dtype == TFC_F32 && to != TFC_F32 && to != TFC_BOOL)
        continue; // NaN to an integer is undefined on the CPU
      expectMatchesCpu(K::Cast, {x}, s, {},
                       std::string("Cast ") + tfc_dtype_name(x.dtype) + " to " + tfc_dtype_name(to), false,
                       to, false);
    }
  std::vector<float> g = {0.f, 1.5f, -2.5f, 99.9f, -99.9f, 3.f, 1e6f, -0.25f};
  for (tfc_dtype to : {TFC_I32, TFC_I64, TFC_I8})
    expectMatchesCpu(K::Cast, {F32(s, to == TFC_I8 ? std::vector<float>{0.f, 1.5f, -2.5f, 99.9f,
                                                                         -99.9f, 3.f, 12.f, -0.25f}
                                                   : g)},
                     s, {}, std::string("Cast f32 to ") + tfc_dtype_name(to), false, to, false);
}

// ---- Reduce, Softmax, ArgMax, CumSum --------------------------------------------------------
TEST(CudaMath, ReduceMeanSumAxesKeepdims) {
  TFC_REQUIRE_CUDA();
  struct Case {
    std::vector<int64_t> in;
    std::vector<int32_t> axes;
  };
  const Case cases[] = {{{37}, {}},          {{3, 5, 7}, {-1}},      {{3, 5, 7}, {1}},
                        {{3, 5, 7}, {0, 2}}, {{2, 3, 4, 5}, {1, 3}}, {{2, 3, 4, 5}, {}},
                        {{4, 5000}, {-1}},   {{3000, 3}, {0}},       {{2, 1100, 3}, {0, 1}}};
  for (const Case &c : cases)
    for (fb::ReduceOp op : {fb::ReduceOp::Mean, fb::ReduceOp::Sum})
      for (bool keep : {false, true}) {
        std::vector<int64_t> out;
        for (size_t i = 0; i < c.in.size(); ++i) {
          bool red = c.axes.empty();
          for (int32_t a : c.axes)
            red |= (a < 0 ? a + int32_t(c.in.size()) : a) == int32_t(i);
          if (!red)
            out.push_back(c.in[i]);
          else if (keep)
            out.push_back(1);
        }
        expectMatchesCpu(K::Reduce, {F32(c.in, rnd(c.in, 31))}, out,
                         opt::reduce(op, keep, c.axes), "Reduce");
      }
}

TEST(CudaMath, SoftmaxRowsAndStridedAxes) {
  TFC_REQUIRE_CUDA();
  struct Case {
    std::vector<int64_t> s;
    int axis;
  };
  const Case cases[] = {{{7}, 0},        {{3, 7}, -1},    {{2, 4, 33}, 2}, {{5, 1024}, 1},
                        {{3, 3000}, -1}, {{2, 9000}, 1},  {{2, 5, 3}, 1},  {{4, 3, 2, 5}, 0}};
  for (const Case &c : cases) {
    auto x = rnd(c.s, 41, -8.f, 8.f);
    expectMatchesCpu(K::Softmax, {F32(c.s, x)}, c.s, opt::softmax(c.axis), "Softmax");
  }
  // Edge rows (fp32): a NaN, a +inf, only -inf, some -inf: NaN where the CPU gives NaN.
  std::vector<float> e = {1.f, kNan, 2.f, 3.f, 1.f, kInf, 2.f, 0.f, -kInf, -kInf, -kInf, -kInf,
                          -kInf, 1.f, -kInf, 2.f};
  expectMatchesCpu(K::Softmax, {F32({4, 4}, e)}, {4, 4}, opt::softmax(-1), "Softmax edges",
                   true, TFC_F32, false);
  expectMatchesCpu(K::Softmax, {F32({4, 4}, e)}, {4, 4}, opt::softmax(0), "Softmax edges axis 0",
                   true, TFC_F32, false);
}

Options argMaxOpts(int axis, bool keep, bool last) {
  fb::ArgMaxOptionsT o;
  o.axis = axis, o.keepdims = keep, o.select_last_index = last;
  return opt::make(o);
}

TEST(CudaMath, ArgMaxTiesNanAndLongRows) {
  TFC_REQUIRE_CUDA();
  struct Case {
    std::vector<int64_t> s;
    int axis;
  };
  const Case cases[] = {{{9}, 0}, {{3, 50}, 1}, {{2, 3000}, -1}, {{4, 7, 3}, 1}, {{5, 2}, 0}};
  for (const Case &c : cases)
    for (bool last : {false, true})
      for (bool keep : {false, true}) {
        int rank = int(c.s.size()), axis = c.axis < 0 ? c.axis + rank : c.axis;
        std::vector<int64_t> out;
        for (int i = 0; i < rank; ++i)
          if (i != axis || keep)
            out.push_back(i == axis ? 1 : c.s[i]);
        // Few distinct values (ties), and NaN in some lines.
        auto iv = rndInts<int32_t>(numel(c.s), 51, -4, 4);
        std::vector<float> fv(iv.begin(), iv.end());
        fv[fv.size() / 2] = kNan;
        fv[fv.size() / 3] = kNan;
        Options o = argMaxOpts(c.axis, keep, last);
        expectMatchesCpu(K::ArgMax, {F32(c.s, fv)}, out, o, "ArgMax float", false, TFC_I64);
        expectMatchesCpu(K::ArgMax, {I32(c.s, iv)}, out, o, "ArgMax i32", false, TFC_I64, false);
        std::vector<int64_t> lv(iv.begin(), iv.end());
        for (int64_t &v : lv)
          v = v * (int64_t(1) << 40) + 1; // differences beyond f32's precision
        expectMatchesCpu(K::ArgMax, {I64(c.s, lv)}, out, o, "ArgMax i64", false, TFC_I64, false);
      }
}

TEST(CudaMath, CumSumEveryAxisExclusiveReverse) {
  TFC_REQUIRE_CUDA();
  const std::vector<int64_t> s = {3, 17, 5};
  for (int axis : {0, 1, -1})
    for (bool exclusive : {false, true})
      for (bool reverse : {false, true}) {
        fb::CumSumOptionsT o;
        o.axis = axis, o.exclusive = exclusive, o.reverse = reverse;
        Options opts = opt::make(o);
        expectMatchesCpu(K::CumSum, {F32(s, rnd(s, 61))}, s, opts, "CumSum float");
        auto iv = rndInts<int32_t>(numel(s), 62, -100, 100);
        expectMatchesCpu(K::CumSum, {I32(s, iv)}, s, opts, "CumSum i32", false, TFC_I32, false);
        std::vector<int64_t> lv(iv.begin(), iv.end());
        expectMatchesCpu(K::CumSum, {I64(s, lv)}, s, opts, "CumSum i64", false, TFC_I64, false);
      }
}

// ---- Norms ----------------------------------------------------------------------------------
const std::vector<std::vector<int64_t>> kRowShapes = {
    {7}, {3, 33}, {2, 3, 384}, {5, 1024}, {3, 2000}, {2, 5000}};

TEST(CudaMath, LayerNormWithAndWithoutResidual) {
  TFC_REQUIRE_CUDA();
  for (const auto &s : kRowShapes) {
    std::vector<int64_t> c = {s.back()};
    // A large mean (+3) checks the two-pass variance.
    auto x = rnd(s, 71, 1.f, 5.f), r = rnd(s, 72), g = rnd(c, 73, 0.5f, 1.5f), b = rnd(c, 74);
    expectMatchesCpu(K::LayerNorm, {F32(s, x), F32(c, g, true), F32(c, b, true)}, s,
                     opt::layerNorm(1e-5f), "LayerNorm");
    expectMatchesCpu(K::LayerNorm, {F32(s, x), F32(c, g, true), F32(c, b, true), F32(s, r)}, s,
                     opt::layerNorm(1e-5f), "LayerNorm residual");
  }
}

TEST(CudaMath, LayerNormalizationAxesAndScalarScale) {
  TFC_REQUIRE_CUDA();
  const std::vector<int64_t> s = {2, 3, 40};
  auto x = rnd(s, 81);
  for (int axis : {-1, 1}) {
    std::vector<int64_t> c = axis == 1 ? std::vector<int64_t>{3, 40} : std::vector<int64_t>{40};
    auto g = rnd(c, 82), b = rnd(c, 83);
    expectMatchesCpu(K::LayerNormalization, {F32(s, x), F32(c, g), F32(c, b)}, s,
                     opt::layerNormalization(axis, 1e-5f), "LayerNormalization");
    expectMatchesCpu(K::LayerNormalization, {F32(s, x), F32(c, g), Absent()}, s,
                     opt::layerNormalization(axis, 1e-5f), "LayerNormalization no bias");
  }
  expectMatchesCpu(K::LayerNormalization, {F32(s, x), F32({1}, {1.5f}), F32({1}, {-0.5f})}, s,
                   opt::layerNormalization(-1, 1e-5f), "LayerNormalization scalar scale");
  const std::vector<int64_t> big = {2, 3000};
  expectMatchesCpu(K::LayerNormalization,
                   {F32(big, rnd(big, 84)), F32({3000}, rnd({3000}, 85)), Absent()}, big,
                   opt::layerNormalization(-1, 1e-5f), "LayerNormalization long row");
}

TEST(CudaMath, RmsNormResidualAndUnitOffset) {
  TFC_REQUIRE_CUDA();
  for (const auto &s : kRowShapes) {
    std::vector<int64_t> c = {s.back()};
    auto x = rnd(s, 91), r = rnd(s, 92), w = rnd(c, 93, 0.5f, 1.5f);
    for (bool unit : {false, true}) {
      expectMatchesCpu(K::RmsNorm, {F32(s, x), F32(c, w, true)}, s, opt::rmsNorm(1e-6f, unit),
                       "RmsNorm");
      expectMatchesCpu(K::RmsNorm, {F32(s, x), F32(c, w, true), F32(s, r)}, s,
                       opt::rmsNorm(1e-6f, unit), "RmsNorm residual");
    }
  }
}

// ---- Embedding, Gather, GatherElements, Rotary ----------------------------------------------
TEST(CudaMath, EmbeddingTokensPositionsTypes) {
  TFC_REQUIRE_CUDA();
  const int64_t V = 50, P = 16, D = 24, B = 2, S = 5;
  auto tok = rnd({V, D}, 101), pos = rnd({P, D}, 102), typ = rnd({2, D}, 103);
  auto ids = rndInts<int64_t>(B * S, 104, 0, int(V - 1));
  auto tids = rndInts<int32_t>(B * S, 105, 0, 1);
  std::vector<int32_t> ids32(ids.begin(), ids.end());
  expectMatchesCpu(K::Embedding, {I64({B, S}, ids), F32({V, D}, tok, true), F32({P, D}, pos, true)},
                   {B, S, D}, opt::embedding(1.f), "Embedding");
  expectMatchesCpu(K::Embedding,
                   {I32({B, S}, ids32), F32({V, D}, tok, true), F32({P, D}, pos, true),
                    I32({B, S}, tids), F32({2, D}, typ, true)},
                   {B, S, D}, opt::embedding(0.5f), "Embedding types, scale");
  // An id outside the table: refused before the run (InputRules), as on the CPU.
  ids[3] = V;
  RunResult r = runKernelOn(PlanTarget{fb::Target::Cuda, fb::DType::F32}, K::Embedding,
                            {I64({B, S}, ids), F32({V, D}, tok, true), F32({P, D}, pos, true)},
                            TFC_F32, {B, S, D}, opt::embedding(1.f));
  EXPECT_EQ(r.code, TFC_OUT_OF_RANGE) << r.message;
}

TEST(CudaMath, GatherAxesNegativeIndicesAnyDtype) {
  TFC_REQUIRE_CUDA();
  std::vector<int64_t> t = {10, 4};
  expectMatchesCpu(K::Gather, {F32(t, rnd(t, 111)), I64({2, 3}, {0, 9, -1, 3, -10, 4})},
                   {2, 3, 4}, opt::gather(0), "Gather axis 0");
  std::vector<int64_t> d = {3, 5, 2};
  expectMatchesCpu(K::Gather, {F32(d, rnd(d, 112)), I32({4}, {4, 0, -2, 1})}, {3, 4, 2},
                   opt::gather(1), "Gather axis 1");
  std::vector<int64_t> lv(30);
  for (size_t i = 0; i < lv.size(); ++i)
    lv[i] = int64_t(i) * 1000003;
  expectMatchesCpu(K::Gather, {I64(d, lv), I64({}, {-1})}, {3, 5}, opt::gather(2), "Gather i64",
                   false, TFC_I64, false);
}

TEST(CudaMath, GatherElementsAxes) {
  TFC_REQUIRE_CUDA();
  std::vector<int64_t> d = {3, 4, 5};
  for (int axis : {0, 1, 2, -1}) {
    int a = axis < 0 ? axis + 3 : axis;
    std::vector<int64_t> is = {3, 4, 5};
    is[0] = 2; // indices smaller than the data on a non-axis dim too
    int64_t dim = d[size_t(a)];
    auto idx = rndInts<int64_t>(numel(is), 121 + a, int(-dim), int(dim - 1));
    fb::GatherElementsOptionsT o;
    o.axis = axis;
    expectMatchesCpu(K::GatherElements, {F32(d, rnd(d, 122)), I64(is, idx)}, is, opt::make(o),
                     "GatherElements");
    std::vector<int32_t> idx32(idx.begin(), idx.end());
    auto lv = rndInts<int64_t>(numel(d), 123, -1000, 1000);
    expectMatchesCpu(K::GatherElements, {I64(d, lv), I32(is, idx32)}, is, opt::make(o),
                     "GatherElements i64", false, TFC_I64, false);
  }
}

TEST(CudaMath, RotaryHalfAndInterleavedPartialDims) {
  TFC_REQUIRE_CUDA();
  const int64_t B = 2, S = 3, H = 2, dh = 8;
  std::vector<int64_t> xs = {B, S, H * dh};
  auto x = rnd(xs, 131);
  for (int64_t r : {8, 4})
    for (bool inter : {false, true})
      for (std::vector<int64_t> ts :
           {std::vector<int64_t>{S, r}, std::vector<int64_t>{1, S, r}, std::vector<int64_t>{B, S, r}}) {
        auto c = rnd(ts, 132, -1.f, 1.f), s = rnd(ts, 133, -1.f, 1.f);
        expectMatchesCpu(K::Rotary, {F32(xs, x), F32(ts, c), F32(ts, s)}, xs,
                         opt::rotary(int32_t(H), int32_t(r), inter), "Rotary");
      }
}

} // namespace
