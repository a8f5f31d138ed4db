//===- CudaIndex.cu - Embedding, Gather, GatherElements, Rotary on the GPU -------------------===//
//
// The semantics of cpu/Embedding.cpp, cpu/Gather.cpp, cpu/Indexing.cpp (GatherElements) and
// cpu/Rotary.cpp, with the geometry and shape checks of KernelShapes.h; one thread per output
// element (Rotary: per rotated pair, so that y may alias x).
//
// Index values live in device memory here, and reading them on the host would synchronize the
// stream in the middle of a run (and break CUDA-graph capture). So the kernels do not check
// them the CPU's way; instead:
// * token ids that come from the function's inputs (Embedding ids and type ids, Gather indices
//   into a constant table) are checked by the session before anything runs (InputRules.h), with
//   the same TFC_OUT_OF_RANGE error naming the input and the element;
// * any other out-of-range index (computed in the graph) never reads outside its tensor: the
//   element it selects is NaN for a float Embedding row, and zero bytes for Gather and
//   GatherElements, rather than an error.
// Embedding with offset_positions reads the KV cache's length from device memory
// (CudaDevice::stepPast), so a decode step with it may be captured in a CUDA graph and replayed
// per token (DecodeGraph.h); the host still checks past + seq against the position table on
// every run that is not a replay (the session keeps the cache's length within its max_length).
//
//===----------------------------------------------------------------------------------------===//
#include "cuda/CudaMath.cuh"

namespace tfc::rt {
namespace cuda {
namespace {

constexpr unsigned kThreads = 256;

/// Index i of an i32 or i64 tensor.
struct IndexRef {
  const void *p = nullptr;
  bool wide = true; // i64
  __device__ __forceinline__ int64_t operator[](int64_t i) const {
    return wide ? static_cast<const int64_t *>(p)[i] : int64_t(static_cast<const int32_t *>(p)[i]);
  }
};
inline IndexRef indexRef(const Tensor *t) {
  return t ? IndexRef{t->data, t->dtype == TFC_I64} : IndexRef{};
}

// ---- Embedding ------------------------------------------------------------------------------
struct EmbeddingArgs {
  IndexRef ids, typeIds;
  FloatRef tokens, positions, types;
  FloatOut y;
  EmbeddingGeometry g;
  int64_t numPositions = 0;
  // offset_positions in a function that uses the KV cache: the cache's length read from device
  // memory (CudaDevice::stepPast) instead of g.past, so that a captured decode step replays
  // with the length of each token (the launch's arguments stay the same).
  const int64_t *pastDev = nullptr;
};

__global__ void embeddingKernel(EmbeddingArgs a) {
  const int64_t D = a.g.D, n = a.g.B * a.g.S * D;
  const int64_t past = a.pastDev ? *a.pastDev : a.g.past;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < n;
       e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t i = e / D, j = e % D;
    const int64_t id = a.ids[i];
    float v;
    const int64_t pos = past + i % a.g.S; // checked on the host, except in graph replays
    if (id < 0 || id >= a.g.V || pos >= a.numPositions) {
      v = NAN; // see the header comment
    } else {
      v = a.tokens[id * D + j] * a.g.scale + a.positions[pos * D + j];
      if (a.types.p) {
        const int64_t t = a.typeIds[i];
        v = t < 0 || t >= a.g.numTypes ? NAN : v + a.types[t * D + j];
      }
    }
    a.y.set(e, v);
  }
}

// ---- Gather ---------------------------------------------------------------------------------
template <typename U>
__global__ void gatherKernel(const U *data, IndexRef idx, U *y, int64_t outer, int64_t n,
                             int64_t inner, int64_t ni) {
  const int64_t total = outer * ni * inner;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t k = e % inner, t = e / inner, i = t % ni, o = t / ni;
    int64_t j = idx[i];
    if (j < 0)
      j += n;
    y[e] = j >= 0 && j < n ? data[(o * n + j) * inner + k] : U(0);
  }
}

// ---- GatherElements -------------------------------------------------------------------------
struct GatherElementsArgs {
  int rank = 0, axis = 0;
  int64_t idxDims[kMaxRank];
  int64_t dataStrides[kMaxRank];
  int64_t dim = 0, n = 0;
};

template <typename U>
__global__ void gatherElementsKernel(const U *data, IndexRef idx, U *y, GatherElementsArgs a) {
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < a.n;
       e += int64_t(gridDim.x) * blockDim.x) {
    int64_t v = idx[e];
    if (v < 0)
      v += a.dim;
    if (v < 0 || v >= a.dim) {
      y[e] = U(0); // see the header comment
      continue;
    }
    int64_t rem = e, off = 0;
    for (int d = a.rank - 1; d >= 0; --d) {
      const int64_t c = rem % a.idxDims[d];
      rem /= a.idxDims[d];
      off += (d == a.axis ? v : c) * a.dataStrides[d];
    }
    y[e] = data[off];
  }
}

/// Calls f(U()) with U the unsigned type of `size` bytes.
template <typename F> void withBytes(size_t size, F &&f) {
  switch (size) {
  case 1: f(uint8_t()); break;
  case 2: f(uint16_t()); break;
  case 4: f(uint32_t()); break;
  default: f(uint64_t()); break;
  }
}

// ---- Rotary ---------------------------------------------------------------------------------
struct RotaryArgs {
  FloatRef x, cos, sin;
  FloatOut y;
  RotaryGeometry g;
  bool copyTail = true; // features [r, dh) (not when y is x)
};

__global__ void rotaryKernel(RotaryArgs a) {
  const RotaryGeometry &g = a.g;
  const int64_t half = g.r / 2, perHead = g.dh - half; // half pairs, then dh - r copies
  const int64_t n = g.B * g.S * g.H * perHead;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < n;
       e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t k = e % perHead, head = e / perHead; // head: (b * S + s) * H + h
    const int64_t row = head / g.H, h = head % g.H;
    const int64_t b = row / g.S, s = row % g.S;
    const int64_t base = row * g.D + h * g.dh;
    if (k >= half) {
      const int64_t d = g.r + (k - half);
      if (a.copyTail)
        a.y.set(base + d, a.x[base + d]);
      continue;
    }
    // The pair (lo, hi) of feature k: (k, k + half), or (2k, 2k + 1) interleaved.
    const int64_t lo = g.interleaved ? 2 * k : k, hi = g.interleaved ? lo + 1 : k + half;
    const int64_t c = b * g.batchStride[0] + s * g.r, sn = b * g.batchStride[1] + s * g.r;
    const float xl = a.x[base + lo], xh = a.x[base + hi]; // both read before either is written
    a.y.set(base + lo, xl * a.cos[c + lo] - xh * a.sin[sn + lo]);
    a.y.set(base + hi, xh * a.cos[c + hi] + xl * a.sin[sn + hi]);
  }
}

} // namespace
} // namespace cuda

using namespace cuda;

void cudaRunEmbedding(const KernelContext &ctx) {
  EmbeddingArgs a;
  a.g = embeddingGeometry(ctx); // the ids' values: see the header comment
  int64_t n = a.g.B * a.g.S * a.g.D;
  if (n == 0)
    return;
  a.ids = indexRef(ctx.in(0)), a.typeIds = indexRef(ctx.in(3));
  a.tokens = floatRef(ctx.in(1)), a.positions = floatRef(ctx.in(2)), a.types = floatRef(ctx.in(4));
  a.y = floatOut(ctx.out(0));
  a.numPositions = ctx.in(2)->shape.d[0];
  if (options<tfc::plan::EmbeddingOptionsT>(*ctx.k).offset_positions && ctx.cache)
    a.pastDev = cudaDevice(ctx).stepPast(); // == g.past here (see CudaDevice::execute)
  embeddingKernel<<<gridFor(n, kThreads), kThreads, 0, cudaDevice(ctx).stream()>>>(a);
  launchCheck(ctx, "embeddingKernel");
}

void cudaRunGather(const KernelContext &ctx) {
  const GatherGeometry g = gatherGeometry(ctx);
  const int64_t n = g.data.outer * g.numIndices * g.data.inner;
  if (n == 0)
    return;
  const Tensor &data = *ctx.in(0);
  IndexRef idx = indexRef(ctx.in(1));
  cudaStream_t s = cudaDevice(ctx).stream();
  withBytes(dtypeSize(data.dtype), [&](auto tag) {
    using U = decltype(tag);
    gatherKernel<U><<<gridFor(n, kThreads), kThreads, 0, s>>>(
        data.as<U>(), idx, ctx.out(0).as<U>(), g.data.outer, g.data.len, g.data.inner,
        g.numIndices);
  });
  launchCheck(ctx, "gatherKernel");
}

void cudaRunGatherElements(const KernelContext &ctx) {
  const int axis = gatherElementsGeometry(ctx);
  const Tensor &data = *ctx.in(0), &idx = *ctx.in(1);
  GatherElementsArgs a;
  a.rank = data.shape.rank, a.axis = axis;
  a.dim = data.shape.d[axis], a.n = idx.shape.numel();
  int64_t stride = 1;
  for (int i = a.rank - 1; i >= 0; --i) {
    a.idxDims[i] = idx.shape.d[i];
    a.dataStrides[i] = stride;
    stride *= data.shape.d[i];
  }
  if (a.n == 0)
    return;
  cudaStream_t s = cudaDevice(ctx).stream();
  withBytes(dtypeSize(data.dtype), [&](auto tag) {
    using U = decltype(tag);
    gatherElementsKernel<U><<<gridFor(a.n, kThreads), kThreads, 0, s>>>(
        data.as<U>(), indexRef(&idx), ctx.out(0).as<U>(), a);
  });
  launchCheck(ctx, "gatherElementsKernel");
}

void cudaRunRotary(const KernelContext &ctx) {
  RotaryArgs a;
  a.g = rotaryGeometry(ctx);
  a.x = floatRef(ctx.in(0)), a.cos = floatRef(ctx.in(1)), a.sin = floatRef(ctx.in(2));
  a.y = floatOut(ctx.out(0));
  a.copyTail = ctx.out(0).data != ctx.in(0)->data;
  const int64_t n = a.g.B * a.g.S * a.g.H * (a.g.dh - a.g.r / 2);
  if (n == 0)
    return;
  rotaryKernel<<<gridFor(n, kThreads), kThreads, 0, cudaDevice(ctx).stream()>>>(a);
  launchCheck(ctx, "rotaryKernel");
}

} // namespace tfc::rt
