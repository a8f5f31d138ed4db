//===- ElementwiseMath.h - the elementwise ops added for issue 11 ----------------------------===//
//
// Abs, Sign, Ceil, Floor, Sin, Cos, Min and the comparisons, as functions on bound tensors (no
// plan, no KernelContext), so that the kernels of the plan and the unit tests run the same code.
// The caller has checked dtypes and shapes: `y` has the (broadcast) shape of the inputs.
// Float semantics follow ONNX Runtime: NaN propagates through Abs/Sign/Ceil/Floor/Sin/Cos and
// wins in Min (as in Max); every comparison with a NaN is false.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_RUNTIME_CPU_ELEMENTWISEMATH_H
#define TFC_RUNTIME_CPU_ELEMENTWISEMATH_H

#include "cpu/Kernel.h"

namespace tfc::rt {

using tfc::plan::CompareOp;
using tfc::plan::UnaryOp;

/// Whether `op` is one of the unary ops of this file (Abs, Sign, Ceil, Floor, Sin, Cos).
bool isUnaryMath(UnaryOp op);

/// y = op(x) elementwise for the ops of isUnaryMath. f32 for every op; Abs and Sign also on
/// i32 and i64 (position arithmetic). Returns false for another op or a dtype the op does not
/// take.
bool unaryMath(UnaryOp op, const Tensor &x, const Tensor &y);

/// y = min(a, b) with NumPy broadcasting; f32, i32, i64. False for another dtype.
bool minimum(const Tensor &a, const Tensor &b, const Tensor &y);

/// y (bool, one byte 0 or 1) = a OP b with NumPy broadcasting; a and b share a dtype: f32, i32,
/// i64, i8, or bool (Equal only). False for another dtype.
bool compare(CompareOp op, const Tensor &a, const Tensor &b, const Tensor &y);

/// The NaN-propagating minimum (Min(NaN, x) = NaN, as ONNX Runtime and numpy).
template <typename T> inline T minOf(T x, T y) { return x < y || x != x ? x : y; }

} // namespace tfc::rt

#endif // TFC_RUNTIME_CPU_ELEMENTWISEMATH_H
