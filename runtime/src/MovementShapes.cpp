//===- MovementShapes.cpp - host-side shape logic of the data-movement kernels ----------------===//
#include "MovementShapes.h"

#include "cpu/Common.h"
#include "tfc/support/SliceRange.h"

#include <limits>

namespace tfc::rt {

void denseStrides(const Shape &s, int64_t *strides) {
  int64_t st = 1;
  for (int i = s.rank - 1; i >= 0; --i) {
    strides[i] = st;
    st *= s.d[i];
  }
}

StridedView transposeView(const KernelContext &ctx) {
  const Tensor &x = *ctx.in(0);
  int rank = x.shape.rank;
  const std::vector<int32_t> &given = options<tfc::plan::TransposeOptionsT>(*ctx.k).perm;
  int64_t in[kMaxRank];
  denseStrides(x.shape, in);
  StridedView v;
  v.shape.rank = rank;
  for (int i = 0; i < rank; ++i) {
    int p = given.empty() ? rank - 1 - i : given[size_t(i)];
    v.shape.d[i] = x.shape.d[p];
    v.strides[i] = in[p];
  }
  ctx.expectOutputShape(0, v.shape);
  return v;
}

StridedView sliceView(const KernelContext &ctx, const int64_t *starts, const int64_t *ends) {
  const Tensor &x = *ctx.in(0), &st = *ctx.in(1), &en = *ctx.in(2);
  const auto &o = options<tfc::plan::SliceOptionsT>(*ctx.k);
  const int64_t n = int64_t(o.axes.size());
  if (st.shape.numel() != n || en.shape.numel() != n)
    ctx.fail(TFC_INVALID_ARGUMENT, "starts %s and ends %s must have %lld entries (one per axis)",
             st.shape.str().c_str(), en.shape.str().c_str(), (long long)n);
  StridedView v;
  v.shape = x.shape;
  denseStrides(x.shape, v.strides);
  for (int64_t i = 0; i < n; ++i) {
    int64_t axis = o.axes[size_t(i)];
    normalizeAxis(axis, x.shape.rank);
    int64_t step = o.steps[size_t(i)], d = x.shape.d[axis];
    int64_t s = starts[i], e = ends[i];
    if (!o.cache_offset.empty() && o.cache_offset[size_t(i)]) {
      // Shifted by the KV cache's length (saturating: ends like INT64_MAX stay "to the end").
      int64_t past = ctx.cache ? ctx.cache->past : 0;
      s = __builtin_add_overflow(s, past, &s) ? std::numeric_limits<int64_t>::max() : s;
      e = __builtin_add_overflow(e, past, &e) ? std::numeric_limits<int64_t>::max() : e;
    }
    tfc::support::SliceRange r = tfc::support::sliceRange(s, e, step, d);
    v.shape.d[axis] = r.count;
    if (r.count > 0)
      v.base += r.start * v.strides[axis];
    v.strides[axis] *= step;
  }
  ctx.expectOutputShape(0, v.shape);
  return v;
}

Shape expandShape(const KernelContext &ctx, const int64_t *values) {
  const Tensor &x = *ctx.in(0), &s = *ctx.in(1);
  if (s.shape.rank != 1 || s.shape.d[0] > kMaxRank)
    ctx.fail(TFC_INVALID_ARGUMENT, "shape input '%s' must be 1-D with at most %d entries, got %s",
             ctx.inName(1).c_str(), kMaxRank, s.shape.str().c_str());
  Shape target;
  target.rank = int32_t(s.shape.d[0]);
  for (int i = 0; i < target.rank; ++i) {
    target.d[i] = values[i];
    if (target.d[i] < 0)
      ctx.fail(TFC_INVALID_ARGUMENT, "shape input '%s' has a negative entry %lld",
               ctx.inName(1).c_str(), (long long)target.d[i]);
  }
  Shape shape;
  if (!broadcastShapes(x.shape, target, shape))
    ctx.fail(TFC_INVALID_ARGUMENT, "cannot expand %s to %s", x.shape.str().c_str(),
             target.str().c_str());
  ctx.expectOutputShape(0, shape);
  return shape;
}

StridedView broadcastView(const Shape &in, const Shape &out) {
  StridedView v;
  v.shape = out;
  int64_t stride = 1;
  for (int i = out.rank - 1; i >= 0; --i) {
    int j = i - (out.rank - in.rank);
    int64_t d = j >= 0 ? in.d[j] : 1;
    v.strides[i] = d == 1 ? 0 : stride;
    stride *= d;
  }
  return v;
}

ConcatLayout concatLayout(const KernelContext &ctx) {
  const Tensor &x0 = *ctx.in(0);
  int64_t axis = options<tfc::plan::ConcatOptionsT>(*ctx.k).axis;
  normalizeAxis(axis, x0.shape.rank);
  Shape shape = x0.shape;
  shape.d[axis] = 0;
  for (size_t i = 0; i < ctx.numInputs(); ++i) {
    const Tensor &x = *ctx.in(i);
    for (int d = 0; d < shape.rank; ++d)
      if (d != axis && x.shape.d[d] != x0.shape.d[d])
        ctx.fail(TFC_INVALID_ARGUMENT, "input %zu %s does not match input 0 %s off the axis", i,
                 x.shape.str().c_str(), x0.shape.str().c_str());
    shape.d[axis] += x.shape.d[axis];
  }
  ctx.expectOutputShape(0, shape);
  ConcatLayout l;
  l.axis = int(axis);
  l.axisTotal = shape.d[axis];
  for (int i = 0; i < axis; ++i)
    l.outer *= shape.d[i];
  for (int i = int(axis) + 1; i < shape.rank; ++i)
    l.inner *= shape.d[i];
  return l;
}

void checkReshapeSizes(const KernelContext &ctx) {
  const Tensor &x = *ctx.in(0);
  const Tensor &y = ctx.out(0);
  if (x.shape.numel() != y.shape.numel())
    ctx.fail(TFC_INVALID_ARGUMENT, "cannot reshape %s (%lld elements) to %s",
             x.shape.str().c_str(), (long long)x.shape.numel(), y.shape.str().c_str());
}

} // namespace tfc::rt
