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
  const Tensor &x = *ctx.in(0);
  const ReduceOptionsT &o = options<ReduceOptionsT>(*ctx.k);
  bool keep = o.keepdims;
  int rank = x.shape.rank;
  bool reduced[kMaxRank] = {};
  if (o.axes.empty()) {
    for (int i = 0; i < rank; ++i)
      reduced[i] = true;
  }
  for (int32_t axis : o.axes) {
    int64_t a = axis;
    normalizeAxis(a, rank);
    reduced[a] = true;
  }
  int64_t strides[kMaxRank];
  int64_t s = 1;
  for (int i = rank - 1; i >= 0; --i) {
    strides[i] = s;
    s *= x.shape.d[i];
  }
  Shape out;
  int64_t keptDims[kMaxRank], keptStrides[kMaxRank], redDims[kMaxRank], redStrides[kMaxRank];
  int nk = 0, nr = 0;
  int64_t count = 1;
  for (int i = 0; i < rank; ++i) {
    if (reduced[i]) {
      redDims[nr] = x.shape.d[i];
      redStrides[nr++] = strides[i];
      count *= x.shape.d[i];
      if (keep)
        out.d[out.rank++] = 1;
    } else {
      keptDims[nk] = x.shape.d[i];
      keptStrides[nk++] = strides[i];
      out.d[out.rank++] = x.shape.d[i];
    }
  }
  ctx.expectOutputShape(0, out);
  const float *px = x.as<float>();
  float *py = ctx.out(0).as<float>();
  int64_t n = out.numel();
  bool mean = o.op == tfc::plan::ReduceOp::Mean;
#pragma omp parallel for schedule(static) if (n * count >= 16384 && n > 1)
  for (int64_t o = 0; o < n; ++o) {
    int64_t base = 0, rem = o;
    for (int i = nk - 1; i >= 0; --i) {
      base += (rem % keptDims[i]) * keptStrides[i];
      rem /= keptDims[i];
    }
    double acc = 0;
    for (int64_t r = 0; r < count; ++r) {
      int64_t off = base, rr = r;
      for (int i = nr - 1; i >= 0; --i) {
        off += (rr % redDims[i]) * redStrides[i];
        rr /= redDims[i];
      }
      acc += px[off];
    }
    py[o] = float(mean ? (count ? acc / double(count) : 0.0) : acc);
  }
}

} // namespace tfc::rt
