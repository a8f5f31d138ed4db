//===- SymbolicShapes.cpp - the shape analysis over a plan's symbols ------===//
#include "tfc/lower/cpu/SymbolicShapes.h"

namespace tfc::lower {

std::vector<analysis::ShapeSymbol> shapeSymbols(const std::vector<planner::Symbol> &symbols) {
  std::vector<analysis::ShapeSymbol> out;
  for (const planner::Symbol &s : symbols)
    out.push_back({s.name, s.max});
  return out;
}

std::vector<planner::Dim> ShapeAnalysis::dims(mlir::Value value) const {
  std::vector<planner::Dim> out;
  if (const SymShape *s = shape(value))
    for (const SymExpr &d : *s)
      out.push_back(d.isConstant() ? planner::Dim::ofSize(d.coef)
                                   : planner::Dim::ofSymbol(d.powers.begin()->first));
  return out;
}

} // namespace tfc::lower
