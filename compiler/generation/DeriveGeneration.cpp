//===- DeriveGeneration.cpp - prefill / decode_step / encode from @forward -------------===//
//
// The analysis gives every value of @forward a role (tfc/IR/GenerationRole.h: Fixed, Meta,
// Token, Position, Key). An op whose operands are all Fixed is Fixed; any other op says what
// it does to the sequence axis through its GenerationRoleOpInterface (the rules are the ops',
// in ir/lib/TfcGenerationRoles.cpp). An op without one, or whose rule refuses its operands,
// stops the derivation with a reason naming the op and its location.
//
//===----------------------------------------------------------------------===//
#include "tfc/generation/DeriveGeneration.h"

#include "tfc/IR/TfcDialect.h"
#include "tfc/analysis/ShapeAnalysis.h"
#include "tfc/support/SymbolNames.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Transforms/RegionUtils.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/DenseMap.h"

#include <optional>

namespace tfc::generation {

using namespace mlir;
using namespace mlir::tfc;
using analysis::describeLocation;

namespace {

using Role = SequenceRole;
using Info = SequenceInfo;

class Analysis : public GenerationRoleContext {
public:
  Analysis(func::FuncOp func, analysis::ShapeAnalysis &shapes, int32_t seqSymbol)
      : func(func), shapes(shapes), seq(seqSymbol) {}

  /// Fills `info` for every value; false with `reason` set when the graph is not step-derivable.
  bool run(const llvm::DenseMap<Value, Info> &inputs);

  llvm::DenseMap<Value, Info> info;
  std::vector<AttentionOp> selfAttention, crossAttention;
  std::vector<SliceOp> positionSlices;
  llvm::DenseMap<Operation *, int64_t> sliceOffsetAxis; // position slice -> index into axes
  std::vector<EmbeddingOp> embeddings;
  std::string reason;

  // GenerationRoleContext (what the ops' rules ask).
  Info role(Value v) const override {
    auto it = info.find(v);
    return it == info.end() ? Info{} : it->second;
  }
  void setRole(Value v, Info i) override { info[v] = i; }
  bool fail(Operation *op, const std::string &why) override {
    reason = "'" + op->getName().getStringRef().str() + "' at '" +
             describeLocation(op->getLoc()) + "' " + why;
    return false;
  }
  void noteRewrite(Operation *op, StepRewrite kind, int64_t axisIndex) override {
    switch (kind) {
    case StepRewrite::SelfAttention: selfAttention.push_back(cast<AttentionOp>(op)); break;
    case StepRewrite::CrossAttention: crossAttention.push_back(cast<AttentionOp>(op)); break;
    case StepRewrite::PositionSlice:
      positionSlices.push_back(cast<SliceOp>(op));
      sliceOffsetAxis[op] = axisIndex;
      break;
    case StepRewrite::PositionEmbedding: embeddings.push_back(cast<EmbeddingOp>(op)); break;
    }
  }
  const SymShape *shape(Value v) const override { return shapes.shape(v); }
  const SymContents *contents(Value v) const override { return shapes.contents(v); }
  int32_t sequenceSymbol() const override { return seq; }

private:
  bool visit(Operation *op);

  func::FuncOp func;
  analysis::ShapeAnalysis &shapes;
  int32_t seq;
};

bool Analysis::run(const llvm::DenseMap<Value, Info> &inputs) {
  for (auto &[v, i] : inputs)
    info[v] = i;
  for (Operation &op : func.getBody().front())
    if (!isa<func::ReturnOp>(op) && !visit(&op))
      return false;
  return true;
}

bool Analysis::visit(Operation *op) {
  // The same at every step: weights, constants, and anything computed from them only.
  if (llvm::all_of(op->getOperands(), [&](Value v) { return role(v).role == Role::Fixed; }))
    return setResults(op, {});
  if (auto rule = dyn_cast<GenerationRoleOpInterface>(op))
    return rule.inferGenerationRole(*this);
  return fail(op, "is not known to be position-wise");
}

/// Erases ops whose results are unused and that have no side effects, last to first.
void eraseDeadOps(func::FuncOp func) {
  bool changed = true;
  while (changed) {
    changed = false;
    Block &body = func.getBody().front();
    for (Operation &op : llvm::make_early_inc_range(llvm::reverse(body))) {
      if (op.hasTrait<OpTrait::IsTerminator>() || op.getNumResults() == 0)
        continue;
      if (isOpTriviallyDead(&op)) {
        op.erase();
        changed = true;
      }
    }
  }
}

/// Drops arguments nothing uses (their attributes go with them).
void eraseUnusedArguments(func::FuncOp func) {
  llvm::BitVector dead(func.getNumArguments());
  for (BlockArgument a : func.getArguments())
    if (a.use_empty())
      dead.set(a.getArgNumber());
  func.eraseArguments(dead);
}

/// Keeps only result 0 of `func`.
void keepFirstResult(func::FuncOp func) {
  auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
  if (ret.getNumOperands() <= 1)
    return;
  llvm::BitVector drop(ret.getNumOperands());
  drop.set(1, ret.getNumOperands());
  ret->eraseOperands(drop);
  func.eraseResults(drop);
}

/// The ops of `func` in order (to find clones by index).
std::vector<Operation *> opsOf(func::FuncOp func) {
  std::vector<Operation *> ops;
  for (Operation &op : func.getBody().front())
    ops.push_back(&op);
  return ops;
}

} // namespace

GenerationInfo deriveGeneration(ModuleOp module) {
  GenerationInfo result;
  auto forward = module.lookupSymbol<func::FuncOp>("forward");
  if (!forward || forward.isExternal() || !llvm::hasSingleElement(forward.getBody()))
    return result;

  // Is it generative? Some causal attention (fused, or still a mask pattern: then recompute).
  bool causalAttention = false;
  forward.walk([&](AttentionOp a) {
    causalAttention |= a.getMaskKind() == MaskKind::causal || a.getMaskKind() == MaskKind::causal_padding;
  });
  auto family = module->getAttrOfType<StringAttr>("tfc.family");
  bool generativeFamily = family && (family.getValue() == "decoder" || family.getValue() == "encoder_decoder");
  if (!causalAttention && !generativeFamily)
    return result;

  MLIRContext *ctx = module.getContext();
  auto record = [&](GenerationInfo &r) {
    SmallVector<NamedAttribute> fields;
    Builder b(ctx);
    fields.push_back(b.getNamedAttr("mode", b.getStringAttr(r.mode)));
    if (!r.reason.empty())
      fields.push_back(b.getNamedAttr("reason", b.getStringAttr(r.reason)));
    if (!r.tokenInput.empty())
      fields.push_back(b.getNamedAttr("token_input", b.getStringAttr(r.tokenInput)));
    SmallVector<Attribute> keys;
    for (const std::string &k : r.keyMaskInputs)
      keys.push_back(b.getStringAttr(k));
    fields.push_back(b.getNamedAttr("key_mask_inputs", b.getArrayAttr(keys)));
    module->setAttr("tfc.generation", b.getDictionaryAttr(fields));
    return r;
  };
  auto recompute = [&](const std::string &why) {
    result.mode = "recompute";
    result.reason = why;
    return record(result);
  };

  // Symbols as named by the arguments (bounds do not matter to the analysis).
  std::vector<analysis::ShapeSymbol> symbols;
  for (unsigned i = 0; i < forward.getNumArguments(); ++i)
    if (auto names = forward.getArgAttrOfType<ArrayAttr>(i, "tfc.dims"))
      for (Attribute a : names)
        if (auto n = dyn_cast<StringAttr>(a); n && !n.getValue().empty() &&
                                              llvm::none_of(symbols, [&](auto &s) { return s.name == n.getValue(); }))
          symbols.push_back({n.str(), 1}); // bounds do not matter here
  analysis::ShapeAnalysis shapes(symbols);
  std::string error;
  if (!shapes.run(forward, error))
    return recompute("the shapes of forward are not known: " + error);

  // The sequence symbol: the logits' axis 1.
  auto ret = cast<func::ReturnOp>(forward.getBody().front().getTerminator());
  if (ret.getNumOperands() < 1)
    return recompute("forward has no result");
  const SymShape *logits = shapes.shape(ret.getOperand(0));
  if (!logits || logits->size() != 3 || !(*logits)[1].isSymbol())
    return recompute("forward's first result is not per-position logits [batch, seq, vocab]");
  int32_t seq = (*logits)[1].powers.begin()->first;
  std::string seqName = symbols[seq].name;
  if (::tfc::support::isBatchSymbolName(seqName) || !(*logits)[0].isSymbol() ||
      !::tfc::support::isBatchSymbolName(symbols[(*logits)[0].powers.begin()->first].name))
    return recompute("forward's first result is not [batch, seq, vocab] (sequence-first layouts "
                     "are not derived)");

  // Inputs: the token sequence, key-covering inputs, fixed inputs.
  llvm::DenseMap<Value, Info> inputs;
  int tokenArg = -1;
  auto argName = [&](unsigned i) {
    auto n = forward.getArgAttrOfType<StringAttr>(i, "tfc.name");
    return n ? n.str() : "input" + std::to_string(i);
  };
  std::vector<unsigned> seqArgs;
  for (BlockArgument arg : forward.getArguments()) {
    const SymShape *s = shapes.shape(arg);
    int axis = -1, count = 0;
    for (size_t a = 0; s && a < s->size(); ++a)
      if ((*s)[a].powers.count(seq)) {
        ++count;
        axis = (int)a;
        if (!(*s)[a].isSymbol())
          return recompute("input '" + argName(arg.getArgNumber()) + "' has a dim " +
                           (*s)[a].str(symbols) + " that is not the sequence length");
      }
    if (count == 0)
      continue;
    if (count > 1)
      return recompute("input '" + argName(arg.getArgNumber()) + "' has the sequence axis twice");
    seqArgs.push_back(arg.getArgNumber());
    auto type = cast<RankedTensorType>(arg.getType());
    bool ids = type.getElementType().isSignlessInteger(64) || type.getElementType().isSignlessInteger(32);
    if (ids && type.getRank() == 2 && axis == 1) {
      std::string name = argName(arg.getArgNumber());
      bool preferred = name == "input_ids" || name == "tgt_ids" || name == "decoder_input_ids" || name == "tgt";
      if (tokenArg < 0 || (preferred && argName(tokenArg) != "input_ids" && argName(tokenArg) != "tgt_ids"))
        tokenArg = (int)arg.getArgNumber();
    }
    inputs[arg] = {Role::Key, axis};
  }
  if (tokenArg < 0)
    return recompute("no integer input [batch, " + seqName + "] carries the token sequence");
  inputs[forward.getArgument(tokenArg)] = {Role::Token, 1};
  result.tokenInput = argName(tokenArg);
  for (unsigned i : seqArgs)
    if ((int)i != tokenArg)
      result.keyMaskInputs.push_back(argName(i));

  Analysis analysis(forward, shapes, seq);
  if (!analysis.run(inputs))
    return recompute(analysis.reason);
  Info out = analysis.info.lookup(ret.getOperand(0));
  if (out.role != Role::Token || out.axis != 1)
    return recompute("the logits are not per position");
  if (analysis.selfAttention.empty())
    return recompute("no causal self-attention over the sequence");
  for (AttentionOp a : analysis.crossAttention)
    if (a.getKvHeads() != a.getNumHeads() || a.getWindow())
      return recompute("cross-attention at '" + describeLocation(a.getLoc()) +
                       "' is grouped-query or windowed (a cross slot holds every head)");
  for (AttentionOp a : llvm::concat<AttentionOp>(analysis.selfAttention, analysis.crossAttention)) {
    auto q = cast<RankedTensorType>(a.getQuery().getType());
    if (q.isDynamicDim(2))
      return recompute("attention at '" + describeLocation(a.getLoc()) +
                       "' has no static width");
  }

  // --- Build the functions. Slots: self-attentions first, then cross, in program order.
  std::vector<Operation *> forwardOps = opsOf(forward);
  auto indexOf = [&](Operation *op) {
    return std::find(forwardOps.begin(), forwardOps.end(), op) - forwardOps.begin();
  };
  llvm::DenseMap<int64_t, int64_t> selfSlot, crossSlot; // op index -> slot
  int64_t slot = 0;
  for (AttentionOp a : analysis.selfAttention)
    selfSlot[indexOf(a)] = slot++;
  for (AttentionOp a : analysis.crossAttention)
    crossSlot[indexOf(a)] = slot++;
  std::vector<std::pair<int64_t, int64_t>> sliceOffsets; // op index -> index into axes
  for (SliceOp s : analysis.positionSlices)
    sliceOffsets.push_back({indexOf(s), analysis.sliceOffsetAxis.lookup(s)});
  std::vector<int64_t> embeddingIdx;
  for (EmbeddingOp e : analysis.embeddings)
    embeddingIdx.push_back(indexOf(e));

  OpBuilder builder(ctx);
  builder.setInsertionPointAfter(forward);

  // @prefill: the forward graph over the cache.
  auto prefill = cast<func::FuncOp>(builder.clone(*forward));
  prefill.setSymName("prefill");
  {
    std::vector<Operation *> ops = opsOf(prefill);
    for (auto [idx, axisIndex] : sliceOffsets) {
      auto s = cast<SliceOp>(ops[idx]);
      SmallVector<int64_t> flags(s.getAxes().size(), 0);
      flags[axisIndex] = 1;
      s.setCacheOffsetAttr(builder.getDenseI64ArrayAttr(flags));
    }
    for (int64_t idx : embeddingIdx)
      cast<EmbeddingOp>(ops[idx]).setCacheOffset(true);
    auto replace = [&](int64_t idx, int64_t slotIndex, bool cross) {
      auto a = cast<AttentionOp>(ops[idx]);
      OpBuilder b(a);
      auto c = b.create<CachedAttentionOp>(a.getLoc(), a.getType(), a.getQuery(),
                                           cross ? Value() : a.getKey(),
                                           cross ? Value() : a.getValue(), a.getMask(),
                                           a.getNumHeadsAttr(), a.getScaleAttr(),
                                           a.getMaskKindAttr(), b.getI64IntegerAttr(slotIndex),
                                           cross ? b.getUnitAttr() : UnitAttr(),
                                           a.getNumKvHeadsAttr(), a.getWindowAttr(),
                                           a.getHiddenScoreAttr());
      a.getResult().replaceAllUsesWith(c.getResult());
      a.erase();
    };
    for (auto [idx, s] : selfSlot)
      replace(idx, s, false);
    for (auto [idx, s] : crossSlot)
      replace(idx, s, true);
    keepFirstResult(prefill);
    eraseDeadOps(prefill);
    // Key-covering inputs span every cached position.
    for (unsigned i : seqArgs)
      if ((int)i != tokenArg) {
        auto names = prefill.getArgAttrOfType<ArrayAttr>(i, "tfc.dims");
        SmallVector<Attribute> renamed;
        for (Attribute n : names)
          renamed.push_back(cast<StringAttr>(n).getValue() == seqName
                                ? builder.getStringAttr(kTotalSeqSymbol)
                                : n);
        prefill.setArgAttr(i, "tfc.dims", builder.getArrayAttr(renamed));
      }
    eraseUnusedArguments(prefill);
    prefill->setAttr("tfc.cache_op", builder.getStringAttr("prefill"));
  }

  // @decode_step: @prefill with one token per row.
  builder.setInsertionPointAfter(prefill);
  auto step = cast<func::FuncOp>(builder.clone(*prefill));
  step.setSymName("decode_step");
  step->setAttr("tfc.cache_op", builder.getStringAttr("append"));
  for (BlockArgument arg : step.getArguments()) {
    auto n = step.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "tfc.name");
    if (!n || n.getValue() != result.tokenInput)
      continue;
    auto type = cast<RankedTensorType>(arg.getType());
    auto one = RankedTensorType::get({type.getDimSize(0), 1}, type.getElementType());
    arg.setType(one);
    auto names = step.getArgAttrOfType<ArrayAttr>(arg.getArgNumber(), "tfc.dims");
    step.setArgAttr(arg.getArgNumber(), "tfc.dims",
                    builder.getArrayAttr({names[0], builder.getStringAttr("")}));
  }
  step.setFunctionType(FunctionType::get(ctx, step.getBody().front().getArgumentTypes(),
                                         step.getFunctionType().getResults()));

  // @encode: the cross-attention keys and values, into their slots.
  if (!crossSlot.empty()) {
    builder.setInsertionPointAfter(step);
    auto encode = cast<func::FuncOp>(builder.clone(*forward));
    encode.setSymName("encode");
    std::vector<Operation *> ops = opsOf(encode);
    for (auto [idx, s] : crossSlot) {
      auto a = cast<AttentionOp>(ops[idx]);
      OpBuilder b(a);
      b.create<CacheStoreOp>(a.getLoc(), a.getKey(), a.getValue(), b.getI64IntegerAttr(s));
    }
    auto eret = cast<func::ReturnOp>(encode.getBody().front().getTerminator());
    llvm::BitVector all(eret.getNumOperands());
    all.set();
    eret->eraseOperands(all);
    encode.eraseResults(all);
    eraseDeadOps(encode);
    eraseUnusedArguments(encode);
    encode->setAttr("tfc.cache_op", builder.getStringAttr("encode"));
    result.crossSlots = (int64_t)crossSlot.size();
  }
  result.selfSlots = (int64_t)selfSlot.size();
  result.mode = "kv-cache";
  return record(result);
}

} // namespace tfc::generation

//===- The pass (for tfc-opt and lit tests) --------------------------------------------===//

namespace tfc::generation {
namespace {
struct DeriveGenerationPass
    : public mlir::PassWrapper<DeriveGenerationPass, mlir::OperationPass<mlir::ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(DeriveGenerationPass)
  llvm::StringRef getArgument() const final { return "tfc-derive-generation"; }
  llvm::StringRef getDescription() const final {
    return "derive prefill/decode_step/encode (KV cache) from @forward, or record why not";
  }
  void runOnOperation() override { deriveGeneration(getOperation()); }
};
} // namespace

void registerDeriveGenerationPass() { mlir::PassRegistration<DeriveGenerationPass>(); }

} // namespace tfc::generation
