//===- ShapeAnalysis.cpp - symbolic dims and small shape tensors of a function ---===//
//
// Expects a function of tfc IR (primitive or fused) with `tfc.dims` on its arguments. The
// shape rules are the ops' own (SymbolicShapeOpInterface); this file seeds the arguments,
// runs the rules in order, checks that every `?` dim resolved, and decides what a slice of a
// static table by a symbol means (a limit in collect mode, else a check against the bound).
//
//===----------------------------------------------------------------------===//
#include "tfc/analysis/ShapeAnalysis.h"

#include "tfc/IR/TfcDialect.h"

#include "mlir/IR/BuiltinAttributes.h"

namespace tfc::analysis {

using namespace mlir;
using namespace mlir::tfc;

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

namespace {

/// "matmul x2, add": names without their dialect, in first-seen order, repeats counted.
std::string countedNames(ArrayAttr names) {
  SmallVector<std::pair<std::string, int>> counts;
  for (Attribute a : names) {
    auto s = dyn_cast<StringAttr>(a);
    if (!s)
      continue;
    StringRef name = s.getValue();
    name.consume_front("tfc.");
    auto it = llvm::find_if(counts, [&](const auto &c) { return c.first == name; });
    if (it == counts.end())
      counts.push_back({name.str(), 1});
    else
      ++it->second;
  }
  std::string out;
  for (const auto &[name, n] : counts)
    out += (out.empty() ? "" : ", ") + name + (n > 1 ? " x" + std::to_string(n) : "");
  return out;
}

void collectFused(Location loc, bool outer, std::string &out) {
  auto fused = dyn_cast<FusedLoc>(loc);
  if (!fused)
    return;
  if (auto names = dyn_cast_or_null<ArrayAttr>(fused.getMetadata())) {
    std::string list = countedNames(names);
    out += outer ? list : (out.empty() ? "(" : " (") + list + ")";
    outer = false;
  }
  for (Location part : fused.getLocations())
    collectFused(part, outer, out);
}

} // namespace

std::string fusedOpNames(Location loc) {
  std::string out;
  collectFused(loc, true, out);
  return out;
}

std::optional<int32_t> ShapeAnalysis::symbolIndex(llvm::StringRef name) const {
  for (size_t i = 0; i < symbolTable.size(); ++i)
    if (symbolTable[i].name == name)
      return static_cast<int32_t>(i);
  return std::nullopt;
}

const SymShape *ShapeAnalysis::shape(Value value) const {
  auto it = shapes.find(value);
  return it == shapes.end() ? nullptr : &it->second;
}

const SymContents *ShapeAnalysis::contents(Value value) const {
  auto it = values.find(value);
  return it == values.end() ? nullptr : &it->second;
}

SymShape ShapeAnalysis::operandShape(Value value) const {
  const SymShape *s = shape(value);
  return s ? *s : staticSymbolicShape(value.getType());
}

SymExpr ShapeAnalysis::symbolWithin(const SymExpr &end, int64_t size, Value table, int64_t axis,
                                    std::string &why) {
  int32_t index = end.powers.begin()->first;
  const ShapeSymbol &sym = symbolTable[index];
  if (collect) {
    found.push_back({index, size, describeTable(table, size, axis)});
    return end;
  }
  if (sym.max > size) {
    why = "the slice end '" + sym.name + "' may exceed the dim (" + std::to_string(size) +
          ") at its max bound " + std::to_string(sym.max);
    return SymExpr::unknown();
  }
  return end;
}

/// Only small integer tensors carry contents: 1-D or scalar i32/i64 of at most 16 elements.
void ShapeAnalysis::computeContents(Operation *op) {
  auto rule = dyn_cast<SymbolicShapeOpInterface>(op);
  if (!rule || op->getNumResults() != 1)
    return;
  Value result = op->getResult(0);
  auto type = dyn_cast<RankedTensorType>(result.getType());
  if (!type || !type.getElementType().isSignlessInteger() ||
      type.getElementType().getIntOrFloatBitWidth() < 32 || type.getRank() > 1 ||
      !type.hasStaticShape() || type.getNumElements() > 16)
    return;
  std::optional<SymContents> out = rule.inferSymbolicContents(*this);
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
    auto where = [&] {
      return "'" + op.getName().getStringRef().str() + "' at '" + describeLocation(op.getLoc()) +
             "'";
    };
    auto rule = dyn_cast<SymbolicShapeOpInterface>(&op);
    if (!rule) {
      error = where() + ": the op has no symbolic shape rule (SymbolicShapeOpInterface)";
      return false;
    }
    std::string why;
    SymShape computed = rule.inferSymbolicShape(*this, why);
    for (OpResult result : op.getResults()) {
      auto type = dyn_cast<RankedTensorType>(result.getType());
      if (!type) {
        error = where() + ": the result is not a ranked tensor";
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
              t += (k ? ", " : "") + str((*os)[k]);
            operands += (operands.empty() ? "" : ", ") + t + "]";
          }
          error = where() + ": cannot resolve dim " + std::to_string(i) +
                  " of the result to a symbol (got " + str(d) + "; operands " + operands + ")" +
                  (why.empty() ? "" : ": " + why);
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

} // namespace tfc::analysis
