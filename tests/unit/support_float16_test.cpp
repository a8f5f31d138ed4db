//===- support_float16_test.cpp - f32 -> f16 / bf16 against two independent references ---===//
//
// 1. tests/precision/float_conversion.txt: edge cases and random values as numpy's float16 and
//    torch's bfloat16 round them (tests/precision/make_fixture.py).
// 2. A brute-force reference: the nearest of every finite 16-bit value (and of the first value
//    past the largest finite one, which stands for infinity), ties to the even code, computed
//    in double; checked on every f32 exponent with the bit patterns around each rounding tie.
// 3. 16 bits -> f32 against ldexp, and the round trip of every 16-bit value.
// 4. Overflow::Saturate and the overflow count of convertFloats.
//
//===----------------------------------------------------------------------===//
#include "tfc/support/Float16.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace tfc::support;

struct Format {
  const char *name;
  int fractionBits; // 10 (f16) or 7 (bf16)
  int bias;         // 15 or 127
  uint16_t maxFinite;
  uint16_t (*encode)(float, Overflow);
  float (*decode)(uint16_t);
};

const Format kHalf{"f16", 10, 15, 0x7BFF, floatToHalf, halfToFloat};
const Format kBFloat{"bf16", 7, 127, 0x7F7F, floatToBFloat16, bfloat16ToFloat};

/// The value of the non-negative finite code `c` of `fmt`, decoded from the definition.
double valueOf(const Format &fmt, uint32_t c) {
  int exponent = int(c >> fmt.fractionBits);
  double fraction = double(c & ((1u << fmt.fractionBits) - 1u));
  if (exponent == 0)
    return std::ldexp(fraction, 1 - fmt.bias - fmt.fractionBits);
  return std::ldexp(1.0 + fraction / double(1u << fmt.fractionBits), exponent - fmt.bias);
}

/// Round to nearest, ties to even, by search over every code: the codes 0 .. maxFinite and
/// maxFinite + 1 (the value one step past the largest finite one, an even code: infinity).
class BruteForce {
public:
  explicit BruteForce(const Format &fmt) : fmt(fmt) {
    for (uint32_t c = 0; c <= uint32_t(fmt.maxFinite) + 1; ++c)
      values.push_back(valueOf(fmt, c));
  }
  uint16_t round(float x) const {
    double a = std::fabs(double(x));
    uint16_t sign = std::signbit(x) ? 0x8000 : 0;
    size_t hi = std::lower_bound(values.begin(), values.end(), a) - values.begin();
    uint32_t code;
    if (hi == 0)
      code = 0;
    else if (hi == values.size())
      code = uint32_t(values.size() - 1); // beyond the virtual value: infinity
    else {
      double below = a - values[hi - 1], above = values[hi] - a;
      code = below < above ? uint32_t(hi - 1)
             : above < below ? uint32_t(hi)
                             : ((hi - 1) % 2 == 0 ? uint32_t(hi - 1) : uint32_t(hi));
    }
    return uint16_t(sign | code); // maxFinite + 1 is the infinity code of both formats
  }

private:
  const Format &fmt;
  std::vector<double> values;
};

TEST(Float16, MatchesNumpyAndTorchOnTheFixture) {
  std::ifstream in(TFC_SOURCE_DIR "/tests/precision/float_conversion.txt");
  ASSERT_TRUE(in) << "tests/precision/float_conversion.txt is missing";
  std::string line;
  int cases = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#')
      continue;
    std::istringstream fields(line);
    std::string f32s, f16s, bf16s;
    fields >> f32s >> f16s >> bf16s;
    uint32_t bits = uint32_t(std::stoul(f32s, nullptr, 16));
    float x = floatFromBits(bits);
    uint16_t half = uint16_t(std::stoul(f16s, nullptr, 16));
    EXPECT_EQ(floatToHalf(x), half) << "f16 of " << f32s << " (" << x << ")";
    uint16_t b = floatToBFloat16(x);
    if (bf16s == "nan") {
      EXPECT_TRUE(std::isnan(bfloat16ToFloat(b))) << "bf16 of " << f32s;
      EXPECT_EQ(b >> 15, bits >> 31) << "bf16 of " << f32s << " keeps the sign";
    } else {
      EXPECT_EQ(b, uint16_t(std::stoul(bf16s, nullptr, 16))) << "bf16 of " << f32s << " (" << x
                                                             << ")";
    }
    ++cases;
  }
  EXPECT_GE(cases, 400);
}

/// Every f32 exponent, random upper fraction bits, and the lower bits around each tie of `fmt`.
void checkAgainstBruteForce(const Format &fmt) {
  BruteForce ref(fmt);
  const int dropped = 23 - fmt.fractionBits; // f32 fraction bits below the format's
  const uint32_t tie = 1u << (dropped - 1), all = (1u << dropped) - 1u;
  std::mt19937 rng(7);
  int checked = 0, failures = 0;
  for (uint32_t sign : {0u, 0x80000000u})
    for (uint32_t exponent = 0; exponent < 255; ++exponent)
      for (int r = 0; r < 48; ++r) {
        uint32_t upper = (rng() & ((1u << fmt.fractionBits) - 1u)) << dropped;
        if (r == 0)
          upper = 0;
        if (r == 1)
          upper = ((1u << fmt.fractionBits) - 1u) << dropped;
        for (uint32_t low : {0u, 1u, tie - 1u, tie, tie + 1u, all, uint32_t(rng()) & all}) {
          uint32_t bits = sign | (exponent << 23) | upper | low;
          float x = floatFromBits(bits);
          uint16_t want = ref.round(x), got = fmt.encode(x, Overflow::Infinity);
          ++checked;
          if (got != want && ++failures <= 10)
            ADD_FAILURE() << fmt.name << " of f32 0x" << std::hex << bits << " (" << x
                          << "): got 0x" << got << ", nearest-even is 0x" << want;
        }
      }
  EXPECT_EQ(failures, 0) << "of " << checked;
}

TEST(Float16, HalfMatchesBruteForceNearestEven) { checkAgainstBruteForce(kHalf); }
TEST(Float16, BFloat16MatchesBruteForceNearestEven) { checkAgainstBruteForce(kBFloat); }

TEST(Float16, DecodingIsExactAndRoundTrips) {
  for (const Format *fmt : {&kHalf, &kBFloat})
    for (uint32_t c = 0; c <= 0xFFFF; ++c) {
      uint16_t code = uint16_t(c);
      float v = fmt->decode(code);
      uint32_t magnitude = c & 0x7FFFu, inf = uint32_t(fmt->maxFinite) + 1;
      if (magnitude > inf) {
        EXPECT_TRUE(std::isnan(v)) << fmt->name << " 0x" << std::hex << c;
        EXPECT_TRUE(std::isnan(fmt->decode(fmt->encode(v, Overflow::Infinity))));
        continue;
      }
      double want = magnitude == inf ? std::numeric_limits<double>::infinity()
                                     : valueOf(*fmt, magnitude);
      if (c & 0x8000u)
        want = -want;
      ASSERT_EQ(double(v), want) << fmt->name << " 0x" << std::hex << c;
      ASSERT_EQ(std::signbit(v), bool(c & 0x8000u));
      ASSERT_EQ(fmt->encode(v, Overflow::Infinity), code) << fmt->name << " 0x" << std::hex << c;
    }
}

TEST(Float16, SaturateKeepsOverflowFinite) {
  const float lowest = std::numeric_limits<float>::lowest();
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(floatToHalf(1e9f, Overflow::Saturate), 0x7BFF);
  EXPECT_EQ(floatToHalf(-1e9f, Overflow::Saturate), 0xFBFF);
  EXPECT_EQ(floatToHalf(lowest, Overflow::Saturate), 0xFBFF);
  EXPECT_EQ(floatToHalf(65520.0f, Overflow::Saturate), 0x7BFF);
  EXPECT_EQ(floatToHalf(65520.0f), 0x7C00);
  EXPECT_EQ(floatToHalf(-inf, Overflow::Saturate), 0xFC00);  // infinities stay
  EXPECT_EQ(floatToBFloat16(lowest, Overflow::Saturate), 0xFF7F);
  EXPECT_EQ(floatToBFloat16(lowest), 0xFF80);                 // FLT_MAX rounds up in bf16
  EXPECT_EQ(floatToBFloat16(inf, Overflow::Saturate), 0x7F80);

  const float in[] = {65504.0f, 65519.0f, 65520.0f, -1e9f, inf, std::nanf(""), lowest, 1.0f};
  uint16_t out[8];
  EXPECT_EQ(convertFloats(in, 8, /*bf16=*/false, Overflow::Saturate, out), 3u);
  const uint16_t half[] = {0x7BFF, 0x7BFF, 0x7BFF, 0xFBFF, 0x7C00, 0x7E00, 0xFBFF, 0x3C00};
  for (int i = 0; i < 8; ++i)
    EXPECT_EQ(out[i], half[i]) << "element " << i;
  EXPECT_EQ(convertFloats(in, 8, /*bf16=*/false, Overflow::Infinity, out), 3u);
  EXPECT_EQ(out[2], 0x7C00);
  EXPECT_EQ(out[3], 0xFC00);
  EXPECT_EQ(convertFloats(in, 8, /*bf16=*/true, Overflow::Saturate, out), 1u);  // lowest only
  EXPECT_EQ(out[6], 0xFF7F);
  EXPECT_EQ(out[3], floatToBFloat16(-1e9f));
}

} // namespace
