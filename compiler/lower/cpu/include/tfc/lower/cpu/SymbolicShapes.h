//===- SymbolicShapes.h - the shape analysis over a plan's symbols -*- C++ -*-===//
//
// The shape analysis itself is target-neutral (tfc/analysis/ShapeAnalysis.h; the rules are the
// ops', SymbolicShapeOpInterface). The lowering runs it over the plan's symbols (their names
// and bounds, planner::Symbol) and reads each value's dims as plan dims (every `?` a symbol
// index of the plan): this is that bridge.
//
//===----------------------------------------------------------------------===//
#ifndef TFC_LOWER_CPU_SYMBOLICSHAPES_H
#define TFC_LOWER_CPU_SYMBOLICSHAPES_H

#include "tfc/analysis/ShapeAnalysis.h"
#include "tfc/plan/PlanDesc.h"

#include <vector>

namespace tfc::lower {

using analysis::describeLocation;
using analysis::describeTable;
using analysis::SymExpr;
using analysis::SymShape;

/// The names and bounds of the plan's symbols, as the analysis takes them (same order, so a
/// SymExpr's symbol index is the plan's).
std::vector<analysis::ShapeSymbol> shapeSymbols(const std::vector<planner::Symbol> &symbols);

class ShapeAnalysis : public analysis::ShapeAnalysis {
public:
  explicit ShapeAnalysis(const std::vector<planner::Symbol> &symbols)
      : analysis::ShapeAnalysis(shapeSymbols(symbols)) {}

  /// The resolved dims of `value` (after a successful run).
  std::vector<planner::Dim> dims(mlir::Value value) const;
};

} // namespace tfc::lower

#endif // TFC_LOWER_CPU_SYMBOLICSHAPES_H
