//===- SliceRange.h - ONNX Slice semantics for one axis (header only) -----*- C++ -*-===//
//
// One definition of how a slice's start/end/step select elements of a dim of size `dim`
// (ONNX Slice-13: negative values count from the end, out-of-range values clamp, a negative
// step walks backwards), shared by the runtime's Slice kernel (runtime/src/cpu/Movement.cpp)
// and the compiler's constant folder (compiler/passes/HostEval.cpp) so both agree exactly.
// Header only: the runtime links nothing for it.
//
//===----------------------------------------------------------------------===//
#ifndef TFC_SUPPORT_SLICERANGE_H
#define TFC_SUPPORT_SLICERANGE_H

#include <algorithm>
#include <cstdint>

namespace tfc::support {

struct SliceRange {
  int64_t start = 0;  // the first index taken (meaningful when count > 0)
  int64_t count = 0;  // how many elements are taken
};

/// `step` must not be 0 (the callers check it).
inline SliceRange sliceRange(int64_t start, int64_t end, int64_t step, int64_t dim) {
  if (dim <= 0)
    return {0, 0};  // an empty dim: nothing to take (and no clamp to [0, -1])
  if (start < 0)
    start = start < -dim ? 0 : start + dim;
  if (end < 0)
    end = end < -dim ? -1 : end + dim;
  if (step > 0) {
    start = std::clamp<int64_t>(start, 0, dim);
    end = std::clamp<int64_t>(end, 0, dim);
    return {start, end > start ? (end - start + step - 1) / step : 0};
  }
  start = std::clamp<int64_t>(start, 0, dim - 1);
  end = std::clamp<int64_t>(end, -1, dim - 1);
  return {start, start > end ? (start - end + (-step) - 1) / (-step) : 0};
}

} // namespace tfc::support

#endif // TFC_SUPPORT_SLICERANGE_H
