//===- ConstEval.cpp - import-time evaluation of constants and tables ------===//
#include "ConstEval.h"

#include <cmath>

namespace tfc::onnxfe {

bool broadcastShapes(const std::vector<int64_t> &a, const std::vector<int64_t> &b,
                     std::vector<int64_t> &out) {
  size_t rank = std::max(a.size(), b.size());
  out.assign(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      return false;
    out[i] = da == 1 ? db : da;
  }
  return true;
}

bool broadcastDims(const std::vector<SymDim> &a, const std::vector<SymDim> &b,
                   std::vector<SymDim> &out) {
  size_t rank = std::max(a.size(), b.size());
  out.assign(rank, SymDim::constant(1));
  for (size_t i = 0; i < rank; ++i) {
    SymDim da = i < rank - a.size() ? SymDim::constant(1) : a[i - (rank - a.size())];
    SymDim db = i < rank - b.size() ? SymDim::constant(1) : b[i - (rank - b.size())];
    if (da == SymDim::constant(1))
      out[i] = db;
    else if (db == SymDim::constant(1) || da == db)
      out[i] = da;
    else if (da.isConstant() && db.isConstant())
      return false;
    else
      out[i] = da.unknown ? db : da;  // trust the symbolic one (run time checks it)
  }
  return true;
}

namespace {
/// Row-major strides of `shape` aligned right to `rank`, 0 for broadcast dims.
std::vector<int64_t> broadcastStrides(const std::vector<int64_t> &shape, size_t rank) {
  std::vector<int64_t> strides(rank, 0);
  int64_t s = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    size_t o = i + (rank - shape.size());
    strides[o] = shape[i] == 1 ? 0 : s;
    s *= shape[i];
  }
  return strides;
}

template <typename F>
void forEachIndex(const std::vector<int64_t> &shape, F f) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  std::vector<int64_t> idx(shape.size(), 0);
  for (int64_t i = 0; i < n; ++i) {
    f(i, idx);
    for (size_t a = shape.size(); a-- > 0;) {
      if (++idx[a] < shape[a])
        break;
      idx[a] = 0;
    }
  }
}

int64_t offsetOf(const std::vector<int64_t> &idx, const std::vector<int64_t> &strides) {
  int64_t o = 0;
  for (size_t a = 0; a < idx.size(); ++a)
    o += idx[a] * strides[a];
  return o;
}
} // namespace

double convertTo(double v, mlir::Type elem) {
  if (elem.isInteger(1))
    return v != 0 ? 1 : 0;
  if (elem.isInteger(64) || elem.isInteger(32))
    return std::trunc(v);
  return static_cast<float>(v);
}

std::optional<ConstData> evalBinary(const ConstData &a, const ConstData &b, mlir::Type elem,
                                    const std::function<double(double, double)> &fn) {
  ConstData r;
  if (!broadcastShapes(a.shape, b.shape, r.shape))
    return std::nullopt;
  r.elem = elem;
  if (r.numElements() > kMaxFoldElements)
    return std::nullopt;
  auto sa = broadcastStrides(a.shape, r.shape.size());
  auto sb = broadcastStrides(b.shape, r.shape.size());
  r.values.resize(r.numElements());
  forEachIndex(r.shape, [&](int64_t i, const std::vector<int64_t> &idx) {
    r.values[i] = convertTo(fn(a.values[offsetOf(idx, sa)], b.values[offsetOf(idx, sb)]), elem);
  });
  return r;
}

std::optional<ConstData> evalWhere(const ConstData &c, const ConstData &a, const ConstData &b) {
  ConstData r;
  std::vector<int64_t> ab;
  if (!broadcastShapes(a.shape, b.shape, ab) || !broadcastShapes(c.shape, ab, r.shape))
    return std::nullopt;
  r.elem = a.elem;
  if (r.numElements() > kMaxFoldElements)
    return std::nullopt;
  auto sc = broadcastStrides(c.shape, r.shape.size());
  auto sa = broadcastStrides(a.shape, r.shape.size());
  auto sb = broadcastStrides(b.shape, r.shape.size());
  r.values.resize(r.numElements());
  forEachIndex(r.shape, [&](int64_t i, const std::vector<int64_t> &idx) {
    r.values[i] = c.values[offsetOf(idx, sc)] != 0 ? a.values[offsetOf(idx, sa)]
                                                   : b.values[offsetOf(idx, sb)];
  });
  return r;
}

ConstData evalUnary(const ConstData &a, mlir::Type elem, const std::function<double(double)> &fn) {
  ConstData r = a;
  r.elem = elem;
  for (double &v : r.values)
    v = convertTo(fn(v), elem);
  return r;
}

ConstData evalTranspose(const ConstData &a, const std::vector<int64_t> &perm) {
  ConstData r;
  r.elem = a.elem;
  for (int64_t p : perm)
    r.shape.push_back(a.shape[p]);
  auto src = broadcastStrides(a.shape, a.shape.size());
  // Strides of a without broadcast zeroing (size-1 dims are never stepped).
  std::vector<int64_t> strides(perm.size());
  for (size_t i = 0; i < perm.size(); ++i)
    strides[i] = src[perm[i]];
  r.values.resize(r.numElements());
  forEachIndex(r.shape, [&](int64_t i, const std::vector<int64_t> &idx) {
    r.values[i] = a.values[offsetOf(idx, strides)];
  });
  return r;
}

ConstData evalSlice(const ConstData &a, const std::vector<int64_t> &starts,
                    const std::vector<int64_t> &steps, const std::vector<int64_t> &sizes) {
  ConstData r;
  r.elem = a.elem;
  r.shape = sizes;
  auto strides = broadcastStrides(a.shape, a.shape.size());
  r.values.resize(r.numElements());
  forEachIndex(r.shape, [&](int64_t i, const std::vector<int64_t> &idx) {
    int64_t o = 0;
    for (size_t d = 0; d < idx.size(); ++d)
      o += (starts[d] + idx[d] * steps[d]) * strides[d];
    r.values[i] = a.values[o];
  });
  return r;
}

std::optional<ConstData> evalExpand(const ConstData &a, const std::vector<int64_t> &shape) {
  ConstData ones{{}, {1}, a.elem};
  ones.shape = shape;
  ones.values.assign(ones.numElements() > kMaxFoldElements ? 0 : ones.numElements(), 0);
  if (ones.values.empty() && ones.numElements() > 0)
    return std::nullopt;
  return evalBinary(a, ones, a.elem, [](double x, double) { return x; });
}

std::optional<ConstData> evalGather(const ConstData &a, const ConstData &indices, int64_t axis) {
  int64_t rank = a.shape.size();
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis >= rank)
    return std::nullopt;
  ConstData r;
  r.elem = a.elem;
  r.shape.assign(a.shape.begin(), a.shape.begin() + axis);
  r.shape.insert(r.shape.end(), indices.shape.begin(), indices.shape.end());
  r.shape.insert(r.shape.end(), a.shape.begin() + axis + 1, a.shape.end());
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= a.shape[d];
  for (int64_t d = axis + 1; d < rank; ++d)
    inner *= a.shape[d];
  int64_t n = a.shape[axis];
  for (int64_t o = 0; o < outer; ++o)
    for (double iv : indices.values) {
      int64_t i = static_cast<int64_t>(iv);
      if (i < 0)
        i += n;
      if (i < 0 || i >= n)
        return std::nullopt;
      for (int64_t k = 0; k < inner; ++k)
        r.values.push_back(a.values[(o * n + i) * inner + k]);
    }
  return r;
}

ConstData evalConcat(const std::vector<const ConstData *> &parts, int64_t axis) {
  ConstData r;
  r.elem = parts[0]->elem;
  r.shape = parts[0]->shape;
  r.shape[axis] = 0;
  for (const ConstData *p : parts)
    r.shape[axis] += p->shape[axis];
  int64_t outer = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= r.shape[d];
  for (int64_t o = 0; o < outer; ++o)
    for (const ConstData *p : parts) {
      int64_t chunk = p->numElements() / std::max<int64_t>(outer, 1);
      r.values.insert(r.values.end(), p->values.begin() + o * chunk,
                      p->values.begin() + (o + 1) * chunk);
    }
  return r;
}

} // namespace tfc::onnxfe
