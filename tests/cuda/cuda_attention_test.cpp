//===- cuda_attention_test.cpp - the CUDA Attention kernel against the CPU kernel ------------===//
//
// Each case runs one Attention kernel as a one-kernel plan on the CPU (fp32, the reference) and
// on cuda:0 at fp32, fp16 and bf16 (cuda_test_util.h: float inputs rounded to the precision
// first, so both kernels see the same numbers; masks stay f32 or bool). Covered: causal and
// non-causal, padding masks (bool [B,1,1,Sk], f32 [B,1,Sq,Sk], [B,H,Sq,Sk], 2-D [Sq,Sk]), rows
// with every key hidden, cross-attention (Sq != Sk), grouped-query heads, a sliding window, a
// hidden score, Sq in {1, 7, 65, 130}, head dims 32, 64, 80, 128 and 160.
//
// Tolerances. fp32: 1e-4 relative (cuda_test_util.h). fp16/bf16: the output is a convex
// combination of V rows with |v| <= 1, computed in f32 from exact 16-bit inputs; what differs is
// the final rounding of o to 16 bits (2^-11 relative for f16, 2^-8 for bf16) plus f32
// accumulation order (~1e-6): 2e-3 (f16, four f16 ulps at 1) and 8e-3 (bf16, two bf16 ulps).
//
//===----------------------------------------------------------------------------------------===//
#include "cuda_test_util.h"

#include <limits>

using namespace rtt;
using K = fb::KernelKind;

namespace {

enum class MaskForm { None, Bool11Sk, F32_1SqSk, F32_HSqSk, F32_SqSk };

struct Case {
  int64_t B, Sq, Sk, H, dh;
  fb::MaskKind kind;
  MaskForm mask = MaskForm::None;
  int32_t kvHeads = 0, window = 0;
  float hidden = std::numeric_limits<float>::quiet_NaN();
  bool hideWholeRow = false; // row (b = 0, i = 0) sees no key at all
};

std::string describe(const Case &c, fb::DType p) {
  return "B=" + std::to_string(c.B) + " Sq=" + std::to_string(c.Sq) + " Sk=" +
         std::to_string(c.Sk) + " H=" + std::to_string(c.H) + " dh=" + std::to_string(c.dh) +
         " kind=" + fb::EnumNameMaskKind(c.kind) + " mask=" + std::to_string(int(c.mask)) +
         " G=" + std::to_string(c.kvHeads) + " window=" + std::to_string(c.window) +
         " precision=" + fb::EnumNameDType(p);
}

Arg makeMask(const Case &c, uint32_t seed) {
  std::vector<int64_t> shape;
  switch (c.mask) {
  case MaskForm::None: return Absent();
  case MaskForm::Bool11Sk: shape = {c.B, 1, 1, c.Sk}; break;
  case MaskForm::F32_1SqSk: shape = {c.B, 1, c.Sq, c.Sk}; break;
  case MaskForm::F32_HSqSk: shape = {c.B, c.H, c.Sq, c.Sk}; break;
  case MaskForm::F32_SqSk: shape = {c.Sq, c.Sk}; break;
  }
  const int64_t n = numel(shape);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> soft(-3.f, 0.f);
  std::uniform_int_distribution<int> coin(0, 5);
  if (c.mask == MaskForm::Bool11Sk) {
    std::vector<uint8_t> m(size_t(n), 1);
    for (int64_t b = 0; b < c.B; ++b)
      for (int64_t j = 0; j < c.Sk; ++j)
        m[size_t(b * c.Sk + j)] = j >= c.Sk - b ? 0 : 1; // row b: its last b keys are padding
    if (c.hideWholeRow)
      for (int64_t j = 0; j < c.Sk; ++j)
        m[size_t(j)] = 0;
    return Bool(shape, m);
  }
  std::vector<float> m(static_cast<size_t>(n));
  for (float &x : m)
    x = coin(rng) == 0 ? -std::numeric_limits<float>::infinity() : soft(rng);
  if (c.hideWholeRow) // the first [Sk] row of the mask: (b 0, h 0, i 0), or every (b, h) for 2-D
    for (int64_t j = 0; j < c.Sk; ++j)
      m[size_t(j)] = -std::numeric_limits<float>::infinity();
  return F32(shape, m);
}

void check(const Case &c, fb::DType precision, uint32_t seed) {
  const std::string what = describe(c, precision);
  const int64_t D = c.H * c.dh, G = c.kvHeads > 0 ? c.kvHeads : c.H, Dk = G * c.dh;
  const tfc_dtype dt = dtypeOf(precision);
  auto q = roundTo(dt, randomFloats(c.B * c.Sq * D, seed, -2.f, 2.f));
  auto k = roundTo(dt, randomFloats(c.B * c.Sk * Dk, seed + 1, -2.f, 2.f));
  auto v = roundTo(dt, randomFloats(c.B * c.Sk * Dk, seed + 2));
  Arg mask = makeMask(c, seed + 3);
  std::vector<Arg> cpuArgs = {F32({c.B, c.Sq, D}, q), F32({c.B, c.Sk, Dk}, k),
                              F32({c.B, c.Sk, Dk}, v), mask};
  std::vector<Arg> gpuArgs = {toDtype(cpuArgs[0], dt), toDtype(cpuArgs[1], dt),
                              toDtype(cpuArgs[2], dt), mask};
  const float scale = 1.f / std::sqrt(float(c.dh));
  auto options = [&] {
    return opt::attention(int32_t(c.H), c.kind, scale, c.kvHeads, c.window, c.hidden);
  };
  RunResult ref = runKernel(K::Attention, cpuArgs, TFC_F32, {c.B, c.Sq, D}, options());
  ASSERT_EQ(ref.code, TFC_OK) << what << ": " << ref.message;
  RunResult got = runKernelOn(PlanTarget{fb::Target::Cuda, precision}, K::Attention, gpuArgs, dt,
                              {c.B, c.Sq, D}, options());
  ASSERT_EQ(got.code, TFC_OK) << what << ": " << got.message;
  ASSERT_EQ(got.dtype, dt) << what;
  const float tol = dt == TFC_F32 ? 1e-4f : dt == TFC_F16 ? 2e-3f : 8e-3f;
  const std::vector<float> r = ref.as<float>(), g = floatsOf(got);
  if (c.hideWholeRow) // the CPU gives zeros for a row that sees nothing: so must the GPU
    for (int64_t d = 0; d < D; ++d)
      ASSERT_EQ(g[size_t(d)], 0.f) << what << " (fully masked row) at " << d;
  expectCloseRel(g, r, tol, what);
}

const fb::DType kPrecisions[] = {fb::DType::F32, fb::DType::F16, fb::DType::BF16};

} // namespace

TEST(CudaAttention, CausalAndNonCausalOverSizesAndHeadDims) {
  TFC_REQUIRE_CUDA();
  uint32_t seed = 1;
  for (fb::DType p : kPrecisions)
    for (int64_t S : {1, 7, 65, 130})
      for (int64_t dh : {32, 64, 80, 128})
        for (fb::MaskKind kind : {fb::MaskKind::None, fb::MaskKind::Causal}) {
          check({2, S, S, 3, dh, kind}, p, seed += 10);
          if (HasFatalFailure())
            return;
        }
}

TEST(CudaAttention, PaddingMasksOfEveryForm) {
  TFC_REQUIRE_CUDA();
  uint32_t seed = 5000;
  for (fb::DType p : kPrecisions)
    for (MaskForm m : {MaskForm::Bool11Sk, MaskForm::F32_1SqSk, MaskForm::F32_HSqSk,
                       MaskForm::F32_SqSk})
      for (fb::MaskKind kind : {fb::MaskKind::Padding, fb::MaskKind::CausalPadding})
        for (int64_t S : {7, 65}) {
          check({3, S, S, 2, 64, kind, m}, p, seed += 10);
          if (HasFatalFailure())
            return;
        }
}

TEST(CudaAttention, FullyMaskedRowsGiveZeros) {
  TFC_REQUIRE_CUDA();
  uint32_t seed = 9000;
  for (fb::DType p : kPrecisions)
    for (MaskForm m : {MaskForm::Bool11Sk, MaskForm::F32_1SqSk, MaskForm::F32_SqSk}) {
      Case c{2, 9, 9, 2, 32, fb::MaskKind::Padding, m};
      c.hideWholeRow = true;
      check(c, p, seed += 10);
      if (HasFatalFailure())
        return;
    }
}

TEST(CudaAttention, CrossAttentionSqDiffersFromSk) {
  TFC_REQUIRE_CUDA();
  uint32_t seed = 12000;
  for (fb::DType p : kPrecisions)
    for (auto [sq, sk] : {std::pair<int64_t, int64_t>{1, 130}, {7, 65}, {65, 7}, {130, 33}})
      for (fb::MaskKind kind : {fb::MaskKind::None, fb::MaskKind::Padding,
                                fb::MaskKind::Causal}) {
        Case c{2, sq, sk, 4, 64, kind};
        if (kind == fb::MaskKind::Padding)
          c.mask = MaskForm::Bool11Sk;
        check(c, p, seed += 10);
        if (HasFatalFailure())
          return;
      }
}

TEST(CudaAttention, GroupedQueryWindowAndHiddenScore) {
  TFC_REQUIRE_CUDA();
  uint32_t seed = 15000;
  for (fb::DType p : kPrecisions) {
    Case gqa{2, 65, 65, 8, 64, fb::MaskKind::Causal};
    gqa.kvHeads = 2;
    check(gqa, p, seed += 10);
    Case window{2, 130, 130, 4, 32, fb::MaskKind::Causal};
    window.window = 16;
    check(window, p, seed += 10);
    Case hidden{2, 33, 33, 2, 64, fb::MaskKind::CausalPadding, MaskForm::F32_1SqSk};
    hidden.window = 8;
    hidden.hidden = -1e4f;
    check(hidden, p, seed += 10);
    Case large{1, 20, 20, 2, 160, fb::MaskKind::Causal}; // a head dim padded to 256
    check(large, p, seed += 10);
    if (HasFatalFailure())
      return;
  }
}

TEST(CudaAttention, NanScoreMakesItsRowNan) {
  TFC_REQUIRE_CUDA();
  // A NaN in q row (b 0, i 0) makes that output row NaN on the CPU; the GPU must agree, and the
  // other rows must stay finite.
  const int64_t B = 1, S = 5, H = 1, dh = 32, D = H * dh;
  auto q = randomFloats(B * S * D, 1), k = randomFloats(B * S * D, 2), v = randomFloats(B * S * D, 3);
  q[0] = std::numeric_limits<float>::quiet_NaN();
  std::vector<Arg> args = {F32({B, S, D}, q), F32({B, S, D}, k), F32({B, S, D}, v)};
  auto opts = [&] { return opt::attention(1, fb::MaskKind::None, 0.5f); };
  RunResult ref = runKernel(K::Attention, args, TFC_F32, {B, S, D}, opts());
  RunResult got = runKernelOn(PlanTarget{fb::Target::Cuda, fb::DType::F32}, K::Attention, args,
                              TFC_F32, {B, S, D}, opts());
  ASSERT_EQ(got.code, TFC_OK) << got.message;
  auto r = ref.as<float>(), g = got.as<float>();
  for (int64_t i = 0; i < S * D; ++i) {
    ASSERT_EQ(std::isnan(r[size_t(i)]), std::isnan(g[size_t(i)])) << "element " << i;
    if (!std::isnan(r[size_t(i)]))
      ASSERT_NEAR(g[size_t(i)], r[size_t(i)], 1e-4f) << "element " << i;
  }
  EXPECT_TRUE(std::isnan(g[0]));
}

TEST(CudaAttention, BadShapesFailWithTheCpuMessage) {
  TFC_REQUIRE_CUDA();
  // k's width does not fit num_heads: the shared check's message, naming the kernel.
  std::vector<Arg> args = {F32({1, 4, 16}, randomFloats(64, 1)), F32({1, 4, 12}, randomFloats(48, 2)),
                           F32({1, 4, 12}, randomFloats(48, 3))};
  RunResult got = runKernelOn(PlanTarget{fb::Target::Cuda, fb::DType::F32}, K::Attention, args,
                              TFC_F32, {1, 4, 16}, opt::attention(2, fb::MaskKind::None, 1.f));
  EXPECT_EQ(got.code, TFC_INVALID_ARGUMENT) << got.message;
  EXPECT_NE(got.message.find("kernel 'kernel_under_test' (Attention)"), std::string::npos)
      << got.message;
  EXPECT_NE(got.message.find("do not fit [B, Sq, D], [B, Sk, 16]"), std::string::npos)
      << got.message;
}
