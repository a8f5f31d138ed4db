//===- PlanFile.h - the fixed header of a plan file (shared by writer and loader) -*- C++ -*-===//
//
// The compiler's plan writer and the runtime's loader both include this; it is, with
// plan.fbs, the whole contract between them (docs/PLAN_FORMAT.md). Header-only, no
// dependencies: the runtime must not link MLIR.
//
//===----------------------------------------------------------------------===//
#ifndef TFC_SCHEMA_PLANFILE_H
#define TFC_SCHEMA_PLANFILE_H

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace tfc::plan {

inline constexpr char kPlanMagic[8] = {'T', 'F', 'C', 'P', 'L', 'A', 'N', '\0'};
inline constexpr uint32_t kPlanFormatMajor = 2;
inline constexpr uint32_t kPlanFormatMinor = 5;
/// The first minor whose header carries PlanFileHeader::planChecksum (before it: reserved, 0).
inline constexpr uint32_t kPlanChecksumMinor = 3;
/// The first minor whose Constant.checksum is weightsChecksum (before it: fnv1a64).
inline constexpr uint32_t kWeightsChecksumMinor = 4;
inline constexpr uint64_t kPlanAlignment = 64;

/// The first 64 bytes of a plan file, little-endian (this code assumes a little-endian host).
struct PlanFileHeader {
  char magic[8];
  uint32_t formatMajor;
  uint32_t formatMinor;
  uint64_t planOffset;     // == sizeof(PlanFileHeader)
  uint64_t planSize;
  uint64_t weightsOffset;  // multiple of kPlanAlignment
  uint64_t weightsSize;
  uint64_t fileSize;
  /// (2.3) FNV-1a 64 (fnv1a64) of the FlatBuffer bytes [planOffset, planOffset + planSize),
  /// checked at open; in 2.0-2.2 plans these 8 bytes were reserved (zero) and are not checked.
  uint64_t planChecksum;
};
static_assert(sizeof(PlanFileHeader) == 64, "the plan header is 64 bytes");

inline uint64_t alignUp(uint64_t x, uint64_t a = kPlanAlignment) { return (x + a - 1) / a * a; }

/// FNV-1a, 64 bit: the checksum of the FlatBuffer (PlanFileHeader::planChecksum) and, in plans
/// of format 2.0-2.3, of Constant.checksum.
inline uint64_t fnv1a64(const void *data, size_t size) {
  const auto *p = static_cast<const unsigned char *>(data);
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < size; ++i) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
  return h;
}

/// (2.4) The checksum of Constant.checksum. FNV-1a reads a byte per multiply, one chain long:
/// about 1 GB/s, half a second to check a 500 MB plan when its first session opens. This one
/// runs eight independent lanes over the bytes as little-endian 64-bit words (lane i takes words
/// i, i + 8, i + 16, ...), each step h = (h ^ word) * prime, then h ^= h >> 29 (both steps
/// invertible, so a change of any one word changes its lane's result); the bytes past the last
/// whole 64 go through lane 0 one at a time, as FNV-1a; finally the eight lanes and the size
/// fold into one value the same way. It runs at memory speed (tests/unit/plan_writer_test.cpp
/// checks it against a plain restatement). A checksum against corruption, not against forgery.
inline uint64_t weightsChecksum(const void *data, size_t size) {
  constexpr uint64_t kPrime = 1099511628211ull;
  const auto *p = static_cast<const unsigned char *>(data);
  uint64_t h[8];
  for (int i = 0; i < 8; ++i)
    h[i] = 1469598103934665603ull + uint64_t(i);
  size_t i = 0;
  for (; i + 64 <= size; i += 64)
    for (int l = 0; l < 8; ++l) {
      uint64_t w;
      std::memcpy(&w, p + i + 8 * l, 8);
      h[l] = (h[l] ^ w) * kPrime;
      h[l] ^= h[l] >> 29;
    }
  for (; i < size; ++i)
    h[0] = (h[0] ^ p[i]) * kPrime;
  uint64_t r = 1469598103934665603ull;
  for (int l = 0; l < 8; ++l) {
    r = (r ^ h[l]) * kPrime;
    r ^= r >> 29;
  }
  return (r ^ uint64_t(size)) * kPrime;
}

/// The checksum of a constant's bytes in a plan of format minor `minor` (major 2).
inline uint64_t constantChecksum(uint32_t minor, const void *data, size_t size) {
  return minor >= kWeightsChecksumMinor ? weightsChecksum(data, size) : fnv1a64(data, size);
}

} // namespace tfc::plan

#endif // TFC_SCHEMA_PLANFILE_H
