//===- GemmShapes.h - host-side shape logic of the matrix-product kernels, for every target ---===//
//
// Linear, GatedLinear, MatMul and Conv check their operands and size their products on the host
// from the bound shapes and options. The CPU kernels (cpu/Linear.cpp, MatMul.cpp, GatedLinear.cpp,
// BreadthKernels.cpp) and the CUDA ones (cuda/CudaGemm.cpp) call these functions, so both refuse
// the same inputs with the same messages. Each *Dims function checks the bound output shape
// (ctx.expectOutputShape) and fails through ctx.fail.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_RUNTIME_GEMMSHAPES_H
#define TFC_RUNTIME_GEMMSHAPES_H

#include "cpu/Kernel.h"

#include <string>

namespace tfc::rt {

/// x [..., K] @ w [K, N] -> out [..., N], seen as [M, K] x [K, N].
struct LinearDims {
  int64_t M = 0, K = 0, N = 0;
  Shape out;
};

/// Linear (x, weight, bias?, residual?): K agreement, the bias' size, the residual broadcasting
/// to the output, K > 0.
LinearDims linearDims(const KernelContext &ctx);
/// GatedLinear (x, gate_weight, up_weight): both weights [K, N]; K > 0; y must not alias x.
LinearDims gatedLinearDims(const KernelContext &ctx);

/// [..., M, K] x [..., K, N] -> [batch..., M, N] with NumPy broadcasting of the batch dims.
struct MatMulDims {
  int64_t M = 0, K = 0, N = 0;
  Shape batchA, batchB, batch; // the batch dims of a, of b, and broadcast
  int64_t numA = 1, numB = 1, num = 1; // their element counts
  /// The batch indices of a and b that output batch i reads.
  void batchOffsets(int64_t i, int64_t &a, int64_t &b) const;
};
MatMulDims matMulDims(const KernelContext &ctx);

/// The attributes of a convolution with `spatial` (1 or 2) spatial dims. Dilations count as in
/// ONNX (1 = none); pads are the begins and ends of each spatial dim.
struct ConvParams {
  int spatial = 2;
  int64_t strides[2] = {1, 1};
  int64_t padBegin[2] = {0, 0}, padEnd[2] = {0, 0};
  int64_t dilations[2] = {1, 1};
  int64_t group = 1;
};

/// Checks x [N, C, *spatial] and w [M, C / group, *kernel] against `p` and gives the output
/// shape [N, M, *out]: "" when they go together, else the problem.
std::string convOutputShape(const Shape &x, const Shape &w, const ConvParams &p, Shape &out);

/// Conv (x, weight, bias?): the parameters of ConvOptions for x's rank, checked with the
/// operands (convOutputShape, the bias' size) against the bound output.
ConvParams convDims(const KernelContext &ctx, Shape &out);

} // namespace tfc::rt

#endif // TFC_RUNTIME_GEMMSHAPES_H
