//===- cuda_cache_test.cpp - CachedAttention and CacheStore on cuda:0 against the CPU plan ----===//
//
// The same small decoder-like plans (prefill + decode_step over a Self slot; encode + decode_step
// over a Cross slot) are written for the CPU (fp32, f32 slots: the reference) and for CUDA at
// fp32/fp16/bf16 with f32/f16/bf16 slots, and run step by step through the C API with the same
// inputs (rounded to the plan's precision). Several decode steps run with unchanged shapes, so
// the CUDA session captures decode_step into a CUDA graph and replays it (DecodeGraph.h); the
// same steps run again with TFC_CUDA_GRAPHS=0 (the plain loop) must agree too.
//
// Tolerances: fp32 plans with f32 slots 1e-4 relative. A 16-bit slot rounds each stored key and
// value (2^-11 relative for f16, 2^-8 for bf16; |k|, |v| <= 1, |q| <= 1, dh <= 64: a score moves
// by at most dh * 2^-11 * scale ~ 4e-3 for f16), and a 16-bit plan rounds o as well: 4e-3 for
// f16 and 3e-2 for bf16 cover both with margin.
//
//===----------------------------------------------------------------------------------------===//
#include "cuda_test_util.h"

#include <cstdlib>
#include <limits>

using namespace rtt;
using K = fb::KernelKind;

namespace {

struct Config {
  fb::DType precision = fb::DType::F32;
  fb::DType slot = fb::DType::F32;
  int64_t H = 4, G = 4, dh = 64, maxLength = 80, window = 0;
  bool mask = false;
};

std::string describe(const Config &c) {
  return std::string("precision=") + fb::EnumNameDType(c.precision) + " slot=" +
         fb::EnumNameDType(c.slot) + " H=" + std::to_string(c.H) + " G=" + std::to_string(c.G) +
         " dh=" + std::to_string(c.dh) + " window=" + std::to_string(c.window) +
         " mask=" + std::to_string(c.mask);
}

/// prefill (Prefill) and decode_step (Append): one CachedAttention over Self slot 0; inputs
/// input_ids [batch, seq], q [batch, seq, H*dh], k, v [batch, seq, G*dh], mask [batch, 1, 1,
/// keys] (f32) when masked; output o.
std::vector<uint8_t> selfPlan(const Config &c, fb::Target target) {
  PlanBuilder pb;
  pb.target = target;
  pb.precision = target == fb::Target::Cpu ? fb::DType::F32 : c.precision;
  const tfc_dtype ft = target == fb::Target::Cpu ? TFC_F32 : dtypeOf(c.precision);
  int batch = pb.addSymbol("batch", 1, 4);
  int seq = pb.addSymbol("seq", 1, c.maxLength);
  int keys = pb.addSymbol("keys", 1, c.maxLength);
  pb.addCache("layer0.self", fb::CacheKind::Self, int32_t(c.G), int32_t(c.dh), c.maxLength);
  pb.caches.back().dtype = target == fb::Target::Cpu ? fb::DType::F32 : c.slot;
  pb.generationTokenInput = "input_ids";
  for (int f = 0; f < 2; ++f) {
    if (f == 0) {
      pb.functionName = "prefill";
      pb.cacheOp = fb::CacheOp::Prefill;
    } else {
      pb.nextFunction("decode_step", fb::CacheOp::Append);
    }
    pb.addInput("input_ids", TFC_I64, {Sym(batch), Sym(seq)});
    int q = pb.addInput("q", ft, {Sym(batch), Sym(seq), S(c.H * c.dh)});
    int k = pb.addInput("k", ft, {Sym(batch), Sym(seq), S(c.G * c.dh)});
    int v = pb.addInput("v", ft, {Sym(batch), Sym(seq), S(c.G * c.dh)});
    int m = c.mask ? pb.addInput("mask", TFC_F32, {Sym(batch), S(1), S(1), Sym(keys)}) : -1;
    int o = pb.addOutput("o", ft, {Sym(batch), Sym(seq), S(c.H * c.dh)});
    pb.addKernel(K::CachedAttention, {q, k, v, m}, {o},
                 opt::cachedAttention(int32_t(c.H),
                                      c.mask ? fb::MaskKind::CausalPadding : fb::MaskKind::Causal,
                                      1.f / std::sqrt(float(c.dh)), 0, fb::CacheKind::Self,
                                      int32_t(c.G == c.H ? 0 : c.G), int32_t(c.window)),
                 "layer0.attn");
  }
  return pb.build();
}

/// A session on a plan written to a temporary file.
struct PlanRun {
  tfc_session *session = nullptr;
  std::string error;
  explicit PlanRun(const std::vector<uint8_t> &bytes) {
    tfc_plan *plan = nullptr;
    tfc_status *s = openBytes(bytes, &plan, "cuda_cache");
    if (!s) {
      tfc_session_options so;
      tfc_session_options_init(&so);
      so.num_threads = 2;
      s = tfc_session_create(plan, &so, &session);
      tfc_plan_release(plan);
    }
    if (s) {
      error = tfc_status_message(s);
      tfc_status_free(s);
    }
  }
  ~PlanRun() { tfc_session_release(session); }

  /// Runs `fn` with `args` (name, argument); returns output 0 as floats (empty for none).
  std::vector<float> call(const char *fn, const std::vector<std::pair<std::string, Arg>> &args,
                          std::string *err) {
    std::vector<tfc_tensor> ts;
    for (const auto &[name, a] : args)
      ts.push_back({name.c_str(), a.dtype, int32_t(a.shape.size()), a.shape.data(),
                    a.bytes.data()});
    tfc_outputs *outs = nullptr;
    tfc_status *s = tfc_session_run(session, fn, ts.data(), ts.size(), &outs);
    std::vector<float> r;
    if (!s && tfc_outputs_count(outs) > 0) {
      tfc_tensor y;
      s = tfc_outputs_get(outs, 0, &y);
      if (!s) {
        RunResult rr;
        rr.dtype = y.dtype;
        rr.shape.assign(y.dims, y.dims + y.rank);
        const size_t n = size_t(numel(rr.shape)) * tfc_dtype_size(y.dtype);
        rr.bytes.assign(static_cast<const uint8_t *>(y.data),
                        static_cast<const uint8_t *>(y.data) + n);
        r = floatsOf(rr);
      }
    }
    tfc_outputs_free(outs);
    if (s) {
      *err = tfc_status_message(s);
      tfc_status_free(s);
    }
    return r;
  }
};

Arg tokens(int64_t B, int64_t S) {
  return I64({B, S}, std::vector<int64_t>(size_t(B * S), 1));
}

/// prefill of `steps[0]` tokens, then appends of steps[1..]: the CUDA plan against the CPU plan
/// at every step.
void checkSelf(const Config &c, int64_t B, const std::vector<int64_t> &steps, uint32_t seed) {
  const std::string what = describe(c);
  const tfc_dtype ft = dtypeOf(c.precision);
  PlanRun cpu(selfPlan(c, fb::Target::Cpu)), gpu(selfPlan(c, fb::Target::Cuda));
  ASSERT_EQ(cpu.error, "") << what;
  ASSERT_EQ(gpu.error, "") << what;
  const float tol = c.precision == fb::DType::BF16 || c.slot == fb::DType::BF16 ? 3e-2f
                    : c.precision == fb::DType::F16 || c.slot == fb::DType::F16 ? 4e-3f
                                                                                 : 1e-4f;
  int64_t past = 0;
  for (size_t step = 0; step < steps.size(); ++step) {
    const int64_t S = steps[step], keys = past + S;
    const std::string at = what + " step " + std::to_string(step) + " (past " +
                           std::to_string(past) + ", S " + std::to_string(S) + ")";
    const uint32_t s0 = seed + 10 * uint32_t(step);
    auto q = roundTo(ft, randomFloats(B * S * c.H * c.dh, s0));
    auto k = roundTo(ft, randomFloats(B * S * c.G * c.dh, s0 + 1));
    auto v = roundTo(ft, randomFloats(B * S * c.G * c.dh, s0 + 2));
    std::vector<std::pair<std::string, Arg>> cpuArgs = {
        {"input_ids", tokens(B, S)},
        {"q", F32({B, S, c.H * c.dh}, q)},
        {"k", F32({B, S, c.G * c.dh}, k)},
        {"v", F32({B, S, c.G * c.dh}, v)}};
    if (c.mask) {
      std::vector<float> m(size_t(B * keys), 0.f);
      for (int64_t b = 0; b < B; ++b) // row b hides key (b + step) % keys; soft values elsewhere
        for (int64_t j = 0; j < keys; ++j)
          m[size_t(b * keys + j)] = j == (b + int64_t(step)) % keys
                                        ? -std::numeric_limits<float>::infinity()
                                        : -0.25f * float((j + b) % 5);
      cpuArgs.push_back({"mask", F32({B, 1, 1, keys}, m)});
    }
    auto gpuArgs = cpuArgs;
    for (auto &[name, a] : gpuArgs)
      if (name == "q" || name == "k" || name == "v")
        a = toDtype(a, ft);
    const char *fn = step == 0 ? "prefill" : "decode_step";
    std::string e1, e2;
    auto ref = cpu.call(fn, cpuArgs, &e1);
    ASSERT_EQ(e1, "") << at;
    auto got = gpu.call(fn, gpuArgs, &e2);
    ASSERT_EQ(e2, "") << at;
    expectCloseRel(got, ref, tol, at);
    past += S;
  }
}

} // namespace

TEST(CudaCache, SelfPrefillThenDecodeStepsMatchTheCpuPlan) {
  TFC_REQUIRE_CUDA();
  uint32_t seed = 100;
  const std::vector<int64_t> steps = {7, 1, 1, 1, 1, 1, 3, 1, 1, 1};
  for (fb::DType p : {fb::DType::F32, fb::DType::F16, fb::DType::BF16})
    for (int64_t B : {1, 3}) {
      Config c;
      c.precision = p;
      c.slot = p;
      checkSelf(c, B, steps, seed += 1000);
      if (HasFatalFailure())
        return;
    }
}

TEST(CudaCache, SlotDtypesMasksGroupedHeadsAndWindows) {
  TFC_REQUIRE_CUDA();
  uint32_t seed = 20000;
  const std::vector<int64_t> steps = {65, 1, 1, 1, 2, 1, 1};
  for (fb::DType slot : {fb::DType::F32, fb::DType::F16, fb::DType::BF16}) {
    Config c;
    c.slot = slot; // an fp32 plan over a 16-bit cache
    c.mask = true;
    checkSelf(c, 2, steps, seed += 1000);
    Config g;
    g.slot = slot;
    g.H = 8, g.G = 2, g.dh = 32, g.window = 5;
    checkSelf(g, 2, steps, seed += 1000);
    Config d80;
    d80.slot = slot;
    d80.H = 2, d80.G = 2, d80.dh = 80;
    checkSelf(d80, 1, steps, seed += 1000);
    if (HasFatalFailure())
      return;
  }
}

TEST(CudaCache, GraphReplayAndPlainLoopAgree) {
  TFC_REQUIRE_CUDA();
  // Twelve decode steps of one shape: the CUDA session captures decode_step on its second step
  // and replays it after. Both with graphs and with TFC_CUDA_GRAPHS=0 must match the CPU plan.
  Config c;
  c.H = 4, c.G = 4, c.dh = 64, c.maxLength = 64;
  const std::vector<int64_t> steps = {5, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  checkSelf(c, 2, steps, 777);
  ASSERT_EQ(setenv("TFC_CUDA_GRAPHS", "0", 1), 0);
  checkSelf(c, 2, steps, 777);
  unsetenv("TFC_CUDA_GRAPHS");
}

TEST(CudaCache, CrossSlotStoredOnceReadByDecodeSteps) {
  TFC_REQUIRE_CUDA();
  const int64_t H = 2, dh = 32, D = H * dh, B = 3, Ssrc = 37, maxSrc = 64;
  for (fb::DType p : {fb::DType::F32, fb::DType::F16, fb::DType::BF16}) {
    const std::string what = std::string("precision ") + fb::EnumNameDType(p);
    const tfc_dtype ft = dtypeOf(p);
    auto build = [&](fb::Target target) {
      PlanBuilder pb;
      pb.target = target;
      pb.precision = target == fb::Target::Cpu ? fb::DType::F32 : p;
      const tfc_dtype t = target == fb::Target::Cpu ? TFC_F32 : ft;
      int batch = pb.addSymbol("batch", 1, 4);
      int seq = pb.addSymbol("seq", 1, 8);
      int src = pb.addSymbol("src", 1, maxSrc);
      pb.addCache("layer0.cross", fb::CacheKind::Cross, H, dh, maxSrc);
      pb.caches.back().dtype = target == fb::Target::Cpu ? fb::DType::F32 : p;
      pb.generationTokenInput = "input_ids";
      pb.functionName = "encode";
      pb.cacheOp = fb::CacheOp::Encode;
      int k = pb.addInput("enc_k", t, {Sym(batch), Sym(src), S(D)});
      int v = pb.addInput("enc_v", t, {Sym(batch), Sym(src), S(D)});
      pb.addKernel(K::CacheStore, {k, v}, {}, opt::cacheStore(0), "layer0.cross.store");
      pb.nextFunction("decode_step", fb::CacheOp::Append);
      pb.addInput("input_ids", TFC_I64, {Sym(batch), Sym(seq)});
      int q = pb.addInput("q", t, {Sym(batch), Sym(seq), S(D)});
      int m = pb.addInput("enc_mask", TFC_F32, {Sym(batch), S(1), S(1), Sym(src)});
      int o = pb.addOutput("o", t, {Sym(batch), Sym(seq), S(D)});
      pb.addKernel(K::CachedAttention, {q, -1, -1, m}, {o},
                   opt::cachedAttention(int32_t(H), fb::MaskKind::Padding,
                                        1.f / std::sqrt(float(dh)), 0, fb::CacheKind::Cross),
                   "layer0.cross_attn");
      return pb.build();
    };
    PlanRun cpu(build(fb::Target::Cpu)), gpu(build(fb::Target::Cuda));
    ASSERT_EQ(cpu.error, "") << what;
    ASSERT_EQ(gpu.error, "") << what;
    auto ek = roundTo(ft, randomFloats(B * Ssrc * D, 1)), ev = roundTo(ft, randomFloats(B * Ssrc * D, 2));
    std::vector<float> mask(size_t(B * Ssrc), 0.f);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t j = Ssrc - 3 * b; j < Ssrc; ++j) // row b: its last 3b positions are padding
        mask[size_t(b * Ssrc + j)] = -std::numeric_limits<float>::infinity();
    std::string e;
    std::vector<std::pair<std::string, Arg>> enc = {{"enc_k", F32({B, Ssrc, D}, ek)},
                                                    {"enc_v", F32({B, Ssrc, D}, ev)}};
    cpu.call("encode", enc, &e);
    ASSERT_EQ(e, "") << what;
    for (auto &[name, a] : enc)
      a = toDtype(a, ft);
    gpu.call("encode", enc, &e);
    ASSERT_EQ(e, "") << what;
    const float tol = p == fb::DType::F32 ? 1e-4f : p == fb::DType::F16 ? 4e-3f : 3e-2f;
    for (int step = 0; step < 6; ++step) {
      const int64_t S = step == 2 ? 3 : 1; // S = 3: the fused kernel over the Cross slot
      auto q = roundTo(ft, randomFloats(B * S * D, 10 + uint32_t(step)));
      std::vector<std::pair<std::string, Arg>> args = {{"input_ids", tokens(B, S)},
                                                       {"q", F32({B, S, D}, q)},
                                                       {"enc_mask", F32({B, 1, 1, Ssrc}, mask)}};
      auto ref = cpu.call("decode_step", args, &e);
      ASSERT_EQ(e, "") << what;
      args[1].second = toDtype(args[1].second, ft);
      auto got = gpu.call("decode_step", args, &e);
      ASSERT_EQ(e, "") << what;
      expectCloseRel(got, ref, tol, what + " step " + std::to_string(step));
    }
  }
}

TEST(CudaCache, OverflowingTheSlotFailsClearly) {
  TFC_REQUIRE_CUDA();
  Config c;
  c.maxLength = 8;
  PlanRun gpu(selfPlan(c, fb::Target::Cuda));
  ASSERT_EQ(gpu.error, "");
  std::string e;
  auto arg = [&](int64_t S, int64_t w, uint32_t s) { return F32({1, S, w}, randomFloats(S * w, s)); };
  gpu.call("prefill", {{"input_ids", tokens(1, 6)}, {"q", arg(6, 256, 1)}, {"k", arg(6, 256, 2)},
                       {"v", arg(6, 256, 3)}}, &e);
  ASSERT_EQ(e, "");
  gpu.call("decode_step", {{"input_ids", tokens(1, 3)}, {"q", arg(3, 256, 4)},
                           {"k", arg(3, 256, 5)}, {"v", arg(3, 256, 6)}}, &e);
  EXPECT_NE(e.find("the KV cache holds 8 positions; 6 + 3 exceeds it"), std::string::npos) << e;
}
