//===- SymbolicShape.cpp - symbolic dims: arithmetic and broadcasting ------===//
#include "tfc/IR/SymbolicShape.h"

#include "mlir/IR/BuiltinTypes.h"

#include <algorithm>

namespace mlir::tfc {

//===----------------------------------------------------------------------===//
// SymExpr
//===----------------------------------------------------------------------===//

SymExpr SymExpr::operator*(const SymExpr &o) const {
  if (!known || !o.known)
    return unknown();
  SymExpr r = *this;
  r.coef *= o.coef;
  for (auto [s, p] : o.powers)
    r.powers[s] += p;
  return r;
}

SymExpr SymExpr::divide(const SymExpr &o) const {
  if (!known || !o.known || o.coef == 0 || coef % o.coef != 0)
    return unknown();
  SymExpr r = *this;
  r.coef /= o.coef;
  for (auto [s, p] : o.powers) {
    auto it = r.powers.find(s);
    if (it == r.powers.end() || it->second < p)
      return unknown();
    if ((it->second -= p) == 0)
      r.powers.erase(it);
  }
  return r;
}

std::string SymExpr::str(llvm::ArrayRef<ShapeSymbol> symbols) const {
  if (!known)
    return "?";
  std::string s;
  if (coef != 1 || powers.empty())
    s = std::to_string(coef);
  for (auto [sym, p] : powers)
    for (int32_t i = 0; i < p; ++i) {
      if (!s.empty())
        s += "*";
      s += sym >= 0 && sym < (int32_t)symbols.size() ? symbols[sym].name
                                                     : "s" + std::to_string(sym);
    }
  return s;
}

//===----------------------------------------------------------------------===//
// Shapes
//===----------------------------------------------------------------------===//

static SymExpr broadcastDim(const SymExpr &a, const SymExpr &b) {
  if (a.isConstant() && a.coef == 1)
    return b;
  if (b.isConstant() && b.coef == 1)
    return a;
  if (a == b)
    return a;
  // A static size against a symbol: the symbol must equal it at run time.
  if (a.isConstant() && b.known)
    return a;
  if (b.isConstant() && a.known)
    return b;
  return SymExpr::unknown();
}

SymShape broadcastSymbolic(const SymShape &a, const SymShape &b) {
  size_t rank = std::max(a.size(), b.size());
  SymShape r(rank);
  for (size_t i = 0; i < rank; ++i) {
    SymExpr da = i < rank - a.size() ? SymExpr::constant(1) : a[i - (rank - a.size())];
    SymExpr db = i < rank - b.size() ? SymExpr::constant(1) : b[i - (rank - b.size())];
    r[i] = broadcastDim(da, db);
  }
  return r;
}

SymShape staticSymbolicShape(Type type) {
  SymShape r;
  if (auto t = dyn_cast<RankedTensorType>(type))
    for (int64_t d : t.getShape())
      r.push_back(ShapedType::isDynamic(d) ? SymExpr::unknown() : SymExpr::constant(d));
  return r;
}

SymExpr symbolicProduct(const SymShape &s) {
  SymExpr r = SymExpr::constant(1);
  for (const SymExpr &d : s)
    r = r * d;
  return r;
}

} // namespace mlir::tfc
