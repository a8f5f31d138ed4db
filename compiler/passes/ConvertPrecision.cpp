//===- ConvertPrecision.cpp - compute a plan's float values in f16 or bf16 -===//
//
// tfc-convert-precision{precision=f16|bf16} retypes every function of the module (the entry
// function and the generation functions derived from it) so that the model's float values are
// computed in the precision, while the functions' signatures do not change. It runs last, after
// the fusions and the KV-cache derivation, on fused IR.
//
// Every float value gets one of three classes (program order):
//   * Const: a tfc.constant or tfc.weight, or data movement (reshape, transpose, expand, slice,
//     concat, tile, trilu) of such values with only integer other operands.
//   * Index: computed from integer values and constants alone: a cast from an integer or bool,
//     an op with an integer/bool operand whose float operands are all Const (where(m, 0, -inf),
//     a gather from a tfc.constant table), and any op whose float operands are Index or Const
//     with at least one Index. These are positions, masks, rotary tables, relative-position
//     buckets: the frameworks compute them in f32 even in half-precision models, and f16/bf16
//     would break them (bf16 holds integers exactly only up to 256; a rotary angle p * inv_freq
//     needs f32 past a few hundred positions; a bucket index cast back to an integer would move).
//   * Feature: everything else: the model's activations (from the function's float inputs, from
//     lookups of weight tables, from the fused ops: attention, norms, linear, gated linear,
//     embedding, rotary, softmax, conv, which always compute features). Except that values read
//     only as attention masks, directly or through other such values (T5's position bias plus
//     the padding mask), count as Index: a mask is an f32 score term.
// Then:
//   * Feature values become the precision (f32 results retyped in place); their ops read every
//     float operand in the precision, except the float mask of tfc.attention / tfc.cached_attention,
//     which is read in f32 (an additive score term; the kernels add it to f32 scores, and a mask
//     of -1e9 or the lowest f32 has no f16 value).
//   * Index values stay f32, and their ops read f32.
//   * Const values take the type their users read: tfc.constant values are converted now (round
//     to nearest even, finite values beyond the precision's range saturated to its largest
//     finite value, with a warning naming the constant: exporters' "minus infinity" fills stay
//     finite), tfc.weight ops change type only (the lowering converts the weight's bytes the same
//     way). A constant read in both types is cloned; data movement of constants read in both
//     stays f32 and a tfc.cast makes the other.
//   * Where a value meets a reader of the other type, one tfc.cast per value and type is
//     inserted right after its definition: the function's float arguments (f32) are cast to the
//     precision at the entry, precision results are cast to f32 before func.return.
// Integer and bool values are never touched; a tfc.cast or tfc.shape reads its operand as it is.
//
//===----------------------------------------------------------------------===//
#include "Passes.h"
#include "PatternUtils.h"

#include "tfc/support/Float16.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"

namespace mlir::tfc {
#define GEN_PASS_DEF_CONVERTPRECISION
#include "Passes.h.inc"
} // namespace mlir::tfc

using namespace mlir;
using namespace mlir::tfc;

namespace {

enum class Class { Const, Index, Feature };

bool isF32(Type t) {
  auto r = dyn_cast<RankedTensorType>(t);
  return r && r.getElementType().isF32();
}
bool isFloat(Type t) {
  auto r = dyn_cast<RankedTensorType>(t);
  return r && isa<FloatType>(r.getElementType());
}
Type withElement(Type t, Type element) {
  return cast<RankedTensorType>(t).clone(element);
}

/// Ops that always compute features, whatever their operands.
bool isFeatureOp(Operation *op) {
  return isa<AttentionOp, CachedAttentionOp, CacheStoreOp, LayerNormOp, LayerNormalizationOp,
             RmsNormOp, LinearOp, GatedLinearOp, EmbeddingOp, ConvOp, SoftmaxOp, RotaryOp>(op);
}
bool isDataMovement(Operation *op) {
  return isa<ReshapeOp, TransposeOp, ExpandOp, SliceOp, ConcatOp, TileOp, TriluOp>(op);
}
/// Ops that read their operand whatever its type (no demand on it).
bool readsAnyType(Operation *op) { return isa<CastOp, ShapeOp>(op); }

/// Whether `use` is the mask operand of an attention (read in f32 by the kernels).
bool isMaskOperand(OpOperand &use) {
  Operation *owner = use.getOwner();
  if (auto a = dyn_cast<AttentionOp>(owner)) {
    MutableOperandRange m = a.getMaskMutable();
    return m.size() == 1 && &m[0] == &use;
  }
  if (auto a = dyn_cast<CachedAttentionOp>(owner)) {
    MutableOperandRange m = a.getMaskMutable();
    return m.size() == 1 && &m[0] == &use;
  }
  return false;
}

enum Want : uint8_t { kNone = 0, kF32 = 1, kLow = 2 };

class Converter {
public:
  Converter(func::FuncOp func, FloatType low, bool bf16)
      : func(func), low(low), bf16(bf16), builder(func.getContext()) {}

  LogicalResult run();

private:
  /// A Const value with weight ancestry (tfc.weight) or literal (tfc.constant) ancestry.
  struct Info {
    Class cls = Class::Feature;
    bool weight = false; // Const: comes from a tfc.weight
  };

  void classify(Operation *op);
  /// What `use` wants of a float operand, given its owner's class (Want bits).
  uint8_t wantOf(OpOperand &use);
  /// The type `v` gets: f32 or the precision (Feature: low; Index: f32; Const: by its readers).
  Type finalType(Value v);
  /// `v` in `type`: `v` itself, else a (cached) tfc.cast right after its definition, or for a
  /// tfc.constant / tfc.weight a converted clone.
  Value inType(Value v, Type type);
  LogicalResult retype(Operation *op);
  LogicalResult convertConstant(ConstantOp op, Type type, ConstantOp &out);

  func::FuncOp func;
  FloatType low;
  bool bf16;
  OpBuilder builder;
  llvm::DenseMap<Value, Info> info;
  llvm::DenseMap<Operation *, Class> opClass;
  llvm::DenseMap<Value, uint8_t> wanted; // Const values: the types their readers want
  llvm::DenseMap<std::pair<Value, Type>, Value> converted;
};

void Converter::classify(Operation *op) {
  auto setResults = [&](Info i) {
    for (Value r : op->getResults())
      if (isFloat(r.getType()))
        info[r] = i;
  };
  if (isa<ConstantOp>(op))
    return setResults({Class::Const, false});
  if (isa<WeightOp>(op))
    return setResults({Class::Const, true});
  bool anyFeature = false, anyIndex = false, anyNonFloat = false, anyWeight = false;
  for (Value v : op->getOperands()) {
    if (!isFloat(v.getType())) {
      anyNonFloat = true;
      continue;
    }
    Info i = info.lookup(v); // block arguments: Feature
    anyFeature |= i.cls == Class::Feature;
    anyIndex |= i.cls == Class::Index;
    anyWeight |= i.cls == Class::Const && i.weight;
  }
  Info out;
  if (isFeatureOp(op) || anyFeature)
    out.cls = Class::Feature;
  else if (anyIndex)
    out.cls = Class::Index;
  else if (isa<GatherOp, GatherElementsOp>(op))
    // A lookup: of a weight table, features (an embedding); of a literal table, an index.
    out.cls = anyWeight ? Class::Feature : Class::Index;
  else if (isDataMovement(op) || !anyNonFloat)
    out = {Class::Const, anyWeight};
  else
    out.cls = Class::Index; // a cast from an integer, where(mask, c0, c1), ...
  opClass[op] = out.cls;
  setResults(out);
}

uint8_t Converter::wantOf(OpOperand &use) {
  Operation *owner = use.getOwner();
  if (isa<func::ReturnOp>(owner))
    return kF32;
  if (readsAnyType(owner))
    return kNone;
  Class cls = opClass.lookup(owner);
  if (cls == Class::Feature)
    return isMaskOperand(use) ? kF32 : kLow;
  if (cls == Class::Index)
    return kF32;
  // A Const op reads its operands in the type its own readers want (f32 when they differ).
  uint8_t w = kNone;
  for (Value r : owner->getResults())
    w |= wanted.lookup(r);
  return w == kLow ? kLow : kF32;
}

Type Converter::finalType(Value v) {
  if (!isF32(v.getType()))
    return v.getType();
  Info i = info.lookup(v);
  bool toLow = i.cls == Class::Feature || (i.cls == Class::Const && wanted.lookup(v) == kLow);
  return toLow ? withElement(v.getType(), low) : v.getType();
}

LogicalResult Converter::convertConstant(ConstantOp op, Type type, ConstantOp &out) {
  auto dense = dyn_cast<DenseElementsAttr>(op.getValue());
  if (!dense || !dense.getElementType().isF32())
    return op.emitOpError() << "cannot convert a constant that is not dense f32 elements";
  std::vector<float> in;
  in.reserve(dense.getNumElements());
  for (float f : dense.getValues<float>())
    in.push_back(f);
  std::vector<uint16_t> bits(in.size());
  size_t overflowed = ::tfc::support::convertFloats(in.data(), in.size(), bf16,
                                                    ::tfc::support::Overflow::Saturate,
                                                    bits.data());
  std::vector<APFloat> values;
  values.reserve(bits.size());
  const llvm::fltSemantics &sem = low.getFloatSemantics();
  for (uint16_t b : bits)
    values.emplace_back(sem, APInt(16, b));
  auto attr = DenseElementsAttr::get(cast<ShapedType>(type), values);
  if (overflowed) {
    // A folded constant has no location of its own: the warning is then at its first reader.
    Operation *at = op;
    if (describeLocation(op.getLoc()).empty() && !op->use_empty())
      at = *op->user_begin();
    at->emitWarning() << (at == op.getOperation() ? "" : "a constant it reads: ") << overflowed
                      << " value(s) beyond the " << (bf16 ? "bf16" : "f16")
                      << " range saturated to the largest finite value ("
                      << (bf16 ? "3.3895e38" : "65504") << ")";
  }
  builder.setInsertionPointAfter(op);
  out = builder.create<ConstantOp>(op.getLoc(), type, attr);
  return success();
}

Value Converter::inType(Value v, Type type) {
  if (v.getType() == type)
    return v;
  auto key = std::make_pair(v, type);
  if (Value c = converted.lookup(key))
    return c;
  Value out;
  Operation *def = v.getDefiningOp();
  if (auto w = dyn_cast_or_null<WeightOp>(def)) {
    builder.setInsertionPointAfter(w);
    out = builder.create<WeightOp>(w.getLoc(), type, w.getNameAttr());
  } else if (auto c = dyn_cast_or_null<ConstantOp>(def)) {
    ConstantOp clone;
    if (failed(convertConstant(c, type, clone)))
      return {};
    out = clone;
  } else {
    // Named after what it converts ("input_ids/to_f16", "encoder.ln_f/to_f32"), so that the
    // plan's Cast kernels say where they are.
    std::string name;
    if (def) {
      builder.setInsertionPointAfter(def);
      name = describeLocation(def->getLoc());
    } else {
      auto arg = cast<BlockArgument>(v);
      builder.setInsertionPointToStart(arg.getOwner());
      auto attr = func.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "tfc.name");
      name = attr ? attr.str() : "input" + std::to_string(arg.getArgNumber());
    }
    std::string to = cast<RankedTensorType>(type).getElementType().isF32() ? "f32"
                     : bf16                                                ? "bf16"
                                                                           : "f16";
    Location loc = NameLoc::get(builder.getStringAttr(name + "/to_" + to), v.getLoc());
    out = builder.create<CastOp>(loc, type, v);
  }
  converted[key] = out;
  return out;
}

LogicalResult Converter::retype(Operation *op) {
  // Operands first: each float operand in the type this use wants.
  for (OpOperand &use : op->getOpOperands()) {
    Value v = use.get();
    if (!isFloat(v.getType()))
      continue;
    uint8_t w = wantOf(use);
    if (w == kNone)
      continue;
    auto element = cast<RankedTensorType>(v.getType()).getElementType();
    if (!element.isF32() && element != low)
      continue; // a dtype the model chose itself (an existing f16 value): left alone
    Type want = withElement(v.getType(), w == kLow ? Type(low) : builder.getF32Type());
    Value in = inType(v, want);
    if (!in)
      return failure();
    if (in != v)
      use.set(in);
  }
  // Then the results.
  if (auto c = dyn_cast<ConstantOp>(op)) {
    Type t = finalType(c.getResult());
    if (t == c.getType())
      return success();
    ConstantOp clone;
    if (failed(convertConstant(c, t, clone)))
      return failure();
    c.getResult().replaceAllUsesWith(clone.getResult());
    return success();
  }
  for (Value r : op->getResults())
    if (Type t = finalType(r); t != r.getType())
      r.setType(t);
  return success();
}

LogicalResult Converter::run() {
  if (!llvm::hasSingleElement(func.getBody()))
    return func.emitOpError() << "tfc-convert-precision expects a function of one block";
  Block &block = func.getBody().front();
  for (Operation &op : block)
    classify(&op);
  // Feature values read only as attention masks (directly or through other such values: T5's
  // position bias plus the padding mask) are computed in f32 like index arithmetic: a mask is
  // an f32 score term (the fused ops excepted: they always compute features).
  llvm::DenseSet<Operation *> maskOnly;
  for (Operation &op : llvm::reverse(block)) {
    auto cls = opClass.find(&op);
    if (cls == opClass.end() || cls->second != Class::Feature || isFeatureOp(&op) ||
        op.getNumResults() == 0 ||
        llvm::any_of(op.getResultTypes(), [](Type t) { return !isFloat(t); }))
      continue;
    bool onlyMasks = true;
    for (Value r : op.getResults())
      for (OpOperand &use : r.getUses())
        onlyMasks = onlyMasks && (isMaskOperand(use) || maskOnly.contains(use.getOwner()));
    if (!onlyMasks)
      continue;
    maskOnly.insert(&op);
    cls->second = Class::Index;
    for (Value r : op.getResults())
      info[r].cls = Class::Index;
  }
  // Which types the readers of each Const value want (readers come after their operands).
  for (Operation &op : llvm::reverse(block))
    for (OpOperand &use : op.getOpOperands())
      if (isFloat(use.get().getType()) && info.lookup(use.get()).cls == Class::Const)
        wanted[use.get()] |= wantOf(use);
  // Block arguments are read through the casts inType() makes at the entry.
  SmallVector<Operation *> ops;
  for (Operation &op : block)
    ops.push_back(&op);
  for (Operation *op : ops)
    if (failed(retype(op)))
      return failure();
  // Constants whose every reader moved to a converted clone are left for DCE.
  for (Operation *op : ops)
    if (isa<ConstantOp, WeightOp>(op) && op->use_empty())
      op->erase();
  return success();
}

struct ConvertPrecisionPass : mlir::tfc::impl::ConvertPrecisionBase<ConvertPrecisionPass> {
  using ConvertPrecisionBase::ConvertPrecisionBase;
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    FloatType low;
    if (precision == "f32")
      return;
    if (precision == "f16")
      low = FloatType::getF16(ctx);
    else if (precision == "bf16")
      low = FloatType::getBF16(ctx);
    else {
      getOperation().emitError() << "tfc-convert-precision: unknown precision '"
                                 << precision << "' (f32, f16 or bf16)";
      return signalPassFailure();
    }
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      Converter converter(func, low, precision == "bf16");
      if (failed(converter.run()))
        return signalPassFailure();
    }
  }
};

} // namespace
