//===- Int8Weights.h - symmetric per-output-column int8 weights (header only) ---*- C++ -*-===//
//
// The int8 weight format of a cpu plan compiled with `--precision int8` (plan.fbs
// Plan.weight_precision I8): a weight W [K, N] (x [.., K] @ W -> [.., N]: column n is output
// channel n) becomes q [K, N] int8 and scale [N] f32 with
//
//   scale[n] = max_k |W[k, n]| / 127        (0 for a column of zeros)
//   q[k, n]  = round(W[k, n] / scale[n])     (to nearest, ties to even; 0 where scale is 0)
//
// so that W[k, n] ~ q[k, n] * scale[n] with |error| <= scale[n] / 2, and q in [-127, 127]
// (-128 is never used: the format is symmetric). Shared by the compiler (which converts the
// weights) and the tests (which check it against numpy's arithmetic, and run kernels on it).
// Dependency-free.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_SUPPORT_INT8WEIGHTS_H
#define TFC_SUPPORT_INT8WEIGHTS_H

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

namespace tfc::support {

/// Quantizes `w` ([K, N] row-major f32, any alignment) into `q` ([K, N]) and `scale` ([N]).
/// Returns -1, or the flat index of the first value that is not finite (nothing is then
/// meaningful in q and scale: int8 has no infinity or NaN).
inline int64_t quantizeColumns(const void *w, int64_t K, int64_t N, int8_t *q, float *scale) {
  const auto *bytes = static_cast<const uint8_t *>(w);
  std::vector<float> row(size_t(N > 0 ? N : 0)), maxAbs(size_t(N > 0 ? N : 0), 0.f);
  for (int64_t k = 0; k < K; ++k) {
    std::memcpy(row.data(), bytes + size_t(k * N) * sizeof(float), size_t(N) * sizeof(float));
    for (int64_t n = 0; n < N; ++n) {
      if (!std::isfinite(row[size_t(n)]))
        return k * N + n;
      maxAbs[size_t(n)] = std::fmax(maxAbs[size_t(n)], std::fabs(row[size_t(n)]));
    }
  }
  for (int64_t n = 0; n < N; ++n)
    scale[n] = maxAbs[size_t(n)] / 127.f;
  for (int64_t k = 0; k < K; ++k) {
    std::memcpy(row.data(), bytes + size_t(k * N) * sizeof(float), size_t(N) * sizeof(float));
    for (int64_t n = 0; n < N; ++n) {
      float v = scale[n] > 0.f ? std::nearbyint(row[size_t(n)] / scale[n]) : 0.f;
      v = std::fmin(std::fmax(v, -127.f), 127.f);
      q[k * N + n] = int8_t(v);
    }
  }
  return -1;
}

} // namespace tfc::support

#endif // TFC_SUPPORT_INT8WEIGHTS_H
