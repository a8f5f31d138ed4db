//===- runtime_session_test.cpp - sessions: input binding errors, concurrency, profiling ------===//
//
// A small encoder layer plan (embedding, Q/K/V projections, padding-masked attention, output
// projection with residual, layer norm) with symbolic batch and seq, written by the test. Checks
// every input-binding error message, an out-of-range token id, a mask value that is not 0 or 1,
// the thread limit, N sessions on one plan running concurrently on N threads, one session on
// two threads (TFC_BUSY), a plan file changed under an open plan, and profiling. (Kernel speed: runtime_kernel_bench.cpp.)
//
//===----------------------------------------------------------------------------------------===//
#include "runtime_kernel_harness.h"

#include "tfc/tfc_runtime.hpp"

#include <atomic>
#include <chrono>
#include <unistd.h>
#include <climits>
#include <cstdlib>
#include <functional>
#include <thread>

using namespace rtt;
using K = fb::KernelKind;

namespace {

constexpr int64_t kVocab = 1000, kD = 64, kHeads = 4, kMaxSeq = 512;

std::vector<uint8_t> encoderPlan() {
  PlanBuilder pb;
  int batch = pb.addSymbol("batch", 1, 8);
  int seq = pb.addSymbol("seq", 1, kMaxSeq);
  auto tok = randomFloats(kVocab * kD, 1), pos = randomFloats(kMaxSeq * kD, 2);
  int ids = pb.addInput("input_ids", TFC_I64, {Sym(batch), Sym(seq)});
  int mask = pb.addInput("attention_mask", TFC_I64, {Sym(batch), Sym(seq)});
  int vtok = pb.addConstantValue(pb.addConstant("tok", TFC_F32, {kVocab, kD}, tok.data()));
  int vpos = pb.addConstantValue(pb.addConstant("pos", TFC_F32, {kMaxSeq, kD}, pos.data()));
  std::vector<DimSpec> bsd = {Sym(batch), Sym(seq), S(kD)};
  int h = pb.addIntermediate("emb", TFC_F32, bsd);
  pb.addKernel(K::Embedding, {ids, vtok, vpos, -1, -1}, {h}, opt::embedding(1.f), "embeddings");
  int mb = pb.addIntermediate("mask_bool", TFC_BOOL, {Sym(batch), Sym(seq)});
  pb.addKernel(K::Cast, {mask}, {mb}, {}, "mask.cast");
  int m4 = pb.addIntermediate("mask4", TFC_BOOL, {Sym(batch), S(1), S(1), Sym(seq)});
  pb.addKernel(K::Reshape, {mb}, {m4}, {}, "mask.reshape");
  int qkv[3];
  const char *names[3] = {"q", "k", "v"};
  for (int i = 0; i < 3; ++i) {
    auto w = randomFloats(kD * kD, 10 + i, -0.2f, 0.2f), b = randomFloats(kD, 20 + i);
    int vw = pb.addConstantValue(pb.addConstant(std::string(names[i]) + ".w", TFC_F32, {kD, kD}, w.data()));
    int vb = pb.addConstantValue(pb.addConstant(std::string(names[i]) + ".b", TFC_F32, {kD}, b.data()));
    qkv[i] = pb.addIntermediate(names[i], TFC_F32, bsd);
    pb.addKernel(K::Linear, {h, vw, vb, -1}, {qkv[i]}, opt::linear(fb::Activation::None), std::string("attn.") + names[i]);
  }
  int att = pb.addIntermediate("att", TFC_F32, bsd);
  pb.addKernel(K::Attention, {qkv[0], qkv[1], qkv[2], m4}, {att},
               opt::attention(kHeads, fb::MaskKind::Padding,
               1.f / std::sqrt(float(kD / kHeads))), "attn");
  auto wo = randomFloats(kD * kD, 30, -0.2f, 0.2f), g = randomFloats(kD, 31), beta = randomFloats(kD, 32);
  int vwo = pb.addConstantValue(pb.addConstant("o.w", TFC_F32, {kD, kD}, wo.data()));
  int proj = pb.addIntermediate("proj", TFC_F32, bsd);
  pb.addKernel(K::Linear, {att, vwo, -1, h}, {proj}, opt::linear(fb::Activation::GeluErf), "attn.out");
  int vg = pb.addConstantValue(pb.addConstant("ln.g", TFC_F32, {kD}, g.data()));
  int vbeta = pb.addConstantValue(pb.addConstant("ln.b", TFC_F32, {kD}, beta.data()));
  int y = pb.addOutput("hidden", TFC_F32, bsd);
  pb.addKernel(K::LayerNorm, {proj, vg, vbeta, -1}, {y}, opt::layerNorm(1e-12f), "ln");
  return pb.build();
}

class RuntimeSession : public ::testing::Test {
protected:
  void SetUp() override {
    std::string path = tempPath("session");
    writeFile(path, encoderPlan());
    tfc::Status s = tfc::Plan::open(path.c_str(), &plan);
    std::remove(path.c_str());
    ASSERT_TRUE(s.ok()) << s.toString();
    ASSERT_TRUE(tfc::Session::create(plan, 2, &session).ok());
  }

  /// Runs with the given tensors; returns the status.
  tfc::Status run(std::vector<tfc_tensor> inputs, tfc::Outputs *out = nullptr) {
    tfc::Outputs o;
    return session.run("forward", inputs.data(), inputs.size(), out ? out : &o);
  }

  tfc::Plan plan;
  tfc::Session session;
};

struct Inputs {
  int64_t dims[2];
  std::vector<int64_t> ids, mask;
  Inputs(int64_t b, int64_t s, uint32_t seed = 7) : dims{b, s} {
    std::mt19937 rng(seed);
    for (int64_t i = 0; i < b * s; ++i) {
      ids.push_back(int64_t(rng() % kVocab));
      mask.push_back(i % s < s - (i / s) ? 1 : 0); // padding at the end, more per batch row
    }
  }
  std::vector<tfc_tensor> tensors() {
    return {{"input_ids", TFC_I64, 2, dims, ids.data()},
            {"attention_mask", TFC_I64, 2, dims, mask.data()}};
  }
};

#define EXPECT_STATUS(status, CODE, TEXT)                                                          \
  do {                                                                                             \
    tfc::Status s_ = (status);                                                                     \
    EXPECT_EQ(s_.code(), CODE) << s_.toString();                                                   \
    EXPECT_NE(std::string(s_.message()).find(TEXT), std::string::npos) << s_.toString();         \
  } while (0)

TEST_F(RuntimeSession, RunsAndShapesFollowSymbols) {
  for (auto [b, s] : {std::pair<int64_t, int64_t>{1, 7}, {3, 33}, {2, 512}, {1, 1}}) {
    Inputs in(b, s);
    tfc::Outputs out;
    tfc::Status st = run(in.tensors(), &out);
    ASSERT_TRUE(st.ok()) << st.toString();
    ASSERT_EQ(out.size(), 1u);
    tfc_tensor y = out[0];
    EXPECT_STREQ(y.name, "hidden");
    ASSERT_EQ(y.rank, 3);
    EXPECT_EQ(y.dims[0], b);
    EXPECT_EQ(y.dims[1], s);
    EXPECT_EQ(y.dims[2], kD);
    const float *p = static_cast<const float *>(y.data);
    for (int64_t i = 0; i < b * s * kD; ++i)
      ASSERT_TRUE(std::isfinite(p[i])) << i;
  }
}

TEST_F(RuntimeSession, InputErrors) {
  Inputs in(2, 9);
  auto t = in.tensors();
  t[0].name = "input_idz";
  EXPECT_STATUS(run(t), TFC_NOT_FOUND, "unknown input 'input_idz'");
  t = in.tensors();
  EXPECT_STATUS(run({t[0]}), TFC_INVALID_ARGUMENT, "missing input 'attention_mask'");
  EXPECT_STATUS(run({t[0], t[1], t[0]}), TFC_INVALID_ARGUMENT, "input 'input_ids' is given twice");
  std::vector<float> f(18);
  t[0].dtype = TFC_F32;
  t[0].data = f.data();
  EXPECT_STATUS(run(t), TFC_INVALID_ARGUMENT, "input 'input_ids' has dtype f32, expected i64");
  t = in.tensors();
  t[1].rank = 1;
  EXPECT_STATUS(run(t), TFC_INVALID_ARGUMENT, "input 'attention_mask' has rank 1, expected 2");
  Inputs big(1, 600);
  EXPECT_STATUS(run(big.tensors()), TFC_OUT_OF_RANGE,
                "input 'input_ids' dim 1 (seq) is 600, above the bound 512 the plan was compiled for");
  Inputs zero(1, 0);
  EXPECT_STATUS(run(zero.tensors()), TFC_OUT_OF_RANGE, "below the minimum 1");
  t = in.tensors();
  int64_t other[2] = {2, 8};
  t[1].dims = other;
  EXPECT_STATUS(run(t), TFC_INVALID_ARGUMENT,
                "input 'attention_mask' dim 1 (seq) is 8, but input 'input_ids' set seq = 9");
  tfc::Outputs o;
  t = in.tensors();
  EXPECT_STATUS(session.run("backward", t.data(), t.size(), &o), TFC_NOT_FOUND,
                "function 'backward' is not in the plan");
  // The session still works after errors.
  EXPECT_TRUE(run(in.tensors()).ok());
}

TEST_F(RuntimeSession, OutOfRangeTokenIdIsAnError) {
  Inputs in(2, 5);
  in.ids[7] = kVocab + 5;
  EXPECT_STATUS(run(in.tensors()), TFC_OUT_OF_RANGE,
                "input 'input_ids' element 7 (at [1, 2]) is 1005: token ids must be in [0, 1000) "
                "(the rows of 'tok')");
  in.ids[7] = -1;
  EXPECT_STATUS(run(in.tensors()), TFC_OUT_OF_RANGE, "element 7 (at [1, 2]) is -1");
}

TEST_F(RuntimeSession, MaskValuesOtherThanZeroAndOneAreAnError) {
  // The mask is cast to bool for the attention: 2 would have counted as 1, silently.
  Inputs in(2, 5);
  in.mask[3] = 2;
  EXPECT_STATUS(run(in.tensors()), TFC_INVALID_ARGUMENT,
                "input 'attention_mask' element 3 (at [0, 3]) is 2: mask values must be 0 or 1");
  in.mask[3] = 1;
  EXPECT_TRUE(run(in.tensors()).ok());
}

TEST_F(RuntimeSession, Profiling) {
  session.setProfiling(true);
  Inputs in(1, 16);
  ASSERT_TRUE(run(in.tensors()).ok());
  ASSERT_TRUE(run(in.tensors()).ok());
  size_t n = tfc_session_profile_count(session.get(), "forward");
  ASSERT_EQ(n, 9u);
  tfc_kernel_profile p;
  ASSERT_EQ(tfc_session_profile_get(session.get(), "forward", 6, &p), nullptr);
  EXPECT_STREQ(p.kind, "Attention");
  EXPECT_STREQ(p.name, "attn");
  EXPECT_EQ(p.calls, 2u);
  EXPECT_GE(p.total_ms, 0.0);
  tfc_session_profile_reset(session.get());
  ASSERT_EQ(tfc_session_profile_get(session.get(), "forward", 6, &p), nullptr);
  EXPECT_EQ(p.calls, 0u);
}

TEST_F(RuntimeSession, NThreadsNSessionsOnePlan) {
  // References from this session, one input set per thread.
  constexpr int kThreads = 4;
  std::vector<Inputs> sets;
  for (int i = 0; i < kThreads; ++i)
    sets.emplace_back(1 + i % 3, 17 + 11 * i, uint32_t(i + 1));
  auto reference = [&](Inputs &in) {
    tfc::Outputs out;
    EXPECT_TRUE(run(in.tensors(), &out).ok());
    tfc_tensor y = out[0];
    const float *p = static_cast<const float *>(y.data);
    return std::vector<float>(p, p + in.dims[0] * in.dims[1] * kD);
  };
  std::vector<std::vector<float>> refs;
  for (Inputs &in : sets)
    refs.push_back(reference(in));
  std::vector<std::string> failures[kThreads];
  auto worker = [&](int id, Inputs in, const std::vector<float> &ref) {
    tfc::Session s;
    if (!tfc::Session::create(plan, 1, &s).ok()) {
      failures[id].push_back("create");
      return;
    }
    for (int iter = 0; iter < 20; ++iter) {
      tfc::Outputs out;
      auto t = in.tensors();
      tfc::Status st = s.run("forward", t.data(), t.size(), &out);
      if (!st.ok()) {
        failures[id].push_back(st.toString());
        return;
      }
      const float *p = static_cast<const float *>(out[0].data);
      for (size_t i = 0; i < ref.size(); ++i)
        if (std::fabs(p[i] - ref[i]) > 1e-4f * std::max(1.f, std::fabs(ref[i]))) {
          failures[id].push_back("mismatch at " + std::to_string(i));
          return;
        }
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back(worker, i, sets[size_t(i)], std::cref(refs[size_t(i)]));
  for (std::thread &t : threads)
    t.join();
  for (int i = 0; i < kThreads; ++i)
    EXPECT_TRUE(failures[i].empty()) << failures[i][0];
}

/// Sessions opened at once on a plan with decode_step (whose weights are packed when the first
/// session opens, runtime/src/cpu/LinearGemv.h): each thread opens its own and runs decode_step
/// on 1 row and on 40 (a prompt-sized product reading the packs); every thread's floats equal
/// the others' bit for bit and a double reference closely. Under TSan in tools/sanitize.sh.
TEST(RuntimeSessionDecode, NThreadsOpenSessionsOnADecodePlanAtOnce) {
  PlanBuilder pb;
  int rows = pb.addSymbol("rows", 1, 64);
  constexpr int64_t K = 48, N = 80;
  auto w1 = randomFloats(K * N, 41, -0.3f, 0.3f), w2 = randomFloats(N * K, 42, -0.3f, 0.3f);
  int c1 = pb.addConstant("w1", TFC_F32, {K, N}, w1.data());
  int c2 = pb.addConstant("w2", TFC_F32, {N, K}, w2.data());
  pb.functionName = "decode_step";
  int x = pb.addInput("x", TFC_F32, {Sym(rows), S(K)});
  int h = pb.addIntermediate("h", TFC_F32, {Sym(rows), S(N)});
  int y = pb.addOutput("y", TFC_F32, {Sym(rows), S(K)});
  pb.addKernel(K::Linear, {x, pb.addConstantValue(c1)}, {h}, opt::linear(fb::Activation::Relu));
  pb.addKernel(K::Linear, {h, pb.addConstantValue(c2)}, {y}, opt::linear(fb::Activation::None));
  const std::string path = tempPath("decode_threads");
  writeFile(path, pb.build());
  tfc::Plan plan;
  ASSERT_TRUE(tfc::Plan::open(path.c_str(), &plan).ok());
  std::remove(path.c_str());
  auto input = [&](int64_t M) { return randomFloats(size_t(M * K), uint32_t(50 + M), -1.f, 1.f); };
  // The double reference: relu(x W1) W2.
  auto reference = [&](const std::vector<float> &xs, int64_t M) {
    std::vector<double> out(size_t(M * K));
    for (int64_t m = 0; m < M; ++m) {
      std::vector<double> hid(N);
      for (int64_t n = 0; n < N; ++n) {
        double a = 0;
        for (int64_t k = 0; k < K; ++k)
          a += double(xs[size_t(m * K + k)]) * w1[size_t(k * N + n)];
        hid[size_t(n)] = std::max(a, 0.0);
      }
      for (int64_t k = 0; k < K; ++k) {
        double a = 0;
        for (int64_t n = 0; n < N; ++n)
          a += hid[size_t(n)] * w2[size_t(n * K + k)];
        out[size_t(m * K + k)] = a;
      }
    }
    return out;
  };
  constexpr int kThreads = 6;
  const int64_t sizes[2] = {1, 40};
  std::vector<std::vector<float>> got[kThreads];
  std::string failure[kThreads];
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      tfc::Session s;
      if (tfc::Status st = tfc::Session::create(plan, 1 + t % 2, &s); !st.ok()) {
        failure[t] = st.toString();
        return;
      }
      for (int64_t M : sizes) {
        std::vector<float> xs = input(M);
        int64_t dims[2] = {M, K};
        tfc_tensor in{"x", TFC_F32, 2, dims, xs.data()};
        tfc::Outputs out;
        if (tfc::Status st = s.run("decode_step", &in, 1, &out); !st.ok()) {
          failure[t] = st.toString();
          return;
        }
        const float *p = static_cast<const float *>(out[0].data);
        got[t].emplace_back(p, p + M * K);
      }
    });
  for (std::thread &th : threads)
    th.join();
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_TRUE(failure[t].empty()) << "thread " << t << ": " << failure[t];
    ASSERT_EQ(got[t].size(), 2u);
    for (size_t i = 0; i < 2; ++i)
      EXPECT_EQ(got[t][i], got[0][i]) << "thread " << t << ", " << sizes[i] << " rows";
  }
  for (size_t i = 0; i < 2; ++i) {
    const std::vector<double> ref = reference(input(sizes[i]), sizes[i]);
    double worst = 0;
    for (size_t j = 0; j < ref.size(); ++j)
      worst = std::max(worst, std::abs(double(got[0][i][j]) - ref[j]));
    EXPECT_LT(worst, 1e-4) << sizes[i] << " rows";
  }
}

// One session used from two threads at once: the call that finds it in use returns TFC_BUSY
// (never a race on the arena), and every run that did go through is right.
TEST_F(RuntimeSession, OneSessionTwoThreadsIsBusy) {
  Inputs big(8, 256, 1), small(1, 9, 2);
  auto reference = [&](Inputs &in) {
    tfc::Outputs out;
    EXPECT_TRUE(run(in.tensors(), &out).ok());
    const float *p = static_cast<const float *>(out[0].data);
    return std::vector<float>(p, p + in.dims[0] * in.dims[1] * kD);
  };
  const std::vector<float> refBig = reference(big), refSmall = reference(small);
  tfc::Session shared;
  ASSERT_TRUE(tfc::Session::create(plan, 1, &shared).ok());
  auto same = [](const tfc::Outputs &out, const std::vector<float> &ref) {
    const float *p = static_cast<const float *>(out[0].data);
    for (size_t i = 0; i < ref.size(); ++i)
      if (std::fabs(p[i] - ref[i]) > 1e-4f * std::max(1.f, std::fabs(ref[i])))
        return false;
    return true;
  };
  std::atomic<bool> stop{false};
  std::atomic<int> busy{0}, okRuns{0}, bad{0};
  std::string badMessage;
  auto hammer = [&](Inputs in, const std::vector<float> &ref) {
    auto t = in.tensors();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!stop && std::chrono::steady_clock::now() < deadline) {
      tfc::Outputs out;
      tfc::Status st = shared.run("forward", t.data(), t.size(), &out);
      if (st.code() == TFC_BUSY) {
        if (std::string(st.message()).find("in use by another thread") == std::string::npos)
          ++bad;
        if (++busy >= 3)
          stop = true;
      } else if (!st.ok() || !same(out, ref)) {
        badMessage = st.ok() ? "wrong output" : st.toString();
        ++bad;
        stop = true;
      } else {
        ++okRuns;
      }
    }
  };
  std::thread a(hammer, big, std::cref(refBig)), b(hammer, small, std::cref(refSmall));
  a.join();
  b.join();
  EXPECT_EQ(bad.load(), 0) << badMessage;
  EXPECT_GE(busy.load(), 3) << "two threads on one session never overlapped in 20 s";
  EXPECT_GE(okRuns.load(), 1);
  // The session is usable again once the calls are over.
  tfc::Outputs out;
  auto t = small.tensors();
  ASSERT_TRUE(shared.run("forward", t.data(), t.size(), &out).ok());
  EXPECT_TRUE(same(out, refSmall));
}

// A plan file truncated, or rewritten in place, between open and run: the run is refused with
// TFC_IO_ERROR naming the file (its weights' pages would SIGBUS, or be other bytes), instead of
// a signal. A plan replaced by rename keeps running on the file it opened.
TEST(RuntimePlanFile, ChangedUnderAnOpenPlanIsAnError) {
  for (const char *how : {"truncate", "rewrite", "rename"}) {
    SCOPED_TRACE(how);
    std::string path = tempPath(std::string("changed_") + how);
    std::vector<uint8_t> bytes = encoderPlan();
    writeFile(path, bytes);
    tfc_plan *plan = nullptr;
    ASSERT_EQ(tfc_plan_open(path.c_str(), nullptr, &plan), nullptr);
    tfc_session *s = nullptr;
    ASSERT_EQ(tfc_session_create(plan, nullptr, &s), nullptr);
    std::string how_ = how;
    if (how_ == "truncate") {
      ASSERT_EQ(truncate(path.c_str(), 4096), 0);
    } else if (how_ == "rewrite") {
      std::this_thread::sleep_for(std::chrono::milliseconds(20)); // a visible mtime step
      writeFile(path, bytes); // same bytes, same size, in place
    } else {
      std::string fresh = path + ".new";
      writeFile(fresh, bytes);
      ASSERT_EQ(std::rename(fresh.c_str(), path.c_str()), 0);
    }
    Inputs in(1, 5);
    auto t = in.tensors();
    tfc_outputs *out = nullptr;
    tfc_status *st = tfc_session_run(s, "forward", t.data(), t.size(), &out);
    if (how_ == "rename") {
      EXPECT_EQ(st, nullptr) << tfc_status_message(st);
    } else {
      EXPECT_EQ(tfc_status_code(st), TFC_IO_ERROR) << tfc_status_message(st);
      std::string m = tfc_status_message(st);
      EXPECT_NE(m.find("plan '" + path + "': the file changed while in use"), std::string::npos)
          << m;
      // A new session and tfc_plan_verify are refused the same way (they read the weights).
      tfc_session *s2 = nullptr;
      tfc_status *st2 = tfc_session_create(plan, nullptr, &s2);
      EXPECT_EQ(tfc_status_code(st2), TFC_IO_ERROR);
      tfc_status_free(st2);
      tfc_session_release(s2);
      st2 = tfc_plan_verify(plan);
      EXPECT_EQ(tfc_status_code(st2), TFC_IO_ERROR);
      tfc_status_free(st2);
    }
    tfc_status_free(st);
    tfc_outputs_free(out);
    tfc_session_release(s);
    tfc_plan_release(plan);
    std::remove(path.c_str());
  }
}

TEST_F(RuntimeSession, ThreadCountsAboveTheLimitAreRefused) {
  // libgomp crashes (SIGSEGV) or exits the process on huge team sizes: the C API refuses
  // counts above TFC_MAX_THREADS with a status, and the limit itself runs.
  for (int n : {INT_MAX, 65536, TFC_MAX_THREADS + 1, -1}) {
    tfc::Session s;
    tfc::Status st = tfc::Session::create(plan, n, &s);
    EXPECT_EQ(st.code(), TFC_INVALID_ARGUMENT) << n << ": " << st.toString();
    EXPECT_NE(std::string(st.message()).find("num_threads is " + std::to_string(n)),
              std::string::npos)
        << st.toString();
    if (n > 0)
      EXPECT_NE(std::string(st.message()).find("above the limit " +
                                               std::to_string(TFC_MAX_THREADS)),
                std::string::npos)
          << st.toString();
  }
  // A kernel large enough to open a parallel region, at the limit.
  int64_t n = 1 << 16;
  auto x = randomFloats(n, 3);
  RunResult r = runKernel(K::Unary, {F32({n}, x)}, TFC_F32, {n}, opt::unary(fb::UnaryOp::Neg),
                          TFC_MAX_THREADS);
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  auto y = r.as<float>();
  for (int64_t i = 0; i < n; ++i)
    ASSERT_EQ(y[size_t(i)], -x[size_t(i)]) << i;
}

TEST(RuntimePlanLifetime, SessionKeepsPlanAlive) {
  std::string path = tempPath("lifetime");
  writeFile(path, encoderPlan());
  tfc_plan *plan = nullptr;
  ASSERT_EQ(tfc_plan_open(path.c_str(), nullptr, &plan), nullptr);
  std::remove(path.c_str());
  tfc_session *s = nullptr;
  ASSERT_EQ(tfc_session_create(plan, nullptr, &s), nullptr);
  tfc_plan_release(plan); // before the session: allowed
  Inputs in(1, 5);
  auto t = in.tensors();
  tfc_outputs *out = nullptr;
  ASSERT_EQ(tfc_session_run(s, "forward", t.data(), t.size(), &out), nullptr);
  tfc_outputs_free(out);
  tfc_session_release(s);
  // NULL handles are fine.
  tfc_plan_release(nullptr);
  tfc_session_release(nullptr);
  tfc_outputs_free(nullptr);
  tfc_status_free(nullptr);
}

// A misspelt TFC_WAIT_POLICY would silently run as `auto` (it was read when the library
// loaded), so a CPU session refuses to open, naming the variable, the value and the choices;
// valid values (any case) open.
TEST(RuntimeWaitPolicy, InvalidValueRefusesTheSession) {
  std::string path = tempPath("waitpolicy");
  writeFile(path, encoderPlan());
  tfc_plan *plan = nullptr;
  ASSERT_EQ(tfc_plan_open(path.c_str(), nullptr, &plan), nullptr);
  std::remove(path.c_str());
  const char *saved = std::getenv("TFC_WAIT_POLICY");
  std::string savedValue = saved ? saved : "";
  setenv("TFC_WAIT_POLICY", "sleepy", 1);
  tfc_session *s = nullptr;
  tfc_status *st = tfc_session_create(plan, nullptr, &s);
  ASSERT_NE(st, nullptr);
  EXPECT_EQ(tfc_status_code(st), TFC_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tfc_status_message(st))
                .find("TFC_WAIT_POLICY='sleepy' is not one of auto, spin, passive"),
            std::string::npos)
      << tfc_status_message(st);
  EXPECT_EQ(s, nullptr);
  tfc_status_free(st);
  for (const char *ok : {"auto", "SPIN", "passive", ""}) {
    setenv("TFC_WAIT_POLICY", ok, 1);
    ASSERT_EQ(tfc_session_create(plan, nullptr, &s), nullptr) << ok;
    tfc_session_release(s);
  }
  if (saved)
    setenv("TFC_WAIT_POLICY", savedValue.c_str(), 1);
  else
    unsetenv("TFC_WAIT_POLICY");
  tfc_plan_release(plan);
}

} // namespace
