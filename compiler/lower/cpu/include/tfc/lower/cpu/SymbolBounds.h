//===- SymbolBounds.h - one bound per symbolic dim, and where it comes from -*- C++ -*-===//
//
// A plan is compiled for bounds: every symbol (the names in the arguments' `tfc.dims`) gets a
// max, and the arena, the constant tables and the KV cache are sized at them. resolveBounds()
// picks each symbol's bound, in this order:
//   1. what the user asked for: `--bound NAME=N`, else `--max-batch` for a batch symbol or
//      `--max-seq` for any other (mlir::tfc::symbolKind); more than a limit is an error that
//      names both;
//   2. else the default (16 for a batch symbol; for the others the model's declared max
//      positions, or 512), lowered to the smallest limit the model sets;
// where a limit is what the graph allows: a static dim sliced `[0, s)` by the symbol (a
// position table of 96 rows: "table 'pos' (96 rows)"), the model's max positions, or a table
// the frontend found (ONNX constants evaluated at import time).
// Each bound carries its source ("--bound", "--max-batch", "--max-seq", "default",
// "max_positions of the model", "table 'pos' (96 rows)") for `tfc compile --report`.
//
//===----------------------------------------------------------------------===//
#ifndef TFC_LOWER_CPU_SYMBOLBOUNDS_H
#define TFC_LOWER_CPU_SYMBOLBOUNDS_H

#include "tfc/plan/PlanDesc.h"

#include "mlir/IR/BuiltinOps.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tfc::lower {

inline constexpr int64_t kDefaultMaxBatch = 16;
inline constexpr int64_t kDefaultMaxSeq = 512;

/// What the user asked for (0: not given).
struct BoundRequest {
  int64_t maxBatch = 0;                  // --max-batch: every batch symbol
  int64_t maxSeq = 0;                    // --max-seq: every other symbol
  std::map<std::string, int64_t> named;  // --bound NAME=N: that symbol (wins over both)
};

/// The most a symbol may be, and what says so.
struct SymbolLimit {
  int64_t max = 0;
  std::string source;
};
using SymbolLimits = std::map<std::string, SymbolLimit>;

/// Records `max` for `name` unless a smaller (or equal) limit is already known.
void addLimit(SymbolLimits &limits, const std::string &name, int64_t max,
              const std::string &source);

/// The default bound of the sequence symbols: the model's declared max positions (model.fbs,
/// Hugging Face checkpoints), else 512.
struct SequenceDefault {
  int64_t max = kDefaultMaxSeq;
  std::string source = "default";
};

/// The symbols of `module`: the names in the `tfc.dims` of `function` and of the generation
/// functions (`tfc.cache_op`), in order of first appearance.
std::vector<std::string> moduleSymbols(mlir::ModuleOp module, const std::string &function);

/// Adds the limits the graph sets: every static dim that a function of the module slices
/// `[0, s)` by a symbol `s` (shape analysis in collect mode; functions the analysis cannot
/// resolve are skipped here: the lowering reports them).
void findGraphLimits(mlir::ModuleOp module, const std::string &function,
                     SymbolLimits &limits);

/// One bound per symbol of `symbols` (see the file comment); `out` gets name, min 1, max and
/// source in the same order. Errors: a requested bound below 1 or above a limit, a `--bound`
/// for a name that is not a symbol of the model.
planner::Status resolveBounds(const std::vector<std::string> &symbols,
                              const BoundRequest &request, const SymbolLimits &limits,
                              const SequenceDefault &seqDefault,
                              std::vector<planner::Symbol> &out);

} // namespace tfc::lower

#endif // TFC_LOWER_CPU_SYMBOLBOUNDS_H
