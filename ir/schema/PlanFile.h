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
inline constexpr uint32_t kPlanFormatMinor = 3;
/// The first minor whose header carries PlanFileHeader::planChecksum (before it: reserved, 0).
inline constexpr uint32_t kPlanChecksumMinor = 3;
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

/// FNV-1a, 64 bit: the checksum of Constant.checksum.
inline uint64_t fnv1a64(const void *data, size_t size) {
  const auto *p = static_cast<const unsigned char *>(data);
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < size; ++i) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
  return h;
}

} // namespace tfc::plan

#endif // TFC_SCHEMA_PLANFILE_H
