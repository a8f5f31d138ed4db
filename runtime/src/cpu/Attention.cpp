//===- Attention.cpp - fused multi-head scaled dot-product attention ---------------------------===//
//
// o[b, :, h*dh:(h+1)*dh] = softmax(scale * Q_bh K_bg^T + mask) V_bg for q [B, Sq, D] and k, v
// [B, Sk, G*dh], g = h / (H / G) (G = num_kv_heads: grouped-query attention; G = H without it).
// Options: AttentionOptions {num_heads, mask, scale, num_kv_heads (0: H), window (0: none),
// hidden_score (NaN: none)} (AttentionRule, attentionRow).
// Semantics: key j is hidden from query i when causal and j > i + Sk - Sq, or, with a window,
// when j <= i + Sk - Sq - window; a visible key scores scale q.k + mask (bool: keep where true;
// float: added; any broadcast to [B, H, Sq, Sk]); a hidden key is dropped, or, with a hidden
// score F, scores F + mask; softmax over the keys that take part. A row with every key hidden
// gives zeros; a NaN score makes its row NaN (as in ONNX Runtime and PyTorch).
// With packed projections (AttentionOptions.head_dim > 0, plan 2.5) q, k and v are wider than
// their heads (one fused q/k/v projection): the heads are column ranges, read in place with the
// inputs' widths as row strides (AttentionGeometry).
// Q, K and V are read in place by the blocked kernel of FusedAttention.h (one parallel region:
// per head and block of query rows, QK^T, the rules above, an online softmax and PV; its
// scratch lives in the session). TFC_ATTENTION=onednn (for measurements) runs the earlier
// path instead: per batch, two oneDNN matmuls that see the heads through strided descriptors
// (Q as [H, Sq, dh] with strides {dh, D, 1}, K^T as [H, dh, Sk] with strides {dh, 1, D}; P V
// writes each head's columns of o), with a pass of softmax rows (attentionRow) between them
// over an [H, Sq, Sk] score scratch (docs/BENCHMARKS.md, "Encoder speed", compares them).
// With the session capturing attention weights (AttentionCapture.h), a separate pass writes the
// softmax rows (recordAttentionWeights) before the kernel runs: the blocked kernel is untouched.
//
//===----------------------------------------------------------------------------------------===//
#include "AttentionCapture.h"
#include "AttentionGeometry.h"
#include "cpu/Common.h"
#include "cpu/CpuBackend.h"
#include "cpu/Dnnl.h"
#include "cpu/FusedAttention.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <omp.h>
#include <limits>

namespace tfc::rt {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

using MaskKind = tfc::plan::MaskKind;
using tfc::plan::AttentionOptionsT;

/// The oneDNN path's views: q rows qs floats apart, k rows ks, v rows vs (packed projections:
/// wider than the heads), o rows d.
struct AttentionShapes {
  int64_t sq, sk, d, h, g, qs, ks, vs;
  memory::desc q, kt, scores, v, o;
  AttentionShapes(int64_t sq, int64_t sk, int64_t d, int64_t h, int64_t g, int64_t qs,
                  int64_t ks, int64_t vs)
      : sq(sq), sk(sk), d(d), h(h), g(g), qs(qs), ks(ks), vs(vs) {
    int64_t dh = d / h;
    if (g == h) {
      q = memory::desc({h, sq, dh}, dt::f32, memory::dims{dh, qs, 1});
      kt = memory::desc({h, dh, sk}, dt::f32, memory::dims{dh, 1, ks});
      scores = memory::desc({h, sq, sk}, dt::f32, tag::abc);
      v = memory::desc({h, sk, dh}, dt::f32, memory::dims{dh, vs, 1});
      o = memory::desc({h, sq, dh}, dt::f32, memory::dims{dh, d, 1});
      return;
    }
    // Grouped-query: heads as [G, H/G]; K and V broadcast over the second batch dim.
    int64_t n = h / g;
    q = memory::desc({g, n, sq, dh}, dt::f32, memory::dims{n * dh, dh, qs, 1});
    kt = memory::desc({g, 1, dh, sk}, dt::f32, memory::dims{dh, dh, 1, ks});
    scores = memory::desc({g, n, sq, sk}, dt::f32, tag::abcd);
    v = memory::desc({g, 1, sk, dh}, dt::f32, memory::dims{dh, dh, vs, 1});
    o = memory::desc({g, n, sq, dh}, dt::f32, memory::dims{n * dh, dh, d, 1});
  }
};

struct AttentionState : KernelState {
  struct Entry {
    AttentionShapes shapes;
    int threads;
    dnnl::matmul qk, pv;
  };
  std::vector<Entry> cache;
  std::vector<float> scores;
  std::vector<float> maskRows; // sk floats per thread
  FusedAttentionScratch fused; // the default path's scratch

  Entry &get(DnnlEnv &env, int64_t sq, int64_t sk, int64_t d, int64_t h, int64_t g,
             int64_t qs, int64_t ks, int64_t vs, int threads) {
    for (auto &e : cache)
      if (e.shapes.sq == sq && e.shapes.sk == sk && e.shapes.d == d && e.shapes.h == h &&
          e.shapes.g == g && e.shapes.qs == qs && e.shapes.ks == ks && e.shapes.vs == vs &&
          e.threads == threads)
        return e;
    AttentionShapes s(sq, sk, d, h, g, qs, ks, vs);
    dnnl::matmul qk(dnnl::matmul::primitive_desc(dnnl::matmul::desc(s.q, s.kt, s.scores), env.engine));
    dnnl::matmul pv(dnnl::matmul::primitive_desc(dnnl::matmul::desc(s.scores, s.v, s.o), env.engine));
    cache.push_back({s, threads, qk, pv});
    return cache.back();
  }
};

/// The mask as a view broadcast to [B, H, Sq, Sk]: element (b, h, i, j) at
/// b*stride[0] + h*stride[1] + i*stride[2] + j*stride[3].
/// Scale, mask, causal rule and softmax on the score row of (batch b, head hh, query i), in
/// place; `tmp` holds sk floats (a mask row converted to additive form).
inline void softmaxRow(float *row, int64_t b, int64_t hh, int64_t i, int64_t sq, int64_t sk,
                       float scale, bool causal, const AttentionRule &rule,
                       const MaskView &mask, float *tmp) {
  // Keys [lo, n) are visible to the causal and window rules.
  int64_t last = i + (sk - sq);  // the query's own key position
  int64_t n = causal ? std::clamp<int64_t>(last + 1, 0, sk) : sk;
  int64_t lo = causal && rule.window > 0 ? std::clamp<int64_t>(last + 1 - rule.window, 0, n) : 0;
  const float *add = maskRow(mask, b, hh, i, rule.hasHidden ? sk : n, tmp);
  attentionRow(row, sk, lo, n, scale, add, rule);
}

/// softmaxRow on all [h, sq, sk] scores of batch b; `scratch` holds sk floats per thread.
void softmaxRows(float *scores, int64_t h, int64_t sq, int64_t sk, float scale, bool causal,
                 const AttentionRule &rule, const MaskView &mask, int64_t b, float *scratch) {
#pragma omp parallel if (h * sq * sk >= 16384)
  {
    float *tmp = scratch + size_t(omp_get_thread_num()) * size_t(sk);
#pragma omp for schedule(static)
    for (int64_t r = 0; r < h * sq; ++r)
      softmaxRow(scores + r * sk, b, r / sq, r % sq, sq, sk, scale, causal, rule, mask, tmp);
  }
}


/// On request (ctx.attention): the probabilities of every (batch, head, query) row, computed
/// apart from the kernel (which keeps no score matrix): the row's dot products q.k over every
/// key, then softmaxRow, the rules of the oneDNN path. Costs one QK^T more, only when asked.
void recordAttentionWeights(const KernelContext &ctx, const AttentionGeometry &geo) {
  const int64_t B = geo.B, H = geo.H, Sq = geo.Sq, Sk = geo.Sk, dh = geo.dh, G = geo.G;
  float *w = ctx.attention->add(ctx.k->name, B, H, Sq, Sk);
  if (geo.emptyOutput() || Sk == 0)
    return;
  const float *q = ctx.in(0)->as<float>() + geo.qCol, *k = ctx.in(1)->as<float>() + geo.kCol;
#pragma omp parallel if (B * H * Sq * Sk * dh >= 32768)
  {
    std::vector<float> tmp(static_cast<size_t>(Sk));
#pragma omp for schedule(static)
    for (int64_t t = 0; t < B * H * Sq; ++t) {
      const int64_t b = t / (H * Sq), h = (t / Sq) % H, i = t % Sq, g = h / (H / G);
      const float *qi = q + (b * Sq + i) * geo.qStride + h * dh;
      float *row = w + t * Sk;
      for (int64_t j = 0; j < Sk; ++j) {
        const float *kj = k + (b * Sk + j) * geo.kStride + g * dh;
        float acc = 0.f;
        for (int64_t d = 0; d < dh; ++d)
          acc += qi[d] * kj[d];
        row[j] = acc;
      }
      softmaxRow(row, b, h, i, Sq, Sk, geo.scale, geo.causal, geo.rule, geo.mask, tmp.data());
    }
  }
}

/// TFC_ATTENTION=onednn runs the oneDNN path (see the banner) instead of the blocked kernel.
bool useOneDnn() {
  static const bool on = [] {
    const char *e = std::getenv("TFC_ATTENTION");
    return e && std::string(e) == "onednn";
  }();
  return on;
}

} // namespace

std::string unsupportedAttention(const FunctionDesc &, const KernelDesc &k) {
  return unsupportedAttentionFeatures(k, options<AttentionOptionsT>(k));
}

std::string checkAttention(const FunctionDesc &fn, const KernelDesc &k) {
  const AttentionOptionsT &o = options<AttentionOptionsT>(k);
  if (o.num_heads <= 0)
    return format("num_heads is %d", o.num_heads);
  if (!isKnownEnumValue(o.mask))
    return format("unknown MaskKind %d", int(o.mask));
  if (std::string e = checkAttentionRule(o.num_heads, o.num_kv_heads, o.window); !e.empty())
    return e;
  if (o.head_dim < 0 || o.q_column < 0 || o.k_column < 0 || o.v_column < 0)
    return format("head_dim %d and columns %d, %d, %d must not be negative", o.head_dim,
                  o.q_column, o.k_column, o.v_column);
  if (o.head_dim == 0 && (o.q_column || o.k_column || o.v_column))
    return format("columns %d, %d, %d need a head_dim", o.q_column, o.k_column, o.v_column);
  static const char *names[] = {"q", "k", "v"};
  for (size_t i = 0; i < 3; ++i) {
    std::string e = expectDtype(fn, k, i, names[i], {TFC_F32});
    if (!e.empty())
      return e;
    if (fn.values[k.inputs[i]].rank != 3)
      return format("input '%s' (%s) has rank %d, expected 3 ([B, S, D])",
                    fn.values[k.inputs[i]].name.c_str(), names[i], fn.values[k.inputs[i]].rank);
  }
  bool padding = o.mask == MaskKind::Padding || o.mask == MaskKind::CausalPadding;
  if (padding && !hasInput(k, 3))
    return "mask kind padding needs a mask input";
  if (hasInput(k, 3)) {
    std::string e = expectDtype(fn, k, 3, "mask", {TFC_F32, TFC_BOOL});
    if (!e.empty())
      return e;
    if (fn.values[k.inputs[3]].rank > 4)
      return format("mask '%s' has rank %d, above 4", fn.values[k.inputs[3]].name.c_str(),
                    fn.values[k.inputs[3]].rank);
  }
  return expectOutDtype(fn, k, 0, {TFC_F32});
}

namespace {

/// The oneDNN path (TFC_ATTENTION=onednn): per batch, QK^T, the softmax rows, P V.
void runOneDnnAttention(const KernelContext &ctx, const AttentionGeometry &geo,
                        AttentionState &st) {
  const Tensor &q = *ctx.in(0), &kk = *ctx.in(1), &v = *ctx.in(2);
  Tensor &o = ctx.out(0);
  const int64_t H = geo.H, G = geo.G, B = geo.B, Sq = geo.Sq, D = geo.D, Sk = geo.Sk;
  const int threads = cpuDevice(ctx).threads();
  DnnlEnv &env = cpuDevice(ctx).dnnl();
  size_t need = size_t(H * Sq * Sk);
  if (st.scores.size() < need)
    st.scores.resize(need);
  float *scores = st.scores.data();
  size_t needMask = size_t(std::max(threads, omp_get_max_threads())) * size_t(Sk);
  if (st.maskRows.size() < needMask)
    st.maskRows.resize(needMask);
  auto &e = st.get(env, Sq, Sk, D, H, G, geo.qStride, geo.kStride, geo.vStride, threads);
  const AttentionShapes &s = e.shapes;
  memory mScores(s.scores, env.engine, scores);
  for (int64_t b = 0; b < B; ++b) {
    memory mq(s.q, env.engine, q.as<float>() + geo.qCol + b * Sq * geo.qStride);
    memory mk(s.kt, env.engine, kk.as<float>() + geo.kCol + b * Sk * geo.kStride);
    e.qk.execute(env.stream, {{DNNL_ARG_SRC, mq}, {DNNL_ARG_WEIGHTS, mk}, {DNNL_ARG_DST, mScores}});
    env.stream.wait();
    softmaxRows(scores, H, Sq, Sk, geo.scale, geo.causal, geo.rule, geo.mask, b,
                st.maskRows.data());
    memory mv(s.v, env.engine, v.as<float>() + geo.vCol + b * Sk * geo.vStride);
    memory mo(s.o, env.engine, o.as<float>() + b * Sq * D);
    e.pv.execute(env.stream, {{DNNL_ARG_SRC, mScores}, {DNNL_ARG_WEIGHTS, mv}, {DNNL_ARG_DST, mo}});
    env.stream.wait();
  }
}

} // namespace

void runAttention(const KernelContext &ctx) {
  const AttentionGeometry geo = attentionGeometry(ctx);
  Tensor &o = ctx.out(0);
  if (geo.emptyOutput() || geo.Sk == 0) {
    if (ctx.attention) // an empty record: what ran, with its shape
      ctx.attention->add(ctx.k->name, geo.B, geo.H, geo.Sq, geo.Sk);
    if (!geo.emptyOutput())
      std::memset(o.data, 0, o.bytes());
    return;
  }
  if (ctx.attention)
    recordAttentionWeights(ctx, geo);
  auto &st = ctx.stateAs<AttentionState>();
  if (useOneDnn())
    return runOneDnnAttention(ctx, geo, st);
  FusedAttentionProblem p;
  p.q = ctx.in(0)->as<float>() + geo.qCol, p.k = ctx.in(1)->as<float>() + geo.kCol;
  p.v = ctx.in(2)->as<float>() + geo.vCol;
  p.o = o.as<float>();
  p.B = geo.B, p.Sq = geo.Sq, p.Sk = geo.Sk, p.H = geo.H, p.G = geo.G, p.dh = geo.dh;
  p.qs = geo.qStride, p.ks = geo.kStride, p.vs = geo.vStride;
  p.scale = geo.scale, p.causal = geo.causal, p.rule = geo.rule, p.mask = geo.mask;
  p.bf16 = lowPrecisionPlan(ctx);
  runFusedAttention(p, st.fused, cpuDevice(ctx).threads());
}

} // namespace tfc::rt
