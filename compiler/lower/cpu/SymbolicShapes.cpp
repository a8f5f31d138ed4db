//===- SymbolicShapes.cpp - symbolic dims and small shape tensors ----------===//
//
// Expects the entry function of tfc IR (primitive or fused) with `tfc.dims` on its arguments.
//
//===----------------------------------------------------------------------===//
#include "tfc/lower/cpu/SymbolicShapes.h"

#include "tfc/IR/TfcDialect.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/TypeSwitch.h"

#include <climits>

namespace tfc::lower {

using namespace mlir;
using namespace mlir::tfc;

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

std::string SymExpr::str(const std::vector<planner::Symbol> &symbols) const {
  if (!known)
    return "?";
  std::string s;
  if (coef != 1 || powers.empty())
    s = std::to_string(coef);
  for (auto [sym, p] : powers)
    for (int32_t i = 0; i < p; ++i) {
      if (!s.empty())
        s += "*";
      s += sym < (int32_t)symbols.size() ? symbols[sym].name : "s" + std::to_string(sym);
    }
  return s;
}

std::string describeTable(Value table, int64_t size, int64_t axis) {
  std::string name;
  if (auto w = table.getDefiningOp<WeightOp>())
    name = w.getName().str();
  else if (Operation *op = table.getDefiningOp())
    name = describeLocation(op->getLoc());
  std::string what = name.empty() ? "a table" : "table '" + name + "'";
  return what + " (" + std::to_string(size) +
         (axis == 0 ? " rows)" : " on axis " + std::to_string(axis) + ")");
}

std::string describeLocation(Location loc) {
  if (auto name = dyn_cast<NameLoc>(loc))
    return name.getName().str();
  if (auto file = dyn_cast<FileLineColLoc>(loc))
    return file.getFilename().str() + ":" + std::to_string(file.getLine()) + ":" +
           std::to_string(file.getColumn());
  if (auto call = dyn_cast<CallSiteLoc>(loc))
    return describeLocation(call.getCallee());
  if (auto fused = dyn_cast<FusedLoc>(loc))
    for (Location part : fused.getLocations())
      if (std::string s = describeLocation(part); !s.empty())
        return s;
  return "";
}

//===----------------------------------------------------------------------===//
// Shape rules
//===----------------------------------------------------------------------===//

namespace {

SymExpr broadcastDim(const SymExpr &a, const SymExpr &b) {
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

SymShape broadcast(const SymShape &a, const SymShape &b) {
  size_t rank = std::max(a.size(), b.size());
  SymShape r(rank);
  for (size_t i = 0; i < rank; ++i) {
    SymExpr da = i < rank - a.size() ? SymExpr::constant(1) : a[i - (rank - a.size())];
    SymExpr db = i < rank - b.size() ? SymExpr::constant(1) : b[i - (rank - b.size())];
    r[i] = broadcastDim(da, db);
  }
  return r;
}

int64_t normalizeAxis(int64_t axis, size_t rank) {
  return axis < 0 ? axis + static_cast<int64_t>(rank) : axis;
}

SymShape staticShape(Type type) {
  SymShape r;
  if (auto t = dyn_cast<RankedTensorType>(type))
    for (int64_t d : t.getShape())
      r.push_back(ShapedType::isDynamic(d) ? SymExpr::unknown() : SymExpr::constant(d));
  return r;
}

SymExpr product(const SymShape &s) {
  SymExpr r = SymExpr::constant(1);
  for (const SymExpr &d : s)
    r = r * d;
  return r;
}

} // namespace

std::optional<int32_t> ShapeAnalysis::symbolIndex(llvm::StringRef name) const {
  for (size_t i = 0; i < symbols.size(); ++i)
    if (symbols[i].name == name)
      return static_cast<int32_t>(i);
  return std::nullopt;
}

const SymShape *ShapeAnalysis::shape(Value value) const {
  auto it = shapes.find(value);
  return it == shapes.end() ? nullptr : &it->second;
}

const std::vector<SymExpr> *ShapeAnalysis::contents(Value value) const {
  auto it = values.find(value);
  return it == values.end() ? nullptr : &it->second;
}

std::vector<planner::Dim> ShapeAnalysis::dims(Value value) const {
  std::vector<planner::Dim> out;
  if (const SymShape *s = shape(value))
    for (const SymExpr &d : *s)
      out.push_back(d.isConstant() ? planner::Dim::ofSize(d.coef)
                                   : planner::Dim::ofSymbol(d.powers.begin()->first));
  return out;
}

SymShape ShapeAnalysis::computeShape(Operation *op, std::string &why) {
  auto in = [&](unsigned i) -> SymShape {
    const SymShape *s = shape(op->getOperand(i));
    return s ? *s : staticShape(op->getOperand(i).getType());
  };
  auto sliceDim = [&](const SymExpr &dim, const SymExpr &start, const SymExpr &end,
                      int64_t step, int64_t axis) -> SymExpr {
    if (dim.isConstant() && start.isConstant() && end.isConstant()) {
      int64_t d = dim.coef, s = start.coef, e = end.coef;
      if (s < 0)
        s += d;
      if (e < 0)
        e += d;
      if (step > 0) {
        s = std::clamp<int64_t>(s, 0, d);
        e = std::clamp<int64_t>(e, 0, d);
        return SymExpr::constant(e > s ? (e - s + step - 1) / step : 0);
      }
      s = std::clamp<int64_t>(s, 0, d - 1);
      e = std::clamp<int64_t>(e, -1, d - 1);
      return SymExpr::constant(s > e ? (s - e - step - 1) / -step : 0);
    }
    if (step != 1 || !start.isConstant() || start.coef != 0)
      return SymExpr::unknown();
    if (end.isConstant() && end.coef >= INT32_MAX)
      return dim;
    if (end == dim)
      return end;
    if (dim.isConstant() && end.isSymbol()) {
      int32_t index = end.powers.begin()->first;
      const planner::Symbol &sym = symbols[index];
      if (collect) {
        found.push_back({index, dim.coef, describeTable(op->getOperand(0), dim.coef, axis)});
        return end;
      }
      if (sym.max > dim.coef) {
        why = "the slice end '" + sym.name + "' may exceed the dim (" + std::to_string(dim.coef) +
              ") at its max bound " + std::to_string(sym.max);
        return SymExpr::unknown();
      }
      return end;
    }
    return SymExpr::unknown();
  };

  return llvm::TypeSwitch<Operation *, SymShape>(op)
      .Case<AddOp, SubOp, MulOp, DivOp, PowOp, MaxOp>(
          [&](Operation *) { return broadcast(in(0), in(1)); })
      .Case<WhereOp>([&](Operation *) { return broadcast(broadcast(in(0), in(1)), in(2)); })
      .Case<SqrtOp, ErfOp, TanhOp, ReluOp, ExpOp, NegOp, LogOp, GeluOp, SoftmaxOp, CastOp,
            LayerNormalizationOp, LayerNormOp, AttentionOp, CachedAttentionOp>(
          [&](Operation *) { return in(0); })
      .Case<MatMulOp>([&](MatMulOp) {
        SymShape a = in(0), b = in(1);
        if (a.size() < 2 || b.size() < 2)
          return SymShape{};
        SymShape batch = broadcast(SymShape(a.begin(), a.end() - 2), SymShape(b.begin(), b.end() - 2));
        batch.push_back(a[a.size() - 2]);
        batch.push_back(b.back());
        return batch;
      })
      .Case<ReduceMeanOp, ReduceSumOp>([&](Operation *) {
        SymShape x = in(0), r;
        ArrayRef<int64_t> axes = isa<ReduceMeanOp>(op) ? cast<ReduceMeanOp>(op).getAxes()
                                                       : cast<ReduceSumOp>(op).getAxes();
        bool keep = isa<ReduceMeanOp>(op) ? cast<ReduceMeanOp>(op).getKeepdims()
                                          : cast<ReduceSumOp>(op).getKeepdims();
        for (size_t i = 0; i < x.size(); ++i) {
          bool reduced = llvm::any_of(
              axes, [&](int64_t a) { return normalizeAxis(a, x.size()) == (int64_t)i; });
          if (!reduced)
            r.push_back(x[i]);
          else if (keep)
            r.push_back(SymExpr::constant(1));
        }
        return r;
      })
      .Case<GatherOp>([&](GatherOp g) {
        SymShape data = in(0), idx = in(1), r;
        int64_t axis = normalizeAxis((int64_t)g.getAxis(), data.size());
        for (int64_t i = 0; i < (int64_t)data.size(); ++i) {
          if (i == axis)
            r.insert(r.end(), idx.begin(), idx.end());
          else
            r.push_back(data[i]);
        }
        return r;
      })
      .Case<TransposeOp>([&](TransposeOp t) {
        SymShape x = in(0), r;
        for (int64_t p : t.getPerm())
          r.push_back(p >= 0 && p < (int64_t)x.size() ? x[p] : SymExpr::unknown());
        return r;
      })
      .Case<ReshapeOp>([&](ReshapeOp rs) {
        SymShape x = in(0), r;
        int64_t inferred = -1;
        SymExpr known = SymExpr::constant(1);
        for (auto [i, s] : llvm::enumerate(rs.getShape())) {
          if (s == 0)
            r.push_back(i < x.size() ? x[i] : SymExpr::unknown());
          else if (s == -1) {
            inferred = (int64_t)i;
            r.push_back(SymExpr::unknown());
            continue;
          } else
            r.push_back(SymExpr::constant(s));
          known = known * r.back();
        }
        if (inferred >= 0) {
          r[inferred] = product(x).divide(known);
          if (!r[inferred].known)
            why = "the -1 dim is " + product(x).str(symbols) + " / " + known.str(symbols);
        }
        return r;
      })
      .Case<ConcatOp>([&](ConcatOp c) {
        SymShape r = in(0);
        int64_t axis = normalizeAxis((int64_t)c.getAxis(), r.size());
        if (axis < 0 || axis >= (int64_t)r.size())
          return SymShape{};
        int64_t total = 0;
        bool allStatic = true;
        for (unsigned i = 0; i < op->getNumOperands(); ++i) {
          SymShape s = in(i);
          if (axis >= (int64_t)s.size() || !s[axis].isConstant())
            allStatic = false;
          else
            total += s[axis].coef;
        }
        r[axis] = allStatic ? SymExpr::constant(total) : SymExpr::unknown();
        return r;
      })
      .Case<SliceOp>([&](SliceOp s) {
        SymShape r = in(0);
        const std::vector<SymExpr> *starts = contents(s.getStarts());
        const std::vector<SymExpr> *ends = contents(s.getEnds());
        ArrayRef<int64_t> axes = s.getAxes();
        std::optional<ArrayRef<int64_t>> steps = s.getSteps();
        for (size_t i = 0; i < axes.size(); ++i) {
          int64_t axis = normalizeAxis(axes[i], r.size());
          if (axis < 0 || axis >= (int64_t)r.size())
            return SymShape{};
          int64_t step = steps && i < steps->size() ? (*steps)[i] : 1;
          if (!starts || !ends || i >= starts->size() || i >= ends->size()) {
            if (why.empty())
              why = "the slice bounds are not known at compile time";
            r[axis] = SymExpr::unknown();
            continue;
          }
          r[axis] = sliceDim(r[axis], (*starts)[i], (*ends)[i], step, axis);
        }
        return r;
      })
      .Case<ShapeOp>([&](ShapeOp) {
        return SymShape{SymExpr::constant((int64_t)in(0).size())};
      })
      .Case<ExpandOp>([&](ExpandOp e) {
        const std::vector<SymExpr> *target = contents(e.getShape());
        if (!target) {
          why = "the expand shape is not known at compile time";
          return staticShape(op->getResult(0).getType());
        }
        return broadcast(in(0), *target);
      })
      .Case<LinearOp>([&](LinearOp) {
        SymShape x = in(0), w = in(1);
        if (x.empty() || w.size() != 2)
          return SymShape{};
        x.back() = w.back();
        return x;
      })
      .Case<EmbeddingOp>([&](EmbeddingOp) {
        SymShape ids = in(0), tokens = in(1);
        if (tokens.size() != 2)
          return SymShape{};
        ids.push_back(tokens.back());
        return ids;
      })
      .Default([&](Operation *) { return staticShape(op->getResult(0).getType()); });
}

void ShapeAnalysis::computeContents(Operation *op) {
  if (op->getNumResults() != 1)
    return;
  Value result = op->getResult(0);
  auto type = dyn_cast<RankedTensorType>(result.getType());
  if (!type || !type.getElementType().isSignlessInteger() ||
      type.getElementType().getIntOrFloatBitWidth() < 32 || type.getRank() > 1 ||
      !type.hasStaticShape() || type.getNumElements() > 16)
    return;
  auto operand = [&](unsigned i) { return contents(op->getOperand(i)); };
  std::optional<std::vector<SymExpr>> out;
  if (auto c = dyn_cast<ConstantOp>(op)) {
    if (auto dense = dyn_cast<DenseIntElementsAttr>(c.getValue())) {
      out.emplace();
      for (const APInt &v : dense.getValues<APInt>())
        out->push_back(SymExpr::constant(v.getSExtValue()));
    }
  } else if (auto s = dyn_cast<ShapeOp>(op)) {
    if (const SymShape *in = shape(s.getInput()))
      out = *in;
  } else if (auto g = dyn_cast<GatherOp>(op)) {
    const std::vector<SymExpr> *data = operand(0), *idx = operand(1);
    if (data && idx && (int64_t)g.getAxis() == 0) {
      out.emplace();
      for (const SymExpr &i : *idx) {
        if (!i.isConstant())
          return;
        int64_t k = i.coef < 0 ? i.coef + (int64_t)data->size() : i.coef;
        if (k < 0 || k >= (int64_t)data->size())
          return;
        out->push_back((*data)[k]);
      }
    }
  } else if (isa<ConcatOp>(op)) {
    out.emplace();
    for (unsigned i = 0; i < op->getNumOperands(); ++i) {
      const std::vector<SymExpr> *part = operand(i);
      if (!part)
        return;
      out->insert(out->end(), part->begin(), part->end());
    }
  } else if (isa<ReshapeOp, CastOp>(op)) {
    if (const std::vector<SymExpr> *in = operand(0))
      out = *in;
  } else if (isa<MulOp, DivOp, AddOp, SubOp>(op)) {
    const std::vector<SymExpr> *a = operand(0), *b = operand(1);
    if (!a || !b || (a->size() != b->size() && a->size() != 1 && b->size() != 1))
      return;
    out.emplace();
    for (size_t i = 0, n = std::max(a->size(), b->size()); i < n; ++i) {
      const SymExpr &x = (*a)[a->size() == 1 ? 0 : i], &y = (*b)[b->size() == 1 ? 0 : i];
      if (isa<MulOp>(op))
        out->push_back(x * y);
      else if (isa<DivOp>(op))
        out->push_back(x.divide(y));
      else if (x.isConstant() && y.isConstant())
        out->push_back(SymExpr::constant(isa<AddOp>(op) ? x.coef + y.coef : x.coef - y.coef));
      else if (y.isConstant() && y.coef == 0)
        out->push_back(x);
      else
        out->push_back(SymExpr::unknown());
    }
  }
  if (out && (int64_t)out->size() == std::max<int64_t>(type.getNumElements(), 1))
    values[result] = std::move(*out);
}

bool ShapeAnalysis::run(func::FuncOp func, std::string &error) {
  for (BlockArgument arg : func.getArguments()) {
    auto type = dyn_cast<RankedTensorType>(arg.getType());
    if (!type) {
      error = "argument " + std::to_string(arg.getArgNumber()) + " is not a ranked tensor";
      return false;
    }
    auto names = func.getArgAttrOfType<ArrayAttr>(arg.getArgNumber(), "tfc.dims");
    SymShape s;
    for (int64_t i = 0; i < type.getRank(); ++i) {
      if (!type.isDynamicDim(i)) {
        s.push_back(SymExpr::constant(type.getDimSize(i)));
        continue;
      }
      auto name = names && i < (int64_t)names.size() ? dyn_cast<StringAttr>(names[i]) : nullptr;
      std::optional<int32_t> sym = name ? symbolIndex(name.getValue()) : std::nullopt;
      if (!sym) {
        error = "argument " + std::to_string(arg.getArgNumber()) + ": dim " + std::to_string(i) +
                " is dynamic but tfc.dims names no symbol for it";
        return false;
      }
      s.push_back(SymExpr::symbol(*sym));
    }
    shapes[arg] = std::move(s);
  }

  for (Operation &op : func.getBody().front()) {
    if (op.getNumResults() == 0)
      continue;
    std::string why;
    SymShape computed = computeShape(&op, why);
    for (OpResult result : op.getResults()) {
      auto type = dyn_cast<RankedTensorType>(result.getType());
      if (!type) {
        error = "'" + op.getName().getStringRef().str() + "' at '" +
                describeLocation(op.getLoc()) + "': the result is not a ranked tensor";
        return false;
      }
      SymShape s(type.getRank());
      for (int64_t i = 0; i < type.getRank(); ++i) {
        if (!type.isDynamicDim(i)) {
          s[i] = SymExpr::constant(type.getDimSize(i));
          continue;
        }
        SymExpr d = i < (int64_t)computed.size() && computed.size() == (size_t)type.getRank()
                        ? computed[i]
                        : SymExpr::unknown();
        if (!d.isConstant() && !d.isSymbol()) {
          std::string operands;
          for (Value v : op.getOperands()) {
            const SymShape *os = shape(v);
            std::string t = "[";
            for (size_t k = 0; os && k < os->size(); ++k)
              t += (k ? ", " : "") + (*os)[k].str(symbols);
            operands += (operands.empty() ? "" : ", ") + t + "]";
          }
          error = "'" + op.getName().getStringRef().str() + "' at '" +
                  describeLocation(op.getLoc()) + "': cannot resolve dim " + std::to_string(i) +
                  " of the result to a symbol (got " + d.str(symbols) + "; operands " +
                  operands + ")" + (why.empty() ? "" : ": " + why);
          return false;
        }
        s[i] = d;
      }
      shapes[result] = std::move(s);
    }
    computeContents(&op);
  }
  return true;
}

} // namespace tfc::lower
