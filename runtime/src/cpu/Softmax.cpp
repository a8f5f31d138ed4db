//===- Softmax.cpp - softmax along one axis ----------------------------------------------------===//
//
// x viewed as [outer, n, inner] (n the axis): each of the outer*inner lines is shifted by its
// max, exponentiated (fastExp, Common.h) and normalized. Lines split across threads.
// NaN and infinities give what ONNX Runtime gives: a line holding a NaN is all NaN (fastExp(NaN)
// is NaN, so the sum is), a +inf makes it NaN (inf - inf), and a line of -inf only is NaN
// (0 / 0). The row primitives shared with the attention kernels differ in that last case only:
// there a row whose every key is hidden (-inf) gives zeros, unless it holds a NaN.
//
//===----------------------------------------------------------------------------------------===//
#include "cpu/Common.h"

#include <cmath>
#include <limits>

namespace tfc::rt {

TFC_CPU_CLONES float rowScaleAddMax(float *row, int64_t n, float scale, const float *add) {
  float mx = -std::numeric_limits<float>::infinity();
  if (add) {
#pragma omp simd reduction(max : mx)
    for (int64_t j = 0; j < n; ++j) {
      float v = row[j] * scale + add[j];
      row[j] = v;
      mx = v > mx ? v : mx;
    }
  } else {
#pragma omp simd reduction(max : mx)
    for (int64_t j = 0; j < n; ++j) {
      float v = row[j] * scale;
      row[j] = v;
      mx = v > mx ? v : mx;
    }
  }
  // The private copies of an OpenMP max reduction start at an implementation-defined "least
  // value": -inf under GCC, the lowest finite float under clang. A row whose entries are all
  // -inf (every key hidden) then came out as lowest(), not -inf, under clang (found by the
  // sanitizer build: NaN instead of zeros). Rescan such a row serially for its true max.
  if (mx == std::numeric_limits<float>::lowest()) {
    mx = -std::numeric_limits<float>::infinity();
    for (int64_t j = 0; j < n; ++j)
      mx = row[j] > mx ? row[j] : mx;
  }
  return mx;
}

/// Fills a line whose max (over its non-NaN entries) is -inf: NaN if it holds a NaN, else
/// `empty` (every entry -inf).
static void fillEmptyLine(float *y, int64_t n, int64_t stride, float empty) {
  bool nan = false;
  for (int64_t j = 0; j < n; ++j)
    nan |= std::isnan(y[j * stride]);
  float v = nan ? std::numeric_limits<float>::quiet_NaN() : empty;
  for (int64_t j = 0; j < n; ++j)
    y[j * stride] = v;
}

TFC_CPU_CLONES void rowExpNormalize(float *row, int64_t n, float mx) {
  // The max skips NaN entries; a row with a finite (or +inf) max turns NaN through fastExp.
  if (mx == -std::numeric_limits<float>::infinity())
    return fillEmptyLine(row, n, 1, 0.f); // every key hidden: zeros (NaN if a score is NaN)
  float sum = 0.f;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < n; ++j) {
    float e = fastExp(row[j] - mx);
    row[j] = e;
    sum += e;
  }
  float inv = 1.f / sum;
#pragma omp simd
  for (int64_t j = 0; j < n; ++j)
    row[j] *= inv;
}

TFC_CPU_CLONES float rowExpSum(float *row, int64_t n, float mx) {
  float sum = 0.f;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < n; ++j) {
    float e = fastExp(row[j] - mx);
    row[j] = e;
    sum += e;
  }
  return sum;
}

std::string checkSoftmax(const FunctionDesc &fn, const KernelDesc &k) {
  std::string e = expectDtype(fn, k, 0, "x", {TFC_F32});
  if (!e.empty())
    return e;
  const int32_t given = options<tfc::plan::SoftmaxOptionsT>(k).axis;
  int64_t axis = given;
  if (!normalizeAxis(axis, fn.values[k.inputs[0]].rank))
    return format("axis %d is out of range for rank %d", given, fn.values[k.inputs[0]].rank);
  return expectOutDtype(fn, k, 0, {TFC_F32});
}

void runSoftmax(const KernelContext &ctx) {
  const Tensor &x = *ctx.in(0);
  const AxisView v = softmaxGeometry(ctx);
  const int64_t outer = v.outer, n = v.len, inner = v.inner;
  const float *px = x.as<float>();
  float *py = ctx.out(0).as<float>();
  if (n == 0)
    return;
  if (inner == 1) {
#pragma omp parallel for schedule(static) if (outer * n >= 16384)
    for (int64_t o = 0; o < outer; ++o) {
      float *yl = py + o * n;
      if (yl != px + o * n)
        std::memcpy(yl, px + o * n, size_t(n) * sizeof(float));
      float mx = rowScaleAddMax(yl, n, 1.f, nullptr);
      if (mx == -std::numeric_limits<float>::infinity())
        fillEmptyLine(yl, n, 1, std::numeric_limits<float>::quiet_NaN()); // -inf only: 0 / 0
      else
        rowExpNormalize(yl, n, mx);
    }
    return;
  }
#pragma omp parallel for schedule(static) if (outer * n * inner >= 16384)
  for (int64_t line = 0; line < outer * inner; ++line) {
    int64_t o = line / inner, in = line % inner;
    const float *xl = px + o * n * inner + in;
    float *yl = py + o * n * inner + in;
    float mx = -std::numeric_limits<float>::infinity();
    for (int64_t j = 0; j < n; ++j)
      mx = xl[j * inner] > mx ? xl[j * inner] : mx;
    if (mx == -std::numeric_limits<float>::infinity()) { // only -inf and NaN: all NaN
      for (int64_t j = 0; j < n; ++j)
        yl[j * inner] = std::numeric_limits<float>::quiet_NaN();
      continue;
    }
    float sum = 0.f;
    for (int64_t j = 0; j < n; ++j) {
      float e = fastExp(xl[j * inner] - mx);
      yl[j * inner] = e;
      sum += e;
    }
    float inv = 1.f / sum;
    for (int64_t j = 0; j < n; ++j)
      yl[j * inner] *= inv;
  }
}

} // namespace tfc::rt
