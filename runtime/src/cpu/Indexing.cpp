//===- Indexing.cpp - CumSum, Tile, GatherElements, ArgMax, Trilu ----------------------------===//
//
// Each op sees its tensor as [outer, len, inner] around the axis it works on, so that the inner
// loop runs over contiguous memory; element bytes are moved with the unsigned type of their size
// where the dtype does not matter (Tile, GatherElements, Trilu).
//
//===----------------------------------------------------------------------------------------===//
#include "cpu/Indexing.h"
#include "cpu/Common.h"

#include <cinttypes>

namespace tfc::rt {
namespace {

template <typename T>
void cumSumTyped(const T *x, T *y, const AxisView &v, bool exclusive, bool reverse) {
  bool parallel = v.outer > 1 && v.outer * v.len * v.inner >= 32768;
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t o = 0; o < v.outer; ++o) {
    const T *xo = x + o * v.len * v.inner;
    T *yo = y + o * v.len * v.inner;
    // Walk the axis in summing order, one inner row at a time (rows are contiguous).
    for (int64_t step = 0; step < v.len; ++step) {
      int64_t j = reverse ? v.len - 1 - step : step;
      int64_t prev = reverse ? j + 1 : j - 1; // the row summed just before
      T *row = yo + j * v.inner;
      const T *xr = xo + j * v.inner;
      if (step == 0) {
        for (int64_t i = 0; i < v.inner; ++i)
          row[i] = exclusive ? T(0) : xr[i];
        continue;
      }
      const T *prow = yo + prev * v.inner;
      // inclusive: y[j] = y[prev] + x[j]; exclusive: y[j] = y[prev] + x[prev]
      const T *add = exclusive ? xo + prev * v.inner : xr;
#pragma omp simd
      for (int64_t i = 0; i < v.inner; ++i)
        row[i] = T(prow[i] + add[i]);
    }
  }
}

template <typename T> void tileTyped(const T *x, T *y, const Shape &xs, const Shape &ys) {
  int r = xs.rank;
  if (r == 0) {
    y[0] = x[0];
    return;
  }
  int64_t xLast = xs.d[r - 1], yLast = ys.d[r - 1];
  int64_t rows = ys.numel() / (yLast ? yLast : 1);
  bool parallel = rows > 1 && ys.numel() >= 32768;
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t row = 0; row < rows; ++row) {
    // Source row: each output index of the leading dims modulo the input's dim.
    int64_t rem = row, src = 0, stride = xLast;
    for (int i = r - 2; i >= 0; --i) {
      int64_t idx = rem % ys.d[i];
      rem /= ys.d[i];
      src += (idx % xs.d[i]) * stride;
      stride *= xs.d[i];
    }
    const T *xr = x + src;
    T *yr = y + row * yLast;
    for (int64_t j = 0; j < yLast; j += xLast)
      std::memcpy(yr + j, xr, size_t(xLast) * sizeof(T));
  }
}

template <typename T, typename I>
std::string gatherElementsTyped(const T *data, const I *idx, T *y, const Shape &ds,
                                const Shape &is, int axis) {
  int r = ds.rank;
  int64_t dstride[kMaxRank];
  int64_t s = 1;
  for (int i = r - 1; i >= 0; --i) {
    dstride[i] = s;
    s *= ds.d[i];
  }
  int64_t n = is.numel(), dim = ds.d[axis];
  int64_t ctr[kMaxRank] = {}; // the multi-index of element e in the indices' shape
  for (int64_t e = 0; e < n; ++e) {
    int64_t v = int64_t(idx[e]);
    if (v < -dim || v >= dim) {
      std::string at;
      for (int i = 0; i < r; ++i)
        at += (i ? ", " : "") + std::to_string(ctr[i]);
      return format("index %" PRId64 " at [%s] is out of range for axis %d of size %" PRId64, v,
                    at.c_str(), axis, dim);
    }
    if (v < 0)
      v += dim;
    int64_t off = 0;
    for (int i = 0; i < r; ++i)
      off += (i == axis ? v : ctr[i]) * dstride[i];
    y[e] = data[off];
    for (int i = r - 1; i >= 0; --i) { // advance the multi-index
      if (++ctr[i] < is.d[i])
        break;
      ctr[i] = 0;
    }
  }
  return "";
}

template <typename T> void argMaxTyped(const T *x, int64_t *y, const AxisView &v, bool last) {
  bool parallel = v.outer * v.inner > 1 && v.outer * v.len * v.inner >= 32768;
#pragma omp parallel for collapse(2) schedule(static) if (parallel)
  for (int64_t o = 0; o < v.outer; ++o)
    for (int64_t i = 0; i < v.inner; ++i) {
      const T *p = x + o * v.len * v.inner + i;
      int64_t best = 0;
      T bv = p[0];
      for (int64_t j = 1; j < v.len; ++j) {
        T c = p[j * v.inner];
        bool bNan = bv != bv, cNan = c != c;
        bool better = last ? (cNan || (!bNan && c >= bv)) : (!bNan && (cNan || c > bv));
        if (better) {
          best = j;
          bv = c;
        }
      }
      y[o * v.inner + i] = best;
    }
}

template <typename T> void triluTyped(const T *x, T *y, const Shape &s, bool upper, int64_t k) {
  int64_t m = s.d[s.rank - 2], n = s.d[s.rank - 1];
  int64_t mats = m * n != 0 ? s.numel() / (m * n) : 0;
  for (int64_t b = 0; b < mats; ++b)
    for (int64_t i = 0; i < m; ++i) {
      const T *xr = x + (b * m + i) * n;
      T *yr = y + (b * m + i) * n;
      for (int64_t j = 0; j < n; ++j) {
        bool keep = upper ? j - i >= k : j - i <= k;
        yr[j] = keep ? xr[j] : T(0);
      }
    }
}

} // namespace

bool cumSum(const Tensor &x, const Tensor &y, int axis, bool exclusive, bool reverse) {
  AxisView v(x.shape, axis);
  switch (x.dtype) {
  case TFC_F32: cumSumTyped(x.as<float>(), y.as<float>(), v, exclusive, reverse); return true;
  case TFC_I32: cumSumTyped(x.as<int32_t>(), y.as<int32_t>(), v, exclusive, reverse); return true;
  case TFC_I64: cumSumTyped(x.as<int64_t>(), y.as<int64_t>(), v, exclusive, reverse); return true;
  default: return false;
  }
}

Shape tileShape(const Shape &x, const int64_t *repeats) {
  Shape s = x;
  for (int i = 0; i < x.rank; ++i)
    s.d[i] = x.d[i] * repeats[i];
  return s;
}

void tile(const Tensor &x, const Tensor &y) {
  if (y.shape.numel() == 0)
    return;
  withElementType(dtypeSize(x.dtype), [&](auto tag) {
    using T = decltype(tag);
    tileTyped(x.as<T>(), y.as<T>(), x.shape, y.shape);
  });
}

std::string gatherElements(const Tensor &data, const Tensor &indices, int axis, const Tensor &y) {
  std::string err;
  withElementType(dtypeSize(data.dtype), [&](auto tag) {
    using T = decltype(tag);
    if (indices.dtype == TFC_I32)
      err = gatherElementsTyped(data.as<T>(), indices.as<int32_t>(), y.as<T>(), data.shape,
                                indices.shape, axis);
    else
      err = gatherElementsTyped(data.as<T>(), indices.as<int64_t>(), y.as<T>(), data.shape,
                                indices.shape, axis);
  });
  return err;
}

Shape argMaxShape(const Shape &x, int axis, bool keepdims) {
  Shape s;
  for (int i = 0; i < x.rank; ++i)
    if (i != axis || keepdims)
      s.d[s.rank++] = i == axis ? 1 : x.d[i];
  return s;
}

bool argMax(const Tensor &x, int axis, bool selectLast, const Tensor &y) {
  AxisView v(x.shape, axis);
  switch (x.dtype) {
  case TFC_F32: argMaxTyped(x.as<float>(), y.as<int64_t>(), v, selectLast); return true;
  case TFC_I32: argMaxTyped(x.as<int32_t>(), y.as<int64_t>(), v, selectLast); return true;
  case TFC_I64: argMaxTyped(x.as<int64_t>(), y.as<int64_t>(), v, selectLast); return true;
  default: return false;
  }
}

void trilu(const Tensor &x, bool upper, int64_t k, const Tensor &y) {
  // Zero is all-zero bytes in every dtype, so the unsigned type of the element size will do.
  withElementType(dtypeSize(x.dtype), [&](auto tag) {
    using T = decltype(tag);
    triluTyped(x.as<T>(), y.as<T>(), x.shape, upper, k);
  });
}

} // namespace tfc::rt
