//===- Movement.cpp - Transpose, Reshape, Concat, Slice, Shape ---------------------------------===//
//
// Kernels that move bytes of any dtype without arithmetic. Transpose and Slice are strided
// copies (inner runs contiguous where they can be); Reshape is a copy, or nothing when the plan
// gave input and output the same bytes; Slice follows ONNX (negative starts/ends count from the
// end, values clamp to the dim, steps may be negative; axes flagged in SliceOptions.cache_offset
// are shifted by the KV cache's length first); Shape writes the input's dims as i64.
//
//===----------------------------------------------------------------------------------------===//
#include "MovementShapes.h"
#include "cpu/Common.h"

#include <algorithm>

namespace tfc::rt {
namespace {

/// Copies the strided view (dims, src element strides, base offset) of `src` into dense `dst`.
void stridedCopy(const char *src, int64_t base, const Shape &dims, const int64_t *strides,
                 char *dst, size_t es) {
  int rank = dims.rank;
  int64_t total = dims.numel();
  if (total == 0)
    return;
  if (rank == 0) {
    std::memcpy(dst, src + base * es, es);
    return;
  }
  int64_t inner = dims.d[rank - 1], innerStride = strides[rank - 1];
  int64_t outer = total / inner;
#pragma omp parallel for schedule(static) if (total >= 32768 && outer > 1)
  for (int64_t o = 0; o < outer; ++o) {
    int64_t off = base, rem = o;
    for (int i = rank - 2; i >= 0; --i) {
      off += (rem % dims.d[i]) * strides[i];
      rem /= dims.d[i];
    }
    char *d = dst + o * inner * int64_t(es);
    if (innerStride == 1) {
      std::memcpy(d, src + off * es, size_t(inner) * es);
    } else {
      withElementType(es, [&](auto tag) {
        using T = decltype(tag);
        const T *s = reinterpret_cast<const T *>(src) + off;
        T *dd = reinterpret_cast<T *>(d);
        for (int64_t j = 0; j < inner; ++j)
          dd[j] = s[j * innerStride];
      });
    }
  }
}

} // namespace

// ---- Transpose ------------------------------------------------------------------------------
using tfc::plan::TransposeOptionsT;
using tfc::plan::ConcatOptionsT;
using tfc::plan::SliceOptionsT;

std::string checkTranspose(const FunctionDesc &fn, const KernelDesc &k) {
  int rank = fn.values[k.inputs[0]].rank;
  const std::vector<int32_t> &perm = options<TransposeOptionsT>(k).perm;
  if (perm.empty())
    return expectSameDtype(fn, k, 0);
  if (int(perm.size()) != rank)
    return format("perm has %zu entries for rank %d", perm.size(), rank);
  bool seen[kMaxRank] = {};
  for (int32_t p : perm) {
    if (p < 0 || p >= rank || seen[p])
      return "perm is not a permutation of 0..rank-1";
    seen[p] = true;
  }
  return expectSameDtype(fn, k, 0);
}

void runTranspose(const KernelContext &ctx) {
  const Tensor &x = *ctx.in(0);
  StridedView v = transposeView(ctx);
  stridedCopy(x.as<char>(), 0, v.shape, v.strides, ctx.out(0).as<char>(), dtypeSize(x.dtype));
}

// ---- Reshape --------------------------------------------------------------------------------
std::string checkReshape(const FunctionDesc &fn, const KernelDesc &k) {
  return expectSameDtype(fn, k, 0);
}

void runReshape(const KernelContext &ctx) {
  const Tensor &x = *ctx.in(0);
  Tensor &y = ctx.out(0);
  checkReshapeSizes(ctx);
  if (x.data != y.data)
    std::memmove(y.data, x.data, x.bytes());
}

// ---- Concat ---------------------------------------------------------------------------------
std::string checkConcat(const FunctionDesc &fn, const KernelDesc &k) {
  int rank = fn.values[k.inputs[0]].rank;
  for (size_t i = 0; i < k.inputs.size(); ++i) {
    std::string e = expectSameDtype(fn, k, i);
    if (!e.empty())
      return e;
    if (fn.values[k.inputs[i]].rank != rank)
      return format("inputs have different ranks (%d and %d)", rank, fn.values[k.inputs[i]].rank);
  }
  int64_t axis = options<ConcatOptionsT>(k).axis;
  if (!normalizeAxis(axis, rank))
    return format("axis %d is out of range for rank %d", options<ConcatOptionsT>(k).axis, rank);
  return "";
}

void runConcat(const KernelContext &ctx) {
  ConcatLayout l = concatLayout(ctx);
  size_t es = dtypeSize(ctx.in(0)->dtype);
  int64_t outer = l.outer, inner = l.inner;
  char *dst = ctx.out(0).as<char>();
  size_t outRow = size_t(l.axisTotal * inner) * es;
  size_t at = 0;
  for (size_t i = 0; i < ctx.numInputs(); ++i) {
    const Tensor &x = *ctx.in(i);
    size_t row = size_t(x.shape.d[l.axis] * inner) * es;
    const char *src = x.as<char>();
    for (int64_t o = 0; o < outer; ++o)
      std::memcpy(dst + o * outRow + at, src + o * row, row);
    at += row;
  }
}

// ---- Slice ----------------------------------------------------------------------------------
std::string checkSlice(const FunctionDesc &fn, const KernelDesc &k) {
  const SliceOptionsT &o = options<SliceOptionsT>(k);
  size_t n = o.axes.size();
  if (o.steps.size() != n || (!o.cache_offset.empty() && o.cache_offset.size() != n))
    return format("SliceOptions has %zu axes, %zu steps and %zu cache_offset flags; expected one "
                  "step per axis and no flags or one per axis", n, o.steps.size(),
                  o.cache_offset.size());
  int rank = fn.values[k.inputs[0]].rank;
  bool seen[kMaxRank] = {};
  for (size_t i = 0; i < n; ++i) {
    int64_t a = o.axes[i];
    if (!normalizeAxis(a, rank) || seen[a])
      return format("axis %d is out of range for rank %d or repeated", o.axes[i], rank);
    seen[a] = true;
    if (o.steps[i] == 0)
      return format("step %zu is 0", i);
  }
  std::string e = expectDtype(fn, k, 1, "starts", {TFC_I64});
  if (e.empty())
    e = expectDtype(fn, k, 2, "ends", {TFC_I64});
  return e.empty() ? expectSameDtype(fn, k, 0) : e;
}

void runSlice(const KernelContext &ctx) {
  const Tensor &x = *ctx.in(0);
  StridedView v = sliceView(ctx, ctx.in(1)->as<int64_t>(), ctx.in(2)->as<int64_t>());
  stridedCopy(x.as<char>(), v.base, v.shape, v.strides, ctx.out(0).as<char>(), dtypeSize(x.dtype));
}

// ---- Shape ----------------------------------------------------------------------------------
std::string checkShape(const FunctionDesc &fn, const KernelDesc &k) {
  return expectOutDtype(fn, k, 0, {TFC_I64});
}

void runShape(const KernelContext &ctx) {
  const Tensor &x = *ctx.in(0);
  Shape shape;
  shape.rank = 1;
  shape.d[0] = x.shape.rank;
  ctx.expectOutputShape(0, shape);
  for (int i = 0; i < x.shape.rank; ++i)
    ctx.out(0).as<int64_t>()[i] = x.shape.d[i];
}

} // namespace tfc::rt
