//===- ActivationMath.h - GELU and SiLU as branch-free float code (the GEMV epilogue) --------===//
//
// Written so that a loop calling them vectorizes (fastExp, Common.h: relative error ~2e-7):
//   geluTanh(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), tanh(u) = 1 - 2 / (1 + e^{2u});
//   geluErf(x)  = 0.5 x (1 + erf(x / sqrt(2))), 1 + erf(z) taken as erfc(-z) from Abramowitz &
//                 Stegun 7.1.26 (erfc(a) = t P(t) e^{-a^2}, t = 1 / (1 + 0.3275911 a), |error| <=
//                 1.5e-7), so that the negative side keeps its digits (no 1 - 0.99999...);
//   silu(x)     = x / (1 + e^{-x});
//   relu(x)     = x < 0 ? 0 : x (NaN stays NaN).
// NaN stays NaN through each; at +-infinity the formulas' inf * 0 is left as it falls (NaN or
// 0), as for the Unary kernels (tests/unit/runtime_nan_test.cpp does not pin it down).
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_RUNTIME_CPU_ACTIVATIONMATH_H
#define TFC_RUNTIME_CPU_ACTIVATIONMATH_H

#include "cpu/Common.h"

namespace tfc::rt {

inline float reluOf(float x) { return x < 0.f ? 0.f : x; }

inline float geluTanhOf(float x) {
  const float u = 0.79788456080286536f * (x + 0.044715f * x * x * x);
  const float t = 1.f - 2.f / (1.f + fastExp(2.f * u));
  return 0.5f * x * (1.f + t);
}

inline float geluErfOf(float x) {
  const float a = std::fabs(x * 0.70710678118654752f);
  const float t = 1.f / (1.f + 0.3275911f * a);
  const float p = ((((1.061405429f * t - 1.453152027f) * t + 1.421413741f) * t - 0.284496736f) * t +
                   0.254829592f) * t;
  const float erfcA = p * fastExp(-a * a); // erfc(|x| / sqrt(2))
  const float onePlusErf = x < 0.f ? erfcA : 2.f - erfcA;
  return 0.5f * x * onePlusErf;
}

inline float siluOf(float x) { return x / (1.f + fastExp(-x)); }

} // namespace tfc::rt

#endif // TFC_RUNTIME_CPU_ACTIVATIONMATH_H
