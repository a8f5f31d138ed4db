//===- SymbolNames.h - what a symbolic dim's name says it is ----*- C++ -*-===//
//
// The arguments of @forward name their symbolic dims (`tfc.dims`). Frontends copy the names
// they are given (ONNX dim params: "batch", "batch_size", "N", "sequence_length",
// "src_len", ...), so the frontends and the lowering classify a name the same way here: a
// batch dim is bounded by --max-batch, every other symbolic dim by --max-seq (a transformer's
// dims are a batch or a length). The rule itself is tfc/support/SymbolNames.h, which the runtime
// shares (the KV cache's rows).
//
//===----------------------------------------------------------------------===//
#ifndef TFC_IR_SYMBOLNAMES_H
#define TFC_IR_SYMBOLNAMES_H

#include "llvm/ADT/StringRef.h"

namespace mlir::tfc {

enum class SymbolKind { Batch, Sequence };

/// Batch for the usual batch names, case-insensitively: anything starting with "batch"
/// ("batch", "batch_size", "batchsize"), "b", "n", "bs", "nb"; Sequence for every other name
/// ("seq", "sequence_length", "src_len", "tgt_len", "past_sequence_length", "s0", ...).
SymbolKind symbolKind(llvm::StringRef name);

inline bool isBatchSymbol(llvm::StringRef name) { return symbolKind(name) == SymbolKind::Batch; }

} // namespace mlir::tfc

#endif // TFC_IR_SYMBOLNAMES_H
