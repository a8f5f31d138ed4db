//===- runtime_shapes_test.cpp - host-side shape helpers shared by the CPU and CUDA kernels ----===//
//
// MovementShapes.h and GemmShapes.h hold what the CPU and CUDA kernels both compute on the host
// (runtime/src is internal). The parts that need no kernel context are checked here against
// plain loops; the rest runs inside the kernels, covered by runtime_kernels_test (CPU) and
// tests/cuda (GPU).
//
//===----------------------------------------------------------------------------------------===//
#include "GemmShapes.h"
#include "MovementShapes.h"

#include <gtest/gtest.h>

using namespace tfc::rt;

namespace {

Shape shapeOf(std::initializer_list<int64_t> dims) {
  Shape s;
  for (int64_t d : dims)
    s.d[s.rank++] = d;
  return s;
}

} // namespace

TEST(RuntimeShapes, MatMulBatchOffsetsFollowBroadcasting) {
  // a batch [4, 1, 3], b batch [2, 1]: output batch [4, 2, 3].
  MatMulDims d;
  d.batchA = shapeOf({4, 1, 3});
  d.batchB = shapeOf({2, 1});
  d.batch = shapeOf({4, 2, 3});
  for (int64_t i = 0; i < 24; ++i) {
    int64_t i0 = i / 6, i1 = (i / 3) % 2, i2 = i % 3; // the output batch index
    int64_t a, b;
    d.batchOffsets(i, a, b);
    EXPECT_EQ(a, i0 * 3 + i2) << i; // a's dim 1 broadcasts
    EXPECT_EQ(b, i1) << i;          // b is right-aligned: [2, 1] against [2, 3]
  }
}

TEST(RuntimeShapes, BroadcastViewAndDenseStrides) {
  int64_t st[kMaxRank];
  denseStrides(shapeOf({2, 3, 4}), st);
  EXPECT_EQ(st[0], 12);
  EXPECT_EQ(st[1], 4);
  EXPECT_EQ(st[2], 1);
  StridedView v = broadcastView(shapeOf({3, 1}), shapeOf({2, 3, 5}));
  EXPECT_EQ(v.shape, shapeOf({2, 3, 5}));
  EXPECT_EQ(v.strides[0], 0); // a new leading dim
  EXPECT_EQ(v.strides[1], 1);
  EXPECT_EQ(v.strides[2], 0); // a dim of 1
  EXPECT_EQ(v.base, 0);
}

TEST(RuntimeShapes, ConvOutputShape) {
  ConvParams p;
  p.spatial = 2;
  p.strides[0] = 2;
  p.padBegin[0] = 1;
  p.padEnd[0] = 1;
  p.padEnd[1] = 1;
  p.dilations[1] = 2;
  Shape out;
  ASSERT_EQ(convOutputShape(shapeOf({2, 3, 9, 8}), shapeOf({4, 3, 3, 2}), p, out), "");
  // H: (9 + 2 - 3) / 2 + 1 = 5; W: (8 + 1 - (2 * 1 + 1)) / 1 + 1 = 7.
  EXPECT_EQ(out, shapeOf({2, 4, 5, 7}));
  p.group = 2;
  EXPECT_NE(convOutputShape(shapeOf({2, 3, 9, 8}), shapeOf({4, 3, 3, 2}), p, out)
                .find("do not go together with group 2"),
            std::string::npos);
}
