//===- FoldedWeights.cpp - weight bytes for the constant folder -----------===//
#include "FoldedWeights.h"

namespace mlir::tfc {

bool FoldedWeights::find(const std::string &name, Data &out) const {
  if (auto it = derivedWeights.find(name); it != derivedWeights.end()) {
    out.shape = it->second.shape;
    out.bytes = it->second.bytes->data();
    out.owner = it->second.bytes;
    return true;
  }
  return lookup && lookup(name, out);
}

std::string FoldedWeights::add(const std::string &base, std::vector<int64_t> shape,
                               std::shared_ptr<const std::vector<uint8_t>> bytes) {
  std::string name = base;
  Data unused;
  for (int i = 1; find(name, unused); ++i)
    name = base + "." + std::to_string(i);
  derivedWeights[name] = {std::move(shape), std::move(bytes)};
  return name;
}

} // namespace mlir::tfc
