//===- SymbolBounds.cpp - the bound of each symbol: flags, graph limits, defaults ---===//
//
// Expects a module whose functions name their symbolic dims in `tfc.dims` (the frontends'
// output, before or after the pass pipeline).
//
//===----------------------------------------------------------------------===//
#include "tfc/lower/cpu/SymbolBounds.h"

#include "tfc/lower/cpu/SymbolicShapes.h"

#include "tfc/IR/SymbolNames.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"

#include <algorithm>
#include <limits>

namespace tfc::lower {

using namespace mlir;

namespace {

std::vector<func::FuncOp> planFunctions(ModuleOp module, const std::string &function) {
  std::vector<func::FuncOp> out;
  auto entry = module.lookupSymbol<func::FuncOp>(function);
  if (!entry || entry.isExternal())
    return out;
  out.push_back(entry);
  for (auto f : module.getOps<func::FuncOp>())
    if (f != entry && f->hasAttr("tfc.cache_op") && !f.isExternal())
      out.push_back(f);
  return out;
}

} // namespace

void addLimit(SymbolLimits &limits, const std::string &name, int64_t max,
              const std::string &source) {
  auto it = limits.find(name);
  if (it == limits.end() || max < it->second.max)
    limits[name] = {max, source};
}

std::vector<std::string> moduleSymbols(ModuleOp module, const std::string &function) {
  std::vector<std::string> names;
  for (func::FuncOp f : planFunctions(module, function))
    for (unsigned i = 0; i < f.getNumArguments(); ++i)
      if (auto dims = f.getArgAttrOfType<ArrayAttr>(i, "tfc.dims"))
        for (Attribute a : dims) {
          auto name = dyn_cast<StringAttr>(a);
          if (name && !name.getValue().empty() &&
              std::find(names.begin(), names.end(), name.str()) == names.end())
            names.push_back(name.str());
        }
  return names;
}

void findGraphLimits(ModuleOp module, const std::string &function, SymbolLimits &limits) {
  std::vector<planner::Symbol> symbols;
  for (const std::string &name : moduleSymbols(module, function))
    symbols.push_back({name, 1, std::numeric_limits<int64_t>::max(), ""});
  for (func::FuncOp f : planFunctions(module, function)) {
    if (!llvm::hasSingleElement(f.getBody()))
      continue;
    ShapeAnalysis shapes(symbols);
    shapes.collectLimits(true);
    std::string error;
    (void)shapes.run(f, error);  // what it found before a failure still holds
    for (const ShapeAnalysis::Limit &l : shapes.limits())
      addLimit(limits, symbols[l.symbol].name, l.size, l.what);
  }
}

planner::Status resolveBounds(const std::vector<std::string> &symbols,
                              const BoundRequest &request, const SymbolLimits &limits,
                              const SequenceDefault &seqDefault,
                              std::vector<planner::Symbol> &out) {
  out.clear();
  for (const auto &[name, bound] : request.named)
    if (std::find(symbols.begin(), symbols.end(), name) == symbols.end()) {
      std::string known;
      for (const std::string &s : symbols)
        known += (known.empty() ? "" : ", ") + s;
      return {"--bound " + name + "=" + std::to_string(bound) + ": the model has no symbol '" +
              name + "' (its symbols: " + (known.empty() ? "none" : known) + ")"};
    }
  for (const std::string &name : symbols) {
    bool batch = mlir::tfc::isBatchSymbol(name);
    int64_t asked = 0;
    std::string flag;
    if (auto it = request.named.find(name); it != request.named.end()) {
      asked = it->second;
      flag = "--bound " + name + "=" + std::to_string(asked);
    } else if (batch && request.maxBatch != 0) {
      asked = request.maxBatch;
      flag = "--max-batch " + std::to_string(asked);
    } else if (!batch && request.maxSeq != 0) {
      asked = request.maxSeq;
      flag = "--max-seq " + std::to_string(asked);
    }
    auto limit = limits.find(name);
    planner::Symbol sym;
    sym.name = name;
    sym.min = 1;
    if (!flag.empty()) {
      if (asked < 1)
        return {flag + ": a bound must be at least 1"};
      if (limit != limits.end() && asked > limit->second.max)
        return {flag + " exceeds what the model allows for '" + name + "': " +
                std::to_string(limit->second.max) + " (" + limit->second.source + ")"};
      sym.max = asked;
      sym.source = flag.substr(0, flag.find(' '));
    } else {
      sym.max = batch ? kDefaultMaxBatch : seqDefault.max;
      sym.source = batch ? "default" : seqDefault.source;
      if (limit != limits.end() && limit->second.max < sym.max) {
        sym.max = limit->second.max;
        sym.source = limit->second.source;
      }
    }
    out.push_back(std::move(sym));
  }
  return {};
}

} // namespace tfc::lower
