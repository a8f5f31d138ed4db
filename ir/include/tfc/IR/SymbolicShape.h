//===- SymbolicShape.h - symbolic dims and what an op's shape rule may ask -*- C++ -*-===//
//
// A `?` dim of a tfc tensor stands for a product of named symbols (`batch`, `seq`, ...): each
// dim is a monomial `c * s1^e1 * s2^e2 ...` (SymExpr) over symbol indices. Every tfc op with
// results computes its result's symbolic shape from its operands' through
// `SymbolicShapeOpInterface` (TfcInterfaces.td, rules in TfcSymbolicShapes.cpp); the small
// integer tensors that shape computations build (tfc.shape, gather, concat, ...) also get
// their symbolic *contents*, so that `tfc.slice %table, %starts, %ends` with `ends` built from
// tfc.shape has the dims [seq, D].
//
// SymbolicShapeContext is what a rule may ask of the analysis that runs it (the operands'
// shapes and contents, the symbols' names and bounds). The analysis itself (walking a
// function, seeding the arguments from `tfc.dims`, resolving every result dim to a symbol) is
// target-neutral and lives in compiler/analysis/ (tfc::analysis::ShapeAnalysis); nothing here
// knows about plans or targets.
//
//===----------------------------------------------------------------------===//
#ifndef TFC_IR_SYMBOLICSHAPE_H
#define TFC_IR_SYMBOLICSHAPE_H

#include "mlir/IR/Value.h"
#include "llvm/ADT/ArrayRef.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mlir::tfc {

/// A symbolic dim's name and the largest value it may take (its bound; INT64_MAX when the
/// analysis runs before bounds are known).
struct ShapeSymbol {
  std::string name;
  int64_t max = 0;
};

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
  /// "batch*seq", "64", "?" (a symbol index without a name prints as "s<index>").
  std::string str(llvm::ArrayRef<ShapeSymbol> symbols) const;
};

using SymShape = std::vector<SymExpr>;

/// The known element values of a small 1-D (or scalar) integer tensor.
using SymContents = std::vector<SymExpr>;

/// What an op's symbolic shape rule may ask. Implemented by the analysis that runs the rules.
class SymbolicShapeContext {
public:
  virtual ~SymbolicShapeContext() = default;

  /// The symbolic shape of `value` (an operand): as the analysis computed it, else the static
  /// shape of its type (`?` dims unknown).
  virtual SymShape operandShape(Value value) const = 0;
  /// The known contents of the small integer tensor `value`, or null.
  virtual const SymContents *contents(Value value) const = 0;
  virtual llvm::ArrayRef<ShapeSymbol> symbols() const = 0;

  /// A result dim that is the symbol `end` (a slice `[0, end)` of the static dim `size` of
  /// `table` along `axis`) holds only while the symbol is at most `size`. Returns `end` when
  /// the analysis accepts that (it records the limit, or the symbol's bound is within `size`),
  /// else unknown with `why` set.
  virtual SymExpr symbolWithin(const SymExpr &end, int64_t size, Value table, int64_t axis,
                               std::string &why) = 0;

  std::string str(const SymExpr &e) const { return e.str(symbols()); }
};

/// NumPy broadcasting of symbolic shapes: a 1 takes the other dim; a static size against a
/// symbol is the static size (the symbol must equal it at run time); else unknown.
SymShape broadcastSymbolic(const SymShape &a, const SymShape &b);

/// The symbolic shape of a ranked tensor type's static dims (`?` dims unknown).
SymShape staticSymbolicShape(Type type);

/// The product of all dims.
SymExpr symbolicProduct(const SymShape &shape);

} // namespace mlir::tfc

#endif // TFC_IR_SYMBOLICSHAPE_H
