//===- CudaElementwise.cu - Binary, Unary, Compare, Where, Cast on the GPU -------------------===//
//
// The semantics of cpu/Elementwise.cpp and cpu/ElementwiseMath.cpp: Binary on f32/f16/bf16
// (computed in f32, rounded to nearest even on store), i32 and i64; Unary on floats (Abs and
// Sign also on i32/i64); Compare of f32/f16/bf16/i32/i64/i8 (bool: Equal) into bool; Where
// moving elements of any size; Cast between f32, f16, bf16, i32, i64, i8 and bool.
// NaN behaves as on the CPU: Max/Min propagate it, comparisons with it are false, Relu keeps it.
//
// One grid-stride kernel per operand type; the op is a run-time switch that is uniform over the
// grid (these kernels are memory-bound, and it keeps the instantiations few). Broadcasting uses
// the CPU's BroadcastStrides (KernelShapes.h); rank 1 after merging (same shapes, or a scalar
// operand) takes the flat path.
//
// Integer Div copies the divisor to the host to refuse a zero as the CPU does (a GPU has no
// trap for it): that synchronizes the stream, so a function with an integer Div cannot be
// captured in a CUDA graph (integer Div only appears in shape arithmetic).
//
//===----------------------------------------------------------------------------------------===//
#include "cuda/CudaMath.cuh"

#include "cpu/ElementwiseMath.h"

#include <vector>

namespace tfc::rt {
namespace cuda {
namespace {

using tfc::plan::BinaryOp;

// Values are computed in Acc<T>: f32 for the 16-bit floats, T otherwise.
template <typename T> struct Acc { using type = T; };
template <> struct Acc<__half> { using type = float; };
template <> struct Acc<__nv_bfloat16> { using type = float; };

template <typename T> __device__ __forceinline__ typename Acc<T>::type ldv(const T *p, int64_t i) {
  return load(p, i);
}
template <> __device__ __forceinline__ int32_t ldv<int32_t>(const int32_t *p, int64_t i) {
  return p[i];
}
template <> __device__ __forceinline__ int64_t ldv<int64_t>(const int64_t *p, int64_t i) {
  return p[i];
}
template <> __device__ __forceinline__ int8_t ldv<int8_t>(const int8_t *p, int64_t i) {
  return p[i];
}
template <> __device__ __forceinline__ uint8_t ldv<uint8_t>(const uint8_t *p, int64_t i) {
  return p[i];
}
template <typename T> __device__ __forceinline__ void stv(T *p, int64_t i, typename Acc<T>::type v) {
  if constexpr (std::is_same_v<typename Acc<T>::type, float>)
    store(p, i, v);
  else
    p[i] = v;
}

#define TFC_GRID_STRIDE(i, n)                                                                  \
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < (n);                     \
       i += int64_t(gridDim.x) * blockDim.x)

constexpr unsigned kThreads = 256;

// ---- Binary ---------------------------------------------------------------------------------
template <typename A> __device__ __forceinline__ A binaryOp(BinaryOp op, A x, A y) {
  switch (op) {
  case BinaryOp::Add: return A(x + y);
  case BinaryOp::Sub: return A(x - y);
  case BinaryOp::Mul: return A(x * y);
  case BinaryOp::Div: return A(x / y); // integer divisors checked on the host
  case BinaryOp::Pow:
    if constexpr (std::is_same_v<A, float>)
      return powf(x, y);
    else
      return A(pow(double(x), double(y)));
  case BinaryOp::Max: return x > y || x != x ? x : y; // NaN wins (x != x only for a NaN)
  case BinaryOp::Min: return x < y || x != x ? x : y;
  }
  return x;
}

template <typename T, bool Flat>
__global__ void binaryKernel(BinaryOp op, const T *a, const T *b, T *c, BcastParams<2> p,
                             int64_t n) {
  TFC_GRID_STRIDE(i, n) {
    int64_t off[2];
    bcastOffsets<2, Flat>(p, i, off);
    stv(c, i, binaryOp(op, ldv(a, off[0]), ldv(b, off[1])));
  }
}

template <typename T> void launchBinary(const KernelContext &ctx, const Shape &shape) {
  const Tensor &a = *ctx.in(0), &b = *ctx.in(1);
  BinaryOp op = options<tfc::plan::BinaryOptionsT>(*ctx.k).op;
  if constexpr (std::is_integral_v<T>) {
    if (op == BinaryOp::Div) { // see the header comment
      std::vector<T> host(size_t(b.shape.numel()));
      cudaDevice(ctx).copyToHost(host.data(), b.data, host.size() * sizeof(T));
      checkIntegerDivisor(ctx, host.data(), int64_t(host.size()));
    }
  }
  int64_t n = shape.numel();
  if (n == 0)
    return;
  const Shape *ins[2] = {&a.shape, &b.shape};
  BcastParams<2> p = bcastParams(shape, ins);
  cudaStream_t s = cudaDevice(ctx).stream();
  if (p.rank == 1)
    binaryKernel<T, true><<<gridFor(n, kThreads), kThreads, 0, s>>>(op, a.as<T>(), b.as<T>(),
                                                                   ctx.out(0).as<T>(), p, n);
  else
    binaryKernel<T, false><<<gridFor(n, kThreads), kThreads, 0, s>>>(op, a.as<T>(), b.as<T>(),
                                                                    ctx.out(0).as<T>(), p, n);
  launchCheck(ctx, "binaryKernel");
}

// ---- Unary ----------------------------------------------------------------------------------
using tfc::plan::UnaryOp;

__device__ __forceinline__ float unaryFloat(UnaryOp op, float v) {
  switch (op) {
  case UnaryOp::Sqrt: return sqrtf(v);
  case UnaryOp::Erf: return erff(v);
  case UnaryOp::Tanh: return tanhf(v);
  case UnaryOp::Relu: return v < 0.f ? 0.f : v; // NaN stays
  case UnaryOp::Exp: return expf(v);
  case UnaryOp::Neg: return -v;
  case UnaryOp::GeluErf: return 0.5f * v * (1.f + erff(v * 0.70710678118654752f));
  case UnaryOp::GeluTanh:
    return 0.5f * v * (1.f + tanhf(0.79788456080286536f * (v + 0.044715f * v * v * v)));
  case UnaryOp::Log: return logf(v);
  case UnaryOp::Sigmoid: return 1.f / (1.f + expf(-v)); // exp(-v) = inf gives 0
  case UnaryOp::Abs: return fabsf(v);
  case UnaryOp::Sign: return v != v ? v : float((v > 0.f) - (v < 0.f));
  case UnaryOp::Ceil: return ceilf(v);
  case UnaryOp::Floor: return floorf(v);
  case UnaryOp::Sin: return sinf(v);
  case UnaryOp::Cos: return cosf(v);
  }
  return v;
}

template <typename T> __global__ void unaryFloatKernel(UnaryOp op, const T *x, T *y, int64_t n) {
  TFC_GRID_STRIDE(i, n) { store(y, i, unaryFloat(op, load(x, i))); }
}

template <typename T> __global__ void unaryIntKernel(UnaryOp op, const T *x, T *y, int64_t n) {
  TFC_GRID_STRIDE(i, n) {
    T v = x[i];
    y[i] = op == UnaryOp::Abs ? (v < 0 ? T(-v) : v) : T((v > T(0)) - (v < T(0)));
  }
}

// ---- Compare --------------------------------------------------------------------------------
using tfc::plan::CompareOp;

template <typename A> __device__ __forceinline__ bool compareOp(CompareOp op, A x, A y) {
  switch (op) {
  case CompareOp::Equal: return x == y;
  case CompareOp::Less: return x < y;
  case CompareOp::LessOrEqual: return x <= y;
  case CompareOp::Greater: return x > y;
  case CompareOp::GreaterOrEqual: return x >= y;
  }
  return false;
}

template <typename T, bool Flat>
__global__ void compareKernel(CompareOp op, const T *a, const T *b, uint8_t *c, BcastParams<2> p,
                              int64_t n) {
  TFC_GRID_STRIDE(i, n) {
    int64_t off[2];
    bcastOffsets<2, Flat>(p, i, off);
    c[i] = compareOp(op, ldv(a, off[0]), ldv(b, off[1])) ? 1 : 0;
  }
}

template <typename T> void launchCompare(const KernelContext &ctx, const Shape &shape) {
  const Tensor &a = *ctx.in(0), &b = *ctx.in(1);
  CompareOp op = options<tfc::plan::CompareOptionsT>(*ctx.k).op;
  int64_t n = shape.numel();
  if (n == 0)
    return;
  const Shape *ins[2] = {&a.shape, &b.shape};
  BcastParams<2> p = bcastParams(shape, ins);
  cudaStream_t s = cudaDevice(ctx).stream();
  uint8_t *c = ctx.out(0).as<uint8_t>();
  if (p.rank == 1)
    compareKernel<T, true><<<gridFor(n, kThreads), kThreads, 0, s>>>(op, a.as<T>(), b.as<T>(), c,
                                                                    p, n);
  else
    compareKernel<T, false><<<gridFor(n, kThreads), kThreads, 0, s>>>(op, a.as<T>(), b.as<T>(),
                                                                     c, p, n);
  launchCheck(ctx, "compareKernel");
}

// ---- Where ----------------------------------------------------------------------------------
template <typename T>
__global__ void whereKernel(const uint8_t *c, const T *a, const T *b, T *y, BcastParams<3> p,
                            int64_t n) {
  TFC_GRID_STRIDE(i, n) {
    int64_t off[3];
    bcastOffsets<3, false>(p, i, off);
    y[i] = c[off[0]] ? a[off[1]] : b[off[2]];
  }
}

// ---- Cast -----------------------------------------------------------------------------------
template <typename From> __device__ __forceinline__ float asFloat(From v) {
  if constexpr (std::is_same_v<From, __half>)
    return __half2float(v);
  else if constexpr (std::is_same_v<From, __nv_bfloat16>)
    return __bfloat162float(v);
  else
    return float(v); // integers round to nearest (int64 above 2^24 as the CPU's float(x))
}
template <typename From> __device__ __forceinline__ bool isNonzero(From v) {
  if constexpr (std::is_same_v<From, __half> || std::is_same_v<From, __nv_bfloat16>)
    return asFloat(v) != 0.f; // NaN is nonzero
  else
    return v != From(0);
}
/// An integer of type I from v (floats truncate toward zero, as the CPU's I(x)).
template <typename I, typename From> __device__ __forceinline__ I toInt(From v) {
  if constexpr (std::is_integral_v<From>)
    return I(v);
  else
    return I(asFloat(v));
}

template <typename From>
__global__ void castKernel(const From *x, void *yv, tfc_dtype to, int64_t n) {
  TFC_GRID_STRIDE(i, n) {
    From v = x[i];
    switch (to) {
    case TFC_F32: static_cast<float *>(yv)[i] = asFloat(v); break;
    // Integers go through f32 first (exact below 2^24): what the host's floatToHalf(float(x))
    // gives.
    case TFC_F16: static_cast<__half *>(yv)[i] = __float2half_rn(asFloat(v)); break;
    case TFC_BF16: static_cast<__nv_bfloat16 *>(yv)[i] = __float2bfloat16_rn(asFloat(v)); break;
    case TFC_I32: static_cast<int32_t *>(yv)[i] = toInt<int32_t>(v); break;
    case TFC_I64: static_cast<int64_t *>(yv)[i] = toInt<int64_t>(v); break;
    case TFC_I8: static_cast<int8_t *>(yv)[i] = toInt<int8_t>(v); break;
    case TFC_BOOL: static_cast<uint8_t *>(yv)[i] = isNonzero(v) ? 1 : 0; break;
    }
  }
}

template <typename From> void launchCast(const KernelContext &ctx, int64_t n) {
  castKernel<From><<<gridFor(n, kThreads), kThreads, 0, cudaDevice(ctx).stream()>>>(
      ctx.in(0)->as<From>(), ctx.out(0).data, ctx.out(0).dtype, n);
  launchCheck(ctx, "castKernel");
}

} // namespace
} // namespace cuda

using namespace cuda;

void cudaRunBinary(const KernelContext &ctx) {
  Shape shape = binaryOutputShape(ctx);
  switch (ctx.in(0)->dtype) {
  case TFC_F32: launchBinary<float>(ctx, shape); break;
  case TFC_F16: launchBinary<__half>(ctx, shape); break;
  case TFC_BF16: launchBinary<__nv_bfloat16>(ctx, shape); break;
  case TFC_I32: launchBinary<int32_t>(ctx, shape); break;
  case TFC_I64: launchBinary<int64_t>(ctx, shape); break;
  default: ctx.fail(TFC_UNSUPPORTED, "dtype %s", dtypeName(ctx.in(0)->dtype));
  }
}

void cudaRunUnary(const KernelContext &ctx) {
  sameShapeOutput(ctx);
  const Tensor &x = *ctx.in(0);
  UnaryOp op = options<tfc::plan::UnaryOptionsT>(*ctx.k).op;
  int64_t n = x.shape.numel();
  bool integers = x.dtype == TFC_I32 || x.dtype == TFC_I64;
  if (integers && op != UnaryOp::Abs && op != UnaryOp::Sign)
    ctx.fail(TFC_UNSUPPORTED, "%s of dtype %s", tfc::plan::EnumNameUnaryOp(op),
             dtypeName(x.dtype));
  if (n == 0)
    return;
  cudaStream_t s = cudaDevice(ctx).stream();
  void *y = ctx.out(0).data;
  unsigned grid = gridFor(n, kThreads);
  switch (x.dtype) {
  case TFC_I32:
    unaryIntKernel<<<grid, kThreads, 0, s>>>(op, x.as<int32_t>(), static_cast<int32_t *>(y), n);
    break;
  case TFC_I64:
    unaryIntKernel<<<grid, kThreads, 0, s>>>(op, x.as<int64_t>(), static_cast<int64_t *>(y), n);
    break;
  default:
    if (!dispatchFloat(x.dtype, [&](auto tag) {
          using T = std::remove_pointer_t<decltype(tag)>;
          unaryFloatKernel<T><<<grid, kThreads, 0, s>>>(op, x.as<T>(), static_cast<T *>(y), n);
        }))
      ctx.fail(TFC_UNSUPPORTED, "%s of dtype %s", tfc::plan::EnumNameUnaryOp(op),
               dtypeName(x.dtype));
  }
  launchCheck(ctx, "unaryKernel");
}

void cudaRunCompare(const KernelContext &ctx) {
  Shape shape = binaryOutputShape(ctx);
  switch (ctx.in(0)->dtype) {
  case TFC_F32: launchCompare<float>(ctx, shape); break;
  case TFC_F16: launchCompare<__half>(ctx, shape); break;
  case TFC_BF16: launchCompare<__nv_bfloat16>(ctx, shape); break;
  case TFC_I32: launchCompare<int32_t>(ctx, shape); break;
  case TFC_I64: launchCompare<int64_t>(ctx, shape); break;
  case TFC_I8: launchCompare<int8_t>(ctx, shape); break;
  case TFC_BOOL: launchCompare<uint8_t>(ctx, shape); break;
  }
}

void cudaRunWhere(const KernelContext &ctx) {
  const Tensor &c = *ctx.in(0), &a = *ctx.in(1), &b = *ctx.in(2);
  Shape shape = whereOutputShape(ctx);
  int64_t n = shape.numel();
  if (n == 0)
    return;
  const Shape *ins[3] = {&c.shape, &a.shape, &b.shape};
  BcastParams<3> p = bcastParams(shape, ins);
  cudaStream_t s = cudaDevice(ctx).stream();
  auto launch = [&](auto tag) {
    using T = decltype(tag);
    whereKernel<T><<<gridFor(n, kThreads), kThreads, 0, s>>>(
        c.as<uint8_t>(), a.as<T>(), b.as<T>(), ctx.out(0).as<T>(), p, n);
  };
  switch (dtypeSize(a.dtype)) {
  case 1: launch(uint8_t()); break;
  case 2: launch(uint16_t()); break;
  case 4: launch(uint32_t()); break;
  default: launch(uint64_t()); break;
  }
  launchCheck(ctx, "whereKernel");
}

void cudaRunCast(const KernelContext &ctx) {
  sameShapeOutput(ctx);
  const Tensor &x = *ctx.in(0);
  int64_t n = x.shape.numel();
  if (n == 0)
    return;
  switch (x.dtype) {
  case TFC_F32: launchCast<float>(ctx, n); break;
  case TFC_F16: launchCast<__half>(ctx, n); break;
  case TFC_BF16: launchCast<__nv_bfloat16>(ctx, n); break;
  case TFC_I32: launchCast<int32_t>(ctx, n); break;
  case TFC_I64: launchCast<int64_t>(ctx, n); break;
  case TFC_I8: launchCast<int8_t>(ctx, n); break;
  case TFC_BOOL: launchCast<uint8_t>(ctx, n); break;
  }
}

/// Cast: the CPU's check, plus f16 and bf16 on both sides in any plan (an fp16 plan keeps its
/// mask-only values in f32, so f32 <-> f16 casts meet there).
std::string cudaCheckCast(const FunctionDesc &fn, const KernelDesc &k) {
  std::initializer_list<tfc_dtype> all = {TFC_F32, TFC_F16, TFC_BF16, TFC_I32,
                                          TFC_I64, TFC_I8,  TFC_BOOL};
  std::string e = expectDtype(fn, k, 0, "x", all);
  return e.empty() ? expectOutDtype(fn, k, 0, all) : e;
}

} // namespace tfc::rt
