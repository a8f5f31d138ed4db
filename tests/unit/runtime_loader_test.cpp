//===- runtime_loader_test.cpp - the plan loader refuses broken files with clear messages -----===//
//
// Every check of docs/PLAN_FORMAT.md "What the loader checks": each test breaks one thing in a
// plan written by runtime_plan_builder.h and asserts the status code and the message. The
// weights' checksums are checked once per plan on first need, not at open (ChecksumsLazy).
//
//===----------------------------------------------------------------------------------------===//
#include "runtime_plan_builder.h"

#include "Error.h"
#include "Plan.h"
#include "Session.h"
#include "cpu/LinearGemv.h"
#include "tfc/tfc_runtime.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <thread>

using namespace rtt;
using K = fb::KernelKind;

namespace {

/// A small valid plan: y = linear(x, W, b) with a symbolic seq dim, then a layer norm.
PlanBuilder validPlan() {
  PlanBuilder pb;
  int seq = pb.addSymbol("seq", 1, 16);
  std::vector<float> w(8 * 4, 0.5f), b(4, 0.25f), g(4, 1.f), beta(4, 0.f);
  int x = pb.addInput("x", TFC_F32, {S(1), Sym(seq), S(8)});
  int vw = pb.addConstantValue(pb.addConstant("w", TFC_F32, {8, 4}, w.data()));
  int vb = pb.addConstantValue(pb.addConstant("b", TFC_F32, {4}, b.data()));
  int vg = pb.addConstantValue(pb.addConstant("gamma", TFC_F32, {4}, g.data()));
  int vbeta = pb.addConstantValue(pb.addConstant("beta", TFC_F32, {4}, beta.data()));
  int t = pb.addIntermediate("proj", TFC_F32, {S(1), Sym(seq), S(4)});
  int y = pb.addOutput("y", TFC_F32, {S(1), Sym(seq), S(4)});
  pb.addKernel(K::Linear, {x, vw, vb, -1}, {t}, opt::linear(fb::Activation::None), "layer.proj");
  pb.addKernel(K::LayerNorm, {t, vg, vbeta, -1}, {y}, opt::layerNorm(1e-5f), "layer.norm");
  return pb;
}

struct Opened {
  tfc_code code = TFC_OK;
  std::string message;
};

Opened openPlan(const std::vector<uint8_t> &bytes) {
  tfc_plan *plan = nullptr;
  tfc_status *s = openBytes(bytes, &plan, "loader");
  Opened o;
  if (s) {
    o.code = tfc_status_code(s);
    o.message = tfc_status_message(s);
    tfc_status_free(s);
    EXPECT_EQ(plan, nullptr);
  }
  tfc_plan_release(plan);
  return o;
}

#define EXPECT_REFUSED(bytes, CODE, TEXT)                                                          \
  do {                                                                                             \
    Opened o_ = openPlan(bytes);                                                                   \
    EXPECT_EQ(o_.code, CODE) << o_.message;                                                        \
    EXPECT_NE(o_.message.find(TEXT), std::string::npos) << "message: " << o_.message;            \
    EXPECT_NE(o_.message.find("plan '"), std::string::npos) << "names the file: " << o_.message; \
  } while (0)

TEST(RuntimeLoader, ValidPlanOpensAndReportsInfo) {
  tfc_plan *plan = nullptr;
  ASSERT_EQ(openBytes(validPlan().build(), &plan), nullptr);
  tfc_plan_info info;
  tfc_plan_get_info(plan, &info);
  EXPECT_EQ(info.format_major, 2u);
  EXPECT_EQ(info.format_minor, 5u);
  EXPECT_STREQ(info.target, "cpu");
  EXPECT_STREQ(tfc_plan_precision(plan), "fp32");
  EXPECT_STREQ(info.family, "encoder");
  EXPECT_EQ(info.start_id, 101);
  EXPECT_EQ(tfc_plan_num_functions(plan), 1u);
  EXPECT_STREQ(tfc_plan_function_name(plan, 0), "forward");
  size_t ni = 0, no = 0;
  ASSERT_EQ(tfc_plan_num_ports(plan, "forward", &ni, &no), nullptr);
  EXPECT_EQ(ni, 1u);
  EXPECT_EQ(no, 1u);
  tfc_port_info port;
  ASSERT_EQ(tfc_plan_input_info(plan, "forward", 0, &port), nullptr);
  EXPECT_STREQ(port.name, "x");
  EXPECT_EQ(port.rank, 3);
  EXPECT_EQ(port.dims[1].size, -1);
  EXPECT_STREQ(port.dims[1].symbol, "seq");
  EXPECT_EQ(port.dims[1].max, 16);
  EXPECT_EQ(port.dims[2].size, 8);
  tfc_status *s = tfc_plan_input_info(plan, "forward", 3, &port);
  EXPECT_EQ(tfc_status_code(s), TFC_NOT_FOUND);
  tfc_status_free(s);
  s = tfc_plan_num_ports(plan, "nope", &ni, &no);
  EXPECT_EQ(tfc_status_code(s), TFC_NOT_FOUND);
  tfc_status_free(s);
  tfc_plan_release(plan);
}

TEST(RuntimeLoader, MissingFile) {
  tfc_plan *plan = nullptr;
  tfc_status *s = tfc_plan_open("/nonexistent/dir/x.plan", nullptr, &plan);
  EXPECT_EQ(tfc_status_code(s), TFC_NOT_FOUND);
  EXPECT_NE(std::string(tfc_status_message(s)).find("/nonexistent/dir/x.plan"), std::string::npos);
  tfc_status_free(s);
}

TEST(RuntimeLoader, BadMagic) {
  auto bytes = validPlan().build();
  bytes[0] = 'X';
  EXPECT_REFUSED(bytes, TFC_INVALID_PLAN, "not a tfc plan (bad magic)");
  EXPECT_REFUSED(std::vector<uint8_t>({'h', 'e', 'l', 'l', 'o'}), TFC_INVALID_PLAN, "bad magic");
}

TEST(RuntimeLoader, VersionMismatchNamesBothVersions) {
  // 1.x plans (positional kernel attributes) are refused by the 2.x runtime: recompile them.
  for (uint32_t minor : {0u, 1u, 2u}) {
    PlanBuilder pb = validPlan();
    pb.headerMajor = pb.fbMajor = 1;
    pb.headerMinor = pb.fbMinor = minor;
    EXPECT_REFUSED(pb.build(), TFC_VERSION_MISMATCH,
                   "plan format 1." + std::to_string(minor) +
                       " is not supported by this runtime (reads 2.x); recompile it with tfc "
                       "compile");
  }
  PlanBuilder pb = validPlan();
  pb.headerMajor = 3;
  pb.headerMinor = 0;
  EXPECT_REFUSED(pb.build(), TFC_VERSION_MISMATCH,
                 "plan format 3.0 is not supported by this runtime (reads 2.x)");
  pb = validPlan();
  const std::string minor = std::to_string(tfc::plan::kPlanFormatMinor);
  const std::string next = std::to_string(tfc::plan::kPlanFormatMinor + 1);
  pb.headerMinor = pb.fbMinor = tfc::plan::kPlanFormatMinor + 1;
  EXPECT_REFUSED(pb.build(), TFC_VERSION_MISMATCH,
                 "plan format 2." + next + " is not supported by this runtime (reads up to 2." +
                     minor + ")");
  pb = validPlan();
  pb.fbMajor = 3; // header and FlatBuffer disagree
  EXPECT_REFUSED(pb.build(), TFC_INVALID_PLAN,
                 "header says format 2." + minor + " but the FlatBuffer says 3." + minor);
}

// 2.1 added Plan.precision and CacheSlot.dtype, both defaulting to F32: a 2.0 plan opens as
// before, its precision fp32.
TEST(RuntimeLoader, Format20PlansStillOpen) {
  PlanBuilder pb = validPlan();
  pb.headerMinor = pb.fbMinor = 0;
  tfc_plan *plan = nullptr;
  ASSERT_EQ(openBytes(pb.build(), &plan), nullptr);
  tfc_plan_info info;
  tfc_plan_get_info(plan, &info);
  EXPECT_EQ(info.format_minor, 0u);
  EXPECT_STREQ(tfc_plan_precision(plan), "fp32");
  tfc_plan_release(plan);
}

// 2.3 added the FlatBuffer's checksum in the header's last 8 bytes (reserved, zero, before): a
// 2.2 plan has none and opens as before.
TEST(RuntimeLoader, Format22PlansOpenWithoutAChecksum) {
  PlanBuilder pb = validPlan();
  pb.headerMinor = pb.fbMinor = 2;
  auto bytes = pb.build();
  tfc::plan::PlanFileHeader h;
  std::memcpy(&h, bytes.data(), 64);
  EXPECT_EQ(h.planChecksum, 0u);
  tfc_plan *plan = nullptr;
  ASSERT_EQ(openBytes(bytes, &plan), nullptr);
  tfc_plan_info info;
  tfc_plan_get_info(plan, &info);
  EXPECT_EQ(info.format_minor, 2u);
  tfc_plan_release(plan);
}

// Every flipped byte of a 2.3 FlatBuffer is refused at open, naming the file, before the
// FlatBuffers Verifier (which lets through flips that still parse: a dim, an offset, an option).
TEST(RuntimeLoader, FlatBufferChecksumCatchesEveryFlip) {
  auto good = validPlan().build();
  tfc::plan::PlanFileHeader h;
  std::memcpy(&h, good.data(), 64);
  ASSERT_NE(h.planChecksum, 0u);
  std::mt19937 rng(99);
  for (int trial = 0; trial < 200; ++trial) {
    auto bytes = good;
    size_t at = 64 + rng() % h.planSize;
    bytes[at] ^= uint8_t(1u + rng() % 255);
    Opened o = openPlan(bytes);
    EXPECT_EQ(o.code, TFC_INVALID_PLAN) << "byte " << at;
    EXPECT_NE(o.message.find("the FlatBuffer section is corrupted"), std::string::npos)
        << o.message;
    EXPECT_NE(o.message.find("plan '"), std::string::npos) << o.message;
  }
  // A wrong checksum in the header is refused the same way.
  auto bytes = good;
  bytes[56] ^= 1;
  EXPECT_REFUSED(bytes, TFC_INVALID_PLAN, "the FlatBuffer section is corrupted (its checksum is");
}

TEST(RuntimeLoader, PrecisionIsReadAndMustBeAFloatDtype) {
  // (Information for the user: the kernels' dtypes are what a backend checks.)
  const std::vector<std::pair<fb::DType, const char *>> precisions = {{fb::DType::F16, "fp16"},
                                                                      {fb::DType::BF16, "bf16"}};
  for (auto [dtype, name] : precisions) {
    // A cuda plan says its precision (opened for inspection by any runtime)...
    PlanBuilder pb = validPlan();
    pb.precision = dtype;
    pb.target = fb::Target::Cuda;
    std::string path = tempPath("precision");
    writeFile(path, pb.build());
    tfc_plan_options po;
    tfc_plan_options_init(&po);
    po.any_target = 1;
    tfc_plan *plan = nullptr;
    tfc_status *s = tfc_plan_open(path.c_str(), &po, &plan);
    std::remove(path.c_str());
    ASSERT_EQ(s, nullptr) << tfc_status_message(s);
    EXPECT_STREQ(tfc_plan_precision(plan), name);
    tfc_plan_release(plan);
    // ...and a cpu plan must be fp32: the CPU kernels read f32.
    pb.target = fb::Target::Cpu;
    EXPECT_REFUSED(pb.build(), TFC_INVALID_PLAN,
                   (std::string("a cpu plan must be fp32, this one says ") + name).c_str());
  }
  PlanBuilder pb = validPlan();
  pb.precision = fb::DType::I64;
  EXPECT_REFUSED(pb.build(), TFC_INVALID_PLAN, "precision 4 is not a float dtype (F32, F16, BF16)");
}

TEST(RuntimeLoader, TruncatedFiles) {
  auto bytes = validPlan().build();
  for (size_t len : {size_t(0), size_t(4), size_t(8), size_t(40), size_t(63), size_t(64),
                     size_t(100), bytes.size() / 2, bytes.size() - 1}) {
    std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + len);
    Opened o = openPlan(cut);
    EXPECT_EQ(o.code, TFC_INVALID_PLAN) << len << ": " << o.message;
    EXPECT_NE(o.message.find("truncated"), std::string::npos) << len << ": " << o.message;
  }
}

TEST(RuntimeLoader, HeaderOffsetsOutOfRange) {
  PlanBuilder pb = validPlan();
  pb.planSizeDelta = 1 << 20;
  EXPECT_REFUSED(pb.build(), TFC_INVALID_PLAN, "plan_size");
  pb = validPlan();
  pb.weightsOffsetDelta = 64 * 1000;
  EXPECT_REFUSED(pb.build(), TFC_INVALID_PLAN, "outside the file");
  pb = validPlan();
  pb.weightsOffsetDelta = 8;
  EXPECT_REFUSED(pb.build(), TFC_INVALID_PLAN, "is not a multiple of 64");
  pb = validPlan();
  pb.weightsOffsetDelta = -64;
  EXPECT_REFUSED(pb.build(), TFC_INVALID_PLAN, "overlaps the FlatBuffer");
  pb = validPlan();
  pb.weightsSizeDelta = 64;
  EXPECT_REFUSED(pb.build(), TFC_INVALID_PLAN, "weights_size");
}

TEST(RuntimeLoader, CorruptedFlatBufferNeverCrashes) {
  auto good = validPlan().build();
  std::mt19937 rng(1234);
  // The FlatBuffer lies in [64, weights_offset); flip bytes there.
  tfc::plan::PlanFileHeader h;
  std::memcpy(&h, good.data(), 64);
  int refused = 0;
  for (int trial = 0; trial < 400; ++trial) {
    auto bytes = good;
    int flips = 1 + trial % 8;
    for (int f = 0; f < flips; ++f) {
      size_t at = 64 + rng() % h.planSize;
      bytes[at] ^= uint8_t(1u << (rng() % 8));
    }
    // The checksum (2.3) would refuse every flip (FlatBufferChecksumCatchesEveryFlip): restate
    // it, so that the flips reach the Verifier and the structural checks behind it.
    uint64_t sum = tfc::plan::fnv1a64(bytes.data() + 64, size_t(h.planSize));
    std::memcpy(bytes.data() + offsetof(tfc::plan::PlanFileHeader, planChecksum), &sum, 8);
    Opened o = openPlan(bytes); // must return, whatever the outcome
    if (o.code != TFC_OK) {
      ++refused;
      EXPECT_FALSE(o.message.empty());
    } else {
      // If accepted, the plan must still run without crashing.
      tfc_plan *plan = nullptr;
      tfc_status *s = openBytes(bytes, &plan);
      ASSERT_EQ(s, nullptr);
      tfc_session *session = nullptr;
      s = tfc_session_create(plan, nullptr, &session);
      if (!s) {
        std::vector<float> x(1 * 3 * 8, 1.f);
        int64_t dims[3] = {1, 3, 8};
        tfc_tensor in = {"x", TFC_F32, 3, dims, x.data()};
        tfc_outputs *out = nullptr;
        s = tfc_session_run(session, "forward", &in, 1, &out);
        tfc_outputs_free(out);
      }
      tfc_status_free(s);
      tfc_session_release(session);
      tfc_plan_release(plan);
    }
  }
  EXPECT_GT(refused, 100);
  // Breaking the identifier is caught explicitly.
  auto bytes = good;
  bytes[64 + 4] = 'X';
  EXPECT_REFUSED(bytes, TFC_INVALID_PLAN, "");
}

TEST(RuntimeLoader, ConstantChecks) {
  PlanBuilder pb = validPlan();
  pb.constants[1].offsetDelta = 64 * 100;
  EXPECT_REFUSED(pb.build(), TFC_INVALID_PLAN, "constant 'b': bytes [");
  pb = validPlan();
  pb.constants[1].offsetDelta = 4;
  EXPECT_REFUSED(pb.build(), TFC_INVALID_PLAN, "constant 'b': offset");
  pb = validPlan();
  pb.constants[0].sizeDelta = -4;
  EXPECT_REFUSED(pb.build(), TFC_INVALID_PLAN, "constant 'w': size is 124 bytes but shape and dtype give 128");
  pb = validPlan();
  pb.constants[0].shape = {8, -4};
  EXPECT_REFUSED(pb.build(), TFC_INVALID_PLAN, "negative dim");
}

TEST(RuntimeLoader, ValueChecks) {
  PlanBuilder pb = validPlan();
  pb.values[5].arenaOffset = 1 << 20; // the intermediate
  EXPECT_REFUSED(pb.build(), TFC_INVALID_PLAN, "value 'proj' (#5): arena bytes");
  pb = validPlan();
  pb.values[0].dims[1].symbol = 7;
  EXPECT_REFUSED(pb.build(), TFC_INVALID_PLAN, "refers to symbol 7");
  pb = validPlan();
  pb.values[1].dims[0] = S(9); // constant value whose shape differs from its constant
  EXPECT_REFUSED(pb.build(), TFC_INVALID_PLAN, "differ from those of constant 'w'");
  pb = validPlan();
  pb.values[2].constant = 42;
  EXPECT_REFUSED(pb.build(), TFC_INVALID_PLAN, "refers to constant 42");
  pb = validPlan();
  pb.inputs[0].second = 3; // port pointing at a constant
  EXPECT_REFUSED(pb.build(), TFC_INVALID_PLAN, "function 'forward'");
}

TEST(RuntimeLoader, KernelOptionsMatchTheKind) {
  // Each kind takes its own options table (plan.fbs KernelOptions; PlanKernels.h), or none.
  PlanBuilder pb = validPlan();
  pb.kernels[1].options = opt::linear(fb::Activation::None);
  EXPECT_REFUSED(pb.build(), TFC_INVALID_PLAN,
                 "function 'forward': kernel 'layer.norm' (LayerNorm): its options are "
                 "LinearOptions; LayerNorm kernels take LayerNormOptions");
  pb = validPlan();
  pb.kernels[1].options = {};
  EXPECT_REFUSED(pb.build(), TFC_INVALID_PLAN,
                 "kernel 'layer.norm' (LayerNorm): its options are none; LayerNorm kernels take "
                 "LayerNormOptions");
  pb = validPlan();
  pb.kernels[1].kind = K::Reshape; // keeps its LayerNormOptions
  EXPECT_REFUSED(pb.build(), TFC_INVALID_PLAN,
                 "kernel 'layer.norm' (Reshape): its options are LayerNormOptions; Reshape "
                 "kernels take none");
  pb = validPlan();
  Options unknown;
  unknown.type = fb::KernelOptions(200); // a union member this runtime does not know
  pb.kernels[0].options = std::move(unknown);
  EXPECT_REFUSED(pb.build(), TFC_INVALID_PLAN,
                 "kernel 'layer.proj' (Linear): its options are unknown; Linear kernels take "
                 "LinearOptions");
}

TEST(RuntimeLoader, KernelChecks) {
  PlanBuilder pb = validPlan();
  pb.kernels[0].inputs[0] = 99;
  EXPECT_REFUSED(pb.build(), TFC_INVALID_PLAN,
                 "function 'forward': kernel 'layer.proj' (Linear): input 0 is value index 99");
  pb = validPlan();
  pb.kernels[1].outputs[0] = -5;
  EXPECT_REFUSED(pb.build(), TFC_INVALID_PLAN, "kernel 'layer.norm' (LayerNorm): output 0");
  pb = validPlan();
  pb.kernels[1].inputs = {5};
  EXPECT_REFUSED(pb.build(), TFC_INVALID_PLAN,
                 "kernel 'layer.norm' (LayerNorm): has 1 inputs, expected 3 to 4");
  pb = validPlan();
  pb.kernels[0].kind = fb::KernelKind(77);
  EXPECT_REFUSED(pb.build(), TFC_INVALID_PLAN, "kernel 'layer.proj' (#0) has unknown kind 77");
  pb = validPlan();
  pb.kernels[0].options = opt::linear(fb::Activation(9));
  EXPECT_REFUSED(pb.build(), TFC_INVALID_PLAN,
                 "kernel 'layer.proj' (Linear): unknown Activation 9");
  pb = validPlan();
  pb.kernels[0].inputs[1] = -1; // the weight is required
  EXPECT_REFUSED(pb.build(), TFC_INVALID_PLAN, "input 1 is value index -1");
  pb = validPlan();
  pb.kernels[0].outputs[0] = 1; // writing a constant
  EXPECT_REFUSED(pb.build(), TFC_INVALID_PLAN, "writes value 'w', which is an input or a constant");
  pb = validPlan();
  pb.kernels.pop_back(); // nothing writes the output
  EXPECT_REFUSED(pb.build(), TFC_INVALID_PLAN, "output 'y' (value 'y') is never written by a kernel");
  pb = validPlan();
  pb.values[0].dtype = TFC_I64; // Linear on i64
  EXPECT_REFUSED(pb.build(), TFC_INVALID_PLAN, "has dtype i64; supported: f32");
}

} // namespace

// ---- the weights' checksums: checked on first need, not at open -----------------------------

namespace {

/// validPlan() with one byte of constant 'gamma' (four 1.0f, the only such run of bytes in the
/// file) flipped: its checksum, written from the good bytes, no longer matches.
std::vector<uint8_t> corruptedGammaPlan() {
  std::vector<uint8_t> bytes = validPlan().build();
  const float ones[4] = {1.f, 1.f, 1.f, 1.f};
  const auto *pattern = reinterpret_cast<const uint8_t *>(ones);
  auto at = std::search(bytes.begin(), bytes.end(), pattern, pattern + sizeof ones);
  EXPECT_NE(at, bytes.end()) << "gamma's bytes are in the file";
  EXPECT_EQ(std::search(at + 1, bytes.end(), pattern, pattern + sizeof ones), bytes.end())
      << "and only once";
  if (at != bytes.end())
    at[1] ^= 0x5A;
  return bytes;
}

/// Writes `bytes` to a temp file, opens it with `verify_checksums`; the file stays (mapped).
struct TempPlan {
  std::string path;
  tfc_plan *plan = nullptr;
  TempPlan(const std::vector<uint8_t> &bytes, int verifyChecksums, const char *stem) {
    path = tempPath(stem);
    writeFile(path, bytes);
    tfc_plan_options o;
    tfc_plan_options_init(&o);
    o.verify_checksums = verifyChecksums;
    tfc_status *s = tfc_plan_open(path.c_str(), &o, &plan);
    EXPECT_EQ(s, nullptr) << "the plan opens: " << tfc_status_message(s);
    tfc_status_free(s);
  }
  ~TempPlan() {
    tfc_plan_release(plan);
    std::remove(path.c_str());
  }
};

struct Created {
  tfc_code code = TFC_OK;
  std::string message;
};

Created createSession(tfc_plan *plan) {
  tfc_session *session = nullptr;
  tfc_status *s = tfc_session_create(plan, nullptr, &session);
  Created c;
  if (s) {
    c.code = tfc_status_code(s);
    c.message = tfc_status_message(s);
    EXPECT_EQ(session, nullptr);
  } else {
    EXPECT_NE(session, nullptr);
  }
  tfc_status_free(s);
  tfc_session_release(session);
  return c;
}

} // namespace

TEST(ChecksumsLazy, CorruptedWeightsOpenButVerifyAndSessionsNameTheConstant) {
  TempPlan t(corruptedGammaPlan(), 1, "corrupt");
  ASSERT_NE(t.plan, nullptr);
  // Open read no weights: the metadata and signature are there.
  EXPECT_EQ(tfc_plan_num_functions(t.plan), 1u);
  // On request.
  tfc_status *v = tfc_plan_verify(t.plan);
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(tfc_status_code(v), TFC_INVALID_PLAN);
  const std::string verifyMessage = tfc_status_message(v);
  EXPECT_NE(verifyMessage.find("constant 'gamma': checksum mismatch"), std::string::npos)
      << verifyMessage;
  EXPECT_NE(verifyMessage.find("plan '" + t.path + "'"), std::string::npos) << verifyMessage;
  tfc_status_free(v);
  // Every session creation is refused the same way, the first and a later one.
  for (int i = 0; i < 2; ++i) {
    Created c = createSession(t.plan);
    EXPECT_EQ(c.code, TFC_INVALID_PLAN) << "session " << i << ": " << c.message;
    EXPECT_EQ(c.message, verifyMessage) << "session " << i;
  }
}

TEST(ChecksumsLazy, FirstSessionChecksThenVerifyAgrees) {
  // The session comes first here (verify after it): the answer is the one it found.
  TempPlan t(corruptedGammaPlan(), 1, "corrupt_session_first");
  ASSERT_NE(t.plan, nullptr);
  Created c = createSession(t.plan);
  EXPECT_EQ(c.code, TFC_INVALID_PLAN);
  EXPECT_NE(c.message.find("constant 'gamma': checksum mismatch"), std::string::npos)
      << c.message;
  tfc_status *v = tfc_plan_verify(t.plan);
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(std::string(tfc_status_message(v)), c.message);
  tfc_status_free(v);
}

TEST(ChecksumsLazy, VerifyChecksumsZeroCreatesTheSessionButVerifyStillChecks) {
  TempPlan t(corruptedGammaPlan(), 0, "corrupt_unchecked");
  ASSERT_NE(t.plan, nullptr);
  Created c = createSession(t.plan);
  EXPECT_EQ(c.code, TFC_OK) << c.message;
  // On request the check runs whatever verify_checksums says.
  tfc_status *v = tfc_plan_verify(t.plan);
  ASSERT_NE(v, nullptr);
  EXPECT_NE(std::string(tfc_status_message(v)).find("constant 'gamma'"), std::string::npos);
  tfc_status_free(v);
}

TEST(ChecksumsLazy, IntactWeightsVerify) {
  TempPlan t(validPlan().build(), 1, "intact");
  ASSERT_NE(t.plan, nullptr);
  EXPECT_EQ(tfc_plan_verify(t.plan), nullptr);
  EXPECT_EQ(createSession(t.plan).code, TFC_OK);
  tfc_status *v = tfc_plan_verify(nullptr);
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(tfc_status_code(v), TFC_INVALID_ARGUMENT);
  tfc_status_free(v);
  // The C++ wrapper's verify() is the same call.
  tfc::Plan plan;
  ASSERT_TRUE(tfc::Plan::open(t.path.c_str(), &plan).ok());
  EXPECT_TRUE(plan.verify().ok());
  TempPlan bad(corruptedGammaPlan(), 1, "corrupt_hpp");
  tfc::Plan badPlan;
  ASSERT_TRUE(tfc::Plan::open(bad.path.c_str(), &badPlan).ok());
  tfc::Status st = badPlan.verify();
  EXPECT_EQ(st.code(), TFC_INVALID_PLAN);
  EXPECT_NE(std::string(st.message()).find("constant 'gamma'"), std::string::npos);
}

/// N threads create sessions on one plan at once: the weights are read once, and every thread
/// gets the same answer (refused naming the constant, or created).
void concurrentSessions(const std::vector<uint8_t> &bytes, bool corrupted) {
  const std::string path = tempPath(corrupted ? "concurrent_bad" : "concurrent_good");
  writeFile(path, bytes);
  std::shared_ptr<const tfc::rt::Plan> plan = tfc::rt::loadPlan(path.c_str(), true);
  EXPECT_EQ(plan->weightsReads(), 0) << "opening reads no weights";
  constexpr int kThreads = 8;
  std::vector<std::string> messages(kThreads);
  std::vector<tfc_code> codes(kThreads, TFC_OK);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&, i] {
      try {
        tfc::rt::Session session(plan, 1);
      } catch (const tfc::rt::Error &e) {
        codes[i] = e.code();
        messages[i] = e.what();
      }
    });
  for (std::thread &t : threads)
    t.join();
  EXPECT_EQ(plan->weightsReads(), 1) << "the weights are read once for " << kThreads
                                     << " sessions";
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_EQ(codes[i], corrupted ? TFC_INVALID_PLAN : TFC_OK) << "thread " << i << ": "
                                                               << messages[i];
    EXPECT_EQ(messages[i], messages[0]) << "thread " << i;
  }
  if (corrupted)
    EXPECT_NE(messages[0].find("constant 'gamma': checksum mismatch"), std::string::npos)
        << messages[0];
  // A later check costs nothing: the answer is kept.
  EXPECT_EQ(plan->weightsProblem(), messages[0]);
  EXPECT_EQ(plan->weightsReads(), 1);
  std::remove(path.c_str());
}

TEST(ChecksumsLazy, ConcurrentSessionsCheckOnceAndAgree) {
  concurrentSessions(corruptedGammaPlan(), true);
  concurrentSessions(validPlan().build(), false);
}

// ---- decode weights packed when the session opens (cpu/LinearGemv.h) -------------------------

/// forward: one Linear on W1; decode_step: a Linear on W2 (f32) and on W1 again, and a
/// GatedLinear on W3 / W4. The decode weights (W1..W4) are packed when the first session opens,
/// once per plan. A prompt-sized product of a decode weight (forward on 40 rows: more than
/// kGemvMaxRows, at most kPrefillGemvMaxRows) then reads that pack: oneDNN makes no copy of its
/// own, and the result is the product (double reference).
TEST(PrepackDecode, FirstSessionPacksTheDecodeStepWeightsOnceAndPromptsReadThem) {
  PlanBuilder pb;
  int rows = pb.addSymbol("rows", 1, 64);
  constexpr int64_t K = 24, N = 40;
  std::vector<float> w(K * N);
  for (size_t i = 0; i < w.size(); ++i)
    w[i] = float(int(i % 7) - 3) * 0.125f + float(i % 5) * 0.01f;
  int c1 = pb.addConstant("w1", TFC_F32, {K, N}, w.data());
  int c2 = pb.addConstant("w2", TFC_F32, {N, K}, w.data());
  int c3 = pb.addConstant("w3", TFC_F32, {N, N}, std::vector<float>(N * N, 0.01f).data());
  int c4 = pb.addConstant("w4", TFC_F32, {N, N}, std::vector<float>(N * N, 0.02f).data());
  {
    int x = pb.addInput("x", TFC_F32, {Sym(rows), S(K)});
    int y = pb.addOutput("y", TFC_F32, {Sym(rows), S(N)});
    pb.addKernel(K::Linear, {x, pb.addConstantValue(c1)}, {y}, opt::linear(fb::Activation::None));
  }
  pb.nextFunction("decode_step");
  {
    int x = pb.addInput("x", TFC_F32, {Sym(rows), S(N)});
    int a = pb.addIntermediate("a", TFC_F32, {Sym(rows), S(K)});
    int b = pb.addIntermediate("b", TFC_F32, {Sym(rows), S(N)});
    int y = pb.addOutput("y", TFC_F32, {Sym(rows), S(N)});
    pb.addKernel(K::Linear, {x, pb.addConstantValue(c2)}, {a}, opt::linear(fb::Activation::None));
    pb.addKernel(K::Linear, {a, pb.addConstantValue(c1)}, {b}, opt::linear(fb::Activation::None));
    pb.addKernel(K::GatedLinear, {b, pb.addConstantValue(c3), pb.addConstantValue(c4)}, {y},
                 opt::gatedLinear(fb::GateActivation::Silu));
  }
  const std::string path = tempPath("prepack");
  writeFile(path, pb.build());
  std::shared_ptr<const tfc::rt::Plan> plan = tfc::rt::loadPlan(path.c_str(), true);
  EXPECT_EQ(tfc::rt::packedWeightCount(*plan), 0u) << "opening the plan packs nothing";
  {
    tfc::rt::Session first(plan, 2);
    EXPECT_EQ(tfc::rt::packedWeightCount(*plan), 4u) << "w1, w2, w3, w4";
    tfc::rt::Session second(plan, 1);
    EXPECT_EQ(tfc::rt::packedWeightCount(*plan), 4u) << "a second session packs nothing";

    constexpr int64_t M = 40;
    std::vector<float> x(M * K);
    for (size_t i = 0; i < x.size(); ++i)
      x[i] = float(int(i % 11) - 5) * 0.1f;
    int64_t dims[2] = {M, K};
    tfc_tensor in{"x", TFC_F32, 2, dims, x.data()};
    std::unique_ptr<tfc::rt::Outputs> out = first.run("forward", &in, 1);
    ASSERT_EQ(out->outputs.size(), 1u);
    const float *y = static_cast<const float *>(out->outputs[0].buffer.data);
    double worst = 0;
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        double ref = 0;
        for (int64_t k = 0; k < K; ++k)
          ref += double(x[size_t(m * K + k)]) * double(w[size_t(k * N + n)]);
        worst = std::max(worst, std::abs(double(y[m * N + n]) - ref));
      }
    EXPECT_LT(worst, 1e-5);
    std::lock_guard<std::mutex> lock(plan->derivedMutex);
    EXPECT_EQ(plan->derived.count("linear.packed_weights"), 0u)
        << "the prompt-sized product read the decode pack, not a oneDNN copy";
  }
  EXPECT_EQ(tfc::rt::packedWeightCount(*plan), 4u) << "the packs belong to the plan";
  std::remove(path.c_str());
}

/// A plan of format 2.3 carries FNV-1a checksums of its constants (2.4: PlanFile.h's
/// weightsChecksum): it still opens and its weights still verify, and a wrong one is still seen.
TEST(ChecksumsLazy, Format23PlansKeepFnv1a) {
  for (bool bad : {false, true}) {
    PlanBuilder pb = validPlan();
    pb.headerMinor = pb.fbMinor = 3;
    if (bad)
      for (ConstantSpec &c : pb.constants)
        if (c.name == "gamma")
          c.badChecksum = true;
    const std::string path = tempPath(bad ? "v23_bad" : "v23_good");
    writeFile(path, pb.build());
    std::shared_ptr<const tfc::rt::Plan> plan = tfc::rt::loadPlan(path.c_str(), true);
    EXPECT_EQ(plan->formatMinor, 3u);
    EXPECT_EQ(plan->weightsProblem().empty(), !bad) << plan->weightsProblem();
    std::remove(path.c_str());
  }
}

/// Without decode_step nothing is prepacked: a small product packs its weight on first use, and
/// a later product of 40 rows on the same session still takes oneDNN's path, bit for bit what a
/// fresh session computes for it (which path runs depends on the plan, not on what ran before).
/// This process's resident file-backed memory (/proc/self/status RssFile), in KB.
int64_t rssFileKb() {
  std::FILE *f = std::fopen("/proc/self/status", "r");
  if (!f)
    return -1;
  char line[256];
  int64_t kb = -1;
  while (std::fgets(line, sizeof line, f))
    if (std::sscanf(line, "RssFile: %lld kB", reinterpret_cast<long long *>(&kb)) == 1)
      break;
  std::fclose(f);
  return kb;
}

/// A plan file of y = x W (W [K, N] holding `w`, x [rows <= 64, K]) in `forward`, and with
/// `decode` also in `decode_step`.
std::string linearPlanFile(const char *tag, int64_t K, int64_t N, const std::vector<float> &w,
                           bool decode) {
  PlanBuilder pb;
  int rows = pb.addSymbol("rows", 1, 64);
  int c = pb.addConstant("w", TFC_F32, {K, N}, w.data());
  for (const char *name : {"forward", "decode_step"}) {
    if (std::string(name) == "decode_step") {
      if (!decode)
        break;
      pb.nextFunction(name);
    }
    int x = pb.addInput("x", TFC_F32, {Sym(rows), S(K)});
    int y = pb.addOutput("y", TFC_F32, {Sym(rows), S(N)});
    pb.addKernel(K::Linear, {x, pb.addConstantValue(c)}, {y}, opt::linear(fb::Activation::None));
  }
  const std::string path = tempPath(tag);
  writeFile(path, pb.build());
  return path;
}

/// A [K, N] weight of small distinct values: (i mod `period`) - period / 2, in hundredths.
std::vector<float> patternedWeight(int64_t K, int64_t N, int period) {
  std::vector<float> w(size_t(K * N));
  for (size_t i = 0; i < w.size(); ++i)
    w[i] = float(int(i % size_t(period)) - period / 2) * 0.01f;
  return w;
}

/// Reads one float of every page of `count` floats at `data`: resident, as after the checksum
/// pass.
void touchEveryPage(const float *data, int64_t count) {
  volatile float sink = 0.f;
  for (int64_t i = 0; i < count; i += 1024)
    sink = sink + data[i];
}

/// Runs `fn` of a linearPlanFile plan on x = e_row ([1, K]) and expects row `row` of W exactly.
void expectRowOfWeight(tfc::rt::Session &s, const char *fn, int64_t K, int64_t N, int64_t row,
                       const std::vector<float> &w) {
  std::vector<float> x(size_t(K), 0.f);
  x[size_t(row)] = 1.f;
  int64_t dims[2] = {1, K};
  tfc_tensor t{"x", TFC_F32, 2, dims, x.data()};
  std::unique_ptr<tfc::rt::Outputs> out = s.run(fn, &t, 1);
  const float *y = static_cast<const float *>(out->outputs[0].buffer.data);
  for (int64_t j = 0; j < N; ++j)
    ASSERT_EQ(y[j], w[size_t(row * N + j)]) << fn << " column " << j;
}

// A decode plan's weights, once packed at session open, give their plan pages back: the
// file-backed RSS falls by about the weights' size, and their bytes still read the same (from
// the file, through the page cache).
TEST(PrepackDecode, PackedWeightsGiveBackThePlansPages) {
  constexpr int64_t K = 1024, N = 2048; // 8 MB
  const std::vector<float> w = patternedWeight(K, N, 31);
  const std::string path = linearPlanFile("prepack_pages", K, N, w, true);
  std::shared_ptr<const tfc::rt::Plan> plan = tfc::rt::loadPlan(path.c_str(), true);
  const tfc::rt::ConstantDesc &weight = plan->constants[0];
  ASSERT_EQ(weight.name, "w");
  const float *data = static_cast<const float *>(weight.data);
  touchEveryPage(data, K * N);
  const int64_t before = rssFileKb();
  ASSERT_GT(before, 8000) << "the weight's 8 MB are resident";
  {
    tfc::rt::Session s(plan, 1); // packs the decode_step weight, then drops its plan pages
    const int64_t after = rssFileKb();
    EXPECT_LT(after, before - 7000) << "RssFile " << before << " kB -> " << after << " kB";
    EXPECT_EQ(std::memcmp(data, w.data(), w.size() * sizeof(float)), 0)
        << "the bytes read back from the file";
    // Outside the mapping, or not page-aligned inside it: nothing happens.
    plan->mapping->dropPages(w.data(), w.size() * sizeof(float));
    plan->mapping->dropPages(data + 1, 100);
    EXPECT_EQ(w[5], float(int(5 % 31) - 15) * 0.01f);
    // A step still computes with the pack.
    expectRowOfWeight(s, "decode_step", K, N, 3, w);
  }
  plan.reset();
  std::remove(path.c_str());
}

// An encoder's weight copied into oneDNN's layout by its first product over many rows gives
// back its plan pages too; the next runs read the copy and give the same result.
TEST(PrepackDecode, AnEncodersPackedWeightGivesBackItsPages) {
  constexpr int64_t K = 2048, N = 2048; // 16 MB
  const std::vector<float> w = patternedWeight(K, N, 29);
  const std::string path = linearPlanFile("encoder_pages", K, N, w, false);
  std::shared_ptr<const tfc::rt::Plan> plan = tfc::rt::loadPlan(path.c_str(), true);
  tfc::rt::Session s(plan, 1);
  constexpr int64_t M = 40;
  std::vector<float> in(M * K, 0.f);
  for (int64_t i = 0; i < M; ++i)
    in[size_t(i * K + i % K)] = 1.f; // row i of the result is row i of W
  int64_t dims[2] = {M, K};
  tfc_tensor t{"x", TFC_F32, 2, dims, in.data()};
  auto check = [&](const char *what) {
    std::unique_ptr<tfc::rt::Outputs> out = s.run("forward", &t, 1);
    const float *p = static_cast<const float *>(out->outputs[0].buffer.data);
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j)
        ASSERT_EQ(p[i * N + j], w[size_t(i * N + j)]) << what << " row " << i << " column " << j;
  };
  // Touch the weight's pages (as the checksum pass does), then the first run packs and drops.
  touchEveryPage(static_cast<const float *>(plan->constants[0].data), K * N);
  const int64_t before = rssFileKb();
  check("first run");
  const int64_t after = rssFileKb();
  // The first product also maps oneDNN's code (a few MB of file pages of libdnnl).
  EXPECT_LT(after, before - 11000) << "RssFile " << before << " kB -> " << after << " kB";
  check("second run");
  std::remove(path.c_str());
}

// The checksum pass reads every weight, but gives each large one's pages back as it goes: the
// process's file-backed RSS does not grow by the weights' size (it would by 8 MB here), and the
// bytes still read the same afterwards (from the file, through the page cache).
TEST(ChecksumsLazy, TheChecksumPassLeavesNoWeightResident) {
  constexpr int64_t K = 1024, N = 2048; // 8 MB
  const std::vector<float> w = patternedWeight(K, N, 37);
  const std::string path = linearPlanFile("checksum_pages", K, N, w, false);
  std::shared_ptr<const tfc::rt::Plan> plan = tfc::rt::loadPlan(path.c_str(), true);
  const int64_t before = rssFileKb();
  ASSERT_GT(before, 0);
  EXPECT_EQ(plan->weightsProblem(), "");
  EXPECT_EQ(plan->weightsReads(), 1);
  const int64_t after = rssFileKb();
  EXPECT_LT(after, before + 2000) << "RssFile " << before << " kB -> " << after << " kB";
  const float *data = static_cast<const float *>(plan->constants[0].data);
  EXPECT_EQ(std::memcmp(data, w.data(), w.size() * sizeof(float)), 0);
  // A session on it computes from those bytes.
  tfc::rt::Session s(plan, 1);
  expectRowOfWeight(s, "forward", K, N, 5, w);
  plan.reset();
  std::remove(path.c_str());
}

TEST(PrepackDecode, APackMadeOnFirstUseDoesNotChangeALaterPromptsPath) {
  PlanBuilder pb;
  int rows = pb.addSymbol("rows", 1, 64);
  constexpr int64_t K = 24, N = 40;
  std::vector<float> w(K * N);
  for (size_t i = 0; i < w.size(); ++i)
    w[i] = float(int(i % 13) - 6) * 0.0625f + float(i % 3) * 0.001f;
  int c1 = pb.addConstant("w1", TFC_F32, {K, N}, w.data());
  int x = pb.addInput("x", TFC_F32, {Sym(rows), S(K)});
  int y = pb.addOutput("y", TFC_F32, {Sym(rows), S(N)});
  pb.addKernel(K::Linear, {x, pb.addConstantValue(c1)}, {y}, opt::linear(fb::Activation::None));
  const std::string path = tempPath("prepack_history");
  writeFile(path, pb.build());
  auto runRows = [&](tfc::rt::Session &s, int64_t M) {
    std::vector<float> in(size_t(M * K));
    for (size_t i = 0; i < in.size(); ++i)
      in[i] = float(int(i % 17) - 8) * 0.03f;
    int64_t dims[2] = {M, K};
    tfc_tensor t{"x", TFC_F32, 2, dims, in.data()};
    std::unique_ptr<tfc::rt::Outputs> out = s.run("forward", &t, 1);
    const float *p = static_cast<const float *>(out->outputs[0].buffer.data);
    return std::vector<float>(p, p + M * N);
  };
  std::vector<float> fresh;
  {
    std::shared_ptr<const tfc::rt::Plan> plan = tfc::rt::loadPlan(path.c_str(), true);
    tfc::rt::Session s(plan, 2);
    fresh = runRows(s, 40);
  }
  std::shared_ptr<const tfc::rt::Plan> plan = tfc::rt::loadPlan(path.c_str(), true);
  tfc::rt::Session s(plan, 2);
  EXPECT_EQ(tfc::rt::packedWeightCount(*plan), 0u) << "no decode_step: nothing prepacked";
  runRows(s, 4);
  EXPECT_EQ(tfc::rt::packedWeightCount(*plan), 1u) << "4 rows: packed on first use";
  EXPECT_EQ(runRows(s, 40), fresh) << "40 rows after 4: the same path and floats as fresh";
  {
    std::lock_guard<std::mutex> lock(plan->derivedMutex);
    EXPECT_EQ(plan->derived.count("linear.packed_weights"), 1u) << "40 rows ran on oneDNN";
  }
  std::remove(path.c_str());
}

/// A corrupted offset that leaves a vector of 64-bit values 4 bytes off its alignment still
/// passes the FlatBuffers Verifier (2.0 checks a vector's length prefix to 4 bytes only);
/// reading it would be undefined behaviour (fuzz_plan_loader found one under UBSan). The loader
/// refuses it, naming the constant. Here: a constant's shape offset moved by 4 bytes, the
/// FlatBuffer's checksum restated.
TEST(RuntimeLoader, MisalignedSixtyFourBitVectorsAreRefused) {
  std::vector<uint8_t> bytes = validPlan().build();
  tfc::plan::PlanFileHeader h;
  std::memcpy(&h, bytes.data(), sizeof h);
  uint8_t *buf = bytes.data() + h.planOffset;
  const fb::Plan *p = fb::GetPlan(buf);
  // The constant whose shape lies first in the buffer (FlatBuffers builds back to front): the
  // shifted "vector" then has the rest of the buffer to lie in, and the Verifier passes it.
  const fb::Constant *c = p->constants()->Get(0);
  for (const fb::Constant *other : *p->constants())
    if (other->shape()->Data() < c->shape()->Data())
      c = other;
  const std::string name = c->name()->str();
  ASSERT_EQ(reinterpret_cast<uintptr_t>(c->shape()->Data()) % 8, 0u) << "written aligned";
  // The table's field holding the vector's offset (relative to the field itself): the 4 bytes
  // whose value lands on the vector's length prefix.
  const uint8_t *table = reinterpret_cast<const uint8_t *>(c);
  const uint8_t *prefix = c->shape()->Data() - 4;
  uint8_t *slot = nullptr;
  uint32_t offset = 0;
  for (size_t at = 0; at + 4 <= 64 && !slot; at += 4) {
    uint32_t u;
    std::memcpy(&u, table + at, 4);
    if (table + at + u == prefix)
      slot = buf + (table + at - buf), offset = u;
  }
  ASSERT_NE(slot, nullptr) << "the shape field of constant '" << name << "'";
  offset += 4; // the "vector" now starts at the low half of shape[0]: that many elements
  std::memcpy(slot, &offset, 4);
  uint64_t sum = tfc::plan::fnv1a64(buf, size_t(h.planSize));
  std::memcpy(bytes.data() + offsetof(tfc::plan::PlanFileHeader, planChecksum), &sum, 8);
  EXPECT_REFUSED(bytes, TFC_INVALID_PLAN,
                 "constant '" + name + "': its shape's 64-bit values are not 8-byte aligned");
}

// Session::RunOptions::lastPositionOnly: a Linear writing the function's first output computes
// only each row's last position (the others are zeros); with a residual, or when only one
// position exists, every row is computed as without the option. Against plain double loops.
TEST(SessionRunOptions, LastPositionOnlyComputesEachRowsLastPosition) {
  constexpr int64_t K = 24, N = 40, B = 3, Len = 5;
  const std::vector<float> w = patternedWeight(K, N, 23);
  std::vector<float> bias(N);
  for (int64_t j = 0; j < N; ++j)
    bias[size_t(j)] = 0.05f * float(j % 7) - 0.1f;
  for (bool residual : {false, true}) {
    SCOPED_TRACE(residual ? "with a residual" : "no residual");
    PlanBuilder pb;
    int batch = pb.addSymbol("batch", 1, 4), seq = pb.addSymbol("seq", 1, 16);
    int cw = pb.addConstant("w", TFC_F32, {K, N}, w.data());
    int cb = pb.addConstant("b", TFC_F32, {N}, bias.data());
    int x = pb.addInput("x", TFC_F32, {Sym(batch), Sym(seq), S(K)});
    int r = residual ? pb.addInput("r", TFC_F32, {Sym(batch), Sym(seq), S(N)}) : -1;
    int y = pb.addOutput("logits", TFC_F32, {Sym(batch), Sym(seq), S(N)});
    std::vector<int> ins = {x, pb.addConstantValue(cw), pb.addConstantValue(cb)};
    if (residual)
      ins.push_back(r);
    pb.addKernel(K::Linear, ins, {y}, opt::linear(fb::Activation::None));
    const std::string path = tempPath(residual ? "last_position_r" : "last_position");
    writeFile(path, pb.build());
    std::shared_ptr<const tfc::rt::Plan> plan = tfc::rt::loadPlan(path.c_str(), true);
    tfc::rt::Session s(plan, 2);
    std::vector<float> xv(size_t(B * Len * K)), rv(size_t(B * Len * N));
    for (size_t i = 0; i < xv.size(); ++i)
      xv[i] = float(int(i * 7 % 19) - 9) * 0.125f;
    for (size_t i = 0; i < rv.size(); ++i)
      rv[i] = float(int(i % 5) - 2);
    int64_t xd[3] = {B, Len, K}, rd[3] = {B, Len, N};
    tfc_tensor in[2] = {{"x", TFC_F32, 3, xd, xv.data()}, {"r", TFC_F32, 3, rd, rv.data()}};
    tfc::rt::Session::RunOptions last;
    last.lastPositionOnly = true;
    for (int64_t seqLen : {Len, int64_t(1)}) {
      xd[1] = rd[1] = seqLen;
      std::unique_ptr<tfc::rt::Outputs> out = s.run("forward", in, residual ? 2 : 1, last);
      ASSERT_EQ(out->outputs[0].dims, (std::vector<int64_t>{B, seqLen, N}));
      const float *p = static_cast<const float *>(out->outputs[0].buffer.data);
      for (int64_t b = 0; b < B; ++b)
        for (int64_t i = 0; i < seqLen; ++i)
          for (int64_t j = 0; j < N; ++j) {
            const int64_t row = b * seqLen + i;
            double ref = bias[size_t(j)];
            for (int64_t k = 0; k < K; ++k)
              ref += double(xv[size_t(row * K + k)]) * w[size_t(k * N + j)];
            if (residual)
              ref += rv[size_t(row * N + j)];
            const float got = p[row * N + j];
            if (i == seqLen - 1 || residual)
              ASSERT_NEAR(got, ref, 1e-4) << "row " << b << " position " << i << " column " << j;
            else
              ASSERT_EQ(got, 0.f) << "row " << b << " position " << i << " column " << j;
          }
    }
    plan.reset();
    std::remove(path.c_str());
  }
}
