//===- runtime_cache_test.cpp - the KV cache: CachedAttention, CacheStore, offsets, loader ----===//
//
// Plans with cache slots and Prefill/Append/Encode functions, written by the test
// (runtime_plan_builder.h), run through tfc::rt::Session directly (the cache's length, rows and
// reorder are session methods). CachedAttention is compared with a plain reference attention
// over each row's whole key/value history; the errors are checked by their messages.
//
//===----------------------------------------------------------------------------------------===//
#include "runtime_kernel_harness.h"

#include "Error.h"
#include "Session.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <limits>

using namespace rtt;
using K = fb::KernelKind;
namespace rt = tfc::rt;

namespace {



std::shared_ptr<const rt::Plan> loadBytes(const std::vector<uint8_t> &bytes) {
  std::string path = tempPath("cache");
  writeFile(path, bytes);
  std::shared_ptr<const rt::Plan> p;
  try {
    p = rt::loadPlan(path.c_str(), true);
  } catch (...) {
    std::remove(path.c_str());
    throw;
  }
  std::remove(path.c_str());
  return p;
}

/// The loader's message for a plan it must refuse ("" when it loads).
std::string loadError(const std::vector<uint8_t> &bytes, tfc_code code = TFC_INVALID_PLAN) {
  try {
    loadBytes(bytes);
  } catch (const rt::Error &e) {
    EXPECT_EQ(e.code(), code) << e.what();
    return e.what();
  }
  return "";
}

/// An input tensor that owns its dims and bytes.
struct In {
  std::string name;
  tfc_dtype dtype = TFC_F32;
  std::vector<int64_t> dims;
  std::vector<uint8_t> bytes;
};
template <typename T> In makeIn(std::string name, tfc_dtype dt, std::vector<int64_t> dims,
                                const std::vector<T> &v) {
  In in{std::move(name), dt, std::move(dims), {}};
  in.bytes.resize(v.size() * sizeof(T));
  std::memcpy(in.bytes.data(), v.data(), in.bytes.size());
  return in;
}
In tokens(int64_t B, int64_t S) {
  return makeIn("input_ids", TFC_I64, {B, S}, std::vector<int64_t>(size_t(B * S), 1));
}

std::unique_ptr<rt::Outputs> run(rt::Session &s, const char *fn, const std::vector<In> &ins) {
  std::vector<tfc_tensor> ts;
  for (const In &in : ins)
    ts.push_back({in.name.c_str(), in.dtype, int32_t(in.dims.size()), in.dims.data(),
                  in.bytes.data()});
  return s.run(fn, ts.data(), ts.size());
}

/// The error of a run that must fail ("" when it succeeds).
std::string runError(rt::Session &s, const char *fn, const std::vector<In> &ins,
                     tfc_code *code = nullptr) {
  try {
    run(s, fn, ins);
  } catch (const rt::Error &e) {
    if (code)
      *code = e.code();
    return e.what();
  }
  return "";
}

std::vector<float> outFloats(const rt::Outputs &o, size_t i = 0) {
  const auto &out = o.outputs[i];
  int64_t n = 1;
  for (int64_t d : out.dims)
    n *= d;
  const float *p = static_cast<const float *>(out.buffer.data);
  return std::vector<float>(p, p + n);
}

/// Reference attention for rows [0, B): q [B, S, D]; kh, vh per row [keys, D]; query i sees
/// keys j < (causal ? past + i + 1 : keys); add [B][keys] (additive mask, empty: none).
std::vector<float> refAttention(const std::vector<float> &q, int64_t B, int64_t S, int64_t D,
                                int64_t H, float scale,
                                const std::vector<std::vector<float>> &kh,
                                const std::vector<std::vector<float>> &vh, int64_t keys,
                                int64_t past, bool causal,
                                const std::vector<std::vector<float>> &add) {
  int64_t dh = D / H;
  std::vector<float> o(size_t(B * S * D), 0.f);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t i = 0; i < S; ++i) {
        int64_t n = causal ? past + i + 1 : keys;
        std::vector<double> sc(static_cast<size_t>(n));
        double mx = -std::numeric_limits<double>::infinity();
        for (int64_t j = 0; j < n; ++j) {
          double dot = 0;
          for (int64_t d = 0; d < dh; ++d)
            dot += double(q[size_t((b * S + i) * D + h * dh + d)]) *
                   kh[size_t(b)][size_t(j * D + h * dh + d)];
          sc[size_t(j)] = dot * scale + (add.empty() ? 0.0 : double(add[size_t(b)][size_t(j)]));
          mx = std::max(mx, sc[size_t(j)]);
        }
        if (mx == -std::numeric_limits<double>::infinity())
          continue; // every key hidden: zeros
        double sum = 0;
        for (double &x : sc)
          sum += (x = std::exp(x - mx));
        for (int64_t j = 0; j < n; ++j)
          for (int64_t d = 0; d < dh; ++d)
            o[size_t((b * S + i) * D + h * dh + d)] +=
                float(sc[size_t(j)] / sum * vh[size_t(b)][size_t(j * D + h * dh + d)]);
      }
  return o;
}

enum class MaskType { None, Float, Bool };

/// A decoder-like plan: "prefill" (Prefill) and "decode_step" (Append), each one
/// CachedAttention over Self slot 0: inputs input_ids [batch, seq], q, k, v [batch, seq, D],
/// mask [batch, 1, 1, keys] (f32 or bool) when masked; output o.
std::vector<uint8_t> selfPlan(int64_t H, int64_t dh, int64_t maxLength, MaskType mt,
                              int64_t maxBatch = 4) {
  PlanBuilder pb;
  int batch = pb.addSymbol("batch", 1, maxBatch);
  int seq = pb.addSymbol("seq", 1, maxLength + 4);
  int keys = pb.addSymbol("keys", 1, maxLength + 4);
  pb.addCache("layer0.self", fb::CacheKind::Self, int32_t(H), int32_t(dh), maxLength);
  pb.generationTokenInput = "input_ids";
  int64_t D = H * dh;
  const char *names[2] = {"prefill", "decode_step"};
  for (int f = 0; f < 2; ++f) {
    if (f == 0) {
      pb.functionName = names[0];
      pb.cacheOp = fb::CacheOp::Prefill;
    } else {
      pb.nextFunction(names[1], fb::CacheOp::Append);
    }
    pb.addInput("input_ids", TFC_I64, {Sym(batch), Sym(seq)});
    std::vector<DimSpec> bsd = {Sym(batch), Sym(seq), S(D)};
    int q = pb.addInput("q", TFC_F32, bsd), k = pb.addInput("k", TFC_F32, bsd),
        v = pb.addInput("v", TFC_F32, bsd);
    int m = -1;
    if (mt != MaskType::None)
      m = pb.addInput("mask", mt == MaskType::Float ? TFC_F32 : TFC_BOOL,
                      {Sym(batch), S(1), S(1), Sym(keys)});
    int o = pb.addOutput("o", TFC_F32, bsd);
    pb.addKernel(K::CachedAttention, {q, k, v, m}, {o},
                 opt::cachedAttention(int32_t(H),
                                      mt == MaskType::None ? fb::MaskKind::Causal
                                                           : fb::MaskKind::CausalPadding,
                                      1.f / std::sqrt(float(dh)), 0, fb::CacheKind::Self),
                 "layer0.attn");
  }
  return pb.build();
}

/// Runs the Self plan through prefill S0 and then the given append lengths, comparing each
/// output with the reference over each row's history.
void checkSelf(int64_t H, int64_t B, MaskType mt, const std::vector<int64_t> &steps,
               uint32_t seed) {
  const int64_t dh = 8, D = H * dh, maxLength = 32;
  auto plan = loadBytes(selfPlan(H, dh, maxLength, mt));
  rt::Session session(plan, 2);
  std::vector<std::vector<float>> kh(static_cast<size_t>(B)), vh(static_cast<size_t>(B));
  int64_t past = 0;
  float scale = 1.f / std::sqrt(float(dh));
  for (size_t step = 0; step < steps.size(); ++step) {
    int64_t S = steps[step], keys = past + S;
    std::string what = "H=" + std::to_string(H) + " B=" + std::to_string(B) + " mask=" +
                       std::to_string(int(mt)) + " step " + std::to_string(step);
    auto q = randomFloats(B * S * D, seed + 10 * uint32_t(step));
    auto k = randomFloats(B * S * D, seed + 10 * uint32_t(step) + 1);
    auto v = randomFloats(B * S * D, seed + 10 * uint32_t(step) + 2);
    for (int64_t b = 0; b < B; ++b) {
      kh[size_t(b)].insert(kh[size_t(b)].end(), k.begin() + b * S * D, k.begin() + (b + 1) * S * D);
      vh[size_t(b)].insert(vh[size_t(b)].end(), v.begin() + b * S * D, v.begin() + (b + 1) * S * D);
    }
    std::vector<In> ins = {tokens(B, S), makeIn("q", TFC_F32, {B, S, D}, q),
                           makeIn("k", TFC_F32, {B, S, D}, k), makeIn("v", TFC_F32, {B, S, D}, v)};
    std::vector<std::vector<float>> add;
    if (mt != MaskType::None) {
      // Padding: row b hides key (b + step) % keys (and with bool, the first key of row 0 too).
      std::vector<float> fm(size_t(B * keys), 0.f);
      std::vector<uint8_t> bm(size_t(B * keys), 1);
      add.assign(size_t(B), std::vector<float>(size_t(keys), 0.f));
      std::vector<float> soft = randomFloats(B * keys, seed + 7 + uint32_t(step), -2.f, 0.f);
      for (int64_t b = 0; b < B; ++b)
        for (int64_t j = 0; j < keys; ++j) {
          bool hide = j == (b + int64_t(step)) % keys || (b == 0 && j == 0 && step % 2 == 0);
          if (mt == MaskType::Float) {
            float a = hide ? -std::numeric_limits<float>::infinity() : soft[size_t(b * keys + j)];
            fm[size_t(b * keys + j)] = a;
            add[size_t(b)][size_t(j)] = a;
          } else {
            bm[size_t(b * keys + j)] = hide ? 0 : 1;
            add[size_t(b)][size_t(j)] = hide ? -std::numeric_limits<float>::infinity() : 0.f;
          }
        }
      if (mt == MaskType::Float)
        ins.push_back(makeIn("mask", TFC_F32, {B, 1, 1, keys}, fm));
      else
        ins.push_back(makeIn("mask", TFC_BOOL, {B, 1, 1, keys}, bm));
    }
    auto out = run(session, step == 0 ? "prefill" : "decode_step", ins);
    auto ref = refAttention(q, B, S, D, H, scale, kh, vh, keys, past, true, add);
    expectClose(outFloats(*out), ref, what);
    past += S;
    EXPECT_EQ(session.cacheLength(), past) << what;
    EXPECT_EQ(session.cacheRows(), B) << what;
  }
}

} // namespace

// ---- CachedAttention Self ---------------------------------------------------------------------
TEST(RuntimeCache, SelfPrefillThenAppendMatchesReference) {
  uint32_t seed = 100;
  for (int64_t H : {1, 4})
    for (int64_t B : {1, 3})
      for (MaskType mt : {MaskType::None, MaskType::Float, MaskType::Bool}) {
        checkSelf(H, B, mt, {5, 1, 3, 1, 1, 3}, seed);
        seed += 1000;
        if (HasFatalFailure())
          return;
      }
}

namespace {
/// Reference for grouped-query / sliding-window / hidden-score attention over a row's whole
/// history: query i of this run is at position past + i; key j (of keys = past + S) is visible
/// when j <= past + i and (window 0 or j > past + i - window). Hidden keys are dropped, or with
/// `hasHidden` score hidden + mask and stay in the softmax (what the unfused graph computes).
std::vector<float> refGroupedWindow(const std::vector<float> &q, int64_t B, int64_t S, int64_t H,
                                    int64_t G, int64_t dh, float scale,
                                    const std::vector<std::vector<float>> &kh,
                                    const std::vector<std::vector<float>> &vh, int64_t past,
                                    int64_t window, bool hasHidden, float hidden,
                                    const std::vector<std::vector<float>> &add) {
  const int64_t D = H * dh, Dk = G * dh, keys = past + S;
  std::vector<float> o(size_t(B * S * D), 0.f);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t i = 0; i < S; ++i) {
        const int64_t g = h / (H / G), p = past + i;
        std::vector<double> sc(static_cast<size_t>(keys));
        std::vector<bool> in(static_cast<size_t>(keys));
        double mx = -std::numeric_limits<double>::infinity();
        for (int64_t j = 0; j < keys; ++j) {
          bool visible = j <= p && (window == 0 || j > p - window);
          float m = add.empty() ? 0.f : add[size_t(b)][size_t(j)];
          in[size_t(j)] = visible || hasHidden;
          if (!visible) {
            sc[size_t(j)] = double(hidden + m);
          } else {
            double dot = 0;
            for (int64_t d = 0; d < dh; ++d)
              dot += double(q[size_t((b * S + i) * D + h * dh + d)]) *
                     kh[size_t(b)][size_t(j * Dk + g * dh + d)];
            // In float, as the graph adds its mask (a padded key then scores exactly m).
            sc[size_t(j)] = double(float(dot) * scale + m);
          }
          if (in[size_t(j)])
            mx = std::max(mx, sc[size_t(j)]);
        }
        if (mx == -std::numeric_limits<double>::infinity())
          continue;
        double sum = 0;
        for (int64_t j = 0; j < keys; ++j)
          if (in[size_t(j)])
            sum += (sc[size_t(j)] = std::exp(sc[size_t(j)] - mx));
        for (int64_t j = 0; j < keys; ++j)
          if (in[size_t(j)])
            for (int64_t d = 0; d < dh; ++d)
              o[size_t((b * S + i) * D + h * dh + d)] +=
                  float(sc[size_t(j)] / sum * vh[size_t(b)][size_t(j * Dk + g * dh + d)]);
      }
  return o;
}
} // namespace

// ---- CachedAttention: grouped-query heads, sliding window, hidden score ---------------------
TEST(RuntimeCache, SelfGroupedQueryWindowAndHiddenScore) {
  struct Case {
    int64_t H, G, window;
    bool hasHidden;
  };
  const float kMin = -3.40282347e38f;
  const int64_t dh = 4, maxLength = 24, B = 2;
  uint32_t seed = 4000;
  for (Case c : {Case{4, 2, 0, false}, Case{4, 1, 3, false}, Case{2, 2, 4, true},
                 Case{6, 3, 5, true}}) {
    const int64_t D = c.H * dh, Dk = c.G * dh;
    PlanBuilder pb;
    int batch = pb.addSymbol("batch", 1, 4);
    int seq = pb.addSymbol("seq", 1, maxLength);
    int keys = pb.addSymbol("keys", 1, maxLength);
    pb.addCache("layer0.self", fb::CacheKind::Self, int32_t(c.G), int32_t(dh), maxLength);
    pb.generationTokenInput = "input_ids";
    for (int f = 0; f < 2; ++f) {
      if (f == 0) {
        pb.functionName = "prefill";
        pb.cacheOp = fb::CacheOp::Prefill;
      } else {
        pb.nextFunction("decode_step", fb::CacheOp::Append);
      }
      pb.addInput("input_ids", TFC_I64, {Sym(batch), Sym(seq)});
      int q = pb.addInput("q", TFC_F32, {Sym(batch), Sym(seq), S(D)});
      int k = pb.addInput("k", TFC_F32, {Sym(batch), Sym(seq), S(Dk)});
      int v = pb.addInput("v", TFC_F32, {Sym(batch), Sym(seq), S(Dk)});
      int m = pb.addInput("mask", TFC_F32, {Sym(batch), S(1), S(1), Sym(keys)});
      int o = pb.addOutput("o", TFC_F32, {Sym(batch), Sym(seq), S(D)});
      pb.addKernel(K::CachedAttention, {q, k, v, m}, {o},
                   opt::cachedAttention(int32_t(c.H), fb::MaskKind::CausalPadding, 0.5f, 0,
                                        fb::CacheKind::Self, int32_t(c.G), int32_t(c.window),
                                        c.hasHidden ? kMin : NAN),
                   "layer0.attn");
    }
    auto plan = loadBytes(pb.build());
    rt::Session session(plan, 2);
    std::vector<std::vector<float>> kh(static_cast<size_t>(B)), vh(static_cast<size_t>(B));
    int64_t past = 0;
    // Row 1 pads its last prompt positions [3, 7): a window of 3 at position 6 holds only
    // padding (with the hidden score its row is the softmax over the keys at kMin).
    for (int64_t step : {7, 1, 1, 3, 1}) {
      const int64_t Sn = step, all = past + Sn;
      std::string what = "H" + std::to_string(c.H) + " G" + std::to_string(c.G) + " window " +
                         std::to_string(c.window) + (c.hasHidden ? " hidden" : "") +
                         " past " + std::to_string(past);
      auto q = randomFloats(B * Sn * D, seed++), k = randomFloats(B * Sn * Dk, seed++),
           v = randomFloats(B * Sn * Dk, seed++);
      for (int64_t b = 0; b < B; ++b) {
        kh[size_t(b)].insert(kh[size_t(b)].end(), k.begin() + b * Sn * Dk,
                             k.begin() + (b + 1) * Sn * Dk);
        vh[size_t(b)].insert(vh[size_t(b)].end(), v.begin() + b * Sn * Dk,
                             v.begin() + (b + 1) * Sn * Dk);
      }
      std::vector<float> mask(size_t(B * all), 0.f);
      std::vector<std::vector<float>> add(size_t(B), std::vector<float>(size_t(all), 0.f));
      for (int64_t j = 3; j < 7 && j < all; ++j)
        mask[size_t(all + j)] = add[1][size_t(j)] = kMin;
      auto out = run(session, past == 0 ? "prefill" : "decode_step",
                     {tokens(B, Sn), makeIn("q", TFC_F32, {B, Sn, D}, q),
                      makeIn("k", TFC_F32, {B, Sn, Dk}, k), makeIn("v", TFC_F32, {B, Sn, Dk}, v),
                      makeIn("mask", TFC_F32, {B, 1, 1, all}, mask)});
      expectClose(outFloats(*out),
                  refGroupedWindow(q, B, Sn, c.H, c.G, dh, 0.5f, kh, vh, past, c.window,
                                   c.hasHidden, kMin, add),
                  what);
      past = all;
      if (HasFatalFailure())
        return;
    }
  }
}

TEST(RuntimeCache, SelfPrefillAgainRestarts) {
  // A second prefill starts a new sequence (L = 0), with another batch.
  checkSelf(2, 2, MaskType::None, {4, 1}, 7);
  auto plan = loadBytes(selfPlan(2, 8, 32, MaskType::None));
  rt::Session s(plan, 2);
  auto q = randomFloats(2 * 3 * 16, 1);
  std::vector<In> ins = {tokens(2, 3), makeIn("q", TFC_F32, {2, 3, 16}, q),
                         makeIn("k", TFC_F32, {2, 3, 16}, q), makeIn("v", TFC_F32, {2, 3, 16}, q)};
  run(s, "prefill", ins);
  EXPECT_EQ(s.cacheLength(), 3);
  auto q1 = randomFloats(1 * 2 * 16, 2);
  run(s, "prefill", {tokens(1, 2), makeIn("q", TFC_F32, {1, 2, 16}, q1),
                     makeIn("k", TFC_F32, {1, 2, 16}, q1), makeIn("v", TFC_F32, {1, 2, 16}, q1)});
  EXPECT_EQ(s.cacheLength(), 2);
  EXPECT_EQ(s.cacheRows(), 1);
}

TEST(RuntimeCache, SelfNaNQueryReachesTheOutput) {
  // A NaN in a query gives NaN in that query's head (its scores are all NaN: ONNX Runtime and
  // PyTorch give NaN, never zeros); every other output matches the reference.
  const int64_t H = 2, dh = 8, D = H * dh, B = 2, S0 = 3;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  auto plan = loadBytes(selfPlan(H, dh, 32, MaskType::Bool));
  rt::Session session(plan, 2);
  float scale = 1.f / std::sqrt(float(dh));
  std::vector<std::vector<float>> kh(B), vh(B);
  int64_t past = 0;
  for (int step = 0; step < 2; ++step) {
    int64_t S = step == 0 ? S0 : 1, keys = past + S;
    auto q = randomFloats(B * S * D, 40 + uint32_t(step)), k = randomFloats(B * S * D, 50 + uint32_t(step)),
         v = randomFloats(B * S * D, 60 + uint32_t(step));
    for (int64_t b = 0; b < B; ++b) {
      kh[size_t(b)].insert(kh[size_t(b)].end(), k.begin() + b * S * D, k.begin() + (b + 1) * S * D);
      vh[size_t(b)].insert(vh[size_t(b)].end(), v.begin() + b * S * D, v.begin() + (b + 1) * S * D);
    }
    // step 0: row 1, query 1, head 0; step 1: row 0, its only query, head 1.
    int64_t nb = step == 0 ? 1 : 0, ni = step == 0 ? 1 : 0, nh = step == 0 ? 0 : 1;
    auto ref = refAttention(q, B, S, D, H, scale, kh, vh, keys, past, true, {});
    q[size_t((nb * S + ni) * D + nh * dh + 3)] = nan;
    std::vector<uint8_t> keep(size_t(B * keys), 1);
    auto out = run(session, step == 0 ? "prefill" : "decode_step",
                   {tokens(B, S), makeIn("q", TFC_F32, {B, S, D}, q),
                    makeIn("k", TFC_F32, {B, S, D}, k), makeIn("v", TFC_F32, {B, S, D}, v),
                    makeIn("mask", TFC_BOOL, {B, 1, 1, keys}, keep)});
    auto got = outFloats(*out);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t i = 0; i < S; ++i)
        for (int64_t h = 0; h < H; ++h)
          for (int64_t d = 0; d < dh; ++d) {
            size_t at = size_t((b * S + i) * D + h * dh + d);
            if (b == nb && i == ni && h == nh)
              EXPECT_TRUE(std::isnan(got[at])) << "step " << step << " at " << at << ": " << got[at];
            else
              EXPECT_NEAR(got[at], ref[at], 1e-4f) << "step " << step << " at " << at;
          }
    past += S;
  }
}

// ---- Cross: CacheStore in encode, CachedAttention in decode_step --------------------------------
TEST(RuntimeCache, CrossAttentionOverEncodedKeys) {
  const int64_t H = 2, dh = 8, D = H * dh, B = 3, Ssrc = 7, maxSrc = 16;
  PlanBuilder pb;
  int batch = pb.addSymbol("batch", 1, 4);
  int seq = pb.addSymbol("seq", 1, 8);
  int src = pb.addSymbol("src", 1, maxSrc);
  pb.addCache("layer0.cross", fb::CacheKind::Cross, H, dh, maxSrc);
  pb.generationTokenInput = "input_ids";
  pb.functionName = "encode";
  pb.cacheOp = fb::CacheOp::Encode;
  {
    int k = pb.addInput("enc_k", TFC_F32, {Sym(batch), Sym(src), S(D)});
    int v = pb.addInput("enc_v", TFC_F32, {Sym(batch), Sym(src), S(D)});
    pb.addKernel(K::CacheStore, {k, v}, {}, opt::cacheStore(0), "layer0.cross.store");
  }
  pb.nextFunction("decode_step", fb::CacheOp::Append);
  {
    pb.addInput("input_ids", TFC_I64, {Sym(batch), Sym(seq)});
    int q = pb.addInput("q", TFC_F32, {Sym(batch), Sym(seq), S(D)});
    int m = pb.addInput("enc_mask", TFC_F32, {Sym(batch), S(1), S(1), Sym(src)});
    int o = pb.addOutput("o", TFC_F32, {Sym(batch), Sym(seq), S(D)});
    pb.addKernel(K::CachedAttention, {q, -1, -1, m}, {o},
                 opt::cachedAttention(int32_t(H), fb::MaskKind::Padding, 1.f / std::sqrt(float(dh)),
                                      0, fb::CacheKind::Cross),
                 "layer0.cross_attn");
  }
  auto plan = loadBytes(pb.build());
  rt::Session s(plan, 2);
  auto ek = randomFloats(B * Ssrc * D, 1), ev = randomFloats(B * Ssrc * D, 2);
  // Before encode: the cross slot is empty.
  std::vector<float> mask(size_t(B * Ssrc), 0.f);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t j = Ssrc - b; j < Ssrc; ++j) // row b: the last b source positions are padding
      mask[size_t(b * Ssrc + j)] = -std::numeric_limits<float>::infinity();
  auto qs = randomFloats(B * D, 3);
  std::string e = runError(s, "decode_step",
                           {tokens(B, 1), makeIn("q", TFC_F32, {B, 1, D}, qs),
                            makeIn("enc_mask", TFC_F32, {B, 1, 1, Ssrc}, mask)});
  EXPECT_NE(e.find("the KV cache is empty (run prefill first)"), std::string::npos) << e;

  auto enc = run(s, "encode", {makeIn("enc_k", TFC_F32, {B, Ssrc, D}, ek),
                               makeIn("enc_v", TFC_F32, {B, Ssrc, D}, ev)});
  EXPECT_EQ(enc->outputs.size(), 0u);
  EXPECT_EQ(s.cacheRows(), B);
  EXPECT_EQ(s.cacheLength(), 0);
  std::vector<std::vector<float>> kh(B), vh(B), add(B);
  for (int64_t b = 0; b < B; ++b) {
    kh[size_t(b)].assign(ek.begin() + b * Ssrc * D, ek.begin() + (b + 1) * Ssrc * D);
    vh[size_t(b)].assign(ev.begin() + b * Ssrc * D, ev.begin() + (b + 1) * Ssrc * D);
    add[size_t(b)].assign(mask.begin() + b * Ssrc, mask.begin() + (b + 1) * Ssrc);
  }
  for (int step = 0; step < 3; ++step) {
    int64_t S = step == 1 ? 2 : 1;
    auto q = randomFloats(B * S * D, 10 + uint32_t(step));
    auto out = run(s, "decode_step", {tokens(B, S), makeIn("q", TFC_F32, {B, S, D}, q),
                                      makeIn("enc_mask", TFC_F32, {B, 1, 1, Ssrc}, mask)});
    auto ref = refAttention(q, B, S, D, H, 1.f / std::sqrt(float(dh)), kh, vh, Ssrc, 0, false,
                            add);
    expectClose(outFloats(*out), ref, "cross step " + std::to_string(step));
  }
  EXPECT_EQ(s.cacheLength(), 4);

  // The mask must cover exactly the encoder's positions.
  std::vector<float> mask2(size_t(B * (Ssrc + 1)), 0.f);
  e = runError(s, "decode_step", {tokens(B, 1), makeIn("q", TFC_F32, {B, 1, D}, qs),
                                  makeIn("enc_mask", TFC_F32, {B, 1, 1, Ssrc + 1}, mask2)});
  EXPECT_NE(e.find("has 8 keys in its last dim, but the attention has 7 keys"), std::string::npos)
      << e;
  EXPECT_EQ(s.cacheLength(), 0); // a failed cache run invalidates the cache
}

// ---- reorderCache --------------------------------------------------------------------------
TEST(RuntimeCache, ReorderDuplicatesAndPermutesRows) {
  const int64_t H = 2, dh = 8, D = H * dh, B = 3;
  auto plan = loadBytes(selfPlan(H, dh, 32, MaskType::None, 4));
  rt::Session s(plan, 2);
  std::vector<std::vector<float>> kh(B), vh(B);
  float scale = 1.f / std::sqrt(float(dh));
  auto step = [&](const char *fn, int64_t rows, int64_t S, uint32_t seed) {
    auto q = randomFloats(rows * S * D, seed), k = randomFloats(rows * S * D, seed + 1),
         v = randomFloats(rows * S * D, seed + 2);
    int64_t past = int64_t(kh[0].size()) / D;
    for (int64_t b = 0; b < rows; ++b) {
      kh[size_t(b)].insert(kh[size_t(b)].end(), k.begin() + b * S * D, k.begin() + (b + 1) * S * D);
      vh[size_t(b)].insert(vh[size_t(b)].end(), v.begin() + b * S * D, v.begin() + (b + 1) * S * D);
    }
    auto out = run(s, fn, {tokens(rows, S), makeIn("q", TFC_F32, {rows, S, D}, q),
                           makeIn("k", TFC_F32, {rows, S, D}, k),
                           makeIn("v", TFC_F32, {rows, S, D}, v)});
    auto ref = refAttention(q, rows, S, D, H, scale, kh, vh, past + S, past, true, {});
    expectClose(outFloats(*out), ref, std::string(fn) + " rows " + std::to_string(rows));
  };
  step("prefill", B, 4, 1);
  step("decode_step", B, 1, 11);
  // Beams: new rows {2, 0, 0, 1} (a duplicate, a permutation, one more row).
  std::vector<int32_t> src = {2, 0, 0, 1};
  s.reorderCache(src.data(), 4);
  EXPECT_EQ(s.cacheRows(), 4);
  EXPECT_EQ(s.cacheLength(), 5);
  std::vector<std::vector<float>> nk, nv;
  for (int32_t r : src) {
    nk.push_back(kh[size_t(r)]);
    nv.push_back(vh[size_t(r)]);
  }
  kh = nk, vh = nv;
  step("decode_step", 4, 1, 21);
  step("decode_step", 4, 3, 31);
  // Shrink to two rows (reversed).
  std::vector<int32_t> src2 = {3, 1};
  s.reorderCache(src2.data(), 2);
  nk = {kh[3], kh[1]}, nv = {vh[3], vh[1]};
  kh = nk, vh = nv;
  step("decode_step", 2, 1, 41);
  EXPECT_EQ(s.cacheLength(), 10);

  auto reorderError = [&](std::vector<int32_t> idx, int64_t rows) {
    try {
      s.reorderCache(idx.data(), rows);
    } catch (const rt::Error &e) {
      return std::string(e.what());
    }
    return std::string();
  };
  std::string e = reorderError({0, 2}, 2);
  EXPECT_NE(e.find("src[1] = 2 is outside [0, 2)"), std::string::npos) << e;
  e = reorderError({0, -1}, 2);
  EXPECT_NE(e.find("src[1] = -1 is outside [0, 2)"), std::string::npos) << e;
  e = reorderError({0, 0, 0, 0, 0}, 5);
  EXPECT_NE(e.find("new_rows 5 is outside [1, 4]"), std::string::npos) << e;
  e = reorderError({}, 0);
  EXPECT_NE(e.find("new_rows 0 is outside [1, 4]"), std::string::npos) << e;
  // A refused reorder leaves the cache as it was.
  EXPECT_EQ(s.cacheRows(), 2);
  step("decode_step", 2, 1, 51);

  rt::Session fresh(plan, 1);
  std::vector<int32_t> zero = {0};
  try {
    fresh.reorderCache(zero.data(), 1);
    ADD_FAILURE() << "reorder before prefill must fail";
  } catch (const rt::Error &err) {
    EXPECT_NE(std::string(err.what()).find("the KV cache is empty"), std::string::npos)
        << err.what();
  }
}

// ---- run-time errors ------------------------------------------------------------------------
TEST(RuntimeCache, RunErrors) {
  const int64_t H = 2, dh = 4, D = H * dh, maxLength = 8;
  auto plan = loadBytes(selfPlan(H, dh, maxLength, MaskType::Float));
  rt::Session s(plan, 2);
  auto in = [&](int64_t B, int64_t S, int64_t keys) {
    auto x = randomFloats(B * S * D, uint32_t(B * 100 + S));
    return std::vector<In>{tokens(B, S), makeIn("q", TFC_F32, {B, S, D}, x),
                           makeIn("k", TFC_F32, {B, S, D}, x), makeIn("v", TFC_F32, {B, S, D}, x),
                           makeIn("mask", TFC_F32, {B, 1, 1, keys},
                                  std::vector<float>(size_t(B * keys), 0.f))};
  };
  tfc_code code = TFC_OK;
  // Append before any prefill.
  std::string e = runError(s, "decode_step", in(2, 1, 1), &code);
  EXPECT_EQ(e, "function 'decode_step': the KV cache is empty (run prefill first)");
  EXPECT_EQ(code, TFC_INVALID_ARGUMENT);
  // Batch mismatch.
  run(s, "prefill", in(2, 3, 3));
  EXPECT_EQ(s.cacheLength(), 3);
  e = runError(s, "decode_step", in(3, 1, 4), &code);
  EXPECT_EQ(e, "function 'decode_step': batch 3 does not match the KV cache's 2 rows (run "
               "prefill first)");
  EXPECT_EQ(s.cacheLength(), 0);
  EXPECT_EQ(s.cacheRows(), 0);
  e = runError(s, "decode_step", in(2, 1, 4));
  EXPECT_EQ(e, "function 'decode_step': the KV cache is empty (run prefill first)");
  // Over max_length.
  run(s, "prefill", in(2, 6, 6));
  e = runError(s, "decode_step", in(2, 3, 9), &code);
  EXPECT_EQ(e, "function 'decode_step': the KV cache holds 8 positions; 6 + 3 exceeds it");
  EXPECT_EQ(code, TFC_OUT_OF_RANGE);
  e = runError(s, "prefill", in(2, 9, 9), &code);
  EXPECT_EQ(e, "function 'prefill': the KV cache holds 8 positions; 0 + 9 exceeds it");
  // Mask key length.
  run(s, "prefill", in(2, 4, 4));
  e = runError(s, "decode_step", in(2, 1, 4), &code);
  EXPECT_NE(e.find("kernel 'layer0.attn' (CachedAttention): mask 'mask' [2, 1, 1, 4] has 4 keys "
                   "in its last dim, but the attention has 5 keys (4 cached + 1 new)"),
            std::string::npos)
      << e;
  EXPECT_EQ(code, TFC_INVALID_ARGUMENT);
  EXPECT_EQ(s.cacheLength(), 0);
  // A good run after all that.
  run(s, "prefill", in(1, 2, 2));
  run(s, "decode_step", in(1, 1, 3));
  EXPECT_EQ(s.cacheLength(), 3);
}

// ---- Slice and Embedding offsets ----------------------------------------------------------
namespace {
/// Prefill/Append functions "prefill", "decode_step" built by `body` (tokens input given).
std::vector<uint8_t> offsetPlan(const std::function<void(PlanBuilder &, int, int, int)> &body) {
  PlanBuilder pb;
  int batch = pb.addSymbol("batch", 1, 2);
  int seq = pb.addSymbol("seq", 1, 16);
  pb.addCache("self", fb::CacheKind::Self, 1, 4, 16);
  pb.generationTokenInput = "input_ids";
  pb.functionName = "prefill";
  pb.cacheOp = fb::CacheOp::Prefill;
  body(pb, pb.addInput("input_ids", TFC_I64, {Sym(batch), Sym(seq)}), batch, seq);
  pb.nextFunction("decode_step", fb::CacheOp::Append);
  body(pb, pb.addInput("input_ids", TFC_I64, {Sym(batch), Sym(seq)}), batch, seq);
  return pb.build();
}
} // namespace

TEST(RuntimeCache, SliceOffsetByCacheLength) {
  // x [10, 3] = row r is {r, r + 0.25, r + 0.5}; slice rows [1, 3) + past along axis 0, columns
  // [0, 2) (no offset) along axis 1.
  std::vector<float> x;
  for (int r = 0; r < 10; ++r)
    for (int c = 0; c < 3; ++c)
      x.push_back(float(r) + 0.25f * float(c));
  auto bytes = offsetPlan([&](PlanBuilder &pb, int, int, int) {
    int vx = pb.addConstantValue(pb.constants.empty()
                                     ? pb.addConstant("x", TFC_F32, {10, 3}, x.data())
                                     : 0);
    int64_t st[2] = {1, 0}, en[2] = {3, 2};
    int cs = pb.constants.size() > 1 ? 1 : pb.addConstant("starts", TFC_I64, {2}, st);
    int ce = pb.constants.size() > 2 ? 2 : pb.addConstant("ends", TFC_I64, {2}, en);
    int y = pb.addOutput("y", TFC_F32, {S(2), S(2)});
    pb.addKernel(K::Slice, {vx, pb.addConstantValue(cs), pb.addConstantValue(ce)}, {y},
                 opt::slice({0, 1}, {1, 1}, {true, false}), "slice");
  });
  auto plan = loadBytes(bytes);
  rt::Session s(plan, 1);
  auto y = outFloats(*run(s, "prefill", {tokens(1, 3)}));
  EXPECT_EQ(y, (std::vector<float>{1.f, 1.25f, 2.f, 2.25f})); // past 0
  y = outFloats(*run(s, "decode_step", {tokens(1, 1)}));
  EXPECT_EQ(y, (std::vector<float>{4.f, 4.25f, 5.f, 5.25f})); // past 3
  y = outFloats(*run(s, "decode_step", {tokens(1, 2)}));
  EXPECT_EQ(y, (std::vector<float>{5.f, 5.25f, 6.f, 6.25f})); // past 4

  // Outside a cache function the offset is 0; without cache_offset flags nothing is shifted.
  RunResult r = runKernel(K::Slice, {F32({10, 3}, x), I64({1}, {2}), I64({1}, {4})}, TFC_F32,
                          {2, 3}, opt::slice({0}, {1}, {true}));
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  EXPECT_EQ(r.as<float>(), (std::vector<float>{2.f, 2.25f, 2.5f, 3.f, 3.25f, 3.5f}));
  r = runKernel(K::Slice, {F32({10, 3}, x), I64({1}, {2}), I64({1}, {4})}, TFC_F32, {2, 3},
                opt::slice({0}, {1}));
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  EXPECT_EQ(r.as<float>(), (std::vector<float>{2.f, 2.25f, 2.5f, 3.f, 3.25f, 3.5f}));
  r = runKernel(K::Slice, {F32({10, 3}, x), I64({1}, {2}), I64({1}, {4})}, TFC_F32, {2, 3},
                opt::slice({0}, {1}, {true, false}));
  EXPECT_EQ(r.code, TFC_INVALID_PLAN);
  EXPECT_NE(r.message.find("kernel 'kernel_under_test' (Slice): SliceOptions has 1 axes, 1 steps "
                           "and 2 cache_offset flags"),
            std::string::npos)
      << r.message;
}

TEST(RuntimeCache, EmbeddingPositionsOffsetByCacheLength) {
  const int64_t V = 5, D = 2, P = 6;
  std::vector<float> tok, pos;
  for (int64_t i = 0; i < V * D; ++i)
    tok.push_back(float(i) * 100.f); // token t: {200t, 200t + 100}
  for (int64_t i = 0; i < P * D; ++i)
    pos.push_back(float(i)); // position p: {2p, 2p + 1}
  auto bytes = offsetPlan([&](PlanBuilder &pb, int ids, int batch, int seq) {
    if (pb.constants.empty()) {
      pb.addConstant("tok", TFC_F32, {V, D}, tok.data());
      pb.addConstant("pos", TFC_F32, {P, D}, pos.data());
    }
    int y = pb.addOutput("y", TFC_F32, {Sym(batch), Sym(seq), S(D)});
    pb.addKernel(K::Embedding, {ids, pb.addConstantValue(0), pb.addConstantValue(1), -1, -1}, {y},
                 opt::embedding(1.f, true), "embed");
  });
  auto plan = loadBytes(bytes);
  rt::Session s(plan, 1);
  auto ids = [](std::vector<int64_t> v) {
    return makeIn("input_ids", TFC_I64, {1, int64_t(v.size())}, v);
  };
  auto y = outFloats(*run(s, "prefill", {ids({1, 2, 3})}));
  EXPECT_EQ(y, (std::vector<float>{200, 301, 402, 503, 604, 705}));
  y = outFloats(*run(s, "decode_step", {ids({4})}));
  EXPECT_EQ(y, (std::vector<float>{806, 907})); // position 3
  y = outFloats(*run(s, "decode_step", {ids({0, 1})}));
  EXPECT_EQ(y, (std::vector<float>{8, 109, 210, 311})); // positions 4, 5
  tfc_code code;
  std::string e = runError(s, "decode_step", {ids({0})}, &code);
  EXPECT_EQ(code, TFC_OUT_OF_RANGE);
  EXPECT_NE(e.find("kernel 'embed' (Embedding): positions past + seq = 6 + 1 are above the 6 "
                   "positions of 'pos'"),
            std::string::npos)
      << e;
}

// ---- the loader --------------------------------------------------------------------------
namespace {
struct LoaderCase {
  // Defaults: a valid plan with one Self slot and a Prefill function with CachedAttention.
  fb::CacheKind slotKind = fb::CacheKind::Self;
  int32_t heads = 2, headDim = 4;
  int64_t maxLength = 16, maxBatch = 4;
  fb::CacheOp op = fb::CacheOp::Prefill;
  // The kernel's CachedAttentionOptions.
  int32_t kernelHeads = 2, slot = 0, numKvHeads = 0, window = 0;
  fb::MaskKind mask = fb::MaskKind::Causal;
  fb::CacheKind kernelKind = fb::CacheKind::Self;
  bool withBias = false;   // input 4 (declared in plan.fbs, not implemented)
  int64_t slotWindow = 0;  // CacheSlot.window (declared, not implemented)
  bool withK = true, withTokens = true, withCaches = true, cacheStore = false;
  std::string tokenInput = "input_ids";
  int64_t qDim = 8, kvDim = 0; // kvDim 0: qDim
};
std::vector<uint8_t> loaderPlan(const LoaderCase &c) {
  PlanBuilder pb;
  int batch = pb.addSymbol("batch", 1, c.maxBatch);
  int seq = pb.addSymbol("seq", 1, 16);
  if (c.withCaches)
    pb.caches.push_back({"dec.layer0", c.slotKind, c.heads, c.headDim, c.maxLength,
                         c.slotWindow});
  pb.generationTokenInput = c.tokenInput;
  pb.functionName = "f";
  pb.cacheOp = c.op;
  if (c.withTokens)
    pb.addInput("input_ids", TFC_I64, {Sym(batch), Sym(seq)});
  std::vector<DimSpec> bsd = {Sym(batch), Sym(seq), S(c.qDim)};
  int q = pb.addInput("q", TFC_F32, bsd);
  std::vector<DimSpec> kvShape = {Sym(batch), Sym(seq), S(c.kvDim ? c.kvDim : c.qDim)};
  int k = c.withK ? pb.addInput("k", TFC_F32, kvShape) : -1;
  int v = c.withK ? pb.addInput("v", TFC_F32, kvShape) : -1;
  if (c.cacheStore) {
    pb.addKernel(K::CacheStore, {k, v}, {}, opt::cacheStore(c.slot), "store");
  } else {
    int o = pb.addOutput("o", TFC_F32, bsd);
    std::vector<int32_t> ins = {q, k, v, -1};
    if (c.withBias)
      ins.push_back(pb.addInput("bias", TFC_F32, {Sym(batch), S(1), Sym(seq), Sym(seq)}));
    pb.addKernel(K::CachedAttention, ins, {o},
                 opt::cachedAttention(c.kernelHeads, c.mask, 0.5f, c.slot, c.kernelKind,
                                      c.numKvHeads, c.window),
                 "attn");
  }
  return pb.build();
}
} // namespace

TEST(RuntimeCache, LoaderChecks) {
  LoaderCase ok;
  EXPECT_EQ(loadError(loaderPlan(ok)), "");
  auto expectErr = [](const LoaderCase &c, const std::string &want) {
    std::string e = loadError(loaderPlan(c));
    EXPECT_NE(e.find(want), std::string::npos) << "got: " << e << "\nwant: " << want;
  };
  LoaderCase c;
  c.slot = 1;
  expectErr(c, "function 'f': kernel 'attn' (CachedAttention): cache slot 1 is out of range (the "
               "plan has 1 cache slots)");
  c = ok;
  c.kernelKind = fb::CacheKind::Cross;
  c.withK = false;
  c.mask = fb::MaskKind::Padding;
  expectErr(c, "mask kind padding needs a mask input");
  c.mask = fb::MaskKind::None;
  expectErr(c, "kernel 'attn' (CachedAttention): its CacheKind is Cross but cache slot "
               "'dec.layer0' is Self");
  c = ok;
  c.mask = fb::MaskKind::None;
  expectErr(c, "kernel 'attn' (CachedAttention): a Self-cache attention must be causal");
  c = ok;
  c.mask = fb::MaskKind::Padding;
  expectErr(c, "a Self-cache attention must be causal (MaskKind Causal or CausalPadding), got "
               "MaskKind Padding");
  c = ok;
  c.kernelHeads = 4;
  expectErr(c, "num_heads is 4 but cache slot 'dec.layer0' has 2 heads");
  c = ok;
  c.qDim = 12;
  expectErr(c, "input 'q' has last dim 12, but cache slot 'dec.layer0' holds 2 heads x 4");
  c = ok;
  c.withK = false;
  expectErr(c, "a Self-cache attention needs inputs k and v");
  c = ok;
  c.slotKind = fb::CacheKind::Cross;
  c.kernelKind = fb::CacheKind::Cross;
  c.mask = fb::MaskKind::None;
  expectErr(c, "Cross-cache attention reads k and v from the cache: inputs k and v must be absent");
  c.withK = false;
  EXPECT_EQ(loadError(loaderPlan(c)), "");
  c = ok;
  c.cacheStore = true;
  c.slotKind = fb::CacheKind::Cross;
  expectErr(c, "function 'f': kernel 'store' (CacheStore): CacheStore may only appear in an "
               "Encode function (cache_op)");
  c.op = fb::CacheOp::Encode;
  EXPECT_EQ(loadError(loaderPlan(c)), "");
  c.slotKind = fb::CacheKind::Self;
  expectErr(c, "cache slot 'dec.layer0' is Self; CacheStore writes Cross slots only");
  c = ok;
  c.op = fb::CacheOp::Encode;
  expectErr(c, "CachedAttention may only appear in a Prefill or Append function");

  // Declared by plan 2.0 for features to come: refused by name (TFC_UNSUPPORTED), never ignored.
  auto expectUnsupported = [](const LoaderCase &c, const std::string &want) {
    std::string e = loadError(loaderPlan(c), TFC_UNSUPPORTED);
    EXPECT_NE(e.find(want), std::string::npos) << "got: " << e << "\nwant: " << want;
  };
  // Grouped-query attention: the slot holds the num_kv_heads heads of k and v.
  c = ok;
  c.numKvHeads = 1;
  expectErr(c, "kernel 'attn' (CachedAttention): num_kv_heads is 1 but cache slot 'dec.layer0' "
               "has 2 heads");
  c.heads = 1;
  expectErr(c, "input 'k' has last dim 8, but cache slot 'dec.layer0' holds 1 heads x 4");
  c.kvDim = 4;
  EXPECT_EQ(loadError(loaderPlan(c)), "");
  c.qDim = 4;
  expectErr(c, "input 'q' has last dim 4, but cache slot 'dec.layer0' holds 1 heads x 4 (for 2 "
               "query heads)");
  c = ok;
  c.numKvHeads = 2; // = num_heads: plain multi-head attention
  EXPECT_EQ(loadError(loaderPlan(c)), "");
  // A sliding window over a slot that keeps every position.
  c = ok;
  c.window = 64;
  EXPECT_EQ(loadError(loaderPlan(c)), "");
  c.window = -1;
  expectErr(c, "kernel 'attn' (CachedAttention): window is -1");
  c = ok;
  c.withBias = true;
  expectUnsupported(c, "kernel 'attn' (CachedAttention): an additive attention bias (input 4) is "
                       "not supported by this runtime");
  c = ok;
  c.slotWindow = 32;
  expectUnsupported(c, "cache slot 'dec.layer0' (#0): a sliding-window slot (window 32) is not "
                       "supported by this runtime");
  c = ok;
  c.op = fb::CacheOp::None;
  expectErr(c, "CachedAttention may only appear in a Prefill or Append function");
  c = ok;
  c.withTokens = false;
  expectErr(c, "function 'f': uses the KV cache (Prefill/Append) but has no input 'input_ids' "
               "(generation.token_input)");
  c = ok;
  c.tokenInput = "";
  expectErr(c, "function 'f': uses the KV cache (Prefill/Append) but the plan names no "
               "generation.token_input");
  c = ok;
  c.tokenInput = "q";
  expectErr(c, "token input 'q' has rank 3, expected 2 ([batch, seq])");
  c = ok;
  c.withCaches = false;
  expectErr(c, "function 'f': uses the KV cache (cache_op) but the plan has no cache slots");
  c = ok;
  c.maxLength = int64_t(1) << 40;
  c.maxBatch = int64_t(1) << 20;
  expectErr(c, "cache slot 'dec.layer0' (#0): 1048576 rows x 2 heads x 1099511627776 positions x "
               "4 floats overflow");
  c = ok;
  c.maxLength = 0;
  expectErr(c, "cache slot 'dec.layer0' (#0): max_length is 0");
  c = ok;
  c.heads = 0;
  expectErr(c, "cache slot 'dec.layer0' (#0): num_heads is 0");
  c = ok;
  c.headDim = -1;
  expectErr(c, "cache slot 'dec.layer0' (#0): head_dim is -1");
}

TEST(RuntimeCache, LoaderDecodesGenerationAndVocabulary) {
  PlanBuilder pb;
  int batch = pb.addSymbol("batch", 1, 2);
  pb.vocabulary = {"<pad>", "hello", "world"};
  pb.generationTokenInput = "input_ids";
  int x = pb.addInput("input_ids", TFC_F32, {Sym(batch), S(3)});
  int y = pb.addOutput("y", TFC_F32, {Sym(batch), S(3)});
  pb.addKernel(K::Unary, {x}, {y}, opt::unary(fb::UnaryOp::Sqrt));
  auto plan = loadBytes(pb.build());
  EXPECT_EQ(plan->vocabulary, (std::vector<std::string>{"<pad>", "hello", "world"}));
  EXPECT_TRUE(plan->generation.present);
  EXPECT_EQ(plan->generation.mode, "kv-cache");
  EXPECT_EQ(plan->generation.tokenInput, "input_ids");
  EXPECT_TRUE(plan->caches.empty());
  EXPECT_EQ(plan->functions[0].cacheOp, rt::CacheOp::None);
  // (1.x plans, whatever fields they hold, are refused: runtime_loader_test.)
}

// ---- decode speed: a benchmark, compiled only into runtime_cache_bench (never run by ctest):
//   build/bin/runtime_cache_bench --gtest_filter='*Timing*'   [TFC_CACHE_BENCH_THREADS=n]
#ifdef TFC_CACHE_BENCH_BUILD
TEST(RuntimeCacheBench, DecodeTiming) {
  const int64_t H = 12, dh = 64, D = H * dh, L = 256;
  for (int64_t B : {1, 8}) {
    auto plan = loadBytes(selfPlan(H, dh, 512, MaskType::None, 8));
    int threads = std::getenv("TFC_CACHE_BENCH_THREADS")
                      ? std::atoi(std::getenv("TFC_CACHE_BENCH_THREADS")) : 0;
    rt::Session s(plan, threads);
    auto x = randomFloats(B * L * D, 1);
    run(s, "prefill", {tokens(B, L), makeIn("q", TFC_F32, {B, L, D}, x),
                       makeIn("k", TFC_F32, {B, L, D}, x), makeIn("v", TFC_F32, {B, L, D}, x)});
    auto x1 = randomFloats(B * D, 2);
    std::vector<In> ins = {tokens(B, 1), makeIn("q", TFC_F32, {B, 1, D}, x1),
                           makeIn("k", TFC_F32, {B, 1, D}, x1), makeIn("v", TFC_F32, {B, 1, D}, x1)};
    std::vector<int32_t> same(static_cast<size_t>(B));
    for (int64_t b = 0; b < B; ++b)
      same[size_t(b)] = int32_t(b);
    const int iters = 200;
    double total = 0;
    std::vector<double> each;
    s.setProfiling(true);
    for (int it = 0; it < iters + 10; ++it) {
      if (it == 10)
        s.resetProfile();
      // Keep L at 256: one append, timed, then restart at 256 by a prefill every 50 steps.
      if (s.cacheLength() >= 300)
        run(s, "prefill", {tokens(B, L), makeIn("q", TFC_F32, {B, L, D}, x),
                           makeIn("k", TFC_F32, {B, L, D}, x), makeIn("v", TFC_F32, {B, L, D}, x)});
      auto t0 = std::chrono::steady_clock::now();
      run(s, "decode_step", ins);
      auto t1 = std::chrono::steady_clock::now();
      if (it >= 10) {
        each.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
        total += each.back();
      }
    }
    std::sort(each.begin(), each.end());
    const auto &prof = *s.profile("decode_step");
    std::printf("CachedAttention decode B=%lld H=%lld dh=%lld L=256..300, %d threads: run "
                "mean %.1f us, median %.1f us, min %.1f us; kernel mean %.1f us\n",
                (long long)B, (long long)H, (long long)dh, threads, total / iters,
                each[each.size() / 2], each[0], prof[0].totalMs * 1000.0 / double(prof[0].calls));
  }
}
#endif // TFC_CACHE_BENCH_BUILD
