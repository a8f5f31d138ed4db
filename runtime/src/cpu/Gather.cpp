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
static void gatherTyped(const KernelContext &ctx, const Tensor &data, const Tensor &idx,
                        int64_t axis) {
  int64_t outer = 1, n = data.shape.d[axis], inner = 1;
  for (int i = 0; i < axis; ++i)
    outer *= data.shape.d[i];
  for (int i = int(axis) + 1; i < data.shape.rank; ++i)
    inner *= data.shape.d[i];
  const I *pi = idx.as<I>();
  int64_t ni = idx.shape.numel();
  for (int64_t i = 0; i < ni; ++i)
    if (int64_t(pi[i]) < -n || int64_t(pi[i]) >= n)
      ctx.fail(TFC_OUT_OF_RANGE, "index %lld (element %lld of '%s') is out of range for dim %lld "
               "of size %lld of '%s'", (long long)pi[i], (long long)i, ctx.inName(1).c_str(),
               (long long)axis, (long long)n, ctx.inName(0).c_str());
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
  const Tensor &data = *ctx.in(0), &idx = *ctx.in(1);
  int64_t axis = options<tfc::plan::GatherOptionsT>(*ctx.k).axis;
  normalizeAxis(axis, data.shape.rank);
  Shape shape;
  for (int i = 0; i < axis; ++i)
    shape.d[shape.rank++] = data.shape.d[i];
  if (data.shape.rank - 1 + idx.shape.rank > kMaxRank)
    ctx.fail(TFC_UNSUPPORTED, "result rank above %d", kMaxRank);
  for (int i = 0; i < idx.shape.rank; ++i)
    shape.d[shape.rank++] = idx.shape.d[i];
  for (int i = int(axis) + 1; i < data.shape.rank; ++i)
    shape.d[shape.rank++] = data.shape.d[i];
  ctx.expectOutputShape(0, shape);
  if (idx.dtype == TFC_I64)
    gatherTyped<int64_t>(ctx, data, idx, axis);
  else
    gatherTyped<int32_t>(ctx, data, idx, axis);
}

} // namespace tfc::rt
