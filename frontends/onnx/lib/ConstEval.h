//===- ConstEval.h - import-time evaluation of constants and tables -*- C++ -*-===//
//
// Elementwise evaluation with NumPy broadcasting over ConstData (values held
// as doubles), and the shape helpers of the op importers.
//
//===----------------------------------------------------------------------===//
#ifndef TFC_FRONTENDS_ONNX_CONSTEVAL_H
#define TFC_FRONTENDS_ONNX_CONSTEVAL_H

#include "OnnxInternal.h"

#include <functional>
#include <optional>

namespace tfc::onnxfe {

/// Largest constant (elements) evaluated at import time.
constexpr int64_t kMaxFoldElements = int64_t(1) << 22;

/// NumPy broadcast of two shapes; false when incompatible.
bool broadcastShapes(const std::vector<int64_t> &a, const std::vector<int64_t> &b,
                     std::vector<int64_t> &out);
/// The same on symbolic dims (a 1 broadcasts; equal dims stay; else unknown is an error).
bool broadcastDims(const std::vector<SymDim> &a, const std::vector<SymDim> &b,
                   std::vector<SymDim> &out);

/// out[i] = fn(a[i'], b[i'']) with broadcasting; nullopt when too large or incompatible.
std::optional<ConstData> evalBinary(const ConstData &a, const ConstData &b, mlir::Type elem,
                                    const std::function<double(double, double)> &fn);
std::optional<ConstData> evalWhere(const ConstData &c, const ConstData &a, const ConstData &b);
ConstData evalUnary(const ConstData &a, mlir::Type elem, const std::function<double(double)> &fn);
/// Transpose by `perm`.
ConstData evalTranspose(const ConstData &a, const std::vector<int64_t> &perm);
/// Slice with static, already clamped starts/steps and sizes per axis.
ConstData evalSlice(const ConstData &a, const std::vector<int64_t> &starts,
                    const std::vector<int64_t> &steps, const std::vector<int64_t> &sizes);
/// Broadcast to `shape`.
std::optional<ConstData> evalExpand(const ConstData &a, const std::vector<int64_t> &shape);
/// Gather along `axis` with static indices (negative count from the end).
std::optional<ConstData> evalGather(const ConstData &a, const ConstData &indices, int64_t axis);
ConstData evalConcat(const std::vector<const ConstData *> &parts, int64_t axis);

/// Rounds a double to the element type (integers truncate, i1: != 0).
double convertTo(double v, mlir::Type elem);

} // namespace tfc::onnxfe

#endif // TFC_FRONTENDS_ONNX_CONSTEVAL_H
