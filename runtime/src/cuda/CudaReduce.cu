//===- CudaReduce.cu - Reduce, Softmax, ArgMax, CumSum on the GPU -----------------------------===//
//
// The semantics of cpu/Reduce.cpp, cpu/Softmax.cpp and cpu/Indexing.cpp (ArgMax, CumSum), with
// the geometry of KernelShapes.h. Floats of any dtype are read through FloatRef and summed in
// f32 (the CPU's Reduce sums in double: a tree of f32 partial sums stays within 1e-6 relative
// of it for the sizes of a model).
//
// * Reduce: one warp per output element when it sums fewer than 2048 elements, else one block
//   of 256 threads; each thread strides over the reduced elements.
// * Softmax over the last axis: one warp per row up to 1024 elements, else one block of 512;
//   three passes over the row (max, sum of exp, write; the row stays in L1/L2). Another axis:
//   one thread per line (adjacent threads read adjacent addresses). NaN and infinities as on the
//   CPU: the max skips NaN; a line whose max is -inf (only -inf and NaN) is all NaN.
// * ArgMax over the last axis: a warp or block per row reducing (value, index) pairs under one
//   total order (NaN above every number; ties to the first index, or the last with
//   select_last_index), which makes the result independent of the reduction tree; another axis:
//   a thread per line, the CPU's scan.
// * CumSum: a thread per line, in order along the axis (exact for integers; f16/bf16 run in f32
//   and round each output once).
//
//===----------------------------------------------------------------------------------------===//
#include "cuda/CudaMath.cuh"

namespace tfc::rt {
namespace cuda {
namespace {

#define TFC_GROUPS_PER_BLOCK(G) (blockDim.x / (G))

/// The first output handled by this thread's group and the step between them (grid-stride
/// over groups of G threads).
template <int G> __device__ __forceinline__ int64_t firstGroup() {
  return int64_t(blockIdx.x) * TFC_GROUPS_PER_BLOCK(G) + threadIdx.x / G;
}
template <int G> __device__ __forceinline__ int64_t groupStep() {
  return int64_t(gridDim.x) * TFC_GROUPS_PER_BLOCK(G);
}

/// Blocks for `items` groups of G threads in blocks of `threads`.
inline unsigned groupGrid(int64_t items, unsigned threads, unsigned g) {
  return gridFor(items, threads / g);
}

// ---- Reduce ---------------------------------------------------------------------------------
template <int G>
__global__ void reduceKernel(FloatRef x, FloatOut y, ReduceGeometry g) {
  __shared__ float slots[G / 32];
  const int lane = threadIdx.x % G;
  for (int64_t o = firstGroup<G>(); o < g.outputs; o += groupStep<G>()) {
    int64_t base = 0, rem = o;
    for (int i = g.numKept - 1; i >= 0; --i) {
      base += (rem % g.keptDims[i]) * g.keptStrides[i];
      rem /= g.keptDims[i];
    }
    float acc = 0.f;
    for (int64_t r = lane; r < g.count; r += G) {
      int64_t off = base;
      if (g.numReduced == 1) {
        off += r * g.redStrides[0];
      } else {
        int64_t rr = r;
        for (int i = g.numReduced - 1; i >= 0; --i) {
          off += (rr % g.redDims[i]) * g.redStrides[i];
          rr /= g.redDims[i];
        }
      }
      acc += x[off];
    }
    acc = groupReduce<G, false>(acc, slots);
    if (lane == 0)
      y.set(o, g.mean ? (g.count ? acc / float(g.count) : 0.f) : acc);
  }
}

// ---- Softmax --------------------------------------------------------------------------------
template <int G>
__global__ void softmaxRowsKernel(FloatRef x, FloatOut y, int64_t rows, int64_t n) {
  __shared__ float slots[G / 32];
  const int lane = threadIdx.x % G;
  for (int64_t row = firstGroup<G>(); row < rows; row += groupStep<G>()) {
    const int64_t base = row * n;
    float mx = -INFINITY;
    for (int64_t j = lane; j < n; j += G)
      mx = maxSkipNan(mx, x[base + j]);
    mx = groupReduce<G, true>(mx, slots);
    if (mx == -INFINITY) { // only -inf and NaN: 0 / 0, as the CPU
      for (int64_t j = lane; j < n; j += G)
        y.set(base + j, NAN);
      continue; // uniform over the group
    }
    float sum = 0.f;
    for (int64_t j = lane; j < n; j += G)
      sum += expf(x[base + j] - mx);
    sum = groupReduce<G, false>(sum, slots);
    const float inv = 1.f / sum;
    // Each element is read and written by the same thread: y may alias x.
    for (int64_t j = lane; j < n; j += G)
      y.set(base + j, expf(x[base + j] - mx) * inv);
  }
}

__global__ void softmaxLinesKernel(FloatRef x, FloatOut y, int64_t outer, int64_t n,
                                   int64_t inner) {
  for (int64_t line = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; line < outer * inner;
       line += int64_t(gridDim.x) * blockDim.x) {
    const int64_t base = (line / inner) * n * inner + line % inner;
    float mx = -INFINITY;
    for (int64_t j = 0; j < n; ++j)
      mx = maxSkipNan(mx, x[base + j * inner]);
    if (mx == -INFINITY) {
      for (int64_t j = 0; j < n; ++j)
        y.set(base + j * inner, NAN);
      continue;
    }
    float sum = 0.f;
    for (int64_t j = 0; j < n; ++j)
      sum += expf(x[base + j * inner] - mx);
    const float inv = 1.f / sum;
    for (int64_t j = 0; j < n; ++j)
      y.set(base + j * inner, expf(x[base + j * inner] - mx) * inv);
  }
}

// ---- ArgMax ---------------------------------------------------------------------------------
// Values compare as V: f32 for the float dtypes (exact for f16/bf16), the integer itself else.
template <typename T> struct ArgVal { using type = T; };
template <> struct ArgVal<__half> { using type = float; };
template <> struct ArgVal<__nv_bfloat16> { using type = float; };

template <typename T> __device__ __forceinline__ typename ArgVal<T>::type argLoad(const T *p,
                                                                                 int64_t i) {
  if constexpr (std::is_integral_v<T>)
    return p[i];
  else
    return load(p, i);
}

/// Whether (cv, ci) comes before (bv, bi) in ArgMax's order; index -1 is "no element".
template <typename V>
__device__ __forceinline__ bool argBetter(V cv, int64_t ci, V bv, int64_t bi, bool last) {
  if (ci < 0)
    return false;
  if (bi < 0)
    return true;
  bool cn = cv != cv, bn = bv != bv; // NaN (floats only)
  if (cn != bn)
    return cn;
  if (!cn && cv != bv)
    return cv > bv;
  return last ? ci > bi : ci < bi;
}

template <typename V> __device__ __forceinline__ V shfl(V v, int o) {
  if constexpr (sizeof(V) == 8)
    return V(__shfl_xor_sync(0xffffffffu, (long long)v, o));
  else
    return __shfl_xor_sync(0xffffffffu, v, o);
}

template <int G, typename T>
__global__ void argMaxRowsKernel(const T *x, int64_t *y, int64_t rows, int64_t n, bool last) {
  using V = typename ArgVal<T>::type;
  __shared__ V slotV[G / 32];
  __shared__ int64_t slotI[G / 32];
  const int lane = threadIdx.x % G;
  for (int64_t row = firstGroup<G>(); row < rows; row += groupStep<G>()) {
    V bv = V(0);
    int64_t bi = -1;
    for (int64_t j = lane; j < n; j += G) {
      V c = argLoad(x, row * n + j);
      if (argBetter(c, j, bv, bi, last))
        bv = c, bi = j;
    }
    for (int o = 16; o > 0; o >>= 1) {
      V ov = shfl(bv, o);
      int64_t oi = (int64_t)__shfl_xor_sync(0xffffffffu, (long long)bi, o);
      if (argBetter(ov, oi, bv, bi, last))
        bv = ov, bi = oi;
    }
    if (G > 32) {
      __syncthreads();
      if ((threadIdx.x & 31) == 0)
        slotV[threadIdx.x >> 5] = bv, slotI[threadIdx.x >> 5] = bi;
      __syncthreads();
      if (threadIdx.x == 0)
        for (int w = 1; w < G / 32; ++w)
          if (argBetter(slotV[w], slotI[w], bv, bi, last))
            bv = slotV[w], bi = slotI[w];
    }
    if (lane == 0)
      y[row] = bi;
  }
}

template <typename T>
__global__ void argMaxLinesKernel(const T *x, int64_t *y, int64_t outer, int64_t n,
                                  int64_t inner, bool last) {
  using V = typename ArgVal<T>::type;
  for (int64_t line = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; line < outer * inner;
       line += int64_t(gridDim.x) * blockDim.x) {
    const int64_t base = (line / inner) * n * inner + line % inner;
    V bv = argLoad(x, base);
    int64_t bi = 0;
    for (int64_t j = 1; j < n; ++j) {
      V c = argLoad(x, base + j * inner);
      if (argBetter(c, j, bv, bi, last))
        bv = c, bi = j;
    }
    y[line] = bi;
  }
}

template <typename T> void launchArgMax(const KernelContext &ctx, const AxisView &v, bool last) {
  cudaStream_t s = cudaDevice(ctx).stream();
  const T *x = ctx.in(0)->as<T>();
  int64_t *y = ctx.out(0).as<int64_t>();
  if (v.inner == 1 && v.len > 1024)
    argMaxRowsKernel<256, T><<<gridFor(v.outer, 1), 256, 0, s>>>(x, y, v.outer, v.len, last);
  else if (v.inner == 1)
    argMaxRowsKernel<32, T><<<groupGrid(v.outer, 256, 32), 256, 0, s>>>(x, y, v.outer, v.len,
                                                                       last);
  else
    argMaxLinesKernel<T><<<gridFor(v.outer * v.inner, 256), 256, 0, s>>>(x, y, v.outer, v.len,
                                                                        v.inner, last);
  launchCheck(ctx, "argMaxKernel");
}

// ---- CumSum ---------------------------------------------------------------------------------
template <typename T> struct SumOf { using type = T; };
template <> struct SumOf<__half> { using type = float; };
template <> struct SumOf<__nv_bfloat16> { using type = float; };

template <typename T>
__global__ void cumSumKernel(const T *x, T *y, int64_t outer, int64_t n, int64_t inner,
                             bool exclusive, bool reverse) {
  using A = typename SumOf<T>::type;
  for (int64_t line = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; line < outer * inner;
       line += int64_t(gridDim.x) * blockDim.x) {
    const int64_t base = (line / inner) * n * inner + line % inner;
    A acc = A(0);
    for (int64_t step = 0; step < n; ++step) {
      const int64_t at = base + (reverse ? n - 1 - step : step) * inner;
      A v;
      if constexpr (std::is_integral_v<T>)
        v = x[at];
      else
        v = load(x, at);
      A out = exclusive ? acc : A(acc + v); // x read before y is written: y may alias x
      acc = A(acc + v);
      if constexpr (std::is_integral_v<T>)
        y[at] = out;
      else
        store(y, at, out);
    }
  }
}

} // namespace
} // namespace cuda

using namespace cuda;

void cudaRunReduce(const KernelContext &ctx) {
  const ReduceGeometry g = reduceGeometry(ctx);
  if (g.outputs == 0)
    return;
  FloatRef x = floatRef(ctx.in(0));
  FloatOut y = floatOut(ctx.out(0));
  cudaStream_t s = cudaDevice(ctx).stream();
  if (g.count >= 2048)
    reduceKernel<256><<<gridFor(g.outputs, 1), 256, 0, s>>>(x, y, g);
  else
    reduceKernel<32><<<groupGrid(g.outputs, 256, 32), 256, 0, s>>>(x, y, g);
  launchCheck(ctx, "reduceKernel");
}

void cudaRunSoftmax(const KernelContext &ctx) {
  const AxisView v = softmaxGeometry(ctx);
  if (v.len == 0 || v.outer * v.inner == 0)
    return;
  FloatRef x = floatRef(ctx.in(0));
  FloatOut y = floatOut(ctx.out(0));
  cudaStream_t s = cudaDevice(ctx).stream();
  if (v.inner == 1 && v.len > 1024)
    softmaxRowsKernel<512><<<gridFor(v.outer, 1), 512, 0, s>>>(x, y, v.outer, v.len);
  else if (v.inner == 1)
    softmaxRowsKernel<32><<<groupGrid(v.outer, 256, 32), 256, 0, s>>>(x, y, v.outer, v.len);
  else
    softmaxLinesKernel<<<gridFor(v.outer * v.inner, 256), 256, 0, s>>>(x, y, v.outer, v.len,
                                                                      v.inner);
  launchCheck(ctx, "softmaxKernel");
}

void cudaRunArgMax(const KernelContext &ctx) {
  const int axis = argMaxGeometry(ctx);
  const AxisView v(ctx.in(0)->shape, axis);
  if (v.outer * v.inner == 0)
    return;
  const bool last = options<tfc::plan::ArgMaxOptionsT>(*ctx.k).select_last_index;
  switch (ctx.in(0)->dtype) {
  case TFC_F32: launchArgMax<float>(ctx, v, last); break;
  case TFC_F16: launchArgMax<__half>(ctx, v, last); break;
  case TFC_BF16: launchArgMax<__nv_bfloat16>(ctx, v, last); break;
  case TFC_I32: launchArgMax<int32_t>(ctx, v, last); break;
  case TFC_I64: launchArgMax<int64_t>(ctx, v, last); break;
  default: ctx.fail(TFC_UNSUPPORTED, "dtype %s", dtypeName(ctx.in(0)->dtype));
  }
}

void cudaRunCumSum(const KernelContext &ctx) {
  const int axis = cumSumGeometry(ctx);
  const AxisView v(ctx.in(0)->shape, axis);
  if (v.outer * v.len * v.inner == 0)
    return;
  const auto &o = options<tfc::plan::CumSumOptionsT>(*ctx.k);
  cudaStream_t s = cudaDevice(ctx).stream();
  auto launch = [&](auto tag) {
    using T = decltype(tag);
    cumSumKernel<T><<<gridFor(v.outer * v.inner, 256), 256, 0, s>>>(
        ctx.in(0)->as<T>(), ctx.out(0).as<T>(), v.outer, v.len, v.inner, o.exclusive, o.reverse);
  };
  switch (ctx.in(0)->dtype) {
  case TFC_F32: launch(float()); break;
  case TFC_F16: launch(__half()); break;
  case TFC_BF16: launch(__nv_bfloat16()); break;
  case TFC_I32: launch(int32_t()); break;
  case TFC_I64: launch(int64_t()); break;
  default: ctx.fail(TFC_UNSUPPORTED, "dtype %s", dtypeName(ctx.in(0)->dtype));
  }
  launchCheck(ctx, "cumSumKernel");
}

} // namespace tfc::rt
