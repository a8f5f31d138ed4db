//===- runtime_breadth_kernels_test.cpp - the issue-11 kernel kinds through a plan -----------===//
//
// Each kind (Compare, CumSum, Tile, GatherElements, ArgMax, Trilu, Conv, Binary Min, Unary
// Abs..Cos) in a one-kernel plan loaded and run through the C API (runtime_kernel_harness.h):
// the kernel table row, the load-time check, the output shape the kernel computes, and the call
// into the arithmetic (whose own reference tests are runtime_breadth_ops_test). Expected values
// are worked out by hand from the ONNX definitions.
//
//===----------------------------------------------------------------------------------------===//
#include "runtime_kernel_harness.h"

using namespace rtt;
using K = fb::KernelKind;

namespace {

template <typename T> Options options(T table) { return opt::make(std::move(table)); }

Options compareOp(fb::CompareOp op) {
  fb::CompareOptionsT o;
  o.op = op;
  return options(std::move(o));
}

TEST(BreadthKernels, CompareBroadcastsToBool) {
  RunResult r = runKernel(K::Compare, {I64({3, 1}, {0, 1, 2}), I64({1, 4}, {0, 1, 2, 3})},
                          TFC_BOOL, {3, 4}, compareOp(fb::CompareOp::LessOrEqual));
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  EXPECT_EQ(r.as<uint8_t>(), (std::vector<uint8_t>{1, 1, 1, 1, 0, 1, 1, 1, 0, 0, 1, 1}));
  r = runKernel(K::Compare, {F32({2}, {1.f, 2.f}), F32({}, {2.f})}, TFC_BOOL, {2},
                compareOp(fb::CompareOp::Equal));
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  EXPECT_EQ(r.as<uint8_t>(), (std::vector<uint8_t>{0, 1}));
  // Load-time checks: an order of bools, mixed dtypes.
  r = runKernel(K::Compare, {Bool({2}, {1, 0}), Bool({2}, {1, 1})}, TFC_BOOL, {2},
                compareOp(fb::CompareOp::Less));
  EXPECT_EQ(r.code, TFC_INVALID_PLAN);
  EXPECT_NE(r.message.find("Less of bool inputs is not defined"), std::string::npos) << r.message;
  r = runKernel(K::Compare, {F32({2}, {1, 2}), I64({2}, {1, 2})}, TFC_BOOL, {2},
                compareOp(fb::CompareOp::Equal));
  EXPECT_EQ(r.code, TFC_INVALID_PLAN);
  EXPECT_NE(r.message.find("inputs have different dtypes (f32 and i64)"), std::string::npos)
      << r.message;
}

TEST(BreadthKernels, MinAndNewUnaryOps) {
  RunResult r = runKernel(K::Binary, {I64({3}, {5, -2, 9}), I64({1}, {3})}, TFC_I64, {3},
                          opt::binary(fb::BinaryOp::Min));
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  EXPECT_EQ(r.as<int64_t>(), (std::vector<int64_t>{3, -2, 3}));
  r = runKernel(K::Unary, {I64({3}, {-4, 0, 7})}, TFC_I64, {3}, opt::unary(fb::UnaryOp::Abs));
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  EXPECT_EQ(r.as<int64_t>(), (std::vector<int64_t>{4, 0, 7}));
  r = runKernel(K::Unary, {F32({4}, {-1.5f, 0.f, 2.5f, -0.2f})}, TFC_F32, {4},
                opt::unary(fb::UnaryOp::Sign));
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  EXPECT_EQ(r.as<float>(), (std::vector<float>{-1, 0, 1, -1}));
  r = runKernel(K::Unary, {F32({2}, {-1.5f, 2.5f})}, TFC_F32, {2}, opt::unary(fb::UnaryOp::Ceil));
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  EXPECT_EQ(r.as<float>(), (std::vector<float>{-1, 3}));
  r = runKernel(K::Unary, {F32({2}, {-1.5f, 2.5f})}, TFC_F32, {2}, opt::unary(fb::UnaryOp::Floor));
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  EXPECT_EQ(r.as<float>(), (std::vector<float>{-2, 2}));
  r = runKernel(K::Unary, {F32({2}, {0.f, 1.5707963f})}, TFC_F32, {2}, opt::unary(fb::UnaryOp::Sin));
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  expectClose(r.as<float>(), {0.f, 1.f});
  r = runKernel(K::Unary, {F32({2}, {0.f, 3.1415927f})}, TFC_F32, {2}, opt::unary(fb::UnaryOp::Cos));
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  expectClose(r.as<float>(), {1.f, -1.f});
  // Ceil of integers is refused when the plan loads.
  r = runKernel(K::Unary, {I64({1}, {1})}, TFC_I64, {1}, opt::unary(fb::UnaryOp::Ceil));
  EXPECT_EQ(r.code, TFC_INVALID_PLAN) << r.message;
}

TEST(BreadthKernels, CumSumTileTrilu) {
  fb::CumSumOptionsT c;
  c.axis = 1;
  RunResult r = runKernel(K::CumSum, {I64({2, 4}, {1, 1, 1, 1, 1, 1, 0, 0})}, TFC_I64, {2, 4},
                          options(c));
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  EXPECT_EQ(r.as<int64_t>(), (std::vector<int64_t>{1, 2, 3, 4, 1, 2, 2, 2}));
  c.exclusive = true;
  c.reverse = true;
  r = runKernel(K::CumSum, {F32({1, 3}, {1, 2, 4})}, TFC_F32, {1, 3}, options(c));
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  EXPECT_EQ(r.as<float>(), (std::vector<float>{6, 4, 0}));

  fb::TileOptionsT t;
  t.repeats = {2, 1};
  r = runKernel(K::Tile, {F32({1, 3}, {1, 2, 3})}, TFC_F32, {2, 3}, options(t));
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  EXPECT_EQ(r.as<float>(), (std::vector<float>{1, 2, 3, 1, 2, 3}));
  // The bound output shape must be what the repeats give.
  r = runKernel(K::Tile, {F32({1, 3}, {1, 2, 3})}, TFC_F32, {1, 6}, options(t));
  EXPECT_EQ(r.code, TFC_INVALID_ARGUMENT);
  t.repeats = {2};
  r = runKernel(K::Tile, {F32({1, 3}, {1, 2, 3})}, TFC_F32, {2, 3}, options(t));
  EXPECT_EQ(r.code, TFC_INVALID_PLAN);
  EXPECT_NE(r.message.find("1 repeats for an input of rank 2"), std::string::npos) << r.message;

  fb::TriluOptionsT u;
  u.upper = false;
  r = runKernel(K::Trilu, {Bool({3, 3}, {1, 1, 1, 1, 1, 1, 1, 1, 1})}, TFC_BOOL, {3, 3},
                options(u));
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  EXPECT_EQ(r.as<uint8_t>(), (std::vector<uint8_t>{1, 0, 0, 1, 1, 0, 1, 1, 1}));
  u.upper = true;
  u.k = 1;
  r = runKernel(K::Trilu, {F32({2, 3}, {1, 2, 3, 4, 5, 6})}, TFC_F32, {2, 3}, options(u));
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  EXPECT_EQ(r.as<float>(), (std::vector<float>{0, 2, 3, 0, 0, 6}));
}

TEST(BreadthKernels, GatherElementsAndArgMax) {
  fb::GatherElementsOptionsT g;
  g.axis = 1;
  // ONNX's example: data [[1, 2], [3, 4]], indices [[0, 0], [1, 0]] -> [[1, 1], [4, 3]].
  RunResult r = runKernel(K::GatherElements, {F32({2, 2}, {1, 2, 3, 4}), I64({2, 2}, {0, 0, 1, 0})},
                          TFC_F32, {2, 2}, options(g));
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  EXPECT_EQ(r.as<float>(), (std::vector<float>{1, 1, 4, 3}));
  r = runKernel(K::GatherElements, {F32({2, 2}, {1, 2, 3, 4}), I64({2, 1}, {-1, 2})}, TFC_F32,
                {2, 1}, options(g));
  EXPECT_EQ(r.code, TFC_OUT_OF_RANGE);
  EXPECT_NE(r.message.find("index 2 at [1, 0] is out of range for axis 1 of size 2"),
            std::string::npos) << r.message;

  fb::ArgMaxOptionsT a;
  a.axis = 1;
  a.keepdims = false;
  r = runKernel(K::ArgMax, {F32({2, 3}, {1, 5, 5, 7, -1, 2})}, TFC_I64, {2}, options(a));
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  EXPECT_EQ(r.as<int64_t>(), (std::vector<int64_t>{1, 0}));
  a.select_last_index = true;
  a.keepdims = true;
  r = runKernel(K::ArgMax, {F32({2, 3}, {1, 5, 5, 7, -1, 2})}, TFC_I64, {2, 1}, options(a));
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  EXPECT_EQ(r.as<int64_t>(), (std::vector<int64_t>{2, 0}));
}

TEST(BreadthKernels, ConvWithBiasAndConstantWeight) {
  // 1-D, one input channel, kernel [1, 2, 1], pad 1, stride 2, bias 10:
  // x = 1 2 3 4 -> padded 0 1 2 3 4 0 -> windows at 0, 2: (0+2+2)=4, (2+6+4)=12.
  fb::ConvOptionsT c;
  c.strides = {2};
  c.pads = {1, 1};
  c.dilations = {1};
  RunResult r = runKernel(K::Conv,
                          {F32({1, 1, 4}, {1, 2, 3, 4}), F32({1, 1, 3}, {1, 2, 1}, true),
                           F32({1}, {10}, true)},
                          TFC_F32, {1, 1, 2}, options(c));
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  EXPECT_EQ(r.as<float>(), (std::vector<float>{14, 22}));
  // 2-D patch embedding, 2 channels, 2x2 patches, no bias: each output sums a patch of both
  // channels (weights 1 for channel 0, 10 for channel 1).
  fb::ConvOptionsT p;
  p.strides = {2, 2};
  p.pads = {0, 0, 0, 0};
  p.dilations = {1, 1};
  std::vector<float> x(2 * 4 * 4);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = float(i % 16);
  std::vector<float> w = {1, 1, 1, 1, 10, 10, 10, 10};
  r = runKernel(K::Conv, {F32({1, 2, 4, 4}, x), F32({1, 2, 2, 2}, w, true), Absent()}, TFC_F32,
                {1, 1, 2, 2}, options(p));
  ASSERT_EQ(r.code, TFC_OK) << r.message;
  // patch sums of 0..15 as 4x4: (0+1+4+5)=10, (2+3+6+7)=18, (8+9+12+13)=42, (10+11+14+15)=50
  EXPECT_EQ(r.as<float>(), (std::vector<float>{110, 198, 462, 550}));
  // Options that do not fit the rank are refused when the plan loads.
  p.strides = {2};
  r = runKernel(K::Conv, {F32({1, 2, 4, 4}, x), F32({1, 2, 2, 2}, w, true)}, TFC_F32,
                {1, 1, 2, 2}, options(p));
  EXPECT_EQ(r.code, TFC_INVALID_PLAN);
  EXPECT_NE(r.message.find("strides, dilations and pads have 1, 2 and 4 entries"),
            std::string::npos) << r.message;
}

} // namespace
