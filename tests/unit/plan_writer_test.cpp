//===- plan_writer_test.cpp - the plan file as docs/PLAN_FORMAT.md says ----===//
//
// The encoder's plan is written, read back and checked like a loader would: header fields,
// the FlatBuffers Verifier and identifier, every constant's bytes against the model weight and
// its checksum, ports and values. Writes that fail leave nothing behind.
//
//===----------------------------------------------------------------------===//
#include "plan_test_util.h"

#include "tfc/plan/PlanWriter.h"
#include "tfc/schema/PlanFile.h"
#include "tfc/schema/PlanKernels.h"

#include <gmock/gmock.h>

#include <cmath>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <random>
#include <sys/stat.h>
#include <unistd.h>

using ::testing::HasSubstr;
namespace fb = tfc::plan;

namespace {

std::vector<uint8_t> readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

std::string tempDir() {
  std::string dir = ::testing::TempDir() + "tfc_plan_writer_XXXXXX";
  return mkdtemp(dir.data()) ? dir : "";
}

std::vector<std::string> listDir(const std::string &dir) {
  std::vector<std::string> names;
  if (DIR *d = opendir(dir.c_str())) {
    while (dirent *e = readdir(d))
      if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, ".."))
        names.push_back(e->d_name);
    closedir(d);
  }
  return names;
}

class WrittenPlan : public ::testing::TestWithParam<std::tuple<std::string, bool>> {};

TEST_P(WrittenPlan, ParsesAndMatchesTheModel) {
  auto [name, fuse] = GetParam();
  mlir::MLIRContext context;
  tfc::driver::CompileResult result;
  tfc::planner::Plan plan;
  plantest::compileExample(context, name, fuse, result, plan);
  std::string dir = tempDir();
  ASSERT_FALSE(dir.empty());
  std::string path = dir + "/plan.bin";
  auto s = tfc::driver::writePlanFile(plan, path);
  ASSERT_TRUE(s.ok()) << s.error;
  EXPECT_EQ(listDir(dir), std::vector<std::string>{"plan.bin"});  // no temp file left
  std::vector<uint8_t> bytes = readFile(path);
  ASSERT_GE(bytes.size(), 64u);

  // Header.
  fb::PlanFileHeader h;
  std::memcpy(&h, bytes.data(), sizeof(h));
  EXPECT_EQ(std::memcmp(h.magic, fb::kPlanMagic, 8), 0);
  EXPECT_EQ(h.formatMajor, 2u);  // 2.0: typed kernel options
  EXPECT_EQ(h.formatMinor, 5u);  // 2.1: Plan.precision, CacheSlot.dtype; 2.2 weight_precision;
                                 // 2.3 the FlatBuffer's checksum; 2.4 weightsChecksum; 2.5
                                 // AttentionOptions.head_dim and columns
  EXPECT_EQ(h.planOffset, 64u);
  EXPECT_EQ(h.fileSize, bytes.size());
  EXPECT_EQ(h.weightsOffset % 64, 0u);
  EXPECT_GE(h.weightsOffset, h.planOffset + h.planSize);
  EXPECT_LE(h.weightsOffset + h.weightsSize, h.fileSize);
  EXPECT_EQ(h.planChecksum, fb::fnv1a64(bytes.data() + h.planOffset, size_t(h.planSize)));

  // FlatBuffer.
  flatbuffers::Verifier verifier(bytes.data() + h.planOffset, h.planSize);
  ASSERT_TRUE(fb::VerifyPlanBuffer(verifier));
  ASSERT_TRUE(fb::PlanBufferHasIdentifier(bytes.data() + h.planOffset));
  const fb::Plan *p = fb::GetPlan(bytes.data() + h.planOffset);
  EXPECT_EQ(p->format_major(), 2u);
  EXPECT_EQ(p->format_minor(), 5u);
  EXPECT_EQ(p->producer()->str(), "tfc 0.1.0");
  EXPECT_EQ(p->target(), fb::Target::Cpu);
  EXPECT_EQ(p->precision(), fb::DType::F32);
  EXPECT_EQ(p->weight_precision(), fb::DType::F32);
  ASSERT_TRUE(p->model());
  EXPECT_EQ(p->model()->family()->str(), result.family);
  EXPECT_EQ(p->model()->name()->str(), result.model.name);
  EXPECT_EQ(p->model()->special_tokens()->pad_id(), result.model.specialTokens.padId);
  EXPECT_EQ(p->model()->special_tokens()->start_id(), result.model.specialTokens.startId);
  ASSERT_EQ(p->symbols()->size(), plan.symbols.size());
  EXPECT_EQ(p->symbols()->Get(0)->name()->str(), "batch");
  EXPECT_EQ(p->symbols()->Get(0)->max(), 16);

  // Constants: bytes equal the model's weights, aligned, checksummed.
  ASSERT_EQ(p->constants()->size(), plan.constants.size());
  size_t weightsSeen = 0;
  for (const fb::Constant *c : *p->constants()) {
    EXPECT_EQ(c->offset() % 64, 0u) << c->name()->str();
    ASSERT_LE(c->offset() + c->size(), h.weightsSize) << c->name()->str();
    const uint8_t *data = bytes.data() + h.weightsOffset + c->offset();
    EXPECT_EQ(fb::weightsChecksum(data, c->size()), c->checksum()) << c->name()->str();
    EXPECT_EQ(c->layout()->str(), "row_major");
    uint64_t n = 1;
    for (int64_t d : *c->shape())
      n *= d;
    EXPECT_EQ(c->size(), n * tfc::planner::dtypeSize(c->dtype())) << c->name()->str();
    auto w = result.model.weights.find(c->name()->str());
    if (w != result.model.weights.end()) {
      ++weightsSeen;
      EXPECT_EQ(c->dtype(), fb::DType::F32);
      EXPECT_EQ(std::vector<int64_t>(c->shape()->begin(), c->shape()->end()), w->second.shape);
      ASSERT_EQ(c->size(), w->second.numElements() * sizeof(float));
      EXPECT_EQ(std::memcmp(data, w->second.data, c->size()), 0) << c->name()->str();
    } else if (auto d = result.folded->derived().find(c->name()->str());
               d != result.folded->derived().end() &&
               c->name()->str().find("/concat") != std::string::npos) {
      // Sibling projections' weights (or biases) side by side (tfc-fuse-sibling-linears): each
      // column block is one model weight, found by its first row and then compared whole.
      std::vector<int64_t> shape(c->shape()->begin(), c->shape()->end());
      ASSERT_TRUE(shape.size() == 1 || shape.size() == 2) << c->name()->str();
      const int64_t rows = shape.size() == 2 ? shape[0] : 1, cols = shape.back();
      const float *v = reinterpret_cast<const float *>(data);
      int64_t col = 0, blocks = 0;
      while (col < cols) {
        bool found = false;
        for (const auto &[name, t] : result.model.weights) {
          const int64_t n = t.shape.back();
          if (t.shape.size() != shape.size() || col + n > cols ||
              (shape.size() == 2 && t.shape[0] != rows))
            continue;
          bool same = true;
          for (int64_t i = 0; i < rows && same; ++i)
            same = std::memcmp(v + i * cols + col, t.data + i * n, size_t(n) * sizeof(float)) == 0;
          if (!same)
            continue;
          found = true;
          ++weightsSeen;
          ++blocks;
          col += n;
          break;
        }
        ASSERT_TRUE(found) << c->name()->str() << ": no model weight at column " << col;
      }
      EXPECT_GE(blocks, 2) << c->name()->str();
    } else if (auto d = result.folded->derived().find(c->name()->str());
               d != result.folded->derived().end()) {
      // A weight tfc-fold-constants derived: the tied LM head, transposed.
      ASSERT_EQ(c->name()->str(), "lm_head/transpose");
      const auto &table = result.model.weights.at("embeddings.token");
      int64_t vocab = table.shape[0], dim = table.shape[1];
      EXPECT_EQ(std::vector<int64_t>(c->shape()->begin(), c->shape()->end()),
                (std::vector<int64_t>{dim, vocab}));
      ASSERT_EQ(c->size(), (uint64_t)(vocab * dim) * sizeof(float));
      const float *head = reinterpret_cast<const float *>(data);
      for (int64_t i = 0; i < dim; ++i)
        for (int64_t j = 0; j < vocab; ++j)
          ASSERT_EQ(head[i * vocab + j], table.data[j * dim + i]) << i << ", " << j;
    } else {
      EXPECT_EQ(c->name()->str().rfind("const.", 0), 0u) << c->name()->str();
    }
  }
  EXPECT_EQ(weightsSeen, result.model.weights.size());  // every weight is used once

  // The function: ports tied to values, constants' dtype and shape equal the values'.
  ASSERT_EQ(p->functions()->size(), plan.functions.size());
  const fb::Function *f = p->functions()->Get(0);
  EXPECT_EQ(f->name()->str(), "forward");
  EXPECT_EQ(f->arena_size(), result.plan.arenaBytes);
  EXPECT_EQ(f->kernels()->size(), plan.functions[0].kernels.size());
  for (uint32_t i = 0; i < f->inputs()->size(); ++i) {
    const fb::Value *v = f->values()->Get(f->inputs()->Get(i)->value());
    EXPECT_EQ(v->kind(), fb::ValueKind::Input);
    EXPECT_EQ(v->port(), (int32_t)i);
    EXPECT_EQ(v->dtype(), fb::DType::I64);
  }
  EXPECT_EQ(f->inputs()->Get(0)->name()->str(), name == "encdec" ? "src_ids" : "input_ids");
  for (uint32_t i = 0; i < f->outputs()->size(); ++i) {
    const fb::Value *v = f->values()->Get(f->outputs()->Get(i)->value());
    EXPECT_EQ(v->kind(), fb::ValueKind::Output);
    EXPECT_EQ(v->port(), (int32_t)i);
  }
  for (const fb::Value *v : *f->values()) {
    if (v->kind() == fb::ValueKind::Constant) {
      const fb::Constant *c = p->constants()->Get(v->constant());
      EXPECT_EQ(c->dtype(), v->dtype());
      ASSERT_EQ(c->shape()->size(), v->dims()->size());
      for (uint32_t d = 0; d < v->dims()->size(); ++d) {
        EXPECT_EQ(v->dims()->Get(d)->symbol(), -1);
        EXPECT_EQ(v->dims()->Get(d)->size(), c->shape()->Get(d));
      }
    }
    if (v->kind() == fb::ValueKind::Intermediate) {
      EXPECT_EQ(v->arena_offset() % 64, 0u);
    }
  }
  for (const fb::Kernel *k : *f->kernels()) {
    EXPECT_TRUE(k->name());
    for (int32_t in : *k->inputs())
      EXPECT_LT(in, (int32_t)f->values()->size());
    // Every kernel carries its kind's options table (none for MatMul, Reshape, ...).
    EXPECT_EQ(k->options_type(), fb::kernelOptionsOf(k->kind()))
        << k->name()->str() << " (" << fb::EnumNameKernelKind(k->kind()) << ")";
    EXPECT_EQ(k->options() != nullptr, k->options_type() != fb::KernelOptions::NONE);
  }
  // The attention's options are the fused op's attributes: its heads and 1/sqrt(dh).
  int attentions = 0;
  for (const fb::Kernel *k : *f->kernels())
    if (const fb::AttentionOptions *o = k->options_as_AttentionOptions()) {
      ++attentions;
      EXPECT_EQ(o->num_heads(), result.model.hparams.numHeads);
      EXPECT_FLOAT_EQ(o->scale(), 1.f / std::sqrt(float(result.model.hparams.dModel /
                                                        result.model.hparams.numHeads)));
      EXPECT_EQ(o->num_kv_heads(), 0);  // = num_heads
      EXPECT_EQ(o->window(), 0);
    }
  if (fuse)
    EXPECT_GT(attentions, 0);
  ::unlink(path.c_str());
  ::rmdir(dir.c_str());
}

INSTANTIATE_TEST_SUITE_P(Examples, WrittenPlan,
                         ::testing::Combine(::testing::Values("encoder", "decoder", "encdec",
                                                              "classifier"),
                                            ::testing::Bool()));

TEST(PlanWriter, NonexistentDirectoryFailsAndCreatesNothing) {
  mlir::MLIRContext context;
  tfc::driver::CompileResult result;
  tfc::planner::Plan plan;
  plantest::compileExample(context, "classifier", true, result, plan);
  std::string dir = tempDir();
  ASSERT_FALSE(dir.empty());
  std::string missing = dir + "/no/such/dir";
  auto s = tfc::driver::writePlanFile(plan, missing + "/plan.bin");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error, HasSubstr(missing + "/plan.bin"));
  EXPECT_THAT(s.error, HasSubstr("No such file or directory"));
  struct stat st;
  EXPECT_NE(::stat((dir + "/no").c_str(), &st), 0);
  EXPECT_TRUE(listDir(dir).empty());
  ::rmdir(dir.c_str());
}

TEST(PlanWriter, AnInvalidPlanLeavesTheOldFile) {
  mlir::MLIRContext context;
  tfc::driver::CompileResult result;
  tfc::planner::Plan plan;
  plantest::compileExample(context, "encoder", true, result, plan);
  std::string dir = tempDir();
  std::string path = dir + "/plan.bin";
  { std::ofstream(path) << "old"; }
  plan.constants[0].bytes.size -= 4;  // no longer matches its shape
  auto s = tfc::driver::writePlanFile(plan, path);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error, HasSubstr(plan.constants[0].name));
  std::vector<uint8_t> old = readFile(path);
  EXPECT_EQ(std::string(old.begin(), old.end()), "old");
  EXPECT_EQ(listDir(dir), std::vector<std::string>{"plan.bin"});
  ::unlink(path.c_str());
  ::rmdir(dir.c_str());
}

TEST(PlanWriter, RefusesAKernelWhoseOptionsAreNotItsKinds) {
  mlir::MLIRContext context;
  tfc::driver::CompileResult result;
  tfc::planner::Plan plan;
  plantest::compileExample(context, "encoder", true, result, plan);
  tfc::planner::Kernel *norm = nullptr;
  for (tfc::planner::Kernel &k : plan.functions[0].kernels)
    if (k.kind == fb::KernelKind::LayerNorm && !norm)
      norm = &k;
  ASSERT_NE(norm, nullptr);
  fb::LinearOptionsT linear;
  norm->options.Set(std::move(linear));
  tfc::planner::VectorSink sink;
  auto s = tfc::planner::writePlan(plan, sink);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error, HasSubstr("kernel '" + norm->name + "' (LayerNorm): its options are "
                                 "LinearOptions; LayerNorm kernels take LayerNormOptions"));
  norm->options.Reset();
  s = tfc::planner::writePlan(plan, sink);
  EXPECT_THAT(s.error, HasSubstr("its options are none; LayerNorm kernels take LayerNormOptions"));
}

TEST(PlanWriter, StreamsTheSameBytesToAnySink) {
  mlir::MLIRContext context;
  tfc::driver::CompileResult result;
  tfc::planner::Plan plan;
  plantest::compileExample(context, "decoder", true, result, plan);
  tfc::planner::VectorSink a, b;
  tfc::planner::PlanLayout layout;
  ASSERT_TRUE(tfc::planner::writePlan(plan, a, &layout).ok());
  ASSERT_TRUE(tfc::planner::writePlan(plan, b).ok());
  EXPECT_EQ(a.bytes, b.bytes);  // deterministic
  EXPECT_EQ(a.bytes.size(), layout.fileSize);
  ASSERT_EQ(layout.constantOffsets.size(), plan.constants.size());
  for (size_t i = 0; i < plan.constants.size(); ++i)
    EXPECT_EQ(std::memcmp(a.bytes.data() + layout.weightsOffset + layout.constantOffsets[i],
                          plan.constants[i].bytes.data(), plan.constants[i].bytes.size),
              0);
}

} // namespace

// ---- the weights' checksum (PlanFile.h, format 2.4) ------------------------------------------

/// The same function restated for clarity: lane l takes the words l, l + 8, ... of the whole
/// 64-byte blocks, assembled byte by byte (little-endian); the tail goes byte-wise into lane 0.
static uint64_t plainWeightsChecksum(const std::vector<uint8_t> &b) {
  const uint64_t prime = 1099511628211ull, basis = 1469598103934665603ull;
  auto mix = [&](uint64_t h, uint64_t v) {
    h = (h ^ v) * prime;
    return h ^ (h >> 29);
  };
  const size_t blocks = b.size() / 64;
  uint64_t lanes[8];
  for (int l = 0; l < 8; ++l) {
    lanes[l] = basis + uint64_t(l);
    for (size_t k = 0; k < blocks; ++k) {
      uint64_t w = 0;
      for (int byte = 7; byte >= 0; --byte)
        w = (w << 8) | b[k * 64 + size_t(l) * 8 + size_t(byte)];
      lanes[l] = mix(lanes[l], w);
    }
  }
  for (size_t i = blocks * 64; i < b.size(); ++i)
    lanes[0] = (lanes[0] ^ b[i]) * prime;
  uint64_t r = basis;
  for (uint64_t lane : lanes)
    r = mix(r, lane);
  return (r ^ uint64_t(b.size())) * prime;
}

TEST(WeightsChecksum, EqualsThePlainRestatementAndSeesEveryBitFlip) {
  std::mt19937 rng(7);
  for (size_t size : {size_t(0), size_t(1), size_t(7), size_t(63), size_t(64), size_t(65),
                      size_t(200), size_t(4096), size_t(100003)}) {
    std::vector<uint8_t> b(size);
    for (uint8_t &x : b)
      x = uint8_t(rng());
    const uint64_t sum = fb::weightsChecksum(b.data(), b.size());
    EXPECT_EQ(sum, plainWeightsChecksum(b)) << size << " bytes";
    // Any single flipped bit changes it (every step is invertible); sampled positions.
    for (int t = 0; t < 64 && size; ++t) {
      const size_t at = rng() % size;
      const uint8_t bit = uint8_t(1u << (rng() % 8));
      b[at] ^= bit;
      EXPECT_NE(fb::weightsChecksum(b.data(), b.size()), sum) << size << " bytes, byte " << at;
      b[at] ^= bit;
    }
  }
  // The size is in it: trailing zero bytes change it.
  std::vector<uint8_t> z(64, 0), z1(65, 0);
  EXPECT_NE(fb::weightsChecksum(z.data(), z.size()), fb::weightsChecksum(z1.data(), z1.size()));
  // Plans before 2.4 keep FNV-1a.
  EXPECT_EQ(fb::constantChecksum(3, z.data(), z.size()), fb::fnv1a64(z.data(), z.size()));
  EXPECT_EQ(fb::constantChecksum(4, z.data(), z.size()), fb::weightsChecksum(z.data(), z.size()));
}
