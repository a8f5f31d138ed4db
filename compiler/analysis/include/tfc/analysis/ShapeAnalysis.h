//===- ShapeAnalysis.h - resolve every `?` dim of a function to a symbol -*- C++ -*-===//
//
// The entry function's arguments name their dynamic dims (`tfc.dims = ["batch", "seq"]`).
// This analysis walks the function once, in order, and asks every op with results for its
// symbolic shape (SymbolicShapeOpInterface: each dim a monomial `c * s1^e1 * s2^e2 ...` over
// the symbols; the rules are the ops', in ir/lib/TfcSymbolicShapes.cpp) and, for the small
// integer tensors shape computations build, their symbolic contents. A `?` dim that does not
// come out as one symbol (or a constant) is an error naming the op and its location; so is an
// op with results that has no symbolic shape rule.
//
// Target-neutral: the lowering (compiler/lower/<target>), the symbol bounds and the
// generation derivation (compiler/generation) use it; it knows nothing of plans.
//
//===----------------------------------------------------------------------===//
#ifndef TFC_ANALYSIS_SHAPEANALYSIS_H
#define TFC_ANALYSIS_SHAPEANALYSIS_H

#include "tfc/IR/SymbolicShape.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"

#include <optional>
#include <string>
#include <vector>

namespace tfc::analysis {

using mlir::tfc::ShapeSymbol;
using mlir::tfc::SymContents;
using mlir::tfc::SymExpr;
using mlir::tfc::SymShape;

class ShapeAnalysis : public mlir::tfc::SymbolicShapeContext {
public:
  /// `symbols` gives names and max bounds; the function's arguments refer to them by name,
  /// and SymExpr refers to them by index.
  explicit ShapeAnalysis(std::vector<ShapeSymbol> symbols) : symbolTable(std::move(symbols)) {}

  /// Analyzes `func`; on failure `error` names the op and the dim.
  bool run(mlir::func::FuncOp func, std::string &error);

  /// A static dim sliced to a symbol's length: the symbol may be at most `size`.
  struct Limit {
    int32_t symbol;
    int64_t size;
    std::string what;  // "table 'pos' (96 rows)"
  };
  /// In collect mode, a slice `[0, s)` of a static dim by a symbol `s` records a Limit
  /// instead of checking the symbol's max bound against the dim (the symbol bounds find the
  /// bounds the graph allows this way).
  void collectLimits(bool on) { collect = on; }
  const std::vector<Limit> &limits() const { return found; }

  /// The symbolic shape of `value` after a successful run (null when it has none).
  const SymShape *shape(mlir::Value value) const;
  /// The known contents of a small integer tensor, or null.
  const SymContents *contents(mlir::Value value) const override;
  llvm::ArrayRef<ShapeSymbol> symbols() const override { return symbolTable; }

  // SymbolicShapeContext (what the ops' rules ask).
  SymShape operandShape(mlir::Value value) const override;
  SymExpr symbolWithin(const SymExpr &end, int64_t size, mlir::Value table, int64_t axis,
                       std::string &why) override;

private:
  void computeContents(mlir::Operation *op);
  std::optional<int32_t> symbolIndex(llvm::StringRef name) const;

  std::vector<ShapeSymbol> symbolTable;
  bool collect = false;
  std::vector<Limit> found;
  llvm::DenseMap<mlir::Value, SymShape> shapes;
  llvm::DenseMap<mlir::Value, SymContents> values;
};

/// "table 'pos' (96 rows)": the weight's name, else the location of the op that makes it.
std::string describeTable(mlir::Value table, int64_t size, int64_t axis);

/// "encoder.layers.0.self_attn" for a NameLoc; "file:line:col"; the first such part of a fused
/// or call-site location; "" when nothing names it.
std::string describeLocation(mlir::Location loc);

/// The op names a fusion recorded on a fused op's location (the metadata of fusedLocation,
/// compiler/passes/PatternUtils.h), outer list first, then each fused op inside it in
/// parentheses: "matmul, add, gelu (mul x3, div, erf, add)" ("tfc." dropped, repeats counted);
/// "" for a location no fusion made.
std::string fusedOpNames(mlir::Location loc);

} // namespace tfc::analysis

#endif // TFC_ANALYSIS_SHAPEANALYSIS_H
