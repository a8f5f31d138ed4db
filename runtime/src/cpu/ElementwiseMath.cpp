//===- ElementwiseMath.cpp - Abs, Sign, Ceil, Floor, Sin, Cos, Min, comparisons --------------===//
//
// Plain loops the compiler vectorizes; broadcasting through BroadcastLoop (Common.h).
//
//===----------------------------------------------------------------------------------------===//
#include "cpu/ElementwiseMath.h"
#include "cpu/Common.h"

#include <cmath>

namespace tfc::rt {
namespace {

template <typename T, typename Op> void mapLoop(const T *x, T *y, int64_t n, Op op) {
#pragma omp parallel for simd schedule(static) if (n >= 16384)
  for (int64_t i = 0; i < n; ++i)
    y[i] = op(x[i]);
}

template <typename T> T signOf(T v) {
  if constexpr (std::is_floating_point_v<T>)
    if (v != v)
      return v; // Sign(NaN) is NaN
  return T((v > T(0)) - (v < T(0)));
}

template <typename T> bool integerUnary(UnaryOp op, const T *x, T *y, int64_t n) {
  switch (op) {
  case UnaryOp::Abs: mapLoop(x, y, n, [](T v) { return v < 0 ? T(-v) : v; }); return true;
  case UnaryOp::Sign: mapLoop(x, y, n, [](T v) { return signOf(v); }); return true;
  default: return false;
  }
}

/// Runs f(o, off, n, st) over `y`'s shape with a and b broadcast (see BroadcastLoop::run).
template <typename F> void overBroadcast(const Tensor &a, const Tensor &b, const Tensor &y, F &&f) {
  const Shape *ins[2] = {&a.shape, &b.shape};
  BroadcastLoop<2> loop(y.shape, ins);
  loop.run(f);
}

template <typename T, typename Op>
void binaryInto(const Tensor &a, const Tensor &b, const Tensor &y, Op op) {
  const T *pa = a.as<T>(), *pb = b.as<T>();
  using R = decltype(op(T(), T()));
  R *py = static_cast<R *>(y.data);
  overBroadcast(a, b, y, [&](int64_t o, const int64_t *off, int64_t n, const int64_t *st) {
    const T *xa = pa + off[0], *xb = pb + off[1];
    R *out = py + o;
    if (st[0] == 1 && st[1] == 1) {
#pragma omp simd
      for (int64_t i = 0; i < n; ++i)
        out[i] = op(xa[i], xb[i]);
    } else {
      for (int64_t i = 0; i < n; ++i)
        out[i] = op(xa[i * st[0]], xb[i * st[1]]);
    }
  });
}

template <typename T> void compareTyped(CompareOp op, const Tensor &a, const Tensor &b,
                                        const Tensor &y) {
  switch (op) {
  case CompareOp::Equal: binaryInto<T>(a, b, y, [](T x, T z) { return uint8_t(x == z); }); break;
  case CompareOp::Less: binaryInto<T>(a, b, y, [](T x, T z) { return uint8_t(x < z); }); break;
  case CompareOp::LessOrEqual:
    binaryInto<T>(a, b, y, [](T x, T z) { return uint8_t(x <= z); });
    break;
  case CompareOp::Greater: binaryInto<T>(a, b, y, [](T x, T z) { return uint8_t(x > z); }); break;
  case CompareOp::GreaterOrEqual:
    binaryInto<T>(a, b, y, [](T x, T z) { return uint8_t(x >= z); });
    break;
  }
}

} // namespace

bool isUnaryMath(UnaryOp op) {
  switch (op) {
  case UnaryOp::Abs: case UnaryOp::Sign: case UnaryOp::Ceil: case UnaryOp::Floor:
  case UnaryOp::Sin: case UnaryOp::Cos:
    return true;
  default:
    return false;
  }
}

bool unaryMath(UnaryOp op, const Tensor &x, const Tensor &y) {
  if (!isUnaryMath(op))
    return false;
  int64_t n = x.shape.numel();
  switch (x.dtype) {
  case TFC_I32: return integerUnary(op, x.as<int32_t>(), y.as<int32_t>(), n);
  case TFC_I64: return integerUnary(op, x.as<int64_t>(), y.as<int64_t>(), n);
  case TFC_F32: break;
  default: return false;
  }
  const float *px = x.as<float>();
  float *py = y.as<float>();
  switch (op) {
  case UnaryOp::Abs: mapLoop(px, py, n, [](float v) { return std::fabs(v); }); break;
  case UnaryOp::Sign: mapLoop(px, py, n, [](float v) { return signOf(v); }); break;
  case UnaryOp::Ceil: mapLoop(px, py, n, [](float v) { return std::ceil(v); }); break;
  case UnaryOp::Floor: mapLoop(px, py, n, [](float v) { return std::floor(v); }); break;
  case UnaryOp::Sin: mapLoop(px, py, n, [](float v) { return std::sin(v); }); break;
  case UnaryOp::Cos: mapLoop(px, py, n, [](float v) { return std::cos(v); }); break;
  default: return false;
  }
  return true;
}

bool minimum(const Tensor &a, const Tensor &b, const Tensor &y) {
  switch (a.dtype) {
  case TFC_F32: binaryInto<float>(a, b, y, [](float u, float v) { return minOf(u, v); }); return true;
  case TFC_I32: binaryInto<int32_t>(a, b, y, minOf<int32_t>); return true;
  case TFC_I64: binaryInto<int64_t>(a, b, y, minOf<int64_t>); return true;
  default: return false;
  }
}

bool compare(CompareOp op, const Tensor &a, const Tensor &b, const Tensor &y) {
  switch (a.dtype) {
  case TFC_F32: compareTyped<float>(op, a, b, y); return true;
  case TFC_I32: compareTyped<int32_t>(op, a, b, y); return true;
  case TFC_I64: compareTyped<int64_t>(op, a, b, y); return true;
  case TFC_I8: compareTyped<int8_t>(op, a, b, y); return true;
  case TFC_BOOL:
    if (op != CompareOp::Equal)
      return false;
    compareTyped<uint8_t>(op, a, b, y);
    return true;
  default: return false;
  }
}

} // namespace tfc::rt
