//===- LowerToPlan.cpp - one CPU kernel per tfc op -------------------------===//
//
// Expects a verified module (the driver's pipeline output): one block per function, tfc ops
// and a func.return. Shapes come from ShapeAnalysis; memory is planned later. Which kernel an
// op becomes, with which options, is the op's CpuKernelLoweringOpInterface (CpuKernels.cpp);
// this file walks the functions, gathers values, constants and cache slots.
//
//===----------------------------------------------------------------------===//
#include "tfc/lower/cpu/LowerToPlan.h"

#include "tfc/lower/cpu/CpuKernelLowering.h"
#include "tfc/lower/cpu/SymbolicShapes.h"
#include "tfc/lower/cpu/WeightPrecision.h"
#include "tfc/support/Float16.h"
#include "tfc/support/SymbolNames.h"
#include "tfc/target/Target.h"

#include "tfc/IR/SymbolNames.h"
#include "tfc/IR/TfcDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/DenseMap.h"

#include <algorithm>
#include <cstring>
#include <map>

namespace tfc::lower {

using namespace mlir;
using namespace mlir::tfc;
namespace fb = ::tfc::plan;
using planner::Status;

namespace {

std::optional<fb::DType> dtypeOf(Type type) {
  auto t = dyn_cast<RankedTensorType>(type);
  if (!t)
    return std::nullopt;
  Type e = t.getElementType();
  if (e.isF32())
    return fb::DType::F32;
  if (e.isF16())
    return fb::DType::F16;
  if (e.isBF16())
    return fb::DType::BF16;
  if (e.isSignlessInteger(64))
    return fb::DType::I64;
  if (e.isSignlessInteger(32))
    return fb::DType::I32;
  if (e.isSignlessInteger(8))
    return fb::DType::I8;
  if (e.isSignlessInteger(1))
    return fb::DType::Bool;
  return std::nullopt;
}

/// The bytes of a dense constant in the plan's layout (i1 as one byte 0/1; little-endian).
bool constantBytes(ElementsAttr attr, fb::DType dtype, std::vector<uint8_t> &out) {
  auto dense = dyn_cast<DenseElementsAttr>(attr);
  if (!dense)
    return false;
  uint64_t size = planner::dtypeSize(dtype);
  out.clear();
  out.reserve(size * dense.getNumElements());
  auto put = [&](uint64_t raw) {
    uint8_t b[8];
    std::memcpy(b, &raw, sizeof(raw));
    out.insert(out.end(), b, b + size);
  };
  Type e = dense.getElementType();
  if (isa<FloatType>(e)) {
    for (const APFloat &f : dense.getValues<APFloat>())
      put(f.bitcastToAPInt().getZExtValue());
    return true;
  }
  if (e.isSignlessInteger(1)) {
    for (bool v : dense.getValues<bool>())
      out.push_back(v ? 1 : 0);
    return true;
  }
  if (e.isSignlessInteger()) {
    for (const APInt &v : dense.getValues<APInt>())
      put(static_cast<uint64_t>(v.getSExtValue()));
    return true;
  }
  return false;
}

/// `n` f32 values at `in` (any alignment) as f16 (`bf16` false) or bf16 bits; returns how many
/// finite values were beyond the range (saturated to the largest finite value).
size_t convertWeight(const uint8_t *in, uint64_t n, bool bf16, uint8_t *out) {
  size_t overflowed = 0;
  float chunk[1024];
  uint16_t bits[1024];
  for (uint64_t i = 0; i < n; i += 1024) {
    size_t m = size_t(std::min<uint64_t>(1024, n - i));
    std::memcpy(chunk, in + i * 4, m * 4);
    overflowed += ::tfc::support::convertFloats(chunk, m, bf16,
                                                ::tfc::support::Overflow::Saturate, bits);
    std::memcpy(out + i * 2, bits, m * 2);
  }
  return overflowed;
}

/// The runtime refuses values above its rank limit: say so here, naming the value.
Status checkRank(Value v, const std::string &what) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  if (t && t.getRank() > planner::kMaxRank)
    return {what + " has rank " + std::to_string(t.getRank()) +
            "; the runtime supports at most " + std::to_string(planner::kMaxRank)};
  return {};
}

class Lowering : public KernelLowering {
public:
  Lowering(const WeightLookup &weights, const LowerOptions &options, planner::Plan &plan,
           planner::Function &fn, ShapeAnalysis &shapes,
           std::map<std::string, int32_t> &weightConstants, int64_t &numConstants)
      : weights(weights), options(options), plan(plan), fn(fn), shapes(shapes),
        weightConstants(weightConstants), numConstants(numConstants) {}

  Status lowerBody(func::FuncOp func);

  // KernelLowering (what the ops' CpuKernelLoweringOpInterface models see).
  int32_t valueId(Value v) const override { return id(v); }
  Status useCacheSlot(Operation *op, int64_t slot, fb::CacheKind kind, int64_t numHeads,
                      Value kv) override;
  const planner::CacheSlot *findCacheSlot(int64_t slot) const override {
    return slot >= 0 && (size_t)slot < plan.caches.size() ? &plan.caches[slot] : nullptr;
  }

private:
  std::string where(Operation *op) const { return describeOp(op); }
  int32_t addValue(Value v, fb::ValueKind kind, std::string name) {
    planner::Value value;
    value.kind = kind;
    value.dtype = *dtypeOf(v.getType());
    value.dims = shapes.dims(v);
    value.name = std::move(name);
    fn.values.push_back(std::move(value));
    int32_t index = (int32_t)fn.values.size() - 1;
    ids[v] = index;
    return index;
  }
  int32_t id(Value v) const { return v ? ids.lookup(v) : -1; }
  Status lowerWeight(WeightOp op);
  Status lowerConstant(ConstantOp op);
  Status lowerKernel(Operation *op);
  /// "" when the target runs `k` (its kind, with the float dtypes of its values).
  std::string targetProblem(const planner::Kernel &k) const {
    return ::tfc::target::checkKernelOf(options.target, fn, k);
  }

  const WeightLookup &weights;
  const LowerOptions &options;
  planner::Plan &plan;
  planner::Function &fn;
  ShapeAnalysis &shapes;
  llvm::DenseMap<Value, int32_t> ids;

  std::map<std::string, int32_t> &weightConstants;  // "name@dtype" -> Plan::constants index
  int64_t &numConstants;                            // shared by the plan's functions
};

/// Records (or checks against) the slot's description in Plan::caches.
Status Lowering::useCacheSlot(Operation *op, int64_t slot, fb::CacheKind kind,
                              int64_t numHeads, Value kv) {
  auto type = cast<RankedTensorType>(kv.getType());
  if (type.getRank() != 3 || type.isDynamicDim(2) || numHeads < 1 || type.getDimSize(2) % numHeads)
    return {where(op) + ": the cached keys/values need a static width divisible by the heads"};
  if (slot < 0 || slot > 4096)
    return {where(op) + ": cache slot " + std::to_string(slot) + " is out of range"};
  if ((size_t)slot >= plan.caches.size())
    plan.caches.resize(slot + 1);
  planner::CacheSlot &c = plan.caches[slot];
  int32_t headDim = (int32_t)(type.getDimSize(2) / numHeads);
  fb::DType dtype = *dtypeOf(type);
  if (std::string e = ::tfc::target::checkCacheDtype(options.target, dtype); !e.empty())
    return {where(op) + ": cache slot " + std::to_string(slot) + ": " + e};
  // The positions a slot holds: the bound of the sequence symbol of what fills it (a self
  // slot: the query's positions; a cross slot: the keys CacheStore writes). Slots that no
  // symbol describes get the largest sequence bound after lowering.
  int64_t length = 0;
  if (kind == fb::CacheKind::Self || isa<CacheStoreOp>(op)) {
    std::vector<planner::Dim> dims = shapes.dims(kv);
    if (dims.size() == 3 && dims[1].isSymbolic())
      length = plan.symbols[dims[1].symbol].max;
  }
  if (c.numHeads == 0) {
    c.name = describeLocation(op->getLoc());
    c.kind = kind;
    c.numHeads = (int32_t)numHeads;
    c.headDim = headDim;
    c.maxLength = length;
    c.dtype = dtype;
  } else if (c.kind != kind || c.numHeads != numHeads || c.headDim != headDim) {
    return {where(op) + ": cache slot " + std::to_string(slot) +
            " is used with different kinds or shapes"};
  } else if (c.dtype != dtype) {
    return {where(op) + ": cache slot " + std::to_string(slot) + " is used with " +
            planner::dtypeName(c.dtype) + " and " + planner::dtypeName(dtype) + " keys/values"};
  } else {
    c.maxLength = std::max(c.maxLength, length);
  }
  return {};
}

Status Lowering::lowerWeight(WeightOp op) {
  std::string name = op.getName().str();
  if (Status s = checkRank(op.getResult(), where(op) + ": weight '" + name + "'"); !s.ok())
    return s;
  auto type = cast<RankedTensorType>(op.getType());
  std::optional<fb::DType> dtype = dtypeOf(type);
  if (!dtype || !::tfc::target::isFloat(*dtype))
    return {where(op) + ": weight '" + name + "' must be f32, f16 or bf16"};
  // The model's f32 bytes, or (f16/bf16: tfc-convert-precision retyped the weight) converted.
  std::string key = name + "@" + planner::dtypeName(*dtype);
  auto it = weightConstants.find(key);
  if (it == weightConstants.end()) {
    WeightData data;
    if (!weights || !weights(name, data))
      return {where(op) + ": the model has no weight '" + name + "'"};
    uint64_t n = 1;
    for (int64_t d : data.shape)
      n *= uint64_t(d < 0 ? 0 : d);
    if (data.shape != std::vector<int64_t>(type.getShape().begin(), type.getShape().end()) ||
        data.bytes.size != n * sizeof(float))
      return {where(op) + ": weight '" + name + "' does not match its type in the IR"};
    planner::Constant c;
    // The first dtype of a weight keeps its name; another (a weight read in both f32 and the
    // precision) is "name@dtype".
    c.name = name;
    for (const auto &[k, index] : weightConstants)
      if (k.compare(0, name.size() + 1, name + "@") == 0)
        c.name = key;
    c.dtype = *dtype;
    c.shape = data.shape;
    if (*dtype == fb::DType::F32) {
      c.bytes = data.bytes;
    } else {
      auto bytes = std::make_shared<std::vector<uint8_t>>(n * 2);
      bool bf16 = *dtype == fb::DType::BF16;
      size_t overflowed = convertWeight(data.bytes.data(), n, bf16, bytes->data());
      if (overflowed && options.warnings)
        options.warnings->push_back(
            "weight '" + name + "': " + std::to_string(overflowed) + " value(s) beyond the " +
            planner::dtypeName(*dtype) + " range saturated to the largest finite value");
      c.bytes.size = bytes->size();
      c.bytes.storage = std::move(bytes);
    }
    plan.constants.push_back(std::move(c));
    it = weightConstants.emplace(key, (int32_t)plan.constants.size() - 1).first;
  }
  int32_t v = addValue(op.getResult(), fb::ValueKind::Constant, name);
  fn.values[v].constant = it->second;
  return {};
}

Status Lowering::lowerConstant(ConstantOp op) {
  if (Status s = checkRank(op.getResult(), where(op) + ": the constant"); !s.ok())
    return s;
  auto type = cast<RankedTensorType>(op.getType());
  fb::DType dtype = *dtypeOf(type);
  auto bytes = std::make_shared<std::vector<uint8_t>>();
  if (!constantBytes(op.getValue(), dtype, *bytes))
    return {where(op) + ": unsupported constant attribute (expected dense elements)"};
  planner::Constant c;
  c.name = "const." + std::to_string(numConstants++);
  c.dtype = dtype;
  c.shape.assign(type.getShape().begin(), type.getShape().end());
  c.bytes.size = bytes->size();
  c.bytes.storage = std::move(bytes);
  plan.constants.push_back(c);
  int32_t v = addValue(op.getResult(), fb::ValueKind::Constant, c.name);
  fn.values[v].constant = (int32_t)plan.constants.size() - 1;
  return {};
}

Status Lowering::lowerKernel(Operation *op) {
  auto lowering = dyn_cast<CpuKernelLoweringOpInterface>(op);
  if (!lowering)
    return {where(op) + ": no CPU kernel for this op (it does not implement "
                        "CpuKernelLoweringOpInterface)"};
  planner::Kernel k;
  k.name = describeLocation(op->getLoc());
  k.origin = ::tfc::analysis::fusedOpNames(op->getLoc());
  for (Value operand : op->getOperands())
    k.inputs.push_back(id(operand));
  if (Status s = lowering.lowerToCpuKernel(*this, k); !s.ok())
    return s;
  std::string mnemonic = op->getName().stripDialect().str();
  for (Value result : op->getResults()) {
    if (!dtypeOf(result.getType()))
      return {where(op) + ": unsupported result element type"};
    if (Status s = checkRank(result, where(op) + ": the result"); !s.ok())
      return s;
    k.outputs.push_back(addValue(result, fb::ValueKind::Intermediate,
                                 (k.name.empty() ? "" : k.name + "/") + mnemonic));
  }
  if (std::string e = targetProblem(k); !e.empty())
    return {where(op) + ": " + e};
  fn.kernels.push_back(std::move(k));
  return {};
}

Status Lowering::lowerBody(func::FuncOp func) {
  for (BlockArgument arg : func.getArguments()) {
    if (!dtypeOf(arg.getType()))
      return {"argument " + std::to_string(arg.getArgNumber()) + " has an unsupported type"};
    auto name = func.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "tfc.name");
    std::string portName = name ? name.str() : "input" + std::to_string(arg.getArgNumber());
    if (Status s = checkRank(arg, "input '" + portName + "'"); !s.ok())
      return s;
    int32_t v = addValue(arg, fb::ValueKind::Input, portName);
    fn.values[v].port = (int32_t)fn.inputs.size();
    fn.inputs.push_back({portName, v});
  }
  for (Operation &op : func.getBody().front()) {
    Status s;
    if (auto w = dyn_cast<WeightOp>(op))
      s = lowerWeight(w);
    else if (auto c = dyn_cast<ConstantOp>(op))
      s = lowerConstant(c);
    else if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      for (auto [i, operand] : llvm::enumerate(ret.getOperands())) {
        auto name = func.getResultAttrOfType<StringAttr>(i, "tfc.name");
        std::string portName = name ? name.str() : "output" + std::to_string(i);
        int32_t v = id(operand);
        if (fn.values[v].kind != fb::ValueKind::Intermediate) {
          // An input, a constant or a value already returned: copy it into its own output.
          planner::Value copy = fn.values[v];
          copy.kind = fb::ValueKind::Output;
          copy.constant = -1;
          copy.arenaOffset = 0;
          copy.name = portName;
          fn.values.push_back(copy);
          int32_t out = (int32_t)fn.values.size() - 1;
          fn.kernels.push_back({fb::KernelKind::Reshape, {v}, {out}, {}, portName});
          if (std::string e = targetProblem(fn.kernels.back()); !e.empty())
            return {"output '" + portName + "': " + e};
          v = out;
        }
        fn.values[v].kind = fb::ValueKind::Output;
        fn.values[v].port = (int32_t)fn.outputs.size();
        fn.outputs.push_back({portName, v});
      }
    } else if (op.getDialect() && op.getDialect()->getNamespace() == "tfc")
      s = lowerKernel(&op);
    else
      s = {where(&op) + ": not a tfc op"};
    if (!s.ok())
      return s;
  }
  return {};
}

} // namespace

std::string describeOp(Operation *op) {
  return "'" + op->getName().getStringRef().str() + "' at '" + describeLocation(op->getLoc()) +
         "'";
}

Status planSymbols(ModuleOp module, const LowerOptions &options,
                   std::vector<planner::Symbol> &out) {
  std::vector<std::string> names = moduleSymbols(module, options.function);
  SymbolLimits limits = options.limits;
  SequenceDefault seqDefault;
  if (options.maxPositions > 0) {
    seqDefault = {options.maxPositions, "max_positions of the model"};
    for (const std::string &name : names)
      if (!mlir::tfc::isBatchSymbol(name))
        addLimit(limits, name, options.maxPositions, seqDefault.source);
  }
  findGraphLimits(module, options.function, limits);
  return resolveBounds(names, options.bounds, limits, seqDefault, out);
}

Status lowerToPlan(ModuleOp module, const WeightLookup &weights, const LowerOptions &options,
                   planner::Plan &plan) {
  plan = planner::Plan();
  plan.target = options.target;
  if (std::string e = ::tfc::target::checkPrecision(options.target, options.precision);
      !e.empty())
    return {e};
  // cpu bf16/int8: the activations stay f32, the weights are converted after lowering.
  const ::tfc::target::PlanPrecisions precisions =
      ::tfc::target::planPrecisions(options.target, options.precision);
  plan.precision = precisions.activations;
  auto func = module.lookupSymbol<func::FuncOp>(options.function);
  if (!func || func.isExternal())
    return {"the module has no function '" + options.function + "'"};

  // The entry function, then the generation functions derived from it (in module order).
  std::vector<func::FuncOp> functions = {func};
  for (auto f : module.getOps<func::FuncOp>())
    if (f != func && f->hasAttr("tfc.cache_op"))
      functions.push_back(f);
  for (func::FuncOp f : functions)
    if (!llvm::hasSingleElement(f.getBody()))
      return {"function '" + f.getSymName().str() + "' must have one block"};

  // Symbols and their bounds.
  if (Status s = planSymbols(module, options, plan.symbols); !s.ok())
    return s;

  // Model info.
  if (auto a = module->getAttrOfType<StringAttr>("tfc.family"))
    plan.model.family = a.str();
  if (auto a = module->getAttrOfType<StringAttr>("tfc.model_name"))
    plan.model.name = a.str();
  if (auto a = module->getAttrOfType<DenseI32ArrayAttr>("tfc.special_tokens");
      a && a.size() == 4) {
    plan.model.startId = a[0];
    plan.model.endId = a[1];
    plan.model.unkId = a[2];
    plan.model.padId = a[3];
  }
  if (auto g = module->getAttrOfType<DictionaryAttr>("tfc.generation")) {
    auto str = [&](const char *key) {
      auto v = g.getAs<StringAttr>(key);
      return v ? v.str() : std::string();
    };
    plan.generation.mode = str("mode");
    plan.generation.reason = str("reason");
    plan.generation.tokenInput = str("token_input");
    if (auto keys = g.getAs<ArrayAttr>("key_mask_inputs"))
      for (Attribute k : keys)
        if (auto n = dyn_cast<StringAttr>(k))
          plan.generation.keyMaskInputs.push_back(n.str());
  }

  std::map<std::string, int32_t> weightConstants;
  int64_t numConstants = 0;
  for (func::FuncOp f : functions) {
    std::string name = f.getSymName().str();
    ShapeAnalysis shapes(plan.symbols);
    std::string error;
    if (!shapes.run(f, error))
      return {"function '" + name + "': " + error};
    plan.functions.emplace_back();
    planner::Function &fn = plan.functions.back();
    fn.name = name;
    if (auto op = f->getAttrOfType<StringAttr>("tfc.cache_op")) {
      if (op.getValue() == "prefill")
        fn.cacheOp = fb::CacheOp::Prefill;
      else if (op.getValue() == "append")
        fn.cacheOp = fb::CacheOp::Append;
      else if (op.getValue() == "encode")
        fn.cacheOp = fb::CacheOp::Encode;
      else
        return {"function '" + name + "': unknown tfc.cache_op '" + op.getValue().str() + "'"};
    }
    Lowering lowering(weights, options, plan, fn, shapes, weightConstants, numConstants);
    if (Status s = lowering.lowerBody(f); !s.ok())
      return {"function '" + name + "': " + s.error};
  }
  if (precisions.weights != fb::DType::F32)
    if (Status s = convertWeightPrecision(plan, precisions.weights, options.warnings,
                                          options.weightConversion);
        !s.ok())
      return s;
  // The session holds each slot for the bound of the batch symbol (1 without one; the same
  // rule as the runtime's, support/SymbolNames.h) and refuses a slot above 2^48 bytes.
  int64_t maxRows = 1;
  if (int b = ::tfc::support::batchSymbolIndex(plan.symbols); b >= 0)
    maxRows = std::max<int64_t>(plan.symbols[size_t(b)].max, 1);
  int64_t maxSeq = 0;  // the largest sequence bound
  for (const planner::Symbol &sym : plan.symbols)
    if (!mlir::tfc::isBatchSymbol(sym.name))
      maxSeq = std::max(maxSeq, sym.max);
  for (size_t i = 0; i < plan.caches.size(); ++i) {
    planner::CacheSlot &c = plan.caches[i];
    if (c.numHeads == 0)
      return {"cache slot " + std::to_string(i) + " is never used"};
    if (c.maxLength == 0)
      c.maxLength = maxSeq;
    uint64_t bytes = planner::dtypeSize(c.dtype);
    if (__builtin_mul_overflow(bytes, (uint64_t)maxRows, &bytes) ||
        __builtin_mul_overflow(bytes, (uint64_t)c.numHeads, &bytes) ||
        __builtin_mul_overflow(bytes, (uint64_t)c.maxLength, &bytes) ||
        __builtin_mul_overflow(bytes, (uint64_t)c.headDim, &bytes) || bytes > (uint64_t(1) << 48))
      return {"cache slot '" + c.name + "': " + std::to_string(maxRows) + " rows x " +
              std::to_string(c.numHeads) + " heads x " + std::to_string(c.maxLength) +
              " positions x " + std::to_string(c.headDim) + " " + planner::dtypeName(c.dtype) +
              " elements are more than the 2^48 bytes the runtime allows a cache: lower the "
              "bounds"};
  }
  return {};
}

} // namespace tfc::lower
