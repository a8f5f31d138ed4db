//===- runtime_kernel_bench.cpp - speed of Linear and Attention at [1, 128, 384] (a benchmark) ===//
//
// Not a test: built next to the runtime tests (it shares their plan builder) but never run by
// ctest. Run it by hand:  build/bin/runtime_kernel_bench  (TFC_RT_THREADS=N, default 2;
// --gtest_filter=*AttentionGeometries with TFC_ATTENTION=onednn against the default compares the
// attention implementations).
//
//===----------------------------------------------------------------------------------------===//
#include "runtime_kernel_harness.h"

#include "tfc/tfc_runtime.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>

using namespace rtt;
using K = fb::KernelKind;

namespace {
/// CPU time of the process so far (all threads): with 1 thread, the run's own work even when
/// other processes hold the cores.
double cpuTimeMs() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

struct Case {
  const char *name;
  fb::KernelKind kind;
  std::vector<Arg> args;
  std::vector<int64_t> out;
  Options options;
  double flops;
};

/// Times session runs of a one-kernel plan per case: kernel time from the session profile.
void timeCases(std::vector<Case> &cases, int threads) {
  for (Case &c : cases) {
    // Build the plan once and time session runs (includes the C API and output allocation).
    PlanBuilder pb;
    std::vector<int32_t> ins;
    std::vector<tfc_tensor> tensors;
    std::vector<std::string> names;
    for (size_t i = 0; i < c.args.size(); ++i)
      names.push_back("in" + std::to_string(i));
    for (size_t i = 0; i < c.args.size(); ++i) {
      Arg &a = c.args[i];
      if (a.constant) {
        ins.push_back(pb.addConstantValue(pb.addConstant(names[i], a.dtype, a.shape, a.bytes.data())));
        continue;
      }
      std::vector<DimSpec> dims;
      for (int64_t d : a.shape)
        dims.push_back(rtt::S(d));
      ins.push_back(pb.addInput(names[i], a.dtype, dims));
      tensors.push_back({names[i].c_str(), a.dtype, int32_t(a.shape.size()), a.shape.data(), a.bytes.data()});
    }
    std::vector<DimSpec> od;
    for (int64_t d : c.out)
      od.push_back(rtt::S(d));
    // The kernel writes the arena (as inside a model); a Shape kernel makes the output.
    int t = pb.addIntermediate("t", TFC_F32, od);
    pb.addKernel(c.kind, ins, {t}, c.options);
    pb.addKernel(K::Shape, {t}, {pb.addOutput("shape", TFC_I64, {rtt::S(int64_t(od.size()))})});
    std::string path = tempPath("bench");
    writeFile(path, pb.build());
    tfc::Plan plan;
    ASSERT_TRUE(tfc::Plan::open(path.c_str(), &plan).ok());
    std::remove(path.c_str());
    tfc::Session session;
    ASSERT_TRUE(tfc::Session::create(plan, threads, &session).ok());
    // Kernel time from the session's profile (the run also allocates the output per call).
    session.setProfiling(true);
    std::vector<double> kernelMs, runMs, cpuMs;
    // 20 warm-up runs, then 300 timed ones, or as many as fit in about 3 s (at least 10).
    double spentMs = 0;
    for (int i = 0; i < 320 && (i < 30 || spentMs < 3000); ++i) {
      tfc_session_profile_reset(session.get());
      auto t0 = std::chrono::steady_clock::now();
      double c0 = cpuTimeMs();
      tfc::Outputs out;
      ASSERT_TRUE(session.run("forward", tensors.data(), tensors.size(), &out).ok());
      double run = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      spentMs += run;
      double cpu = cpuTimeMs() - c0;
      tfc_kernel_profile p;
      ASSERT_EQ(tfc_session_profile_get(session.get(), "forward", 0, &p), nullptr);
      if (i >= 20) { // warm-up
        kernelMs.push_back(p.total_ms);
        runMs.push_back(run);
        cpuMs.push_back(cpu);
      }
    }
    std::sort(kernelMs.begin(), kernelMs.end());
    std::sort(runMs.begin(), runMs.end());
    std::sort(cpuMs.begin(), cpuMs.end());
    double best = kernelMs.front(), median = kernelMs[kernelMs.size() / 2];
    std::printf("[bench] %-44s kernel min %6.3f ms %5.1f GFLOP/s, median %6.3f ms %5.1f GFLOP/s;"
                " whole run median %6.3f ms, process CPU min %6.3f median %6.3f ms (%d threads)\n",
                c.name, best, c.flops / (best * 1e6), median, c.flops / (median * 1e6),
                runMs[runMs.size() / 2], cpuMs.front(), cpuMs[cpuMs.size() / 2], threads);
  }
}

int benchThreads() {
  return std::getenv("TFC_RT_THREADS") ? std::atoi(std::getenv("TFC_RT_THREADS")) : 2;
}

TEST(RuntimeBench, LinearAndAttentionAt128x384) {
  const int64_t S = 128, D = 384, F = 1536, H = 12;
  auto x = randomFloats(S * D, 1), x2 = randomFloats(S * F, 2), w1 = randomFloats(D * F, 3),
       w2 = randomFloats(F * D, 4), b1 = randomFloats(F, 5), b2 = randomFloats(D, 6);
  std::vector<uint8_t> mask(S, 1);
  std::vector<Case> cases = {
      {"Linear 128x384x1536 +bias+gelu", K::Linear,
       {F32({1, S, D}, x), F32({D, F}, w1, true), F32({F}, b1, true)}, {1, S, F}, opt::linear(fb::Activation::GeluErf),
       2.0 * S * D * F},
      {"Linear 128x1536x384 +bias+residual", K::Linear,
       {F32({1, S, F}, x2), F32({F, D}, w2, true), F32({D}, b2, true), F32({1, S, D}, x)},
       {1, S, D}, opt::linear(fb::Activation::None), 2.0 * S * F * D},
      {"Attention [1,128,384] 12 heads, padding mask", K::Attention,
       {F32({1, S, D}, x), F32({1, S, D}, x), F32({1, S, D}, x), Bool({1, 1, 1, S}, mask)},
       {1, S, D}, opt::attention(int32_t(H), fb::MaskKind::Padding, 0.125f), 2.0 * 2 * S * S * D},
  };
  timeCases(cases, benchThreads());
}

/// The Linear and LayerNorm kernels of a MiniLM and a BERT-base layer at [1, 128, D] (weights
/// as plan constants, as in a compiled model).
TEST(RuntimeBench, EncoderLayerKernels) {
  struct Width {
    const char *name;
    int64_t d, f;
  };
  const Width widths[] = {{"MiniLM", 384, 1536}, {"BERT", 768, 3072}};
  const int64_t S = 128;
  std::vector<Case> cases;
  std::vector<std::string> names;
  uint32_t seed = 40;
  for (const Width &w : widths) {
    const int64_t D = w.d, F = w.f;
    auto x = randomFloats(S * D, seed++), h = randomFloats(S * F, seed++),
         wqkv = randomFloats(D * D, seed++), wup = randomFloats(D * F, seed++),
         wdown = randomFloats(F * D, seed++), bd = randomFloats(D, seed++),
         bf = randomFloats(F, seed++), g = randomFloats(D, seed++);
    names.push_back(std::string("Linear ") + w.name + " 128x" + std::to_string(D) + "x" +
                    std::to_string(D) + " +bias");
    cases.push_back({nullptr, K::Linear, {F32({1, S, D}, x), F32({D, D}, wqkv, true), F32({D}, bd, true)},
                     {1, S, D}, opt::linear(fb::Activation::None), 2.0 * S * D * D});
    names.push_back(std::string("Linear ") + w.name + " 128x" + std::to_string(D) + "x" +
                    std::to_string(F) + " +bias+gelu");
    cases.push_back({nullptr, K::Linear, {F32({1, S, D}, x), F32({D, F}, wup, true), F32({F}, bf, true)},
                     {1, S, F}, opt::linear(fb::Activation::GeluErf), 2.0 * S * D * F});
    names.push_back(std::string("Linear ") + w.name + " 128x" + std::to_string(F) + "x" +
                    std::to_string(D) + " +bias+residual");
    cases.push_back({nullptr, K::Linear,
                     {F32({1, S, F}, h), F32({F, D}, wdown, true), F32({D}, bd, true), F32({1, S, D}, x)},
                     {1, S, D}, opt::linear(fb::Activation::None), 2.0 * S * F * D});
    names.push_back(std::string("LayerNorm ") + w.name + " [1,128," + std::to_string(D) + "]");
    cases.push_back({nullptr, K::LayerNorm, {F32({1, S, D}, x), F32({D}, g, true), F32({D}, bd, true)},
                     {1, S, D}, opt::layerNorm(1e-12f), 8.0 * S * D}); // nominal FLOPs
  }
  for (size_t i = 0; i < cases.size(); ++i)
    cases[i].name = names[i].c_str();
  timeCases(cases, benchThreads());
}

/// Attention alone at the encoder geometries of docs/BENCHMARKS.md and longer causal runs (the
/// implementation is the blocked kernel, or oneDNN matmuls with TFC_ATTENTION=onednn).
TEST(RuntimeBench, AttentionGeometries) {
  struct Geometry {
    const char *name;
    int64_t B, S, D, H;
    fb::MaskKind kind;
  };
  const Geometry geometries[] = {
      {"Attention MiniLM [1,128,384] h12 padding", 1, 128, 384, 12, fb::MaskKind::Padding},
      {"Attention BERT [1,128,768] h12 padding", 1, 128, 768, 12, fb::MaskKind::Padding},
      {"Attention MiniLM [8,128,384] h12 padding", 8, 128, 384, 12, fb::MaskKind::Padding},
      {"Attention [1,512,768] h12 causal", 1, 512, 768, 12, fb::MaskKind::Causal},
      {"Attention [1,2048,768] h12 causal", 1, 2048, 768, 12, fb::MaskKind::Causal},
  };
  std::vector<Case> cases;
  uint32_t seed = 10;
  for (const Geometry &g : geometries) {
    auto x = randomFloats(g.B * g.S * g.D, seed++);
    std::vector<uint8_t> mask(size_t(g.B * g.S), 1);
    std::vector<Arg> args = {F32({g.B, g.S, g.D}, x), F32({g.B, g.S, g.D}, x), F32({g.B, g.S, g.D}, x)};
    double flops = 2.0 * 2 * g.B * g.S * g.S * g.D;
    if (g.kind == fb::MaskKind::Padding)
      args.push_back(Bool({g.B, 1, 1, g.S}, mask));
    else
      flops /= 2; // the causal half
    cases.push_back({g.name, K::Attention, args, {g.B, g.S, g.D},
                     opt::attention(int32_t(g.H), g.kind, 1.f / std::sqrt(float(g.D / g.H))), flops});
  }
  timeCases(cases, benchThreads());
}

} // namespace
