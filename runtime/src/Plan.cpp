//===- Plan.cpp - lookups on a loaded plan ----------------------------------------------------===//
#include "Plan.h"

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

} // namespace tfc::rt
