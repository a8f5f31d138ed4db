//===- Reduce.cpp - mean / sum over axes -------------------------------------------------------===//
//
// ReduceOptions {op, keepdims, axes}; negative axes count from the end; no axes reduces all
// (ONNX). Each output element sums its reduced sub-tensor (strided), accumulating in double;
// output elements split across threads.
//
//===----------------------------------------------------------------------------------------===//
#include "cpu/Common.h"

namespace tfc::rt {

using tfc::plan::ReduceOptionsT;

std::string checkReduce(const FunctionDesc &fn, const KernelDesc &k) {
  const ReduceOptionsT &o = options<ReduceOptionsT>(k);
  if (!isKnownEnumValue(o.op))
    return format("unknown ReduceOp %d", int(o.op));
  int rank = fn.values[k.inputs[0]].rank;
  for (int32_t axis : o.axes) {
    int64_t a = axis;
    if (!normalizeAxis(a, rank))
      return format("axis %d is out of range for rank %d", axis, rank);
  }
  std::string e = expectDtype(fn, k, 0, "x", {TFC_F32});
  return e.empty() ? expectSameDtype(fn, k, 0) : e;
}

void runReduce(const KernelContext &ctx) {
  const ReduceGeometry g = reduceGeometry(ctx);
  const float *px = ctx.in(0)->as<float>();
  float *py = ctx.out(0).as<float>();
  const int64_t n = g.outputs, count = g.count;
#pragma omp parallel for schedule(static) if (n * count >= 16384 && n > 1)
  for (int64_t o = 0; o < n; ++o) {
    int64_t base = 0, rem = o;
    for (int i = g.numKept - 1; i >= 0; --i) {
      base += (rem % g.keptDims[i]) * g.keptStrides[i];
      rem /= g.keptDims[i];
    }
    double acc = 0;
    for (int64_t r = 0; r < count; ++r) {
      int64_t off = base, rr = r;
      for (int i = g.numReduced - 1; i >= 0; --i) {
        off += (rr % g.redDims[i]) * g.redStrides[i];
        rr /= g.redDims[i];
      }
      acc += px[off];
    }
    py[o] = float(g.mean ? (count ? acc / double(count) : 0.0) : acc);
  }
}

} // namespace tfc::rt
