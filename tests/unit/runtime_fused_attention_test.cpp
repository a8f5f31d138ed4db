//===- runtime_fused_attention_test.cpp - the blocked attention kernel against a plain loop ---===//
//
// runFusedAttention (runtime/src/cpu/FusedAttention.h) for every instruction set this CPU runs
// (AVX-512, AVX2, baseline) and 1 or 2 threads, against a reference written from the rule in
// Attention.cpp's banner, one query row at a time in double: key j of query i (i' = i + Sk - Sq)
// is hidden when causal and j > i', or with a window when j <= i' - window; a visible key scores
// scale q.k + mask, a hidden one is dropped or, with a hidden score F, scores F + mask (in
// float, as the graph computes it); the softmax runs over the keys that take part. A row whose
// every score is -inf (or that has no key) is zeros; a NaN score, or +inf, makes the row NaN.
// The cases cross the kernel's block edges: 32 query rows per task, 512 keys per block, head
// sizes that are not multiples of the vector widths (16, 8, 4). Each case also runs with q, k
// and v as column ranges of wider rows (packed projections, FusedAttentionProblem's strides).
//
//===----------------------------------------------------------------------------------------===//
#include "cpu/FusedAttention.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace {

using tfc::rt::FusedAttentionIsa;
using tfc::rt::FusedAttentionProblem;
using tfc::rt::FusedAttentionScratch;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kLowest = std::numeric_limits<float>::lowest();

enum class MaskType { None, BoolKeys, FloatRows, BoolSquare, FloatPerHead, FloatShared };

struct Case {
  std::string name;
  int64_t B, Sq, Sk, H, G, dh;
  bool causal = false;
  int64_t window = 0;
  bool hasHidden = false;
  MaskType mask = MaskType::None;
  float qScale = 1.f; // spreads the scores (exercises the online rescaling)
};

/// The mask's shape for a case ([B, 1, 1, Sk], [B, 1, Sq, Sk], [Sq, Sk], [B, H, Sq, Sk],
/// [1, 1, 1, Sk]).
std::vector<int64_t> maskShape(const Case &c) {
  switch (c.mask) {
  case MaskType::BoolKeys: return {c.B, 1, 1, c.Sk};
  case MaskType::FloatRows: return {c.B, 1, c.Sq, c.Sk};
  case MaskType::BoolSquare: return {c.Sq, c.Sk};
  case MaskType::FloatPerHead: return {c.B, c.H, c.Sq, c.Sk};
  case MaskType::FloatShared: return {1, 1, 1, c.Sk};
  default: return {};
  }
}

struct Inputs {
  std::vector<float> q, k, v, fmask;
  std::vector<uint8_t> bmask;
};

std::vector<float> uniform(size_t n, uint32_t seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> x(n);
  for (float &f : x)
    f = dist(rng);
  return x;
}

Inputs makeInputs(const Case &c, uint32_t seed) {
  Inputs in;
  in.q = uniform(size_t(c.B * c.Sq * c.H * c.dh), seed, -c.qScale, c.qScale);
  in.k = uniform(size_t(c.B * c.Sk * c.G * c.dh), seed + 1, -1.f, 1.f);
  in.v = uniform(size_t(c.B * c.Sk * c.G * c.dh), seed + 2, -1.f, 1.f);
  std::vector<int64_t> shape = maskShape(c);
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  if (c.mask == MaskType::BoolKeys || c.mask == MaskType::BoolSquare) {
    std::mt19937 rng(seed + 3);
    for (int64_t i = 0; i < n; ++i)
      in.bmask.push_back(rng() % 5 != 0); // about one key in five hidden
    if (c.mask == MaskType::BoolKeys && c.B > 1) // batch 1: only its first 3 keys
      for (int64_t j = 3; j < c.Sk; ++j)
        in.bmask[size_t(c.Sk + j)] = 0;
  } else if (shape.size()) {
    in.fmask = uniform(size_t(n), seed + 3, -3.f, 0.f);
    for (int64_t i = 0; i < n; i += 7)
      in.fmask[size_t(i)] = c.hasHidden ? kLowest : -kInf; // some keys hidden by the mask
  }
  return in;
}

/// NumPy broadcast of the mask to [B, H, Sq, Sk]: its view for the kernel.
tfc::rt::MaskView maskView(const Case &c, const Inputs &in) {
  tfc::rt::MaskView mv;
  std::vector<int64_t> shape = maskShape(c);
  if (shape.empty())
    return mv;
  mv.data = in.bmask.empty() ? static_cast<const void *>(in.fmask.data()) : in.bmask.data();
  mv.dtype = in.bmask.empty() ? TFC_F32 : TFC_BOOL;
  int64_t stride = 1;
  for (int i = 3; i >= 0; --i) {
    int j = i - (4 - int(shape.size()));
    int64_t d = j >= 0 ? shape[size_t(j)] : 1;
    mv.stride[i] = d == 1 ? 0 : stride;
    stride *= d;
  }
  return mv;
}

/// The mask value of (b, h, i, j) in additive form (bool: 0 or -inf).
float maskAt(const Case &c, const Inputs &in, const tfc::rt::MaskView &mv, int64_t b, int64_t h,
             int64_t i, int64_t j) {
  if (!mv.data)
    return 0.f;
  int64_t off = b * mv.stride[0] + h * mv.stride[1] + i * mv.stride[2] + j * mv.stride[3];
  if (mv.dtype == TFC_BOOL)
    return in.bmask[size_t(off)] ? 0.f : -kInf;
  return in.fmask[size_t(off)];
}

std::vector<float> reference(const Case &c, const Inputs &in, float scale, float hidden) {
  const int64_t D = c.H * c.dh, Dk = c.G * c.dh;
  const tfc::rt::MaskView mv = maskView(c, in);
  std::vector<float> o(size_t(c.B * c.Sq * D), 0.f);
  for (int64_t b = 0; b < c.B; ++b)
    for (int64_t h = 0; h < c.H; ++h) {
      const int64_t g = h / (c.H / c.G);
      for (int64_t i = 0; i < c.Sq; ++i) {
        const int64_t last = i + c.Sk - c.Sq;
        std::vector<double> s;
        std::vector<int64_t> keys;
        for (int64_t j = 0; j < c.Sk; ++j) {
          bool hid = (c.causal && j > last) || (c.causal && c.window > 0 && j <= last - c.window);
          float m = maskAt(c, in, mv, b, h, i, j);
          if (hid && !c.hasHidden)
            continue;
          double score;
          if (hid) {
            score = double(hidden + m);
          } else {
            double dot = 0;
            for (int64_t d = 0; d < c.dh; ++d)
              dot += double(in.q[size_t((b * c.Sq + i) * D + h * c.dh + d)]) *
                     in.k[size_t((b * c.Sk + j) * Dk + g * c.dh + d)];
            score = dot * scale + m;
          }
          s.push_back(score);
          keys.push_back(j);
        }
        float *out = o.data() + (b * c.Sq + i) * D + h * c.dh;
        double mx = -INFINITY;
        bool nan = false;
        for (double x : s) {
          nan |= std::isnan(x);
          if (!std::isnan(x))
            mx = std::max(mx, x);
        }
        if (nan || mx == INFINITY) {
          std::fill(out, out + c.dh, kNaN);
          continue;
        }
        if (mx == -INFINITY)
          continue; // every key hidden: zeros
        double sum = 0;
        for (double x : s)
          sum += std::exp(x - mx);
        for (int64_t d = 0; d < c.dh; ++d) {
          double acc = 0;
          for (size_t t = 0; t < keys.size(); ++t)
            acc += std::exp(s[t] - mx) / sum * in.v[size_t((b * c.Sk + keys[t]) * Dk + g * c.dh + d)];
          out[d] = float(acc);
        }
      }
    }
  return o;
}

/// NaN where the reference is NaN; else |got - ref| <= 2e-5 * max(1, max |ref|).
void expectMatches(const std::vector<float> &got, const std::vector<float> &ref,
                   const std::string &what, float tolerance = 2e-5f) {
  ASSERT_EQ(got.size(), ref.size()) << what;
  float mx = 1.f;
  for (float x : ref)
    if (!std::isnan(x))
      mx = std::max(mx, std::fabs(x));
  for (size_t i = 0; i < ref.size(); ++i) {
    if (std::isnan(ref[i])) {
      ASSERT_TRUE(std::isnan(got[i])) << what << " at element " << i << ": " << got[i];
      continue;
    }
    ASSERT_NEAR(got[i], ref[i], tolerance * mx) << what << " at element " << i;
  }
}

std::vector<FusedAttentionIsa> isas() {
  std::vector<FusedAttentionIsa> out;
  for (auto isa : {FusedAttentionIsa::Avx512, FusedAttentionIsa::Avx2, FusedAttentionIsa::Baseline})
    if (tfc::rt::fusedAttentionIsaAvailable(isa))
      out.push_back(isa);
  return out;
}

const char *isaName(FusedAttentionIsa isa) {
  switch (isa) {
  case FusedAttentionIsa::Avx512: return "avx512";
  case FusedAttentionIsa::Avx2: return "avx2";
  case FusedAttentionIsa::Baseline: return "baseline";
  default: return "best";
  }
}

/// What bf16 products may be off, relative to the reference's largest |value| (at least 1).
constexpr float kBf16Tolerance = 1e-2f;

/// Runs `c` with every instruction set and 1 and 2 threads, then with bf16 products; `edit` may
/// change the inputs.
void check(const Case &c, uint32_t seed, std::function<void(Inputs &)> edit = {}) {
  Inputs in = makeInputs(c, seed);
  if (edit)
    edit(in);
  const float scale = 1.f / std::sqrt(float(c.dh)), hidden = kLowest;
  const std::vector<float> ref = reference(c, in, scale, hidden);
  FusedAttentionProblem p;
  p.q = in.q.data(), p.k = in.k.data(), p.v = in.v.data();
  p.B = c.B, p.Sq = c.Sq, p.Sk = c.Sk, p.H = c.H, p.G = c.G, p.dh = c.dh;
  p.scale = scale, p.causal = c.causal;
  p.rule.kvHeads = c.G, p.rule.window = c.window;
  p.rule.hasHidden = c.hasHidden, p.rule.hidden = c.hasHidden ? hidden : 0.f;
  p.mask = maskView(c, in);
  FusedAttentionScratch scratch; // shared by the runs: it must not carry anything over
  for (FusedAttentionIsa isa : isas())
    for (int threads : {1, 2}) {
      std::vector<float> o(ref.size(), 12345.f);
      p.o = o.data();
      tfc::rt::runFusedAttention(p, scratch, threads, isa);
      expectMatches(o, ref, c.name + " " + isaName(isa) + " threads " + std::to_string(threads));
    }
  // Packed projections (plan 2.5): the same q, k, v as column ranges of wider rows, read in
  // place with the rows' widths as strides. With Sq == Sk one buffer holds all three (a fused
  // q/k/v projection, with columns before and after them); else q has its own wider rows and
  // k, v share one buffer (a fused k/v projection of a cross-attention).
  const int64_t D = c.H * c.dh, Dk = c.G * c.dh;
  std::vector<float> qRows, kvRows;
  auto place = [](std::vector<float> &dst, int64_t width, int64_t col, const std::vector<float> &src,
                  int64_t rows, int64_t cols) {
    for (int64_t r = 0; r < rows; ++r)
      std::copy(src.begin() + r * cols, src.begin() + (r + 1) * cols, dst.begin() + r * width + col);
  };
  if (c.Sq == c.Sk) {
    const int64_t W = 3 + D + 2 * Dk + 2;
    qRows.assign(size_t(c.B * c.Sq * W), -7.f);
    place(qRows, W, 3, in.q, c.B * c.Sq, D);
    place(qRows, W, 3 + D, in.k, c.B * c.Sk, Dk);
    place(qRows, W, 3 + D + Dk, in.v, c.B * c.Sk, Dk);
    p.q = qRows.data() + 3, p.k = qRows.data() + 3 + D, p.v = qRows.data() + 3 + D + Dk;
    p.qs = p.ks = p.vs = W;
  } else {
    const int64_t Wq = D + 5, Wkv = 1 + 2 * Dk;
    qRows.assign(size_t(c.B * c.Sq * Wq), -7.f);
    kvRows.assign(size_t(c.B * c.Sk * Wkv), -7.f);
    place(qRows, Wq, 2, in.q, c.B * c.Sq, D);
    place(kvRows, Wkv, 1 + Dk, in.k, c.B * c.Sk, Dk); // v before k
    place(kvRows, Wkv, 1, in.v, c.B * c.Sk, Dk);
    p.q = qRows.data() + 2, p.k = kvRows.data() + 1 + Dk, p.v = kvRows.data() + 1;
    p.qs = Wq, p.ks = p.vs = Wkv;
  }
  for (FusedAttentionIsa isa : isas()) {
    std::vector<float> o(ref.size(), 12345.f);
    p.o = o.data();
    tfc::rt::runFusedAttention(p, scratch, 2, isa);
    expectMatches(o, ref, c.name + " packed " + isaName(isa));
  }
  // A KV cache's layout ([B][G][positions][dh], CachedAttention's prompt): k and v with head
  // and batch strides, the positions past Sk NaN (a read past the keys would show).
  const int64_t P = c.Sk + 3;
  std::vector<float> kc(size_t(c.B * c.G * P * c.dh), kNaN), vc(kc.size(), kNaN);
  for (int64_t b = 0; b < c.B; ++b)
    for (int64_t g = 0; g < c.G; ++g)
      for (int64_t j = 0; j < c.Sk; ++j)
        for (int64_t d = 0; d < c.dh; ++d) {
          const size_t from = size_t((b * c.Sk + j) * Dk + g * c.dh + d);
          const size_t to = size_t(((b * c.G + g) * P + j) * c.dh + d);
          kc[to] = in.k[from], vc[to] = in.v[from];
        }
  FusedAttentionProblem pc = p;
  pc.q = in.q.data(), pc.qs = 0;
  pc.k = kc.data(), pc.v = vc.data(), pc.ks = pc.vs = c.dh;
  pc.kHeadStride = pc.vHeadStride = P * c.dh;
  pc.kBatchStride = pc.vBatchStride = c.G * P * c.dh;
  for (FusedAttentionIsa isa : isas()) {
    std::vector<float> o(ref.size(), 12345.f);
    pc.o = o.data();
    tfc::rt::runFusedAttention(pc, scratch, 2, isa);
    expectMatches(o, ref, c.name + " cache layout " + isaName(isa));
  }
  // bf16 products (where the CPU has them): q, k, v and the weights rounded to bf16 (8
  // significant bits), so within a few percent of the f32 reference's largest value; the
  // rules, masks, NaN and zero rows exactly as in f32. The packed inputs, then the plain ones.
  if (!tfc::rt::fusedAttentionBf16Available())
    return;
  p.bf16 = true;
  for (int threads : {1, 2}) {
    std::vector<float> o(ref.size(), 12345.f);
    p.o = o.data();
    tfc::rt::runFusedAttention(p, scratch, threads);
    expectMatches(o, ref, c.name + " bf16 packed threads " + std::to_string(threads), kBf16Tolerance);
  }
  p.q = in.q.data(), p.k = in.k.data(), p.v = in.v.data();
  p.qs = p.ks = p.vs = 0;
  std::vector<float> o(ref.size(), 12345.f);
  p.o = o.data();
  tfc::rt::runFusedAttention(p, scratch, 2);
  expectMatches(o, ref, c.name + " bf16", kBf16Tolerance);
  pc.bf16 = true;
  pc.o = o.data();
  tfc::rt::runFusedAttention(pc, scratch, 2);
  expectMatches(o, ref, c.name + " bf16 cache layout", kBf16Tolerance);
}

TEST(FusedAttention, PlainHeadsAndHeadSizes) {
  uint32_t seed = 10;
  for (int64_t dh : {1, 6, 20, 32, 40, 64, 80, 128})
    check({"dh" + std::to_string(dh), 2, 37, 37, 3, 3, dh}, seed += 4);
  check({"Sq 1", 1, 1, 45, 4, 4, 16}, seed += 4);
  check({"Sq > Sk", 1, 70, 9, 2, 2, 24}, seed += 4);
  check({"one key", 2, 5, 1, 2, 2, 8}, seed += 4);
}

TEST(FusedAttention, MasksBroadcastEveryWay) {
  uint32_t seed = 100;
  for (MaskType m : {MaskType::BoolKeys, MaskType::FloatRows, MaskType::BoolSquare,
                     MaskType::FloatPerHead, MaskType::FloatShared}) {
    std::string name = "mask " + std::to_string(int(m));
    check({name, 2, 33, 40, 4, 4, 16, false, 0, false, m}, seed += 4);
    check({name + " causal", 2, 33, 40, 4, 4, 16, true, 0, false, m}, seed += 4);
  }
}

TEST(FusedAttention, CausalOffsetsAndLongKeys) {
  uint32_t seed = 200;
  // Several key blocks (512 each), the causal offset Sk - Sq, scores spread wide so that a
  // later block's max exceeds an earlier one's.
  check({"causal 700", 1, 700, 700, 2, 2, 32, true, 0, false, MaskType::None, 4.f}, seed += 4);
  check({"causal 40 of 1100", 1, 40, 1100, 2, 1, 24, true, 0, false, MaskType::BoolKeys, 3.f},
        seed += 4);
  check({"full 1030", 2, 35, 1030, 2, 2, 20, false, 0, false, MaskType::FloatRows, 3.f},
        seed += 4);
}

TEST(FusedAttention, WindowsGroupedHeadsAndHiddenScore) {
  uint32_t seed = 300;
  check({"gqa", 2, 40, 40, 8, 2, 16, true}, seed += 4);
  check({"mqa", 1, 33, 33, 4, 1, 40}, seed += 4);
  check({"window 3", 2, 9, 9, 4, 2, 8, true, 3}, seed += 4);
  check({"window 100 of 600", 1, 600, 600, 2, 1, 32, true, 100}, seed += 4);
  check({"window 100 of 600 padded", 2, 90, 600, 2, 2, 16, true, 100, false, MaskType::FloatRows},
        seed += 4);
  // With a hidden score every key takes part (hidden ones scoring finfo.min + mask).
  check({"hidden", 2, 12, 12, 2, 1, 16, true, 4, true, MaskType::FloatShared}, seed += 4);
  check({"hidden long", 1, 40, 600, 2, 2, 32, true, 50, true, MaskType::FloatRows}, seed += 4);
}

TEST(FusedAttention, HiddenRowsAreZerosAndNaNSpreads) {
  // Batch 1's bool mask keeps keys 0-2 only; its mask rows are shared by the queries.
  Case c{"keys", 2, 40, 600, 2, 2, 16, false, 0, false, MaskType::BoolKeys};
  check(c, 400, [&](Inputs &in) {
    for (int64_t j = 0; j < c.Sk; ++j)
      in.bmask[size_t(j)] = 0; // batch 0: every key hidden -> zeros
  });
  // A NaN in one query: that row (of head 0) is NaN. A NaN in a key of the second block: every
  // row that sees it is NaN (the rows before it, under the causal rule, are not).
  Case n{"nan", 1, 600, 600, 2, 2, 16, true};
  check(n, 410, [&](Inputs &in) {
    in.q[size_t(5 * n.H * n.dh + 3)] = kNaN;
    in.k[size_t(550 * n.G * n.dh + n.dh + 1)] = kNaN; // key 550, head 1
  });
  // Without the causal rule (the score tiles scale and mask the rows themselves): a NaN in a key
  // of the second block makes every row of its head NaN; the other head is untouched.
  Case full{"nan full", 1, 50, 600, 2, 2, 16};
  check(full, 415, [&](Inputs &in) { in.k[size_t(550 * full.G * full.dh + full.dh + 1)] = kNaN; });
  Case shared{"nan shared mask", 2, 20, 45, 2, 2, 16, false, 0, false, MaskType::FloatShared};
  check(shared, 417, [&](Inputs &in) { in.q[size_t(3 * shared.H * shared.dh)] = kNaN; });
  // +inf in a float mask makes the row NaN (inf - inf), as the graph would.
  Case f{"inf", 1, 4, 6, 1, 1, 8, false, 0, false, MaskType::FloatRows};
  check(f, 420, [&](Inputs &in) { in.fmask[2] = kInf; });
  // A row of -inf mask values only is zeros (a NaN score among them would make it NaN).
  check(f, 430, [&](Inputs &in) {
    for (int64_t j = 0; j < f.Sk; ++j)
      in.fmask[size_t(f.Sk + j)] = -kInf;
  });
}

TEST(FusedAttention, PaddingTailsAreSkippedOnlyWhereTheirWeightsAreZero) {
  // A shared float mask whose last keys carry a frontend's -1e9 (the kernel cuts them: every
  // weight there is exactly 0), then the same with what must keep them: a NaN value in the
  // tail (0 * NaN is NaN), a tail key so large that it outscores the mask (its weight is not
  // 0), a mask whose tail is only -10 (not a padding tail at all).
  Case c{"tail -1e9", 2, 30, 70, 2, 2, 16, false, 0, false, MaskType::FloatShared};
  auto tail = [&](Inputs &in, float value) {
    for (int64_t j = 0; j < c.Sk; ++j)
      in.fmask[size_t(j)] = j < 20 ? std::max(in.fmask[size_t(j)], -3.f) : value;
  };
  check(c, 500, [&](Inputs &in) { tail(in, -1e9f); });
  check(c, 510, [&](Inputs &in) {
    tail(in, -1e9f);
    in.v[size_t((1 * c.Sk + 50) * c.G * c.dh + 3)] = kNaN; // batch 1, key 50, head 0
  });
  check(c, 520, [&](Inputs &in) {
    tail(in, -1e4f);
    for (int64_t d = 0; d < c.dh; ++d) // batch 0, key 60, head 1: k = 40000 q (scores ~5e4)
      in.k[size_t(60 * c.G * c.dh + c.dh + d)] = 40000.f * in.q[size_t(7 * c.H * c.dh + c.dh + d)];
  });
  check(c, 530, [&](Inputs &in) { tail(in, -10.f); });
  // Causal, a bool mask: batch 1 keeps keys 0-2 only (makeInputs), batch 0 a random set.
  check({"tail causal", 2, 40, 40, 2, 1, 32, true, 0, false, MaskType::BoolKeys}, 540);
  check({"tail long", 2, 20, 600, 2, 2, 16, false, 0, false, MaskType::BoolKeys}, 550);
}

} // namespace
