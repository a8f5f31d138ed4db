//===- runtime_attention_capture_test.cpp - attention weights kept on request -----------------===//
//
// tfc_session_set_attention_capture (runtime/src/AttentionCapture.h): the Attention kernel's
// recorded probabilities (computed apart from the blocked kernel) and CachedAttention's (copied
// from its rows) against a plain double-precision softmax(scale q.k + mask) written here; padded
// keys exactly 0, rows summing to 1, outputs unchanged by capturing; the C API's records, runs,
// errors, and a failed run adding nothing.
//
//===----------------------------------------------------------------------------------------===//
#include "runtime_kernel_harness.h"

#include "Error.h"
#include "Session.h"

#include <functional>
#include <limits>

using namespace rtt;
using K = fb::KernelKind;
namespace rt = tfc::rt;

namespace {

std::shared_ptr<const rt::Plan> loadBytes(const std::vector<uint8_t> &bytes) {
  std::string path = tempPath("capture");
  writeFile(path, bytes);
  std::shared_ptr<const rt::Plan> p = rt::loadPlan(path.c_str(), true);
  std::remove(path.c_str());
  return p;
}

struct In {
  std::string name;
  tfc_dtype dtype = TFC_F32;
  std::vector<int64_t> dims;
  std::vector<uint8_t> bytes;
};
template <typename T>
In makeIn(std::string name, tfc_dtype dt, std::vector<int64_t> dims, const std::vector<T> &v) {
  In in{std::move(name), dt, std::move(dims), {}};
  in.bytes.resize(v.size() * sizeof(T));
  std::memcpy(in.bytes.data(), v.data(), in.bytes.size());
  return in;
}

std::vector<tfc_tensor> views(const std::vector<In> &ins) {
  std::vector<tfc_tensor> ts;
  for (const In &in : ins)
    ts.push_back({in.name.c_str(), in.dtype, int32_t(in.dims.size()), in.dims.data(),
                  in.bytes.data()});
  return ts;
}

std::vector<float> outFloats(const rt::Outputs &o) {
  const auto &out = o.outputs[0];
  int64_t n = 1;
  for (int64_t d : out.dims)
    n *= d;
  const float *p = static_cast<const float *>(out.buffer.data);
  return std::vector<float>(p, p + n);
}

/// softmax over the visible keys of scale * q.k + add, in double: P [B, H, Sq, Sk]. Query i of
/// this run sits at key position i + offset; `visible(b, i, j)` and `add(b, i, j)` give the mask.
std::vector<double> refProbabilities(const std::vector<float> &q, const std::vector<float> &k,
                                     int64_t B, int64_t Sq, int64_t Sk, int64_t H, int64_t G,
                                     int64_t dh, float scale,
                                     const std::function<bool(int64_t, int64_t, int64_t)> &visible,
                                     const std::function<double(int64_t, int64_t, int64_t)> &add) {
  std::vector<double> p(size_t(B * H * Sq * Sk), 0.0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t i = 0; i < Sq; ++i) {
        const int64_t g = h / (H / G);
        double *row = p.data() + ((b * H + h) * Sq + i) * Sk;
        double mx = -std::numeric_limits<double>::infinity();
        std::vector<double> s(size_t(Sk), 0.0);
        for (int64_t j = 0; j < Sk; ++j) {
          if (!visible(b, i, j))
            continue;
          double dot = 0;
          for (int64_t d = 0; d < dh; ++d)
            dot += double(q[size_t((b * Sq + i) * H * dh + h * dh + d)]) *
                   double(k[size_t((b * Sk + j) * G * dh + g * dh + d)]);
          s[size_t(j)] = dot * scale + add(b, i, j);
          mx = std::max(mx, s[size_t(j)]);
        }
        if (mx == -std::numeric_limits<double>::infinity())
          continue; // nothing visible: zeros
        double sum = 0;
        for (int64_t j = 0; j < Sk; ++j)
          if (visible(b, i, j))
            sum += (row[j] = std::exp(s[size_t(j)] - mx));
        for (int64_t j = 0; j < Sk; ++j)
          row[j] /= sum;
      }
  return p;
}

void expectProbabilities(const float *got, const std::vector<double> &ref, int64_t Sk,
                         const std::string &what) {
  for (size_t i = 0; i < ref.size(); ++i) {
    if (ref[i] == 0.0) // a hidden key: exactly zero
      ASSERT_EQ(got[i], 0.f) << what << " at " << i;
    else
      ASSERT_NEAR(got[i], ref[i], 1e-5) << what << " at " << i;
  }
  for (size_t r = 0; r < ref.size() / size_t(Sk); ++r) {
    double sum = 0;
    for (int64_t j = 0; j < Sk; ++j)
      sum += got[r * size_t(Sk) + size_t(j)];
    ASSERT_NEAR(sum, 1.0, 1e-5) << what << " row " << r;
  }
}

struct AttnCase {
  int64_t B, Sq, Sk, H, G, dh;
  fb::MaskKind kind;
  bool boolMask; // padding: a bool [B, 1, 1, Sk] mask (else a float [B, 1, Sq, Sk] one)
};

/// A one-kernel Attention plan: inputs q, k, v (and mask), output o.
std::vector<uint8_t> attentionPlan(const AttnCase &c, bool masked) {
  PlanBuilder pb;
  int q = pb.addInput("q", TFC_F32, {S(c.B), S(c.Sq), S(c.H * c.dh)});
  int k = pb.addInput("k", TFC_F32, {S(c.B), S(c.Sk), S(c.G * c.dh)});
  int v = pb.addInput("v", TFC_F32, {S(c.B), S(c.Sk), S(c.G * c.dh)});
  int m = -1;
  if (masked)
    m = c.boolMask ? pb.addInput("mask", TFC_BOOL, {S(c.B), S(1), S(1), S(c.Sk)})
                   : pb.addInput("mask", TFC_F32, {S(c.B), S(1), S(c.Sq), S(c.Sk)});
  int o = pb.addOutput("o", TFC_F32, {S(c.B), S(c.Sq), S(c.H * c.dh)});
  pb.addKernel(K::Attention, {q, k, v, m}, {o},
               opt::attention(int32_t(c.H), c.kind, 1.f / std::sqrt(float(c.dh)),
                              c.G == c.H ? 0 : int32_t(c.G)),
               "encoder.layer.0.attention");
  return pb.build();
}

} // namespace

TEST(RuntimeAttentionCapture, AttentionWeightsMatchAPlainSoftmax) {
  const std::vector<AttnCase> cases = {
      {2, 6, 6, 3, 3, 4, fb::MaskKind::Padding, true},      // row 1 padded: keys 4, 5 hidden
      {2, 5, 5, 2, 2, 8, fb::MaskKind::Padding, false},     // additive float mask
      {1, 3, 7, 2, 2, 4, fb::MaskKind::Causal, true},       // queries at positions 4..6
      {2, 4, 4, 4, 2, 4, fb::MaskKind::CausalPadding, true}, // grouped-query, causal + padding
      {1, 40, 40, 2, 2, 16, fb::MaskKind::None, true},      // larger than one kernel block
  };
  uint32_t seed = 7;
  for (const AttnCase &c : cases) {
    std::string what = "B" + std::to_string(c.B) + " Sq" + std::to_string(c.Sq) + " Sk" +
                       std::to_string(c.Sk) + " H" + std::to_string(c.H) + " G" +
                       std::to_string(c.G) + " mask " + fb::EnumNameMaskKind(c.kind);
    const bool padding = c.kind == fb::MaskKind::Padding || c.kind == fb::MaskKind::CausalPadding;
    const bool causal = c.kind == fb::MaskKind::Causal || c.kind == fb::MaskKind::CausalPadding;
    auto q = randomFloats(c.B * c.Sq * c.H * c.dh, seed++, -2.f, 2.f);
    auto k = randomFloats(c.B * c.Sk * c.G * c.dh, seed++, -2.f, 2.f);
    auto v = randomFloats(c.B * c.Sk * c.G * c.dh, seed++);
    std::vector<In> ins = {makeIn("q", TFC_F32, {c.B, c.Sq, c.H * c.dh}, q),
                           makeIn("k", TFC_F32, {c.B, c.Sk, c.G * c.dh}, k),
                           makeIn("v", TFC_F32, {c.B, c.Sk, c.G * c.dh}, v)};
    std::vector<uint8_t> keep(size_t(c.B * c.Sk), 1);
    std::vector<float> add;
    if (padding && c.boolMask) {
      for (int64_t j = c.Sk - 2; j < c.Sk && c.B > 1; ++j)
        keep[size_t(c.Sk + j)] = 0; // the last two keys of row 1 are padding
      ins.push_back(makeIn("mask", TFC_BOOL, {c.B, 1, 1, c.Sk}, keep));
    } else if (padding) {
      add = randomFloats(c.B * c.Sq * c.Sk, seed++, -3.f, 0.f);
      ins.push_back(makeIn("mask", TFC_F32, {c.B, 1, c.Sq, c.Sk}, add));
    }
    auto visible = [&](int64_t b, int64_t i, int64_t j) {
      return (!causal || j <= i + c.Sk - c.Sq) && keep[size_t(b * c.Sk + j)];
    };
    auto additive = [&](int64_t b, int64_t i, int64_t j) {
      return add.empty() ? 0.0 : double(add[size_t((b * c.Sq + i) * c.Sk + j)]);
    };
    auto plan = loadBytes(attentionPlan(c, padding));
    rt::Session plain(plan, 2), captured(plan, 2);
    captured.setAttentionCapture(true);
    auto ts = views(ins);
    auto expected = outFloats(*plain.run("forward", ts.data(), ts.size()));
    auto got = outFloats(*captured.run("forward", ts.data(), ts.size()));
    EXPECT_EQ(got, expected) << what << ": capturing changed the output";
    const auto &records = captured.attentionCapture()->records();
    ASSERT_EQ(records.size(), 1u) << what;
    const rt::AttentionRecord &r = records[0];
    EXPECT_EQ(r.function, "forward");
    EXPECT_EQ(r.kernel, "encoder.layer.0.attention");
    EXPECT_EQ(r.run, 0);
    EXPECT_EQ(r.index, 0);
    EXPECT_EQ(std::vector<int64_t>(r.dims, r.dims + 4),
              (std::vector<int64_t>{c.B, c.H, c.Sq, c.Sk}));
    auto ref = refProbabilities(q, k, c.B, c.Sq, c.Sk, c.H, c.G, c.dh,
                                1.f / std::sqrt(float(c.dh)), visible, additive);
    expectProbabilities(r.weights.data(), ref, c.Sk, what);
    EXPECT_EQ(plain.attentionCapture(), nullptr) << "capture is off by default";
    if (HasFatalFailure())
      return;
  }
}

TEST(RuntimeAttentionCapture, CachedAttentionRecordsPrefillAndEachDecodeStep) {
  const int64_t H = 2, dh = 8, D = H * dh, B = 2, maxLength = 16;
  PlanBuilder pb;
  int batch = pb.addSymbol("batch", 1, 4), seq = pb.addSymbol("seq", 1, maxLength);
  pb.addCache("layer0.self", fb::CacheKind::Self, int32_t(H), int32_t(dh), maxLength);
  pb.generationTokenInput = "input_ids";
  for (int f = 0; f < 2; ++f) {
    if (f == 0) {
      pb.functionName = "prefill";
      pb.cacheOp = fb::CacheOp::Prefill;
    } else {
      pb.nextFunction("decode_step", fb::CacheOp::Append);
    }
    pb.addInput("input_ids", TFC_I64, {Sym(batch), Sym(seq)});
    std::vector<DimSpec> bsd = {Sym(batch), Sym(seq), S(D)};
    int q = pb.addInput("q", TFC_F32, bsd), k = pb.addInput("k", TFC_F32, bsd),
        v = pb.addInput("v", TFC_F32, bsd);
    int o = pb.addOutput("o", TFC_F32, bsd);
    pb.addKernel(K::CachedAttention, {q, k, v}, {o},
                 opt::cachedAttention(int32_t(H), fb::MaskKind::Causal, 1.f / std::sqrt(float(dh)),
                                      0, fb::CacheKind::Self),
                 "decoder.layer.0.self_attn");
  }
  rt::Session session(loadBytes(pb.build()), 2);
  session.setAttentionCapture(true);
  std::vector<std::vector<float>> kh(B);
  int64_t past = 0;
  const std::vector<int64_t> steps = {5, 1, 1};
  for (size_t step = 0; step < steps.size(); ++step) {
    const int64_t S = steps[step], keys = past + S;
    auto q = randomFloats(B * S * D, 300 + uint32_t(step), -2.f, 2.f);
    auto k = randomFloats(B * S * D, 400 + uint32_t(step), -2.f, 2.f);
    auto v = randomFloats(B * S * D, 500 + uint32_t(step));
    for (int64_t b = 0; b < B; ++b)
      kh[size_t(b)].insert(kh[size_t(b)].end(), k.begin() + b * S * D, k.begin() + (b + 1) * S * D);
    std::vector<In> ins = {makeIn("input_ids", TFC_I64, {B, S}, std::vector<int64_t>(size_t(B * S), 1)),
                           makeIn("q", TFC_F32, {B, S, D}, q), makeIn("k", TFC_F32, {B, S, D}, k),
                           makeIn("v", TFC_F32, {B, S, D}, v)};
    auto ts = views(ins);
    session.run(step == 0 ? "prefill" : "decode_step", ts.data(), ts.size());
    const auto &records = session.attentionCapture()->records();
    ASSERT_EQ(records.size(), step + 1);
    const rt::AttentionRecord &r = records.back();
    EXPECT_EQ(r.function, step == 0 ? "prefill" : "decode_step");
    EXPECT_EQ(r.run, int64_t(step));
    EXPECT_EQ(std::vector<int64_t>(r.dims, r.dims + 4), (std::vector<int64_t>{B, H, S, keys}));
    // The keys of the reference: every row's whole history, as one [B, keys, D] tensor.
    std::vector<float> allKeys;
    for (int64_t b = 0; b < B; ++b)
      allKeys.insert(allKeys.end(), kh[size_t(b)].begin(), kh[size_t(b)].end());
    auto ref = refProbabilities(
        q, allKeys, B, S, keys, H, H, dh, 1.f / std::sqrt(float(dh)),
        [&](int64_t, int64_t i, int64_t j) { return j <= past + i; },
        [](int64_t, int64_t, int64_t) { return 0.0; });
    expectProbabilities(r.weights.data(), ref, keys, "step " + std::to_string(step));
    past += S;
  }
  session.clearAttentionCapture();
  EXPECT_TRUE(session.attentionCapture()->records().empty());
  session.setAttentionCapture(false);
  EXPECT_EQ(session.attentionCapture(), nullptr);
}

TEST(RuntimeAttentionCapture, CApiRecordsErrorsAndFailedRuns) {
  AttnCase c{1, 3, 3, 2, 2, 4, fb::MaskKind::None, true};
  tfc_plan *plan = nullptr;
  ASSERT_EQ(openBytes(attentionPlan(c, false), &plan, "capture"), nullptr);
  tfc_session *s = nullptr;
  ASSERT_EQ(tfc_session_create(plan, nullptr, &s), nullptr);
  tfc_plan_release(plan);
  auto q = randomFloats(1 * 3 * 8, 1), k = randomFloats(1 * 3 * 8, 2), v = randomFloats(24, 3);
  std::vector<In> ins = {makeIn("q", TFC_F32, {1, 3, 8}, q), makeIn("k", TFC_F32, {1, 3, 8}, k),
                         makeIn("v", TFC_F32, {1, 3, 8}, v)};
  auto ts = views(ins);
  auto runOnce = [&](size_t n) {
    tfc_outputs *out = nullptr;
    tfc_status *st = tfc_session_run(s, "forward", ts.data(), n, &out);
    tfc_outputs_free(out);
    return st;
  };
  tfc_attention_weights w;
  // Off: nothing kept, nothing to get.
  ASSERT_EQ(runOnce(3), nullptr);
  EXPECT_EQ(tfc_session_attention_count(s), 0u);
  tfc_status *st = tfc_session_attention_get(s, 0, &w);
  ASSERT_NE(st, nullptr);
  EXPECT_EQ(tfc_status_code(st), TFC_NOT_FOUND);
  tfc_status_free(st);
  // On: one record per run, accumulating; a failed run (a missing input) adds none.
  ASSERT_EQ(tfc_session_set_attention_capture(s, 1), nullptr);
  ASSERT_EQ(runOnce(3), nullptr);
  ASSERT_EQ(runOnce(3), nullptr);
  st = runOnce(2);
  ASSERT_NE(st, nullptr);
  tfc_status_free(st);
  ASSERT_EQ(tfc_session_attention_count(s), 2u);
  ASSERT_EQ(tfc_session_attention_get(s, 1, &w), nullptr);
  EXPECT_STREQ(w.function, "forward");
  EXPECT_STREQ(w.kernel, "encoder.layer.0.attention");
  EXPECT_EQ(w.run, 1);
  EXPECT_EQ(w.layer, 0);
  EXPECT_EQ(w.dims[0], 1);
  EXPECT_EQ(w.dims[1], 2);
  EXPECT_EQ(w.dims[2], 3);
  EXPECT_EQ(w.dims[3], 3);
  double sum = w.data[0] + w.data[1] + w.data[2];
  EXPECT_NEAR(sum, 1.0, 1e-6);
  st = tfc_session_attention_get(s, 2, &w);
  ASSERT_NE(st, nullptr);
  EXPECT_EQ(tfc_status_code(st), TFC_NOT_FOUND);
  EXPECT_NE(std::string(tfc_status_message(st)).find("2 attention record(s)"), std::string::npos)
      << tfc_status_message(st);
  tfc_status_free(st);
  tfc_session_attention_clear(s);
  EXPECT_EQ(tfc_session_attention_count(s), 0u);
  ASSERT_EQ(tfc_session_set_attention_capture(s, 0), nullptr);
  EXPECT_EQ(tfc_session_attention_count(s), 0u);
  // NULL arguments are errors, not crashes.
  st = tfc_session_set_attention_capture(nullptr, 1);
  ASSERT_NE(st, nullptr);
  EXPECT_EQ(tfc_status_code(st), TFC_INVALID_ARGUMENT);
  tfc_status_free(st);
  st = tfc_session_attention_get(s, 0, nullptr);
  ASSERT_NE(st, nullptr);
  tfc_status_free(st);
  EXPECT_EQ(tfc_session_attention_count(nullptr), 0u);
  tfc_session_attention_clear(nullptr);
  tfc_session_release(s);
}
