//===- MovementShapes.h - host-side shape logic of the data-movement kernels, for every target -===//
//
// Transpose, Slice, Expand and Concat move bytes; what they move is decided on the host from the
// bound shapes, the options and (Slice, Expand) int64 input values. The CPU kernels (Movement.cpp,
// Elementwise.cpp) and the CUDA ones (cuda/CudaMovement.cu) call these functions, so both check
// the same things with the same messages and agree on every offset. Each function checks the
// kernel's bound output shape (ctx.expectOutputShape) and fails through ctx.fail.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_RUNTIME_MOVEMENTSHAPES_H
#define TFC_RUNTIME_MOVEMENTSHAPES_H

#include "cpu/Kernel.h"

namespace tfc::rt {

/// A strided view of a source tensor: output element idx (dense, row-major, of `shape`) reads
/// source element base + sum_i idx[i] * strides[i] (strides in elements; 0 where broadcast,
/// negative for a backward slice).
struct StridedView {
  Shape shape;
  int64_t strides[kMaxRank] = {};
  int64_t base = 0;
};

/// Row-major element strides of `s`.
void denseStrides(const Shape &s, int64_t *strides);

/// The view Transpose reads (TransposeOptions.perm; empty reverses the dims).
StridedView transposeView(const KernelContext &ctx);

/// The view Slice reads, from the host values of its starts and ends inputs (inputs 1 and 2;
/// their element counts are checked here) and, for axes flagged cache_offset, the KV cache's
/// length.
StridedView sliceView(const KernelContext &ctx, const int64_t *starts, const int64_t *ends);

/// Checks Expand's shape input (input 1: its shape here, its values in `target`, host memory)
/// against input 0 and returns the output shape (checked against the bound one).
Shape expandShape(const KernelContext &ctx, const int64_t *target);

/// The view that broadcasts `in` (NumPy rules; the caller has checked they broadcast) to `out`.
StridedView broadcastView(const Shape &in, const Shape &out);

/// Concat as [outer, axis, inner]: each input i is copied as `outer` rows of
/// x_i.d[axis] * inner elements into the output's rows of `axisTotal * inner`.
struct ConcatLayout {
  int axis = 0;
  int64_t outer = 1, inner = 1, axisTotal = 0;
};
ConcatLayout concatLayout(const KernelContext &ctx);

/// Reshape: the input and the bound output must have the same number of elements.
void checkReshapeSizes(const KernelContext &ctx);

} // namespace tfc::rt

#endif // TFC_RUNTIME_MOVEMENTSHAPES_H
