//===- cuda_movement_test.cpp - CUDA data-movement kinds against the CPU kernels, every dtype ---===//
//
// Transpose, Reshape, Concat, Slice, Shape, Expand, Tile and Trilu move bytes: the GPU's output
// must equal the CPU kernel's exactly, in every dtype (f32, f16, bf16, i32, i64, i8, bool). The
// data are small integers, which every dtype holds exactly; the CPU reference runs f16/bf16 cases
// on the same values in f32 (a cpu plan is fp32) and the expected 16-bit output is its result
// converted (exact for these values). Int64 parameters (Slice's starts/ends, Expand's shape) are
// given both as plan constants (read on the host from the plan) and as inputs (copied from the
// device).
//
//===----------------------------------------------------------------------------------------===//
#include "cuda_test_util.h"

using namespace rtt;
using K = fb::KernelKind;

namespace {

const tfc_dtype kDtypes[] = {TFC_F32, TFC_F16, TFC_BF16, TFC_I32, TFC_I64, TFC_I8, TFC_BOOL};

/// Data of `shape` holding small integers in [-9, 9] (0/1 for bool), from `seed`.
std::vector<int> ints(const std::vector<int64_t> &shape, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(-9, 9);
  std::vector<int> v(size_t(numel(shape)));
  for (int &x : v)
    x = dist(rng);
  return v;
}

/// A data argument of dtype d with the values v (bool: v & 1); F16/BF16 for the GPU only.
Arg dataArg(tfc_dtype d, const std::vector<int64_t> &shape, const std::vector<int> &v) {
  switch (d) {
  case TFC_I32: return makeArg(TFC_I32, shape, std::vector<int32_t>(v.begin(), v.end()));
  case TFC_I64: return makeArg(TFC_I64, shape, std::vector<int64_t>(v.begin(), v.end()));
  case TFC_I8: return makeArg(TFC_I8, shape, std::vector<int8_t>(v.begin(), v.end()));
  case TFC_BOOL: {
    std::vector<uint8_t> b(v.size());
    for (size_t i = 0; i < v.size(); ++i)
      b[i] = uint8_t(v[i] & 1);
    return makeArg(TFC_BOOL, shape, b);
  }
  default: {
    Arg a = F32(shape, std::vector<float>(v.begin(), v.end()));
    return toDtype(a, d);
  }
  }
}

const char *nameOf(tfc_dtype d) {
  switch (d) {
  case TFC_F32: return "f32";
  case TFC_F16: return "f16";
  case TFC_BF16: return "bf16";
  case TFC_I32: return "i32";
  case TFC_I64: return "i64";
  case TFC_I8: return "i8";
  default: return "bool";
  }
}

fb::DType precisionOf(tfc_dtype d) {
  return d == TFC_F16 ? fb::DType::F16 : d == TFC_BF16 ? fb::DType::BF16 : fb::DType::F32;
}

/// One data input (the kernel's inputs `data` at positions dataPos, given as integer values)
/// plus parameters (`params`, inserted as they are) moved by `kind` on both targets in dtype d;
/// the GPU's bytes must equal the CPU's.
struct Movement {
  K kind;
  std::vector<std::vector<int64_t>> dataShapes; // inputs 0..n-1
  std::vector<Arg> params;                      // inputs n..
  std::vector<int64_t> out;
  Options options;
  std::string what;
  bool outIsI64 = false; // Shape
};

void check(const Movement &m, tfc_dtype d, uint32_t seed) {
  const bool half = d == TFC_F16 || d == TFC_BF16;
  std::vector<Arg> cpuArgs, gpuArgs;
  for (size_t i = 0; i < m.dataShapes.size(); ++i) {
    std::vector<int> v = ints(m.dataShapes[i], seed + uint32_t(i));
    gpuArgs.push_back(dataArg(d, m.dataShapes[i], v));
    cpuArgs.push_back(dataArg(half ? TFC_F32 : d, m.dataShapes[i], v));
  }
  for (const Arg &p : m.params) {
    cpuArgs.push_back(p);
    gpuArgs.push_back(p);
  }
  const tfc_dtype outD = m.outIsI64 ? TFC_I64 : d;
  const std::string at = m.what + " (" + nameOf(d) + ")";
  RunResult ref = runKernel(m.kind, cpuArgs, m.outIsI64 ? TFC_I64 : half ? TFC_F32 : d, m.out,
                            m.options);
  ASSERT_EQ(ref.code, TFC_OK) << at << ": CPU: " << ref.message;
  RunResult got = runKernelOn(PlanTarget{fb::Target::Cuda, precisionOf(d)}, m.kind, gpuArgs,
                              outD, m.out, m.options);
  ASSERT_EQ(got.code, TFC_OK) << at << ": CUDA: " << got.message;
  ASSERT_EQ(got.shape, m.out) << at;
  std::vector<uint8_t> expected = ref.bytes;
  if (half && !m.outIsI64) {
    Arg asF32 = F32(m.out, ref.as<float>());
    expected = toDtype(asF32, d).bytes;
  }
  ASSERT_EQ(got.bytes.size(), expected.size()) << at;
  for (size_t i = 0; i < expected.size(); ++i)
    ASSERT_EQ(got.bytes[i], expected[i]) << at << " at byte " << i;
}

void checkAllDtypes(const std::vector<Movement> &cases) {
  uint32_t seed = 1;
  for (const Movement &m : cases)
    for (tfc_dtype d : kDtypes) {
      check(m, d, seed += 7);
      if (::testing::Test::HasFatalFailure())
        return;
    }
}

} // namespace

TEST(CudaMovement, Transpose) {
  TFC_REQUIRE_CUDA();
  checkAllDtypes({
      {K::Transpose, {{2, 3, 5}}, {}, {5, 3, 2}, opt::transpose({}), "Transpose reversed"},
      {K::Transpose, {{2, 3, 4, 5}}, {}, {2, 4, 3, 5}, opt::transpose({0, 2, 1, 3}),
       "Transpose heads"},
      {K::Transpose, {{3, 1, 7}}, {}, {7, 3, 1}, opt::transpose({2, 0, 1}), "Transpose size-1"},
      {K::Transpose, {{33, 65}}, {}, {65, 33}, opt::transpose({1, 0}), "Transpose 2-D odd"},
      {K::Transpose, {{2, 1, 2, 1, 3, 1, 2, 2}}, {}, {2, 2, 1, 3, 1, 2, 1, 2},
       opt::transpose({7, 6, 5, 4, 3, 2, 1, 0}), "Transpose rank 8"},
  });
}

TEST(CudaMovement, ReshapeAndShape) {
  TFC_REQUIRE_CUDA();
  checkAllDtypes({
      {K::Reshape, {{2, 3, 4}}, {}, {6, 4}, Options(), "Reshape"},
      {K::Reshape, {{7}}, {}, {1, 7, 1}, Options(), "Reshape unsqueeze"},
      {K::Shape, {{2, 3, 4}}, {}, {3}, Options(), "Shape", true},
      {K::Shape, {{5}}, {}, {1}, Options(), "Shape 1-D", true},
  });
}

TEST(CudaMovement, Concat) {
  TFC_REQUIRE_CUDA();
  checkAllDtypes({
      {K::Concat, {{2, 3, 4}, {2, 1, 4}, {2, 5, 4}}, {}, {2, 9, 4}, opt::concat(1), "Concat mid"},
      {K::Concat, {{3, 2}, {3, 5}}, {}, {3, 7}, opt::concat(-1), "Concat last"},
      {K::Concat, {{1, 3}, {4, 3}}, {}, {5, 3}, opt::concat(0), "Concat first"},
      {K::Concat, {{2, 0, 3}, {2, 2, 3}}, {}, {2, 2, 3}, opt::concat(1), "Concat empty part"},
  });
}

TEST(CudaMovement, SliceWithConstantAndRuntimeBounds) {
  TFC_REQUIRE_CUDA();
  for (bool constant : {true, false}) {
    std::string how = constant ? " (constant bounds)" : " (input bounds)";
    checkAllDtypes({
        {K::Slice, {{4, 10}}, {I64({1}, {2}, constant), I64({1}, {9}, constant)}, {4, 4},
         opt::slice({1}, {2}), "Slice step 2" + how},
        {K::Slice, {{5, 6, 3}}, {I64({2}, {-1, 1}, constant), I64({2}, {INT64_MIN, 100}, constant)},
         {4, 6, 3}, opt::slice({1, 0}, {-1, 1}), "Slice backwards" + how},
        {K::Slice, {{3, 7}}, {I64({1}, {-3}, constant), I64({1}, {INT64_MAX}, constant)}, {3, 3},
         opt::slice({-1}, {1}, {true}), "Slice cache offset 0" + how},
        {K::Slice, {{3, 7}}, {I64({1}, {5}, constant), I64({1}, {2}, constant)}, {3, 0},
         opt::slice({1}, {1}), "Slice empty" + how},
    });
    if (HasFatalFailure())
      return;
  }
}

TEST(CudaMovement, ExpandTileTrilu) {
  TFC_REQUIRE_CUDA();
  fb::TileOptionsT tile;
  tile.repeats = {2, 1, 3};
  fb::TileOptionsT tile2;
  tile2.repeats = {3, 2};
  fb::TriluOptionsT lower;
  lower.upper = false;
  lower.k = 0;
  fb::TriluOptionsT upper;
  upper.upper = true;
  upper.k = 1;
  fb::TriluOptionsT far;
  far.upper = true;
  far.k = -5;
  checkAllDtypes({
      {K::Expand, {{3, 1}}, {I64({3}, {2, 3, 4}, true)}, {2, 3, 4}, Options(), "Expand const"},
      {K::Expand, {{1, 5}}, {I64({2}, {4, 1})}, {4, 5}, Options(), "Expand input"},
      {K::Expand, {{2, 1, 3}}, {I64({2}, {5, 3}, true)}, {2, 5, 3}, Options(), "Expand lower rank"},
      {K::Tile, {{2, 3, 1}}, {}, {4, 3, 3}, opt::make(tile), "Tile 3-D"},
      {K::Tile, {{1, 5}}, {}, {3, 10}, opt::make(tile2), "Tile 2-D"},
      {K::Trilu, {{2, 4, 5}}, {}, {2, 4, 5}, opt::make(lower), "Trilu lower"},
      {K::Trilu, {{5, 3}}, {}, {5, 3}, opt::make(upper), "Trilu upper k 1"},
      {K::Trilu, {{3, 3, 4}}, {}, {3, 3, 4}, opt::make(far), "Trilu upper k -5"},
  });
}

TEST(CudaMovement, SliceRefusesWhatTheCpuRefuses) {
  TFC_REQUIRE_CUDA();
  // Two starts for one axis: the shared check fails both targets alike.
  std::vector<Arg> args = {F32({4}, {1, 2, 3, 4}), I64({2}, {0, 1}), I64({1}, {3})};
  RunResult cpu = runKernel(K::Slice, args, TFC_F32, {3}, opt::slice({0}, {1}));
  RunResult gpu = runKernelOn(PlanTarget{fb::Target::Cuda, fb::DType::F32}, K::Slice, args,
                              TFC_F32, {3}, opt::slice({0}, {1}));
  EXPECT_EQ(cpu.code, TFC_INVALID_ARGUMENT) << cpu.message;
  EXPECT_EQ(gpu.code, cpu.code) << gpu.message;
  EXPECT_NE(gpu.message.find("must have 1 entries"), std::string::npos) << gpu.message;
}
