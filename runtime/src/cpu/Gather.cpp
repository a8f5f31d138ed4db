//===- Gather.cpp - ONNX Gather ----------------------------------------------------------------===//
//
// y = data indexed by `indices` (i64 or i32) along `axis`: y.shape = data[:axis] + indices +
// data[axis+1:]. Negative indices count from the end; an index outside [-n, n) is a run-time
// error naming the kernel and the index (checked before anything is written). Token ids that
// come straight from an input into a constant table are checked earlier, against [0, n), by the
// session (InputRules.h): there -1 is a bad id, not the last row.
//
//===----------------------------------------------------------------------------------------===//
#include "cpu/Common.h"

namespace tfc::rt {

std::string checkGather(const FunctionDesc &fn, const KernelDesc &k) {
  std::string e = expectDtype(fn, k, 1, "indices", {TFC_I64, TFC_I32});
  if (!e.empty())
    return e;
  const int32_t given = options<tfc::plan::GatherOptionsT>(k).axis;
  int64_t axis = given;
  if (!normalizeAxis(axis, fn.values[k.inputs[0]].rank))
    return format("axis %d is out of range for rank %d", given, fn.values[k.inputs[0]].rank);
  return expectSameDtype(fn, k, 0);
}

template <typename I>
static void gatherTyped(const KernelContext &ctx, const GatherGeometry &g) {
  const Tensor &data = *ctx.in(0), &idx = *ctx.in(1);
  const int64_t outer = g.data.outer, n = g.data.len, inner = g.data.inner, ni = g.numIndices;
  const I *pi = idx.as<I>();
  for (int64_t i = 0; i < ni; ++i)
    if (int64_t(pi[i]) < -n || int64_t(pi[i]) >= n)
      failGatherIndex(ctx, g, int64_t(pi[i]), i);
  size_t es = dtypeSize(data.dtype);
  size_t row = size_t(inner) * es;
  const char *src = data.as<char>();
  char *dst = ctx.out(0).as<char>();
#pragma omp parallel for collapse(2) schedule(static) if (outer * ni * inner >= 32768)
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < ni; ++i) {
      int64_t j = int64_t(pi[i]);
      if (j < 0)
        j += n;
      std::memcpy(dst + (o * ni + i) * row, src + (o * n + j) * row, row);
    }
}

void runGather(const KernelContext &ctx) {
  const GatherGeometry g = gatherGeometry(ctx);
  if (ctx.in(1)->dtype == TFC_I64)
    gatherTyped<int64_t>(ctx, g);
  else
    gatherTyped<int32_t>(ctx, g);
}

} // namespace tfc::rt
