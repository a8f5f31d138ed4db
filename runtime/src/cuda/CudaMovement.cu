//===- CudaMovement.cu - Transpose, Reshape, Concat, Slice, Shape, Expand, Tile, Trilu -------===//
//
// The data-movement kinds on the GPU: one generic strided copy (rank <= TFC_MAX_RANK, int64
// index math, moved as unsigned integers of the element's size, so every dtype moves bit for
// bit) driven by strides computed on the host with the CPU kernels' own shape logic
// (MovementShapes.h, Indexing.h), plus Trilu's masked copy and Shape's dims written by a
// one-thread kernel. Nothing here synchronizes except Slice and Expand reading int64 inputs that
// are neither plan constants nor computed from bound shapes (CudaHostValues.h): those two cannot
// be captured in a CUDA graph then. Slice's cache_offset axes take the KV cache's length from
// device memory (CudaDevice::stepPast), so a decode step's position Slice replays per token.
//
//===----------------------------------------------------------------------------------------===//
#include "KernelShapes.h"
#include "MovementShapes.h"
#include "cpu/Indexing.h"
#include "cuda/CudaCommon.cuh"
#include "cuda/CudaHostValues.h"

#include <algorithm>

namespace tfc::rt {
namespace {

using cuda::gridFor;
using cuda::launchCheck;

/// dst[dstBase + idx . dst] = src[srcBase + (idx mod mod) . src] over the dense index space
/// `dims` (mod only for Tile: the source dims the index wraps around).
struct CopyParams {
  int rank = 0;
  int64_t n = 0;
  int64_t dims[kMaxRank] = {};
  int64_t src[kMaxRank] = {}, dst[kMaxRank] = {}, mod[kMaxRank] = {};
  int64_t srcBase = 0, dstBase = 0;
  // Slice with cache_offset: srcBase moves by *pastDev * pastStride (the KV cache's length read
  // from device memory, so a captured decode step replays with each token's length); a source
  // index outside [0, srcLimit) then gives zero bytes instead of a read outside the tensor.
  const int64_t *pastDev = nullptr;
  int64_t pastStride = 0, srcLimit = 0;
};

template <typename T, bool Wrap>
__global__ void stridedCopyKernel(const T *__restrict__ src, T *__restrict__ dst, CopyParams p) {
  const int64_t srcBase = p.srcBase + (p.pastDev ? *p.pastDev * p.pastStride : 0);
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < p.n;
       i += int64_t(gridDim.x) * blockDim.x) {
    int64_t rem = i, so = srcBase, d = p.dstBase;
    for (int k = p.rank - 1; k >= 0; --k) {
      int64_t idx = rem % p.dims[k];
      rem /= p.dims[k];
      so += (Wrap ? idx % p.mod[k] : idx) * p.src[k];
      d += idx * p.dst[k];
    }
    dst[d] = !p.pastDev || (so >= 0 && so < p.srcLimit) ? src[so] : T(0);
  }
}

/// Drops size-1 dims and merges neighbours that stay contiguous in both source and
/// destination, so a copy that is dense on both sides becomes rank 1 (not for Tile).
void coalesce(CopyParams &p) {
  CopyParams q = p;
  q.rank = 0;
  for (int i = 0; i < p.rank; ++i) {
    if (p.dims[i] == 1)
      continue;
    if (q.rank > 0 && q.src[q.rank - 1] == p.src[i] * p.dims[i] &&
        q.dst[q.rank - 1] == p.dst[i] * p.dims[i]) {
      q.dims[q.rank - 1] *= p.dims[i];
      q.src[q.rank - 1] = p.src[i];
      q.dst[q.rank - 1] = p.dst[i];
      continue;
    }
    q.dims[q.rank] = p.dims[i];
    q.src[q.rank] = p.src[i];
    q.dst[q.rank] = p.dst[i];
    ++q.rank;
  }
  p = q;
}

/// Enqueues the copy `p` of elements of `es` bytes (1, 2, 4 or 8).
void launchCopy(const KernelContext &ctx, const void *src, void *dst, size_t es, CopyParams p,
                bool wrap, const char *what) {
  for (int i = 0; i < p.rank; ++i)
    p.n = i ? p.n * p.dims[i] : p.dims[i];
  if (p.rank == 0)
    p.n = 1;
  if (p.n == 0)
    return;
  if (!wrap) {
    coalesce(p);
    if (!p.pastDev && (p.rank == 0 || (p.rank == 1 && p.src[0] == 1 && p.dst[0] == 1))) {
      cudaDevice(ctx).copyOnDevice(static_cast<char *>(dst) + p.dstBase * int64_t(es),
                                   static_cast<const char *>(src) + p.srcBase * int64_t(es),
                                   size_t(p.n) * es);
      return;
    }
  }
  const unsigned threads = 256;
  cudaStream_t stream = cudaDevice(ctx).stream();
  auto go = [&](auto tag) {
    using T = decltype(tag);
    if (wrap)
      stridedCopyKernel<T, true><<<gridFor(p.n, threads), threads, 0, stream>>>(
          static_cast<const T *>(src), static_cast<T *>(dst), p);
    else
      stridedCopyKernel<T, false><<<gridFor(p.n, threads), threads, 0, stream>>>(
          static_cast<const T *>(src), static_cast<T *>(dst), p);
  };
  switch (es) {
  case 1: go(uint8_t()); break;
  case 2: go(uint16_t()); break;
  case 4: go(uint32_t()); break;
  case 8: go(uint64_t()); break;
  default: ctx.fail(TFC_UNSUPPORTED, "element size %zu", es);
  }
  launchCheck(ctx, what);
}

/// The copy of a strided view into a dense output (`p` may carry the pastDev fields).
void copyView(const KernelContext &ctx, const StridedView &v, const char *what,
              CopyParams p = CopyParams()) {
  const Tensor &x = *ctx.in(0);
  p.rank = v.shape.rank;
  p.srcBase = v.base - (p.pastDev ? p.pastStride * ctx.cache->past : 0);
  denseStrides(v.shape, p.dst);
  for (int i = 0; i < p.rank; ++i) {
    p.dims[i] = v.shape.d[i];
    p.src[i] = v.strides[i];
  }
  launchCopy(ctx, x.data, ctx.out(0).data, dtypeSize(x.dtype), p, false, what);
}

template <typename T>
__global__ void triluKernel(const T *__restrict__ x, T *__restrict__ y, int64_t total, int64_t m,
                            int64_t n, bool upper, int64_t k) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += int64_t(gridDim.x) * blockDim.x) {
    int64_t col = i % n, row = (i / n) % m;
    bool keep = upper ? col - row >= k : col - row <= k;
    y[i] = keep ? x[i] : T(0);
  }
}

struct ShapeParams {
  int rank = 0;
  int64_t d[kMaxRank] = {};
};

__global__ void shapeKernel(int64_t *y, ShapeParams p) {
  for (int i = threadIdx.x; i < p.rank; i += blockDim.x)
    y[i] = p.d[i];
}

} // namespace

void cudaRunTranspose(const KernelContext &ctx) {
  copyView(ctx, transposeView(ctx), "Transpose copy");
}

void cudaRunReshape(const KernelContext &ctx) {
  checkReshapeSizes(ctx);
  const Tensor &x = *ctx.in(0);
  Tensor &y = ctx.out(0);
  size_t bytes = x.bytes();
  if (x.data == y.data || bytes == 0)
    return;
  const char *xs = x.as<char>();
  char *ys = y.as<char>();
  CudaDevice &dev = cudaDevice(ctx);
  if (xs < ys + bytes && ys < xs + bytes) { // overlapping bytes: go through scratch
    void *tmp = dev.scratch(bytes);
    dev.copyOnDevice(tmp, xs, bytes);
    dev.copyOnDevice(ys, tmp, bytes);
    return;
  }
  dev.copyOnDevice(ys, xs, bytes);
}

void cudaRunConcat(const KernelContext &ctx) {
  ConcatLayout l = concatLayout(ctx);
  size_t es = dtypeSize(ctx.in(0)->dtype);
  int64_t at = 0;
  for (size_t i = 0; i < ctx.numInputs(); ++i) {
    const Tensor &x = *ctx.in(i);
    int64_t row = x.shape.d[l.axis] * l.inner;
    CopyParams p;
    p.rank = 2;
    p.dims[0] = l.outer;
    p.dims[1] = row;
    p.src[0] = row;
    p.src[1] = 1;
    p.dst[0] = l.axisTotal * l.inner;
    p.dst[1] = 1;
    p.dstBase = at;
    launchCopy(ctx, x.data, ctx.out(0).data, es, p, false, "Concat copy");
    at += row;
  }
}

void cudaRunSlice(const KernelContext &ctx) {
  std::vector<int64_t> starts = hostInt64s(ctx, 1, kMaxRank), ends = hostInt64s(ctx, 2, kMaxRank);
  const StridedView v = sliceView(ctx, starts.data(), ends.data()); // checks with this run's past
  const auto &o = options<tfc::plan::SliceOptionsT>(*ctx.k);
  CopyParams p;
  if (ctx.cache && std::any_of(o.cache_offset.begin(), o.cache_offset.end(),
                               [](bool b) { return b; })) {
    // The start of a cache_offset axis is start + past. Where that range is not clamped to the
    // dim (step > 0, 0 <= start <= end, end + past <= dim), the source moves by past * the
    // axis's dense stride and nothing else depends on past: take past from device memory then,
    // so the launch is the same for every token (a captured decode step may replay it).
    const Tensor &x = *ctx.in(0);
    const int64_t past = ctx.cache->past;
    int64_t dense[kMaxRank];
    denseStrides(x.shape, dense);
    bool linear = true;
    int64_t stride = 0;
    for (size_t i = 0; i < o.cache_offset.size() && i < starts.size(); ++i) {
      if (!o.cache_offset[i])
        continue;
      int64_t axis = o.axes[i];
      normalizeAxis(axis, x.shape.rank);
      const int64_t d = x.shape.d[axis];
      linear = linear && o.steps[i] > 0 && starts[i] >= 0 && starts[i] <= ends[i] &&
               ends[i] <= d - past;
      stride += dense[axis];
    }
    cudaStream_t stream = cudaDevice(ctx).stream();
    cudaStreamCaptureStatus capturing = cudaStreamCaptureStatusNone;
    cudaCheck(cudaStreamIsCapturing(stream, &capturing), "cudaStreamIsCapturing (Slice)");
    if (linear) {
      p.pastDev = cudaDevice(ctx).stepPast();
      p.pastStride = stride;
      p.srcLimit = x.shape.numel();
    } else if (capturing != cudaStreamCaptureStatusNone) {
      // Clamped: the copy's shape and start depend on past in other ways; no graph of this.
      ctx.fail(TFC_UNSUPPORTED, "a cache_offset range clamped at cache length %lld cannot be "
               "captured in a CUDA graph", (long long)past);
    }
  }
  copyView(ctx, v, "Slice copy", p);
}

void cudaRunShape(const KernelContext &ctx) {
  const Tensor &x = *ctx.in(0);
  Shape shape;
  shape.rank = 1;
  shape.d[0] = x.shape.rank;
  ctx.expectOutputShape(0, shape);
  if (x.shape.rank == 0)
    return;
  ShapeParams p;
  p.rank = x.shape.rank;
  for (int i = 0; i < p.rank; ++i)
    p.d[i] = x.shape.d[i];
  // Dims go in as a kernel argument (no host buffer to keep alive; capture-safe).
  shapeKernel<<<1, 32, 0, cudaDevice(ctx).stream()>>>(ctx.out(0).as<int64_t>(), p);
  launchCheck(ctx, "Shape");
}

void cudaRunExpand(const KernelContext &ctx) {
  std::vector<int64_t> target = hostInt64s(ctx, 1, kMaxRank);
  const Tensor &x = *ctx.in(0);
  copyView(ctx, broadcastView(x.shape, expandShape(ctx, target.data())), "Expand copy");
}

void cudaRunTile(const KernelContext &ctx) {
  const Tensor &x = *ctx.in(0);
  Shape shape = tileShape(x.shape, options<tfc::plan::TileOptionsT>(*ctx.k).repeats.data());
  ctx.expectOutputShape(0, shape);
  CopyParams p;
  p.rank = shape.rank;
  denseStrides(x.shape, p.src);
  denseStrides(shape, p.dst);
  for (int i = 0; i < p.rank; ++i) {
    p.dims[i] = shape.d[i];
    p.mod[i] = x.shape.d[i]; // > 0 whenever the output is not empty (repeats >= 1)
  }
  launchCopy(ctx, x.data, ctx.out(0).data, dtypeSize(x.dtype), p, true, "Tile copy");
}

void cudaRunTrilu(const KernelContext &ctx) {
  const Tensor &x = *ctx.in(0);
  const auto &o = options<tfc::plan::TriluOptionsT>(*ctx.k);
  ctx.expectOutputShape(0, x.shape);
  int64_t total = x.shape.numel();
  if (total == 0)
    return;
  int64_t m = x.shape.d[x.shape.rank - 2], n = x.shape.d[x.shape.rank - 1];
  const unsigned threads = 256;
  cudaStream_t stream = cudaDevice(ctx).stream();
  // Zero is all-zero bytes in every dtype, so the unsigned type of the element size will do.
  auto go = [&](auto tag) {
    using T = decltype(tag);
    triluKernel<T><<<gridFor(total, threads), threads, 0, stream>>>(
        x.as<T>(), ctx.out(0).as<T>(), total, m, n, o.upper, o.k);
  };
  switch (dtypeSize(x.dtype)) {
  case 1: go(uint8_t()); break;
  case 2: go(uint16_t()); break;
  case 4: go(uint32_t()); break;
  case 8: go(uint64_t()); break;
  default: ctx.fail(TFC_UNSUPPORTED, "dtype %s", dtypeName(x.dtype));
  }
  launchCheck(ctx, "Trilu");
}

} // namespace tfc::rt
