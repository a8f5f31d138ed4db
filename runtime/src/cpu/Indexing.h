//===- Indexing.h - CumSum, Tile, GatherElements, ArgMax, Trilu on bound tensors -------------===//
//
// The scan, repetition and index ops added for issue 11, as functions on bound tensors (no plan,
// no KernelContext), so that the kernels of the plan and the unit tests run the same code. The
// *Shape functions give the output shape the kernel must have been bound to; the caller checks
// dtypes, axes (already in [0, rank)) and the output shape.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_RUNTIME_CPU_INDEXING_H
#define TFC_RUNTIME_CPU_INDEXING_H

#include "cpu/Kernel.h"

#include <string>

namespace tfc::rt {

/// y = the cumulative sum of x along `axis` (ONNX CumSum: `exclusive` leaves the element itself
/// out, `reverse` sums from the end), accumulated in x's type; f32, i32, i64. False for
/// another dtype.
bool cumSum(const Tensor &x, const Tensor &y, int axis, bool exclusive, bool reverse);

/// The shape of x tiled `repeats` times along each axis (one entry per axis, each >= 1).
Shape tileShape(const Shape &x, const int64_t *repeats);
/// y[i...] = x[i % x.dims ...] for y of tileShape(x.shape, repeats); any dtype.
void tile(const Tensor &x, const Tensor &y);

/// y[i...] = data[i... with index[i...] on `axis`] (ONNX GatherElements); y has the shape of
/// `indices` (i32 or i64; negative counts from the end). Any data dtype. Returns "" or the
/// problem (an index outside [-dim, dim), naming the position).
std::string gatherElements(const Tensor &data, const Tensor &indices, int axis, const Tensor &y);

/// The shape of ArgMax over `axis`.
Shape argMaxShape(const Shape &x, int axis, bool keepdims);
/// y (i64) = the index of the maximum along `axis`: the first one, or the last with
/// `selectLast`; a NaN is larger than any number (numpy and PyTorch). f32, i32, i64; false
/// for another dtype. The axis must not be empty.
bool argMax(const Tensor &x, int axis, bool selectLast, const Tensor &y);

/// y = x with the elements outside the triangle of the last two dims [M, N] set to 0 (false):
/// `upper` keeps (i, j) where j - i >= k, lower where j - i <= k. Any dtype; rank >= 2.
void trilu(const Tensor &x, bool upper, int64_t k, const Tensor &y);

} // namespace tfc::rt

#endif // TFC_RUNTIME_CPU_INDEXING_H
