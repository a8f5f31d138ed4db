//===- Elementwise.cpp - Binary, Unary, Where, Cast, Expand -----------------------------------===//
//
// NumPy broadcasting through BroadcastLoop (Common.h). Binary works on f32, i32 and i64 (shape
// arithmetic); integer division by zero is a run-time error, not a trap. Unary is f32; NaN
// goes through every float op as in ONNX Runtime (Relu(NaN) and Max(NaN, x) are NaN). Where
// and Expand move bytes of any dtype; Cast converts between f32, i32, i64, i8 and bool (to bool:
// nonzero is 1; Bool is one byte, 0 or 1).
//
//===----------------------------------------------------------------------------------------===//
#include "MovementShapes.h"
#include "cpu/Common.h"
#include "cpu/ElementwiseMath.h"

#include <cmath>

namespace tfc::rt {

// ---- Binary ---------------------------------------------------------------------------------
using BinaryOp = tfc::plan::BinaryOp;

std::string checkBinary(const FunctionDesc &fn, const KernelDesc &k) {
  BinaryOp op = options<tfc::plan::BinaryOptionsT>(k).op;
  if (!isKnownEnumValue(op))
    return format("unknown BinaryOp %d", int(op));
  for (size_t i = 0; i < 2; ++i) {
    std::string e = expectDtype(fn, k, i, i ? "b" : "a", {TFC_F32, TFC_I32, TFC_I64});
    if (e.empty())
      e = expectSameDtype(fn, k, i);
    if (!e.empty())
      return e;
  }
  return "";
}

template <typename T> static T powT(T a, T b) { return T(std::pow(double(a), double(b))); }
template <> float powT<float>(float a, float b) { return std::pow(a, b); }

template <typename T, typename Op>
static void binaryLoop(const BroadcastLoop<2> &loop, const T *a, const T *b, T *c, Op op) {
  loop.run([&](int64_t o, const int64_t *off, int64_t n, const int64_t *st) {
    const T *pa = a + off[0], *pb = b + off[1];
    T *pc = c + o;
    if (st[0] == 1 && st[1] == 1) {
#pragma omp simd
      for (int64_t i = 0; i < n; ++i)
        pc[i] = op(pa[i], pb[i]);
    } else if (st[0] == 1) {
      T vb = pb[0];
#pragma omp simd
      for (int64_t i = 0; i < n; ++i)
        pc[i] = op(pa[i], vb);
    } else if (st[1] == 1) {
      T va = pa[0];
#pragma omp simd
      for (int64_t i = 0; i < n; ++i)
        pc[i] = op(va, pb[i]);
    } else {
      T v = op(pa[0], pb[0]);
      for (int64_t i = 0; i < n; ++i)
        pc[i] = v;
    }
  });
}

template <typename T> static void binaryTyped(const KernelContext &ctx, const BroadcastLoop<2> &loop) {
  const T *a = ctx.in(0)->as<T>(), *b = ctx.in(1)->as<T>();
  T *c = ctx.out(0).as<T>();
  switch (options<tfc::plan::BinaryOptionsT>(*ctx.k).op) {
  case BinaryOp::Add: binaryLoop(loop, a, b, c, [](T x, T y) { return T(x + y); }); break;
  case BinaryOp::Sub: binaryLoop(loop, a, b, c, [](T x, T y) { return T(x - y); }); break;
  case BinaryOp::Mul: binaryLoop(loop, a, b, c, [](T x, T y) { return T(x * y); }); break;
  case BinaryOp::Div:
    if constexpr (std::is_integral_v<T>)
      checkIntegerDivisor(ctx, b, ctx.in(1)->shape.numel());
    binaryLoop(loop, a, b, c, [](T x, T y) { return T(x / y); });
    break;
  case BinaryOp::Pow: binaryLoop(loop, a, b, c, [](T x, T y) { return powT<T>(x, y); }); break;
  case BinaryOp::Max: // NaN wins, as in ONNX Runtime and numpy (x != x only for a float NaN)
    binaryLoop(loop, a, b, c, [](T x, T y) { return x > y || x != x ? x : y; });
    break;
  case BinaryOp::Min: binaryLoop(loop, a, b, c, [](T x, T y) { return minOf(x, y); }); break;
  }
}

void runBinary(const KernelContext &ctx) {
  const Tensor &a = *ctx.in(0), &b = *ctx.in(1);
  Shape shape = binaryOutputShape(ctx);
  const Shape *ins[2] = {&a.shape, &b.shape};
  BroadcastLoop<2> loop(shape, ins);
  switch (a.dtype) {
  case TFC_F32: binaryTyped<float>(ctx, loop); break;
  case TFC_I32: binaryTyped<int32_t>(ctx, loop); break;
  case TFC_I64: binaryTyped<int64_t>(ctx, loop); break;
  default: ctx.fail(TFC_UNSUPPORTED, "dtype %s", dtypeName(a.dtype));
  }
}

// ---- Unary ----------------------------------------------------------------------------------
using UnaryOp = tfc::plan::UnaryOp;

std::string checkUnary(const FunctionDesc &fn, const KernelDesc &k) {
  UnaryOp op = options<tfc::plan::UnaryOptionsT>(k).op;
  if (!isKnownEnumValue(op))
    return format("unknown UnaryOp %d", int(op));
  // Abs and Sign also run on integers (relative positions; ElementwiseMath.cpp).
  bool integers = op == UnaryOp::Abs || op == UnaryOp::Sign;
  std::string e = integers ? expectDtype(fn, k, 0, "x", {TFC_F32, TFC_I32, TFC_I64})
                           : expectDtype(fn, k, 0, "x", {TFC_F32});
  return e.empty() ? expectSameDtype(fn, k, 0) : e;
}

template <typename Op> static void unaryLoop(const float *x, float *y, int64_t n, Op op) {
#pragma omp parallel for simd schedule(static) if (n >= 16384)
  for (int64_t i = 0; i < n; ++i)
    y[i] = op(x[i]);
}

void runUnary(const KernelContext &ctx) {
  const Tensor &x = *ctx.in(0);
  sameShapeOutput(ctx);
  UnaryOp op = options<tfc::plan::UnaryOptionsT>(*ctx.k).op;
  if (isUnaryMath(op)) {
    if (!unaryMath(op, x, ctx.out(0)))
      ctx.fail(TFC_UNSUPPORTED, "%s of dtype %s", tfc::plan::EnumNameUnaryOp(op),
               dtypeName(x.dtype));
    return;
  }
  const float *px = x.as<float>();
  float *py = ctx.out(0).as<float>();
  int64_t n = x.shape.numel();
  switch (options<tfc::plan::UnaryOptionsT>(*ctx.k).op) {
  case UnaryOp::Sqrt: unaryLoop(px, py, n, [](float v) { return std::sqrt(v); }); break;
  case UnaryOp::Erf: unaryLoop(px, py, n, [](float v) { return std::erf(v); }); break;
  case UnaryOp::Tanh: unaryLoop(px, py, n, [](float v) { return std::tanh(v); }); break;
  case UnaryOp::Relu: unaryLoop(px, py, n, [](float v) { return v < 0.f ? 0.f : v; }); break; // NaN stays
  case UnaryOp::Exp: unaryLoop(px, py, n, [](float v) { return std::exp(v); }); break;
  case UnaryOp::Neg: unaryLoop(px, py, n, [](float v) { return -v; }); break;
  case UnaryOp::Log: unaryLoop(px, py, n, [](float v) { return std::log(v); }); break;
  case UnaryOp::Sigmoid: // exp(-v) = inf gives 0, NaN stays NaN
    unaryLoop(px, py, n, [](float v) { return 1.f / (1.f + std::exp(-v)); });
    break;
  case UnaryOp::GeluErf:
    unaryLoop(px, py, n, [](float v) { return 0.5f * v * (1.f + std::erf(v * 0.70710678118654752f)); });
    break;
  case UnaryOp::GeluTanh:
    unaryLoop(px, py, n, [](float v) {
      return 0.5f * v * (1.f + std::tanh(0.79788456080286536f * (v + 0.044715f * v * v * v)));
    });
    break;
  case UnaryOp::Abs: case UnaryOp::Sign: case UnaryOp::Ceil: case UnaryOp::Floor:
  case UnaryOp::Sin: case UnaryOp::Cos:
    break; // ran above (unaryMath)
  }
}

// ---- Where ----------------------------------------------------------------------------------
std::string checkWhere(const FunctionDesc &fn, const KernelDesc &k) {
  std::string e = expectDtype(fn, k, 0, "cond", {TFC_BOOL});
  if (e.empty())
    e = expectSameDtype(fn, k, 1);
  if (e.empty())
    e = expectSameDtype(fn, k, 2);
  return e;
}

void runWhere(const KernelContext &ctx) {
  const Tensor &c = *ctx.in(0), &a = *ctx.in(1), &b = *ctx.in(2);
  Shape shape = whereOutputShape(ctx);
  const Shape *ins[3] = {&c.shape, &a.shape, &b.shape};
  BroadcastLoop<3> loop(shape, ins);
  const uint8_t *pc = c.as<uint8_t>();
  withElementType(dtypeSize(a.dtype), [&](auto tag) {
    using T = decltype(tag);
    const T *pa = a.as<T>(), *pb = b.as<T>();
    T *py = ctx.out(0).as<T>();
    loop.run([&](int64_t o, const int64_t *off, int64_t n, const int64_t *st) {
      for (int64_t i = 0; i < n; ++i)
        py[o + i] = pc[off[0] + i * st[0]] ? pa[off[1] + i * st[1]] : pb[off[2] + i * st[2]];
    });
  });
}

// ---- Cast -----------------------------------------------------------------------------------
std::string checkCast(const FunctionDesc &fn, const KernelDesc &k) {
  std::string e = expectDtype(fn, k, 0, "x", {TFC_F32, TFC_I32, TFC_I64, TFC_I8, TFC_BOOL});
  return e.empty() ? expectOutDtype(fn, k, 0, {TFC_F32, TFC_I32, TFC_I64, TFC_I8, TFC_BOOL}) : e;
}

template <typename From, typename To> static void castLoop(const From *x, To *y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    if constexpr (std::is_same_v<To, bool>)
      reinterpret_cast<uint8_t *>(y)[i] = x[i] != From(0) ? 1 : 0;
    else
      y[i] = To(x[i]);
  }
}

template <typename From> static void castFrom(const From *x, const Tensor &y, int64_t n) {
  switch (y.dtype) {
  case TFC_F32: castLoop(x, y.as<float>(), n); break;
  case TFC_I32: castLoop(x, y.as<int32_t>(), n); break;
  case TFC_I64: castLoop(x, y.as<int64_t>(), n); break;
  case TFC_I8: castLoop(x, y.as<int8_t>(), n); break;
  case TFC_BOOL: castLoop(x, y.as<bool>(), n); break;
  default: break;
  }
}

void runCast(const KernelContext &ctx) {
  const Tensor &x = *ctx.in(0);
  const Tensor &y = ctx.out(0);
  sameShapeOutput(ctx);
  int64_t n = x.shape.numel();
  switch (x.dtype) {
  case TFC_F32: castFrom(x.as<float>(), y, n); break;
  case TFC_I32: castFrom(x.as<int32_t>(), y, n); break;
  case TFC_I64: castFrom(x.as<int64_t>(), y, n); break;
  case TFC_I8: castFrom(x.as<int8_t>(), y, n); break;
  case TFC_BOOL: castFrom(x.as<uint8_t>(), y, n); break;
  default: ctx.fail(TFC_UNSUPPORTED, "cast from %s", dtypeName(x.dtype));
  }
}

// ---- Expand ---------------------------------------------------------------------------------
std::string checkExpand(const FunctionDesc &fn, const KernelDesc &k) {
  std::string e = expectDtype(fn, k, 1, "shape", {TFC_I64});
  return e.empty() ? expectSameDtype(fn, k, 0) : e;
}

void runExpand(const KernelContext &ctx) {
  const Tensor &x = *ctx.in(0);
  Shape shape = expandShape(ctx, ctx.in(1)->as<int64_t>());
  broadcastCopy(x.data, x.shape, ctx.out(0).data, shape, dtypeSize(x.dtype));
}

} // namespace tfc::rt
