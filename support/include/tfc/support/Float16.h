//===- Float16.h - f32 <-> f16 / bf16 conversions, round to nearest even (header only) -*- C++ -*-===//
//
// One definition of the 16-bit float formats, shared by the compiler (weights and constants
// converted when a plan's precision is fp16 or bf16: compiler/lower/cpu/LowerToPlan.cpp and the
// tfc-convert-precision pass) and whoever else needs them (a runtime's host-side casts, tests).
// Header only and dependency-free: the runtime links nothing for it.
//
//   f16  (IEEE 754 binary16): 1 sign, 5 exponent (bias 15), 10 fraction bits; largest finite
//        65504, smallest normal 2^-14, smallest subnormal 2^-24.
//   bf16 (bfloat16): the top 16 bits of an f32: 1 sign, 8 exponent (bias 127), 7 fraction bits;
//        largest finite 0x7F7F (3.3895e38).
//
// f32 -> 16 bits rounds to nearest, ties to even, as IEEE 754 (and numpy's float16, torch's
// bfloat16) do: subnormal results are rounded, not flushed; a value whose rounded magnitude is
// above the largest finite value becomes infinity (Overflow::Infinity) or, with
// Overflow::Saturate, the largest finite value of its sign (what a compiler wants for the
// "minus infinity that stays finite" fill values of masks: -1e9, the lowest f32). Infinities
// stay infinities; a NaN stays a NaN of the same sign, quiet, keeping the top fraction bits.
// 16 bits -> f32 is exact.
//
// Tested against numpy's float16 and torch's bfloat16 on edge cases
// (tests/precision/float_conversion.txt) and against a brute-force nearest-value search over
// every 16-bit value (tests/unit/support_float16_test.cpp).
//
//===------------------------------------------------------------------------------------------===//
#ifndef TFC_SUPPORT_FLOAT16_H
#define TFC_SUPPORT_FLOAT16_H

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace tfc::support {

/// What becomes of a finite f32 whose rounded magnitude exceeds the format's largest finite value.
enum class Overflow { Infinity, Saturate };

inline uint32_t floatBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

inline float floatFromBits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

/// f32 -> IEEE binary16 bits, round to nearest even.
inline uint16_t floatToHalf(float value, Overflow overflow = Overflow::Infinity) {
  const uint32_t f = floatBits(value);
  const uint16_t sign = uint16_t((f >> 16) & 0x8000u);
  const uint32_t a = f & 0x7FFFFFFFu;
  if (a >= 0x7F800000u) // infinity, NaN (quiet; the top 9 fraction bits kept)
    return uint16_t(sign | (a == 0x7F800000u ? 0x7C00u : 0x7E00u | ((a >> 13) & 0x1FFu)));
  const uint16_t huge = overflow == Overflow::Saturate ? 0x7BFFu : 0x7C00u;
  if (a >= 0x47800000u) // |value| >= 2^16: beyond every rounding to 65504
    return uint16_t(sign | huge);
  if (a >= 0x38800000u) { // a normal half: rebias the exponent (127 - 15 = 112), round 13 bits
    uint32_t h = (a - 0x38000000u) >> 13;
    const uint32_t rest = a & 0x1FFFu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u)))
      ++h; // a carry moves into the exponent: 0x7C00 (infinity) above 65504
    return uint16_t(sign | (h >= 0x7C00u ? huge : h));
  }
  if (a <= 0x33000000u) // |value| <= 2^-25 (half the smallest subnormal; the tie goes to 0)
    return sign;
  // A subnormal half: value / 2^-24 = significand * 2^(exponent - 126), rounded.
  const uint32_t exponent = a >> 23; // 102 .. 112
  const uint32_t significand = (a & 0x7FFFFFu) | 0x800000u;
  const uint32_t shift = 126 - exponent; // 14 .. 24
  uint32_t h = significand >> shift;
  const uint32_t rest = significand & ((1u << shift) - 1u), half = 1u << (shift - 1u);
  if (rest > half || (rest == half && (h & 1u)))
    ++h; // may become 0x400, the smallest normal: correct
  return uint16_t(sign | h);
}

/// IEEE binary16 bits -> f32 (exact).
inline float halfToFloat(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1Fu, fraction = h & 0x3FFu;
  if (exponent == 0x1Fu) // infinity, NaN
    return floatFromBits(sign | 0x7F800000u | (fraction << 13));
  if (exponent != 0)
    return floatFromBits(sign | ((exponent + 112u) << 23) | (fraction << 13));
  if (fraction == 0)
    return floatFromBits(sign);
  // Subnormal: fraction * 2^-24, exact in f32.
  float v = float(fraction) * floatFromBits(0x33800000u); // 2^-24
  return (h & 0x8000u) ? -v : v;
}

/// f32 -> bfloat16 bits, round to nearest even.
inline uint16_t floatToBFloat16(float value, Overflow overflow = Overflow::Infinity) {
  const uint32_t f = floatBits(value);
  const uint32_t a = f & 0x7FFFFFFFu;
  if (a > 0x7F800000u) // NaN: quiet, sign and top fraction bits kept
    return uint16_t((f >> 16) | 0x0040u);
  if (a == 0x7F800000u)
    return uint16_t(f >> 16);
  uint32_t b = (f + 0x7FFFu + ((f >> 16) & 1u)) >> 16; // round to nearest even
  if ((b & 0x7FFFu) == 0x7F80u && overflow == Overflow::Saturate)
    b -= 1; // 0x7F7F / 0xFF7F: the largest finite of the sign
  return uint16_t(b);
}

/// bfloat16 bits -> f32 (exact).
inline float bfloat16ToFloat(uint16_t b) { return floatFromBits(uint32_t(b) << 16); }

/// Converts `n` floats to f16 (`bf16` false) or bf16 bits; returns how many finite values became
/// infinite (Overflow::Infinity) or were saturated (Overflow::Saturate).
inline size_t convertFloats(const float *in, size_t n, bool bf16, Overflow overflow,
                            uint16_t *out) {
  const uint16_t infinity = bf16 ? 0x7F80u : 0x7C00u;
  size_t overflowed = 0;
  for (size_t i = 0; i < n; ++i) {
    uint16_t h = bf16 ? floatToBFloat16(in[i]) : floatToHalf(in[i]);
    // A finite value that rounds to infinity overflowed.
    if ((h & 0x7FFFu) == infinity && (floatBits(in[i]) & 0x7F800000u) != 0x7F800000u) {
      ++overflowed;
      if (overflow == Overflow::Saturate)
        h = uint16_t(h - 1u); // the largest finite value of the sign
    }
    out[i] = h;
  }
  return overflowed;
}

} // namespace tfc::support

#endif // TFC_SUPPORT_FLOAT16_H
