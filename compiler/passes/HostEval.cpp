//===- HostEval.cpp - tfc ops evaluated on host tensors (for folding) -----===//
//
// Each function mirrors a CPU runtime kernel (runtime/src/cpu/Elementwise.cpp,
// Movement.cpp, Gather.cpp, LayerNorm.cpp): same broadcasting, same slice
// clamping, same arithmetic in the same type, so a folded constant holds the
// bytes the kernel would have written. The exceptions are matmul, accumulated in
// double (oneDNN's float accumulation order is its own: equal to ~1e-7
// relative), and layer normalization, whose runtime sums run in vector lanes and
// whose scaling may fuse multiply-adds (equal to float rounding). Strided walks
// go through one odometer (walk()).
//
//===----------------------------------------------------------------------===//
#include "HostEval.h"

#include "tfc/IR/TfcDialect.h"
#include "tfc/support/SliceRange.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/TypeSwitch.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>

namespace mlir::tfc {

size_t HostTensor::elementSize() const { return hostElementSize(type.getElementType()); }

size_t hostElementSize(Type e) {
  if (e.isF32() || e.isSignlessInteger(32))
    return 4;
  if (e.isF16() || e.isBF16())
    return 2;
  if (e.isSignlessInteger(64))
    return 8;
  if (e.isSignlessInteger(8) || e.isSignlessInteger(1))
    return 1;
  return 0;
}

namespace {

using Shape = SmallVector<int64_t>;

/// A new tensor of `type` with zeroed, owned storage.
HostTensor allocate(RankedTensorType type, uint8_t *&out) {
  auto storage = std::make_shared<std::vector<uint8_t>>(
      (size_t)type.getNumElements() * hostElementSize(type.getElementType()));
  HostTensor t{type, storage->data(), storage};
  out = storage->data();
  return t;
}

Shape denseStrides(ArrayRef<int64_t> shape) {
  Shape s(shape.size(), 1);
  for (int64_t d = (int64_t)shape.size() - 2; d >= 0; --d)
    s[d] = s[d + 1] * shape[d + 1];
  return s;
}

/// Strides (in elements) that read `in` broadcast to `out` (NumPy: right-aligned, a dim of 1
/// repeats).
Shape broadcastStrides(ArrayRef<int64_t> in, ArrayRef<int64_t> out) {
  Shape dense = denseStrides(in), s(out.size(), 0);
  size_t lead = out.size() - in.size();
  for (size_t d = 0; d < in.size(); ++d)
    s[lead + d] = in[d] == out[lead + d] ? dense[d] : 0;
  return s;
}

/// NumPy broadcasting of two shapes; false when they do not broadcast.
bool broadcastShapes(ArrayRef<int64_t> a, ArrayRef<int64_t> b, Shape &out) {
  size_t r = std::max(a.size(), b.size());
  out.assign(r, 1);
  for (size_t i = 0; i < r; ++i) {
    int64_t x = i < r - a.size() ? 1 : a[i - (r - a.size())];
    int64_t y = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (x != y && x != 1 && y != 1)
      return false;
    out[i] = x == 1 ? y : x;
  }
  return true;
}

/// Calls f(o, offsets) for every element o of `shape` in row-major order, where
/// offsets[k] = base[k] + sum_d index[d] * strides[k][d].
template <size_t N, typename F>
void walk(ArrayRef<int64_t> shape, const std::array<Shape, N> &strides,
          std::array<int64_t, N> offsets, F &&f) {
  int64_t total = 1;
  for (int64_t d : shape)
    total *= d;
  if (total == 0)
    return;
  int64_t rank = (int64_t)shape.size();
  Shape index(rank, 0);
  for (int64_t o = 0; o < total; ++o) {
    f(o, offsets);
    for (int64_t d = rank - 1; d >= 0; --d) {
      for (size_t k = 0; k < N; ++k)
        offsets[k] += strides[k][d];
      if (++index[d] < shape[d])
        break;
      for (size_t k = 0; k < N; ++k)
        offsets[k] -= strides[k][d] * shape[d];
      index[d] = 0;
    }
  }
}

/// Calls f(T{}) with T an unsigned integer of `size` bytes (movement of any dtype).
template <typename F> void withElementBits(size_t size, F &&f) {
  switch (size) {
  case 1: f(uint8_t()); break;
  case 2: f(uint16_t()); break;
  case 4: f(uint32_t()); break;
  default: f(uint64_t()); break;
  }
}

/// out[o] = in[offset(o)]: the strided copy behind transpose, slice and expand.
HostTensor stridedCopy(const HostTensor &in, RankedTensorType type, const Shape &strides,
                       int64_t base) {
  uint8_t *out;
  HostTensor t = allocate(type, out);
  withElementBits(in.elementSize(), [&](auto tag) {
    using T = decltype(tag);
    const T *src = reinterpret_cast<const T *>(in.data);
    T *dst = reinterpret_cast<T *>(out);
    walk<1>(type.getShape(), {strides}, {base},
            [&](int64_t o, const std::array<int64_t, 1> &off) { dst[o] = src[off[0]]; });
  });
  return t;
}

template <typename T> const T *as(const HostTensor &t) {
  return reinterpret_cast<const T *>(t.data);
}

/// The values of a 1-D i64 operand (starts, ends, a shape).
std::vector<int64_t> int64Values(const HostTensor &t) {
  return std::vector<int64_t>(as<int64_t>(t), as<int64_t>(t) + t.numel());
}

int64_t normalizeAxis(int64_t axis, int64_t rank) { return axis < 0 ? axis + rank : axis; }

// ---- movement ------------------------------------------------------------------------------

std::optional<HostTensor> transpose(TransposeOp op, const HostTensor &x, RankedTensorType type) {
  Shape dense = denseStrides(x.type.getShape()), strides;
  for (int64_t p : op.getPerm())
    strides.push_back(dense[p]);
  return stridedCopy(x, type, strides, 0);
}

std::optional<HostTensor> slice(SliceOp op, ArrayRef<const HostTensor *> in,
                                RankedTensorType type, std::string &why) {
  if (op.getCacheOffset()) {
    why = "a slice shifted by the cache length";
    return std::nullopt;
  }
  const HostTensor &x = *in[0];
  std::vector<int64_t> starts = int64Values(*in[1]), ends = int64Values(*in[2]);
  ArrayRef<int64_t> axes = op.getAxes();
  std::optional<ArrayRef<int64_t>> steps = op.getSteps();
  if (starts.size() != axes.size() || ends.size() != axes.size()) {
    why = "starts/ends do not have one entry per axis";
    return std::nullopt;
  }
  Shape shape(x.type.getShape()), strides = denseStrides(shape);
  int64_t base = 0;
  for (size_t i = 0; i < axes.size(); ++i) {
    int64_t axis = normalizeAxis(axes[i], x.type.getRank());
    int64_t step = steps && i < steps->size() ? (*steps)[i] : 1, d = x.type.getDimSize(axis);
    ::tfc::support::SliceRange r = ::tfc::support::sliceRange(starts[i], ends[i], step, d);
    shape[axis] = r.count;
    if (r.count > 0)
      base += r.start * strides[axis];
    strides[axis] *= step;
  }
  if (ArrayRef<int64_t>(shape) != type.getShape()) {
    why = "the slice's result type does not match its constant bounds";
    return std::nullopt;
  }
  return stridedCopy(x, type, strides, base);
}

std::optional<HostTensor> gather(GatherOp op, const HostTensor &data, const HostTensor &idx,
                                 RankedTensorType type, std::string &why) {
  int64_t axis = normalizeAxis(op.getAxis(), data.type.getRank());
  int64_t outer = 1, n = data.type.getDimSize(axis), inner = 1;
  for (int64_t i = 0; i < axis; ++i)
    outer *= data.type.getDimSize(i);
  for (int64_t i = axis + 1; i < data.type.getRank(); ++i)
    inner *= data.type.getDimSize(i);
  std::vector<int64_t> indices(idx.numel());
  for (int64_t i = 0; i < idx.numel(); ++i) {
    indices[i] = idx.type.getElementType().isSignlessInteger(64) ? as<int64_t>(idx)[i]
                                                                  : as<int32_t>(idx)[i];
    if (indices[i] < -n || indices[i] >= n) {
      why = "index " + std::to_string(indices[i]) + " is out of range";
      return std::nullopt;
    }
    if (indices[i] < 0)
      indices[i] += n;
  }
  uint8_t *out;
  HostTensor t = allocate(type, out);
  size_t row = (size_t)inner * data.elementSize();
  for (int64_t o = 0; o < outer; ++o)
    for (size_t i = 0; i < indices.size(); ++i)
      std::memcpy(out + (o * indices.size() + i) * row, data.data + (o * n + indices[i]) * row,
                  row);
  return t;
}

std::optional<HostTensor> concat(ConcatOp op, ArrayRef<const HostTensor *> in,
                                 RankedTensorType type) {
  int64_t axis = normalizeAxis(op.getAxis(), type.getRank());
  int64_t outer = 1;
  for (int64_t i = 0; i < axis; ++i)
    outer *= type.getDimSize(i);
  uint8_t *out;
  HostTensor t = allocate(type, out);
  size_t outRow = type.getNumElements() / std::max<int64_t>(outer, 1) * hostElementSize(type.getElementType());
  size_t at = 0;
  for (const HostTensor *x : in) {
    size_t row = x->byteSize() / std::max<int64_t>(outer, 1);
    for (int64_t o = 0; o < outer; ++o)
      std::memcpy(out + o * outRow + at, x->data + o * row, row);
    at += row;
  }
  return t;
}

std::optional<HostTensor> expand(const HostTensor &x, const HostTensor &shape,
                                 RankedTensorType type, std::string &why) {
  std::vector<int64_t> values = int64Values(shape);
  Shape target(values.begin(), values.end()), out;
  if (!broadcastShapes(x.type.getShape(), target, out) || ArrayRef<int64_t>(out) != type.getShape()) {
    why = "the expand's constant shape does not give its result type";
    return std::nullopt;
  }
  return stridedCopy(x, type, broadcastStrides(x.type.getShape(), out), 0);
}

std::optional<HostTensor> where(const HostTensor &c, const HostTensor &a, const HostTensor &b,
                                RankedTensorType type) {
  uint8_t *out;
  HostTensor t = allocate(type, out);
  std::array<Shape, 3> strides = {broadcastStrides(c.type.getShape(), type.getShape()),
                                  broadcastStrides(a.type.getShape(), type.getShape()),
                                  broadcastStrides(b.type.getShape(), type.getShape())};
  withElementBits(a.elementSize(), [&](auto tag) {
    using T = decltype(tag);
    const T *pa = as<T>(a), *pb = as<T>(b);
    T *dst = reinterpret_cast<T *>(out);
    walk<3>(type.getShape(), strides, {0, 0, 0},
            [&](int64_t o, const std::array<int64_t, 3> &off) {
              dst[o] = c.data[off[0]] ? pa[off[1]] : pb[off[2]];
            });
  });
  return t;
}

std::optional<HostTensor> shapeOf(const HostTensor &x, RankedTensorType type) {
  uint8_t *out;
  HostTensor t = allocate(type, out);
  auto *dst = reinterpret_cast<int64_t *>(out);
  for (int64_t d = 0; d < x.type.getRank(); ++d)
    dst[d] = x.type.getDimSize(d);
  return t;
}

// ---- arithmetic ----------------------------------------------------------------------------

/// Calls f(T{}) with the C++ type of a numeric element type the runtime computes in.
template <typename F> bool withNumericType(Type e, bool withSmall, F &&f) {
  if (e.isF32())
    f(float());
  else if (e.isSignlessInteger(64))
    f(int64_t());
  else if (e.isSignlessInteger(32))
    f(int32_t());
  else if (withSmall && e.isSignlessInteger(8))
    f(int8_t());
  else if (withSmall && e.isSignlessInteger(1))
    f(bool());
  else
    return false;
  return true;
}

template <typename T> T powT(T a, T b) { return T(std::pow(double(a), double(b))); }
template <> float powT<float>(float a, float b) { return std::pow(a, b); }

std::optional<HostTensor> binary(Operation *op, const HostTensor &a, const HostTensor &b,
                                 RankedTensorType type, std::string &why) {
  uint8_t *out;
  HostTensor t = allocate(type, out);
  std::array<Shape, 2> strides = {broadcastStrides(a.type.getShape(), type.getShape()),
                                  broadcastStrides(b.type.getShape(), type.getShape())};
  bool ok = true;
  bool typed = withNumericType(type.getElementType(), false, [&](auto tag) {
    using T = decltype(tag);
    const T *pa = as<T>(a), *pb = as<T>(b);
    T *dst = reinterpret_cast<T *>(out);
    auto run = [&](auto fn) {
      walk<2>(type.getShape(), strides, {0, 0},
              [&](int64_t o, const std::array<int64_t, 2> &off) { dst[o] = fn(pa[off[0]], pb[off[1]]); });
    };
    if (isa<AddOp>(op))
      run([](T x, T y) { return T(x + y); });
    else if (isa<SubOp>(op))
      run([](T x, T y) { return T(x - y); });
    else if (isa<MulOp>(op))
      run([](T x, T y) { return T(x * y); });
    else if (isa<DivOp>(op)) {
      if constexpr (std::is_integral_v<T>)
        for (int64_t i = 0; i < b.numel(); ++i)
          if (pb[i] == 0) {
            why = "integer division by zero";
            ok = false;
            return;
          }
      run([](T x, T y) { return T(x / y); });
    } else if (isa<PowOp>(op))
      run([](T x, T y) { return powT<T>(x, y); });
    else
      run([](T x, T y) { return x > y ? x : y; });
  });
  if (!typed)
    why = "binary ops run on f32, i32 and i64 only";
  if (!typed || !ok)
    return std::nullopt;
  return t;
}

std::optional<HostTensor> unary(Operation *op, const HostTensor &x, RankedTensorType type,
                                std::string &why) {
  if (!type.getElementType().isF32()) {
    why = "unary ops run on f32 only";
    return std::nullopt;
  }
  float (*fn)(float) = nullptr;
  if (isa<SqrtOp>(op))
    fn = [](float v) { return std::sqrt(v); };
  else if (isa<ErfOp>(op))
    fn = [](float v) { return std::erf(v); };
  else if (isa<TanhOp>(op))
    fn = [](float v) { return std::tanh(v); };
  else if (isa<ReluOp>(op))
    fn = [](float v) { return v > 0.f ? v : 0.f; };
  else if (isa<ExpOp>(op))
    fn = [](float v) { return std::exp(v); };
  else if (isa<NegOp>(op))
    fn = [](float v) { return -v; };
  else if (isa<LogOp>(op))
    fn = [](float v) { return std::log(v); };
  else if (isa<SigmoidOp>(op))
    fn = [](float v) { return 1.f / (1.f + std::exp(-v)); };
  else if (cast<GeluOp>(op).getApproximate() == GeluApprox::tanh)
    fn = [](float v) {
      return 0.5f * v * (1.f + std::tanh(0.79788456080286536f * (v + 0.044715f * v * v * v)));
    };
  else
    fn = [](float v) { return 0.5f * v * (1.f + std::erf(v * 0.70710678118654752f)); };
  uint8_t *out;
  HostTensor t = allocate(type, out);
  const float *src = as<float>(x);
  auto *dst = reinterpret_cast<float *>(out);
  for (int64_t i = 0; i < x.numel(); ++i)
    dst[i] = fn(src[i]);
  return t;
}

// ---- normalization and products --------------------------------------------------------------

/// The runtime's LayerNormalization (runtime/src/cpu/LayerNorm.cpp, normalizeRow): rows of
/// the dims from `axis` to the end, mean and biased variance accumulated in double, then
/// `(x - mean) * inv * scale (+ bias)` in float: the same operations, but the runtime adds in
/// vector lanes (another order) and may fuse the last multiply-add, so the two agree to
/// float rounding, not bit for bit.
std::optional<HostTensor> layerNormalization(LayerNormalizationOp op,
                                             ArrayRef<const HostTensor *> in,
                                             RankedTensorType type, std::string &why) {
  const HostTensor &x = *in[0], &g = *in[1];
  const HostTensor *b = in.size() > 2 ? in[2] : nullptr;
  if (!type.getElementType().isF32() || !x.type.getElementType().isF32() ||
      !g.type.getElementType().isF32() || (b && !b->type.getElementType().isF32())) {
    why = "layer normalization folds on f32 only";
    return std::nullopt;
  }
  int64_t rank = x.type.getRank(), axis = op.getAxis();
  if (axis < -rank || axis >= rank) {
    why = "the axis is out of range";
    return std::nullopt;
  }
  axis = normalizeAxis(axis, rank);
  int64_t cols = 1;
  for (int64_t d = axis; d < rank; ++d)
    cols *= x.type.getDimSize(d);
  auto strideOf = [&](const HostTensor &t) -> std::optional<int64_t> {
    if (t.numel() == cols)
      return 1;
    if (t.numel() == 1)
      return 0;
    return std::nullopt;
  };
  std::optional<int64_t> gs = strideOf(g), bs = b ? strideOf(*b) : std::optional<int64_t>(0);
  if (!gs || !bs || cols == 0) {
    why = "the scale or bias does not have the normalized dims' element count (or 1)";
    return std::nullopt;
  }
  uint8_t *out;
  HostTensor t = allocate(type, out);
  const float *src = as<float>(x), *gp = as<float>(g), *bp = b ? as<float>(*b) : nullptr;
  auto *dst = reinterpret_cast<float *>(out);
  float eps = op.getEpsilon().convertToFloat();
  for (int64_t i = 0; i < x.numel() / cols; ++i) {
    const float *xr = src + i * cols;
    float *yr = dst + i * cols;
    double sum = 0, sq = 0;
    for (int64_t j = 0; j < cols; ++j)
      sum += xr[j];
    double mean = sum / double(cols);
    for (int64_t j = 0; j < cols; ++j) {
      double d = xr[j] - mean;
      sq += d * d;
    }
    float inv = float(1.0 / std::sqrt(sq / double(cols) + double(eps)));
    float m = float(mean);
    for (int64_t j = 0; j < cols; ++j) {
      float v = (xr[j] - m) * inv * gp[j * *gs];
      yr[j] = bp ? v + bp[j * *bs] : v;
    }
  }
  return t;
}

/// The batched matrix product [..., M, K] x [..., K, N] (batch dims broadcast), each element
/// accumulated in double and rounded once: the exact product to within rounding, which the
/// runtime's oneDNN matmul (float accumulation, its own blocking) matches to about 1e-7
/// relative, not bit for bit.
std::optional<HostTensor> matmul(const HostTensor &a, const HostTensor &b, RankedTensorType type,
                                 std::string &why) {
  auto as_ = a.type.getShape(), bs_ = b.type.getShape();
  if (!type.getElementType().isF32() || !a.type.getElementType().isF32() ||
      !b.type.getElementType().isF32() || as_.size() < 2 || bs_.size() < 2 ||
      as_.back() != bs_[bs_.size() - 2]) {
    why = "the matmul does not multiply f32 [..., M, K] by [..., K, N]";
    return std::nullopt;
  }
  int64_t m = as_[as_.size() - 2], k = as_.back(), n = bs_.back();
  Shape batch;
  if (!broadcastShapes(as_.drop_back(2), bs_.drop_back(2), batch)) {
    why = "the matmul's batch dims do not broadcast";
    return std::nullopt;
  }
  Shape want = batch;
  want.append({m, n});
  if (ArrayRef<int64_t>(want) != type.getShape()) {
    why = "the matmul's operands do not give its result type";
    return std::nullopt;
  }
  Shape sa = broadcastStrides(as_.drop_back(2), batch), sb = broadcastStrides(bs_.drop_back(2), batch);
  uint8_t *out;
  HostTensor t = allocate(type, out);
  const float *pa = as<float>(a), *pb = as<float>(b);
  auto *dst = reinterpret_cast<float *>(out);
  int64_t batches = 1;
  for (int64_t d : batch)
    batches *= d;
  std::vector<double> acc(n);
  for (int64_t bi = 0; bi < batches; ++bi) {
    int64_t offA = 0, offB = 0, rem = bi;
    for (int64_t d = (int64_t)batch.size() - 1; d >= 0; --d) {
      int64_t at = rem % batch[d];
      rem /= batch[d];
      offA += at * sa[d];
      offB += at * sb[d];
    }
    const float *ma = pa + offA * m * k, *mb = pb + offB * k * n;
    float *mo = dst + bi * m * n;
    for (int64_t i = 0; i < m; ++i) {
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t p = 0; p < k; ++p) {
        double x = ma[i * k + p];
        const float *row = mb + p * n;
        for (int64_t j = 0; j < n; ++j)
          acc[j] += x * row[j];
      }
      for (int64_t j = 0; j < n; ++j)
        mo[i * n + j] = float(acc[j]);
    }
  }
  return t;
}

/// The runtime's Cast: To(x), and nonzero -> 1 for bool. A float outside the integer type's
/// range (or NaN) has no defined conversion: not folded.
std::optional<HostTensor> castTo(const HostTensor &x, RankedTensorType type, std::string &why) {
  uint8_t *out;
  HostTensor t = allocate(type, out);
  bool ok = true;
  bool typed = withNumericType(x.type.getElementType(), true, [&](auto fromTag) {
    using From = decltype(fromTag);
    const auto *src = reinterpret_cast<const std::conditional_t<std::is_same_v<From, bool>, uint8_t, From> *>(x.data);
    ok = withNumericType(type.getElementType(), true, [&](auto toTag) {
      using To = decltype(toTag);
      for (int64_t i = 0; i < x.numel(); ++i) {
        if constexpr (std::is_same_v<To, bool>) {
          out[i] = src[i] != 0 ? 1 : 0;
        } else {
          if constexpr (std::is_same_v<From, float> && std::is_integral_v<To>) {
            double v = src[i];
            if (!(v > double(std::numeric_limits<To>::min()) - 1.0 &&
                  v < double(std::numeric_limits<To>::max()) + 1.0)) {
              why = "a value does not fit the integer type";
              ok = false;
              return;
            }
          }
          reinterpret_cast<To *>(out)[i] = To(src[i]);
        }
      }
    }) && ok;
  });
  if (!typed || !ok) {
    if (why.empty())
      why = "cast between unsupported types";
    return std::nullopt;
  }
  return t;
}

} // namespace

std::optional<HostTensor> hostTensorFromAttr(Attribute attr) {
  auto dense = dyn_cast<DenseElementsAttr>(attr);
  if (!dense)
    return std::nullopt;
  auto type = dyn_cast<RankedTensorType>(dense.getType());
  if (!type || !type.hasStaticShape() || !hostElementSize(type.getElementType()))
    return std::nullopt;
  uint8_t *out;
  HostTensor t = allocate(type, out);
  size_t size = hostElementSize(type.getElementType());
  int64_t i = 0;
  Type e = type.getElementType();
  if (isa<FloatType>(e)) {
    for (const APFloat &f : dense.getValues<APFloat>()) {
      uint64_t raw = f.bitcastToAPInt().getZExtValue();
      std::memcpy(out + size * i++, &raw, size);
    }
  } else if (e.isSignlessInteger(1)) {
    for (bool v : dense.getValues<bool>())
      out[i++] = v ? 1 : 0;
  } else {
    for (const APInt &v : dense.getValues<APInt>()) {
      int64_t raw = v.getSExtValue();
      std::memcpy(out + size * i++, &raw, size);
    }
  }
  return t;
}

Attribute attrFromHostTensor(const HostTensor &t) {
  Type e = t.type.getElementType();
  size_t n = (size_t)t.numel();
  if (e.isF32())
    return DenseElementsAttr::get(t.type, ArrayRef<float>(as<float>(t), n));
  if (e.isSignlessInteger(64))
    return DenseElementsAttr::get(t.type, ArrayRef<int64_t>(as<int64_t>(t), n));
  if (e.isSignlessInteger(32))
    return DenseElementsAttr::get(t.type, ArrayRef<int32_t>(as<int32_t>(t), n));
  if (e.isSignlessInteger(8))
    return DenseElementsAttr::get(t.type, ArrayRef<int8_t>(as<int8_t>(t), n));
  if (e.isSignlessInteger(1)) {
    SmallVector<bool> bits(t.data, t.data + n);
    return DenseElementsAttr::get(t.type, ArrayRef<bool>(bits));
  }
  // f16 / bf16: the raw little-endian bytes are MLIR's own layout.
  return DenseElementsAttr::getFromRawBuffer(
      t.type, ArrayRef<char>(reinterpret_cast<const char *>(t.data), t.byteSize()));
}

std::optional<HostTensor> evaluate(Operation *op, ArrayRef<const HostTensor *> in,
                                   std::string &why) {
  if (op->getNumResults() != 1 || in.size() != op->getNumOperands()) {
    why = "not a single-result op";
    return std::nullopt;
  }
  auto type = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!type || !type.hasStaticShape() || !hostElementSize(type.getElementType())) {
    why = "the result is not a statically shaped tensor of a supported type";
    return std::nullopt;
  }
  std::optional<HostTensor> result;
  bool known = true;
  llvm::TypeSwitch<Operation *>(op)
      .Case<TransposeOp>([&](TransposeOp t) { result = transpose(t, *in[0], type); })
      .Case<ReshapeOp>([&](auto) { result = HostTensor{type, in[0]->data, in[0]->owner}; })
      .Case<SliceOp>([&](SliceOp s) { result = slice(s, in, type, why); })
      .Case<GatherOp>([&](GatherOp g) { result = gather(g, *in[0], *in[1], type, why); })
      .Case<ConcatOp>([&](ConcatOp c) { result = concat(c, in, type); })
      .Case<ExpandOp>([&](auto) { result = expand(*in[0], *in[1], type, why); })
      .Case<WhereOp>([&](auto) { result = where(*in[0], *in[1], *in[2], type); })
      .Case<ShapeOp>([&](auto) { result = shapeOf(*in[0], type); })
      .Case<CastOp>([&](auto) { result = castTo(*in[0], type, why); })
      .Case<AddOp, SubOp, MulOp, DivOp, PowOp, MaxOp>(
          [&](Operation *b) { result = binary(b, *in[0], *in[1], type, why); })
      .Case<SqrtOp, ErfOp, TanhOp, ReluOp, ExpOp, NegOp, LogOp, SigmoidOp, GeluOp>(
          [&](Operation *u) { result = unary(u, *in[0], type, why); })
      .Case<LayerNormalizationOp>(
          [&](LayerNormalizationOp l) { result = layerNormalization(l, in, type, why); })
      .Case<MatMulOp>([&](auto) { result = matmul(*in[0], *in[1], type, why); })
      .Default([&](Operation *) { known = false; });
  if (!known)
    why = "no host evaluation for this op";
  return result;
}

} // namespace mlir::tfc
