//===- SymbolNames.cpp - batch or sequence, from a symbolic dim's name ----===//
#include "tfc/IR/SymbolNames.h"
#include "tfc/support/SymbolNames.h"

#include <string>

namespace mlir::tfc {

SymbolKind symbolKind(llvm::StringRef name) {
  return ::tfc::support::isBatchSymbolName(std::string_view(name.data(), name.size()))
             ? SymbolKind::Batch
             : SymbolKind::Sequence;
}

} // namespace mlir::tfc
