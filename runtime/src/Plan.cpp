//===- Plan.cpp - lookups on a loaded plan, the weights' checksums ----------------------------===//
#include "Plan.h"

#include "Error.h"
#include "tfc/schema/PlanFile.h"

#include <algorithm>
#include <cstring>
#include <sys/mman.h>

namespace tfc::rt {

Mapping::~Mapping() {
  if (base_ && size_)
    munmap(base_, size_);
}

const FunctionDesc *Plan::findFunction(const char *name) const {
  if (!name)
    return nullptr;
  for (const FunctionDesc &f : functions)
    if (f.name == name)
      return &f;
  return nullptr;
}

uint64_t Plan::maxArenaSize() const {
  uint64_t m = 0;
  for (const FunctionDesc &f : functions)
    m = std::max(m, f.arenaSize);
  return m;
}

const std::string &Plan::weightsProblem() const {
  // call_once: exactly one thread reads the weights (the others block until it is done), and
  // the answer, a failure included, is kept: a plan's bytes are read-only and never change.
  // (Should the lambda throw, std::bad_alloc from format, the flag stays unset and the next
  // caller tries again.)
  std::call_once(weightsOnce_, [this] {
    ++weightsReads_;
    for (const ConstantDesc &c : constants)
      if (tfc::plan::fnv1a64(c.data, size_t(c.size)) != c.checksum) {
        weightsProblem_ =
            format("plan '%s': constant '%s': checksum mismatch (the weight bytes are corrupted)",
                   path.c_str(), c.name.c_str());
        return;
      }
  });
  return weightsProblem_;
}

void Plan::checkWeightsForSession() const {
  if (!verifyChecksums)
    return;
  const std::string &problem = weightsProblem();
  if (!problem.empty())
    throw Error(TFC_INVALID_PLAN, problem);
}

} // namespace tfc::rt
