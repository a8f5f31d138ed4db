//===- cuda_test_util.h - CUDA kernel tests: the same one-kernel plan on the CPU and on the GPU ===//
//
// A CUDA kernel test builds a one-kernel plan twice (runtime_kernel_harness.h): target cpu at
// fp32 (the reference: the CPU kernel, itself tested against plain loops), and target cuda at the
// precision under test, with the float inputs rounded to that precision first (so both kernels
// see the same numbers). fp32 must agree within 1e-4 relative; fp16/bf16 within the tolerance
// each test states (the inputs are exact in both; what differs is the rounding of intermediate
// results to 16 bits, e.g. 2^-11 relative per stored f16 value, 2^-8 per bf16 value).
//
// Without the CUDA backend in this build, or without a usable GPU, every test skips with the
// reason (counted by ctest as skipped, never as passed).
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_TESTS_CUDA_CUDA_TEST_UTIL_H
#define TFC_TESTS_CUDA_CUDA_TEST_UTIL_H

#include "runtime_kernel_harness.h"
#include "tfc/support/Float16.h"

#include <gtest/gtest.h>

#include <string>

namespace rtt {

/// Whether device cuda:0 can run plans here; `why` says why not.
inline bool cudaUsable(std::string *why) {
  char buf[512] = {0};
  if (tfc_device_check("cuda:0", buf, sizeof buf))
    return true;
  *why = buf;
  return false;
}

#define TFC_REQUIRE_CUDA()                                                                     \
  do {                                                                                         \
    std::string why_;                                                                          \
    if (!::rtt::cudaUsable(&why_))                                                             \
      GTEST_SKIP() << "no CUDA device to run on: " << why_;                                    \
  } while (0)

inline tfc_dtype dtypeOf(fb::DType p) {
  return p == fb::DType::F16 ? TFC_F16 : p == fb::DType::BF16 ? TFC_BF16 : TFC_F32;
}

/// `v` rounded to `d` (F16/BF16: round to nearest even, then back to f32; F32: unchanged).
inline std::vector<float> roundTo(tfc_dtype d, std::vector<float> v) {
  for (float &x : v)
    x = d == TFC_F16    ? tfc::support::halfToFloat(tfc::support::floatToHalf(x))
        : d == TFC_BF16 ? tfc::support::bfloat16ToFloat(tfc::support::floatToBFloat16(x))
                        : x;
  return v;
}

/// An F32 argument as `d` (F16/BF16 bits, rounded to nearest even); other dtypes unchanged.
inline Arg toDtype(const Arg &a, tfc_dtype d) {
  if (a.absent || a.dtype != TFC_F32 || d == TFC_F32)
    return a;
  Arg r = a;
  r.dtype = d;
  size_t n = a.bytes.size() / 4;
  r.bytes.resize(n * 2);
  for (size_t i = 0; i < n; ++i) {
    float x;
    std::memcpy(&x, &a.bytes[i * 4], 4);
    uint16_t h = d == TFC_F16 ? tfc::support::floatToHalf(x) : tfc::support::floatToBFloat16(x);
    std::memcpy(&r.bytes[i * 2], &h, 2);
  }
  return r;
}

/// A result's values as f32 (from F32, F16 or BF16).
inline std::vector<float> floatsOf(const RunResult &r) {
  if (r.dtype == TFC_F32)
    return r.as<float>();
  std::vector<uint16_t> h = r.as<uint16_t>();
  std::vector<float> v(h.size());
  for (size_t i = 0; i < h.size(); ++i)
    v[i] = r.dtype == TFC_F16 ? tfc::support::halfToFloat(h[i]) : tfc::support::bfloat16ToFloat(h[i]);
  return v;
}

/// |got - ref| <= rtol * max(1, max|ref|) everywhere.
inline void expectCloseRel(const std::vector<float> &got, const std::vector<float> &ref,
                           float rtol, const std::string &what = "") {
  ASSERT_EQ(got.size(), ref.size()) << what;
  float mx = 1.f;
  for (float v : ref)
    mx = std::max(mx, std::fabs(v));
  for (size_t i = 0; i < ref.size(); ++i)
    ASSERT_NEAR(got[i], ref[i], rtol * mx) << what << " at element " << i;
}

} // namespace rtt

#endif // TFC_TESTS_CUDA_CUDA_TEST_UTIL_H
