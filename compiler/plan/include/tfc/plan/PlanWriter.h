//===- PlanWriter.h - a Plan -> the plan file of docs/PLAN_FORMAT.md -*- C++ -*-===//
//
//   [FileHeader: 64 bytes][FlatBuffer `Plan`, identifier "TFCP"][padding][weight section]
//
// Every constant lands at a 64-byte-aligned offset of the weight section with its FNV-1a 64
// checksum. The bytes are streamed to a ByteSink (the weights are never copied into one
// buffer); writePlanFile() streams into a temporary file next to the destination and renames
// it, so the destination is either the old file or the complete new one.
//
//===----------------------------------------------------------------------===//
#ifndef TFC_PLAN_PLANWRITER_H
#define TFC_PLAN_PLANWRITER_H

#include "tfc/plan/PlanDesc.h"

#include <cstddef>
#include <functional>

namespace tfc::planner {

inline constexpr const char *kProducer = "tfc 0.1.0";

/// Where the bytes go. `write` returns false on failure and sets `error`.
class ByteSink {
public:
  virtual ~ByteSink() = default;
  virtual bool write(const void *data, size_t size) = 0;
  std::string error;
};

/// Collects the bytes in memory (tests, small plans).
class VectorSink : public ByteSink {
public:
  bool write(const void *data, size_t size) override {
    const auto *p = static_cast<const uint8_t *>(data);
    bytes.insert(bytes.end(), p, p + size);
    return true;
  }
  std::vector<uint8_t> bytes;
};

/// Where things landed in the file.
struct PlanLayout {
  uint64_t planSize = 0, weightsOffset = 0, weightsSize = 0, fileSize = 0;
  std::vector<uint64_t> constantOffsets;  // from the start of the weight section
};

/// Checks what the loader would refuse before anything is written: constant sizes and data,
/// value/constant/port/symbol indices, kernel value indices.
Status validatePlan(const Plan &plan);

/// Streams the whole file to `sink`.
Status writePlan(const Plan &plan, ByteSink &sink, PlanLayout *layout = nullptr);

/// Checks the complete temporary file before it replaces the destination (the driver opens it
/// with the runtime's loader); an error keeps the destination untouched.
using PlanFileCheck = std::function<Status(const std::string &tempPath)>;

/// Writes the file at `path` through a temporary file in the same directory and a rename;
/// on failure nothing is left behind and `path` is untouched.
Status writePlanFile(const Plan &plan, const std::string &path, PlanLayout *layout = nullptr,
                     const PlanFileCheck &check = nullptr);

} // namespace tfc::planner

#endif // TFC_PLAN_PLANWRITER_H
