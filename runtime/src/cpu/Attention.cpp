//===- Attention.cpp - fused multi-head scaled dot-product attention ---------------------------===//
//
// o[b, :, h*dh:(h+1)*dh] = softmax(scale * Q_bh K_bg^T + mask) V_bg for q [B, Sq, D] and k, v
// [B, Sk, G*dh], g = h / (H / G) (G = num_kv_heads: grouped-query attention; G = H without it).
// Options: AttentionOptions {num_heads, mask, scale, num_kv_heads (0: H), window (0: none),
// hidden_score (NaN: none)} (AttentionRule, attentionRow).
// Q, K and V are read in place: per batch, oneDNN matmuls see the heads through
// strided memory descriptors (Q as [H, Sq, dh] with strides {dh, D, 1}, K^T as [H, dh, Sk] with
// strides {dh, 1, D}), and P V writes each head's columns of o directly. Between the two, one
// pass per score row applies the scale, the mask (bool: keep where true; float: added; any
// broadcast to [B, H, Sq, Sk]) and the causal rule (key j hidden for query i when
// j > i + Sk - Sq), then the softmax. A row with every key hidden gives zeros; a NaN score
// makes its row NaN (as in ONNX Runtime and PyTorch). The score scratch
// ([H, Sq, Sk] floats) and the primitives (per Sq, Sk, D, H, threads) live in the session.
//
//===----------------------------------------------------------------------------------------===//
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

struct AttentionShapes {
  int64_t sq, sk, d, h, g;
  memory::desc q, kt, scores, v, o;
  AttentionShapes(int64_t sq, int64_t sk, int64_t d, int64_t h, int64_t g)
      : sq(sq), sk(sk), d(d), h(h), g(g) {
    int64_t dh = d / h;
    if (g == h) {
      q = memory::desc({h, sq, dh}, dt::f32, memory::dims{dh, d, 1});
      kt = memory::desc({h, dh, sk}, dt::f32, memory::dims{dh, 1, d});
      scores = memory::desc({h, sq, sk}, dt::f32, tag::abc);
      v = memory::desc({h, sk, dh}, dt::f32, memory::dims{dh, d, 1});
      o = memory::desc({h, sq, dh}, dt::f32, memory::dims{dh, d, 1});
      return;
    }
    // Grouped-query: heads as [G, H/G]; K and V broadcast over the second batch dim.
    int64_t n = h / g, dk = g * dh;
    q = memory::desc({g, n, sq, dh}, dt::f32, memory::dims{n * dh, dh, d, 1});
    kt = memory::desc({g, 1, dh, sk}, dt::f32, memory::dims{dh, dh, 1, dk});
    scores = memory::desc({g, n, sq, sk}, dt::f32, tag::abcd);
    v = memory::desc({g, 1, sk, dh}, dt::f32, memory::dims{dh, dh, dk, 1});
    o = memory::desc({g, n, sq, dh}, dt::f32, memory::dims{n * dh, dh, d, 1});
  }
};

/// Per-head variant: one (batch, head) per thread at a time, its QK^T, softmax and PV done by
/// single-threaded primitives while the [Sq, Sk] scores stay in the thread's cache.
struct HeadPrimitives {
  int64_t sq, sk, d, h, g;
  int threads;
  memory::desc q, kt, s, v, o;
  dnnl::matmul qk, pv;
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
  std::vector<HeadPrimitives> heads;
  std::vector<dnnl::stream> streams; // one per thread (per-head variant)
  std::vector<float> headScores;     // sq*sk floats per thread (per-head variant)
  FusedAttentionScratch fused;       // the default path's scratch

  HeadPrimitives &getHeads(DnnlEnv &env, int64_t sq, int64_t sk, int64_t d, int64_t h,
                           int64_t g, int threads) {
    for (auto &e : heads)
      if (e.sq == sq && e.sk == sk && e.d == d && e.h == h && e.g == g && e.threads == threads)
        return e;
    int64_t dh = d / h, dk = g * dh;
    HeadPrimitives p;
    p.sq = sq, p.sk = sk, p.d = d, p.h = h, p.g = g, p.threads = threads;
    p.q = memory::desc({sq, dh}, dt::f32, memory::dims{d, 1});
    p.kt = memory::desc({dh, sk}, dt::f32, memory::dims{1, dk});
    p.s = memory::desc({sq, sk}, dt::f32, tag::ab);
    p.v = memory::desc({sk, dh}, dt::f32, memory::dims{dk, 1});
    p.o = memory::desc({sq, dh}, dt::f32, memory::dims{d, 1});
    // Created for one thread: they run inside this kernel's own parallel loop.
    omp_set_num_threads(1);
    p.qk = dnnl::matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(p.q, p.kt, p.s), env.engine));
    p.pv = dnnl::matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(p.s, p.v, p.o), env.engine));
    omp_set_num_threads(threads);
    heads.push_back(p);
    while (int(streams.size()) < threads)
      streams.emplace_back(env.engine);
    return heads.back();
  }

  Entry &get(DnnlEnv &env, int64_t sq, int64_t sk, int64_t d, int64_t h, int64_t g,
             int threads) {
    for (auto &e : cache)
      if (e.shapes.sq == sq && e.shapes.sk == sk && e.shapes.d == d && e.shapes.h == h &&
          e.shapes.g == g && e.threads == threads)
        return e;
    AttentionShapes s(sq, sk, d, h, g);
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


/// Which implementation runs: the blocked kernel (FusedAttention.h, the default), or for
/// measurements the two oneDNN matmuls per batch (TFC_ATTENTION=onednn) or per head
/// (TFC_ATTENTION=per-head, or the older TFC_ATTENTION_PER_HEAD=1).
enum class AttentionPath { Fused, OneDnn, PerHead };

AttentionPath attentionPath() {
  static const AttentionPath path = [] {
    const char *e = std::getenv("TFC_ATTENTION");
    const char *perHead = std::getenv("TFC_ATTENTION_PER_HEAD");
    if ((e && std::string(e) == "per-head") || (perHead && *perHead == '1'))
      return AttentionPath::PerHead;
    if (e && std::string(e) == "onednn")
      return AttentionPath::OneDnn;
    return AttentionPath::Fused;
  }();
  return path;
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

void runAttention(const KernelContext &ctx) {
  const AttentionGeometry geo = attentionGeometry(ctx);
  const Tensor &q = *ctx.in(0), &kk = *ctx.in(1), &v = *ctx.in(2);
  const int64_t H = geo.H, G = geo.G, B = geo.B, Sq = geo.Sq, D = geo.D, Sk = geo.Sk;
  const int64_t Dk = geo.Dk;
  const float scale = geo.scale;
  const AttentionRule &rule = geo.rule;
  const MaskView &mv = geo.mask;
  const bool causal = geo.causal;
  Tensor &o = ctx.out(0);
  if (geo.emptyOutput())
    return;
  if (Sk == 0) {
    std::memset(o.data, 0, o.bytes());
    return;
  }

  const int threads = cpuDevice(ctx).threads();
  auto &st = ctx.stateAs<AttentionState>();
  if (attentionPath() == AttentionPath::Fused) {
    FusedAttentionProblem p;
    p.q = q.as<float>(), p.k = kk.as<float>(), p.v = v.as<float>(), p.o = o.as<float>();
    p.B = B, p.Sq = Sq, p.Sk = Sk, p.H = H, p.G = G, p.dh = geo.dh;
    p.scale = scale, p.causal = causal, p.rule = rule, p.mask = mv;
    runFusedAttention(p, st.fused, threads);
    return;
  }
  DnnlEnv &env = cpuDevice(ctx).dnnl();
  size_t need = size_t(H * Sq * Sk);
  if (st.scores.size() < need)
    st.scores.resize(need);
  float *scores = st.scores.data();
  size_t needMask = size_t(std::max(threads, omp_get_max_threads())) * size_t(Sk);
  if (st.maskRows.size() < needMask)
    st.maskRows.resize(needMask);
  if (attentionPath() == AttentionPath::PerHead) {
    HeadPrimitives &hp = st.getHeads(env, Sq, Sk, D, H, G, threads);
    size_t per = size_t(Sq * Sk);
    if (st.headScores.size() < per * size_t(threads))
      st.headScores.resize(per * size_t(threads));
    int64_t dh = D / H;
    bool failed = false;
    std::string error;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (int64_t bh = 0; bh < B * H; ++bh) {
      int tid = omp_get_thread_num();
      int64_t b = bh / H, h = bh % H;
      float *sc = st.headScores.data() + per * size_t(tid);
      float *tmp = st.maskRows.data() + size_t(tid) * size_t(Sk);
      try {
        dnnl::stream &strm = st.streams[size_t(tid)];
        memory mq(hp.q, env.engine, q.as<float>() + b * Sq * D + h * dh);
        const int64_t g = h / (H / G);
        memory mk(hp.kt, env.engine, kk.as<float>() + b * Sk * Dk + g * dh);
        memory ms(hp.s, env.engine, sc);
        hp.qk.execute(strm, {{DNNL_ARG_SRC, mq}, {DNNL_ARG_WEIGHTS, mk}, {DNNL_ARG_DST, ms}});
        strm.wait();
        for (int64_t i = 0; i < Sq; ++i)
          softmaxRow(sc + i * Sk, b, h, i, Sq, Sk, scale, causal, rule, mv, tmp);
        memory mvv(hp.v, env.engine, v.as<float>() + b * Sk * Dk + g * dh);
        memory mo(hp.o, env.engine, o.as<float>() + b * Sq * D + h * dh);
        hp.pv.execute(strm, {{DNNL_ARG_SRC, ms}, {DNNL_ARG_WEIGHTS, mvv}, {DNNL_ARG_DST, mo}});
        strm.wait();
      } catch (const std::exception &ex) {
#pragma omp critical(tfc_attention_error)
        {
          failed = true;
          error = ex.what();
        }
      }
    }
    if (failed)
      ctx.fail(TFC_INTERNAL, "oneDNN error: %s", error.c_str());
    return;
  }
  auto &e = st.get(env, Sq, Sk, D, H, G, threads);
  const AttentionShapes &s = e.shapes;
  memory mScores(s.scores, env.engine, scores);
  for (int64_t b = 0; b < B; ++b) {
    memory mq(s.q, env.engine, q.as<float>() + b * Sq * D);
    memory mk(s.kt, env.engine, kk.as<float>() + b * Sk * Dk);
    e.qk.execute(env.stream, {{DNNL_ARG_SRC, mq}, {DNNL_ARG_WEIGHTS, mk}, {DNNL_ARG_DST, mScores}});
    env.stream.wait();
    softmaxRows(scores, H, Sq, Sk, scale, causal, rule, mv, b, st.maskRows.data());
    memory mv_(s.v, env.engine, v.as<float>() + b * Sk * Dk);
    memory mo(s.o, env.engine, o.as<float>() + b * Sq * D);
    e.pv.execute(env.stream, {{DNNL_ARG_SRC, mScores}, {DNNL_ARG_WEIGHTS, mv_}, {DNNL_ARG_DST, mo}});
    env.stream.wait();
  }
}

} // namespace tfc::rt
