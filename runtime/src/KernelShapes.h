//===- KernelShapes.h - the run-time shape logic of the kernels, shared by every backend -------===//
//
// What a kernel does on the host before it touches any data: check the bound input shapes
// (failing through ctx.fail with the kernel's messages), compute the output shape and compare it
// with the bound one (ctx.expectOutputShape), and reduce the problem to the few numbers its loops
// need (rows and columns, [outer, len, inner] around an axis, broadcast strides). The CPU kernels
// (cpu/) and the CUDA kernels (cuda/) both call these, so every backend accepts and refuses the
// same shapes with the same messages. Nothing here reads tensor data or includes a backend's
// headers (the CUDA files include it from nvcc's host pass).
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_RUNTIME_KERNELSHAPES_H
#define TFC_RUNTIME_KERNELSHAPES_H

#include "cpu/Kernel.h"

namespace tfc::rt {

/// NumPy broadcast of a and b into out; false when incompatible.
inline bool broadcastShapes(const Shape &a, const Shape &b, Shape &out) {
  int r = a.rank > b.rank ? a.rank : b.rank;
  out.rank = r;
  for (int i = 0; i < r; ++i) {
    int ia = i - (r - a.rank), ib = i - (r - b.rank);
    int64_t da = ia >= 0 ? a.d[ia] : 1, db = ib >= 0 ? b.d[ib] : 1;
    if (da != db && da != 1 && db != 1)
      return false;
    out.d[i] = da == 1 ? db : da;
  }
  return true;
}

/// Whether `in` broadcasts to `out` (right-aligned, dims equal or 1).
inline bool broadcastsTo(const Shape &in, const Shape &out) {
  if (in.rank > out.rank)
    return false;
  for (int i = 0; i < in.rank; ++i) {
    int64_t d = in.d[i], o = out.d[i + out.rank - in.rank];
    if (d != o && d != 1)
      return false;
  }
  return true;
}

/// Normalizes axis (negative counts from the end) into [0, rank); false when out of range.
inline bool normalizeAxis(int64_t &axis, int rank) {
  if (axis < 0)
    axis += rank;
  return axis >= 0 && axis < rank;
}

/// `out` iterated row-major with up to 3 operands broadcast to it (each must broadcast to out):
/// per operand an element stride per dim, 0 where the operand is broadcast. Size-1 dims are
/// dropped and neighbours that stay contiguous for every operand are merged, so a same-shape
/// contiguous operation is rank 1 with strides 1 and a scalar operand has stride 0.
template <int N> struct BroadcastStrides {
  int rank = 0;
  int64_t dims[kMaxRank];
  int64_t strides[N][kMaxRank];

  BroadcastStrides(const Shape &out, const Shape *const (&ins)[N]) {
    int64_t st[N][kMaxRank];
    for (int k = 0; k < N; ++k) {
      const Shape &s = *ins[k];
      int64_t stride = 1;
      for (int i = out.rank - 1; i >= 0; --i) {
        int j = i - (out.rank - s.rank);
        int64_t d = j >= 0 ? s.d[j] : 1;
        st[k][i] = d == 1 ? 0 : stride;
        stride *= d;
      }
    }
    rank = 0;
    for (int i = 0; i < out.rank; ++i) {
      if (out.d[i] == 1)
        continue;
      if (rank > 0) {
        bool merge = true;
        for (int k = 0; k < N; ++k)
          merge &= strides[k][rank - 1] == st[k][i] * out.d[i];
        if (merge) {
          dims[rank - 1] *= out.d[i];
          for (int k = 0; k < N; ++k)
            strides[k][rank - 1] = st[k][i];
          continue;
        }
      }
      dims[rank] = out.d[i];
      for (int k = 0; k < N; ++k)
        strides[k][rank] = st[k][i];
      ++rank;
    }
    if (rank == 0) {
      rank = 1;
      dims[0] = 1;
      for (int k = 0; k < N; ++k)
        strides[k][0] = 0;
    }
  }
};

/// A tensor seen as [outer, len, inner] around `axis`.
struct AxisView {
  int64_t outer = 1, len = 1, inner = 1;
  AxisView() = default;
  AxisView(const Shape &s, int axis) {
    for (int i = 0; i < s.rank; ++i)
      (i < axis ? outer : i == axis ? len : inner) *= s.d[i];
  }
};

// ---- per-kind run-time checks and geometry (inputs as in the kernel table) ------------------

/// Binary and Compare: the broadcast shape of inputs 0 and 1, checked against the bound output.
Shape binaryOutputShape(const KernelContext &ctx);
/// Where: the broadcast shape of cond, a and b, checked against the bound output.
Shape whereOutputShape(const KernelContext &ctx);
/// Unary and Cast: the output is bound to the input's shape.
void sameShapeOutput(const KernelContext &ctx);

/// Reduce: which dims are kept and which summed, as (dims, element strides) lists in x.
struct ReduceGeometry {
  int numKept = 0, numReduced = 0;
  int64_t keptDims[kMaxRank], keptStrides[kMaxRank];
  int64_t redDims[kMaxRank], redStrides[kMaxRank];
  int64_t count = 1;   // elements summed per output
  int64_t outputs = 1; // output elements
  bool mean = false;
};
ReduceGeometry reduceGeometry(const KernelContext &ctx);

/// Softmax: x as [outer, n, inner] around the (normalized) axis.
AxisView softmaxGeometry(const KernelContext &ctx);

/// The norms: `rows` rows of `cols` elements; gamma/beta (scale/bias) strides 1, or 0 for a
/// single element; `beta` false when absent.
struct NormGeometry {
  int64_t rows = 0, cols = 0;
  int64_t gammaStride = 1, betaStride = 1;
  bool beta = true, residual = false;
  float eps = 0.f;
};
NormGeometry layerNormGeometry(const KernelContext &ctx);
NormGeometry layerNormalizationGeometry(const KernelContext &ctx);
NormGeometry rmsNormGeometry(const KernelContext &ctx);

/// Embedding: ids [B, S] into tables [V, D] (positions from `past`).
struct EmbeddingGeometry {
  int64_t B = 0, S = 0, D = 0, V = 0;
  int64_t numTypes = 0; // rows of the token-type table (0: none)
  int64_t past = 0;
  float scale = 1.f;
};
/// Everything but the ids' values, which each backend checks its way.
EmbeddingGeometry embeddingGeometry(const KernelContext &ctx);
/// The message of an id outside [0, rows) (TFC_OUT_OF_RANGE), `input` 0 (token) or 3 (type).
[[noreturn]] void failEmbeddingId(const KernelContext &ctx, size_t input, int64_t id, int64_t at,
                                  int64_t S, int64_t rows);

/// Gather: data [outer, n, inner] around the axis, `indices` of `numIndices` elements.
struct GatherGeometry {
  AxisView data;
  int64_t axis = 0, numIndices = 0;
};
GatherGeometry gatherGeometry(const KernelContext &ctx);
/// The message of a Gather index outside [-n, n) (TFC_OUT_OF_RANGE).
[[noreturn]] void failGatherIndex(const KernelContext &ctx, const GatherGeometry &g, int64_t index,
                                  int64_t element);

/// GatherElements: the normalized axis (shapes checked, output bound to the indices' shape).
int gatherElementsGeometry(const KernelContext &ctx);

/// Rotary: x [B, S, H*dh], cos/sin [S, r] or [1|B, S, r].
struct RotaryGeometry {
  int64_t B = 0, S = 0, D = 0, H = 0, dh = 0, r = 0;
  int64_t batchStride[2] = {0, 0}; // cos, sin: elements between batch rows (0: shared)
  bool interleaved = false;
};
RotaryGeometry rotaryGeometry(const KernelContext &ctx);

/// ArgMax: the normalized axis (not empty; output bound to the reduced shape).
int argMaxGeometry(const KernelContext &ctx);
/// CumSum: the normalized axis (output bound to x's shape).
int cumSumGeometry(const KernelContext &ctx);

/// The message of an integer division by zero in Binary Div (TFC_INVALID_ARGUMENT) when any of
/// the `n` host values of the divisor is 0.
template <typename T> void checkIntegerDivisor(const KernelContext &ctx, const T *b, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    if (b[i] == 0)
      ctx.fail(TFC_INVALID_ARGUMENT, "integer division by zero (divisor '%s')",
               ctx.inName(1).c_str());
}

} // namespace tfc::rt

#endif // TFC_RUNTIME_KERNELSHAPES_H
