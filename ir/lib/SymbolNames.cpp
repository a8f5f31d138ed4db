//===- SymbolNames.cpp - batch or sequence, from a symbolic dim's name ----===//
#include "tfc/IR/SymbolNames.h"

#include <string>

namespace mlir::tfc {

SymbolKind symbolKind(llvm::StringRef name) {
  std::string lower = name.lower();
  llvm::StringRef n(lower);
  if (n.starts_with("batch") || n == "b" || n == "n" || n == "bs" || n == "nb")
    return SymbolKind::Batch;
  return SymbolKind::Sequence;
}

} // namespace mlir::tfc
