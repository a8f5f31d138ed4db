//===- SymbolicShapes.h - resolve every `?` dim of a function to a symbol -*- C++ -*-===//
//
// The entry function's arguments name their dynamic dims (`tfc.dims = ["batch", "seq"]`).
// This analysis walks the function once, in order, and computes for every value a symbolic
// shape: each dim a monomial `c * s1^e1 * s2^e2 ...` over the symbols. It follows
// broadcasting, matmul, reductions, gather, transpose, reshape (0 / -1, dividing symbolic
// products), and, for the shape computations frontends emit, the *values* of small integer
// tensors (tfc.shape -> its input's dims; gather by constant indices; concat; constants;
// elementwise products), so that `tfc.slice %table, %starts, %ends` with `ends` built from
// tfc.shape gets [seq, D]. A `?` dim that does not come out as one symbol (or a constant) is an
// error naming the op and its location.
//
//===----------------------------------------------------------------------===//
#ifndef TFC_LOWER_CPU_SYMBOLICSHAPES_H
#define TFC_LOWER_CPU_SYMBOLICSHAPES_H

#include "tfc/plan/PlanDesc.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tfc::lower {

/// `coef * prod(symbol^power)`, or unknown.
struct SymExpr {
  bool known = false;
  int64_t coef = 1;
  std::map<int32_t, int32_t> powers;

  static SymExpr unknown() { return {}; }
  static SymExpr constant(int64_t c) { return {true, c, {}}; }
  static SymExpr symbol(int32_t s) { return {true, 1, {{s, 1}}}; }

  bool isConstant() const { return known && powers.empty(); }
  bool isSymbol() const {
    return known && coef == 1 && powers.size() == 1 && powers.begin()->second == 1;
  }
  bool operator==(const SymExpr &o) const {
    return known && o.known && coef == o.coef && powers == o.powers;
  }
  bool operator!=(const SymExpr &o) const { return !(*this == o); }
  SymExpr operator*(const SymExpr &o) const;
  /// Exact division, or unknown.
  SymExpr divide(const SymExpr &o) const;
  /// "batch*seq", "64", "?"
  std::string str(const std::vector<planner::Symbol> &symbols) const;
};

using SymShape = std::vector<SymExpr>;

class ShapeAnalysis {
public:
  /// `symbols` gives names and max bounds; the function's arguments refer to them by name.
  explicit ShapeAnalysis(std::vector<planner::Symbol> symbols) : symbols(std::move(symbols)) {}

  /// Analyzes `func`; on failure `error` names the op and the dim.
  bool run(mlir::func::FuncOp func, std::string &error);

  /// A static dim sliced to a symbol's length: the symbol may be at most `size`.
  struct Limit {
    int32_t symbol;
    int64_t size;
    std::string what;  // "table 'pos' (96 rows)"
  };
  /// In collect mode, a slice `[0, s)` of a static dim by a symbol `s` records a Limit
  /// instead of checking the symbol's max bound against the dim (SymbolBounds.cpp finds the
  /// bounds the graph allows this way).
  void collectLimits(bool on) { collect = on; }
  const std::vector<Limit> &limits() const { return found; }

  /// The resolved dims of `value` (after a successful run).
  std::vector<planner::Dim> dims(mlir::Value value) const;

  const SymShape *shape(mlir::Value value) const;
  /// The known contents of a small integer tensor, or null.
  const std::vector<SymExpr> *contents(mlir::Value value) const;

private:
  SymShape computeShape(mlir::Operation *op, std::string &why);
  void computeContents(mlir::Operation *op);
  std::optional<int32_t> symbolIndex(llvm::StringRef name) const;

  std::vector<planner::Symbol> symbols;
  bool collect = false;
  std::vector<Limit> found;
  llvm::DenseMap<mlir::Value, SymShape> shapes;
  llvm::DenseMap<mlir::Value, std::vector<SymExpr>> values;
};

/// "table 'pos' (96 rows)": the weight's name, else the location of the op that makes it.
std::string describeTable(mlir::Value table, int64_t size, int64_t axis);

/// "encoder.layers.0.self_attn" for a NameLoc; "file:line:col"; the first such part of a fused
/// or call-site location; "" when nothing names it.
std::string describeLocation(mlir::Location loc);

} // namespace tfc::lower

#endif // TFC_LOWER_CPU_SYMBOLICSHAPES_H
