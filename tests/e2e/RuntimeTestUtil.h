//===- RuntimeTestUtil.h - helpers shared by the end-to-end tests --------------*- C++ -*-===//
//
// Status-to-string and the error measures the reference comparisons use
// (max |a - b| <= 1e-4 * max(1, max |ref|)). Header-only; used by
// tests/e2e/e2e_reference_test.cpp and tests/unit/onnx_corpus_test.cpp.
//
//===----------------------------------------------------------------------===//
#ifndef TFC_TESTS_E2E_RUNTIMETESTUTIL_H
#define TFC_TESTS_E2E_RUNTIMETESTUTIL_H

#include "tfc/tfc_runtime.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace tfc::testutil {

/// The status message (and frees the status); "" for success.
inline std::string take(tfc_status *st) {
  if (!st)
    return {};
  std::string m = tfc_status_message(st);
  tfc_status_free(st);
  return m.empty() ? "(empty status message)" : m;
}

/// max |a - b| over f32 tensors of equal size (checked by the caller); NaN -> inf.
inline double maxAbsDiff(const float *a, const float *b, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; ++i) {
    double d = std::fabs(static_cast<double>(a[i]) - static_cast<double>(b[i]));
    if (std::isnan(d))
      return INFINITY;
    m = std::max(m, d);
  }
  return m;
}

inline double maxAbs(const float *a, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; ++i)
    m = std::max(m, std::fabs(static_cast<double>(a[i])));
  return m;
}

} // namespace tfc::testutil

#endif // TFC_TESTS_E2E_RUNTIMETESTUTIL_H
