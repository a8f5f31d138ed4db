//===- DeriveGeneration.cpp - prefill / decode_step / encode from @forward -------------===//
//
// The analysis gives every value of @forward a role:
//   Fixed     does not depend on the token sequence (weights, the encoder side);
//   Meta      small integer data computed from the sequence's *length* (tfc.shape chains);
//   Token     has a sequence axis indexed by query position (position t depends on tokens <= t
//             only through attention);
//   Position  has a sequence axis indexed by absolute position: a slice [0, T) of a table;
//   Key       has a sequence axis indexed by key position (an attention mask input).
// Each op kind has a rule: which operand roles/axes it accepts and which it produces. Anything
// else stops the derivation with a reason naming the op and its location.
//
//===----------------------------------------------------------------------===//
#include "tfc/generation/DeriveGeneration.h"

#include "tfc/IR/TfcDialect.h"
#include "tfc/support/SymbolNames.h"
#include "tfc/lower/cpu/SymbolicShapes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Transforms/RegionUtils.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <optional>

namespace tfc::generation {

using namespace mlir;
using namespace mlir::tfc;
using lower::SymExpr;
using lower::SymShape;

namespace {

enum class Role { Fixed, Meta, Token, Position, Key };

struct Info {
  Role role = Role::Fixed;
  int64_t axis = -1; // the sequence axis (Token, Position, Key)
  bool hasAxis() const { return role == Role::Token || role == Role::Position || role == Role::Key; }
};

const char *roleName(Role r) {
  switch (r) {
  case Role::Fixed: return "fixed";
  case Role::Meta: return "sequence-length data";
  case Role::Token: return "per-position";
  case Role::Position: return "position-table";
  case Role::Key: return "per-key";
  }
  return "?";
}

int64_t rankOf(Value v) { return cast<RankedTensorType>(v.getType()).getRank(); }

class Analysis {
public:
  Analysis(func::FuncOp func, lower::ShapeAnalysis &shapes, int32_t seqSymbol)
      : func(func), shapes(shapes), seq(seqSymbol) {}

  /// Fills `info` for every value; false with `reason` set when the graph is not step-derivable.
  bool run(const llvm::DenseMap<Value, Info> &inputs);

  llvm::DenseMap<Value, Info> info;
  std::vector<AttentionOp> selfAttention, crossAttention;
  std::vector<SliceOp> positionSlices;
  llvm::DenseMap<Operation *, int64_t> sliceOffsetAxis; // position slice -> index into axes
  std::vector<EmbeddingOp> embeddings;
  std::string reason;

private:
  bool fail(Operation *op, const std::string &why) {
    reason = "'" + op->getName().getStringRef().str() + "' at '" +
             lower::describeLocation(op->getLoc()) + "' " + why;
    return false;
  }
  Info get(Value v) const {
    auto it = info.find(v);
    return it == info.end() ? Info{} : it->second;
  }
  bool isSeq(const SymExpr &e) const { return e.isSymbol() && e.powers.begin()->first == seq; }
  bool mentionsSeq(const SymExpr &e) const { return !e.known || e.powers.count(seq); }
  bool visit(Operation *op);
  bool elementwise(Operation *op);
  bool positionSlice(SliceOp op);

  func::FuncOp func;
  lower::ShapeAnalysis &shapes;
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

/// Roles combine in elementwise ops: the sequence axes must line up (right-aligned
/// broadcasting), and query-indexed data never meets key-indexed data.
bool Analysis::elementwise(Operation *op) {
  int64_t rank = rankOf(op->getResult(0));
  Info out;
  for (Value operand : op->getOperands()) {
    Info in = get(operand);
    if (in.role == Role::Fixed)
      continue;
    if (in.role == Role::Meta) {
      if (out.role == Role::Fixed)
        out.role = Role::Meta;
      continue;
    }
    int64_t axis = rank - rankOf(operand) + in.axis;
    if (out.hasAxis() && out.axis != axis)
      return fail(op, "combines operands whose sequence axes do not line up");
    if (out.role == Role::Meta)
      return fail(op, "mixes the sequence length into per-position data");
    Role r = in.role;
    if (out.hasAxis()) {
      bool key = out.role == Role::Key || r == Role::Key;
      if (key && out.role != r)
        return fail(op, "mixes key positions with query positions");
      if (out.role == Role::Token || r == Role::Token)
        r = Role::Token;
    }
    out = {r, axis};
  }
  if (out.role == Role::Meta && rankOf(op->getResult(0)) > 1)
    return fail(op, "builds a tensor from the sequence length");
  for (Value r : op->getResults())
    info[r] = out;
  return true;
}

/// `slice(table, 0, T)` along one axis of a fixed table: positions [0, T) of the table.
bool Analysis::positionSlice(SliceOp op) {
  const std::vector<SymExpr> *starts = shapes.contents(op.getStarts());
  const std::vector<SymExpr> *ends = shapes.contents(op.getEnds());
  ArrayRef<int64_t> axes = op.getAxes();
  if (!starts || !ends || starts->size() != axes.size() || ends->size() != axes.size())
    return fail(op, "slices with bounds computed from the sequence length that are not known");
  int64_t found = -1;
  for (size_t i = 0; i < axes.size(); ++i) {
    const SymExpr &s = (*starts)[i], &e = (*ends)[i];
    if (mentionsSeq(s))
      return fail(op, "starts a slice at a sequence-dependent offset");
    if (!mentionsSeq(e))
      continue;
    if (!isSeq(e) || !s.isConstant() || s.coef != 0 || found >= 0 ||
        (op.getSteps() && (*op.getSteps())[i] != 1))
      return fail(op, "slices a table by the sequence length in a way that is not [0, seq)");
    found = (int64_t)i;
  }
  if (found < 0)
    return fail(op, "slices by sequence-length data but not along a sequence axis");
  int64_t axis = axes[found] < 0 ? axes[found] + rankOf(op.getInput()) : axes[found];
  info[op.getResult()] = {Role::Position, axis};
  positionSlices.push_back(op);
  sliceOffsetAxis[op] = found;
  return true;
}

bool Analysis::visit(Operation *op) {
  if (isa<WeightOp, ConstantOp>(op)) {
    info[op->getResult(0)] = {};
    return true;
  }
  bool allFixed = true, anyAxis = false, anyMeta = false;
  for (Value v : op->getOperands()) {
    Info i = get(v);
    allFixed &= i.role == Role::Fixed;
    anyAxis |= i.hasAxis();
    anyMeta |= i.role == Role::Meta;
  }
  if (auto s = dyn_cast<ShapeOp>(op)) {
    info[s.getResult()] = {allFixed ? Role::Fixed : Role::Meta, -1};
    return true;
  }
  if (allFixed) {
    for (Value r : op->getResults())
      info[r] = {};
    return true;
  }
  // Sequence-length data only (no per-position operand).
  if (!anyAxis) {
    if (auto s = dyn_cast<SliceOp>(op); s && get(s.getInput()).role == Role::Fixed)
      return positionSlice(s);
    if (auto e = dyn_cast<ExpandOp>(op); e && get(e.getInput()).role == Role::Fixed) {
      // A fixed value broadcast over the sequence: the same at every position.
      const SymShape *shape = shapes.shape(e.getResult());
      for (size_t a = 0; shape && a < shape->size(); ++a)
        if (isSeq((*shape)[a])) {
          info[e.getResult()] = {Role::Token, (int64_t)a};
          return true;
        }
      return fail(op, "expands to a shape computed from the sequence length");
    }
    if (isa<ReshapeOp>(op))
      return fail(op, "reshapes by the sequence length");
    return elementwise(op); // integer arithmetic on shapes: Meta
  }

  auto unsupported = [&](const std::string &why) { return fail(op, why); };
  auto preserve = [&](Value in, Value out, int64_t axis) {
    info[out] = {get(in).role, axis};
    return true;
  };
  auto sameAxisOrFixed = [&](Value v, Info expect) {
    Info i = get(v);
    return i.role == Role::Fixed || (i.role == expect.role && i.axis == expect.axis);
  };

  return llvm::TypeSwitch<Operation *, bool>(op)
      .Case<AddOp, SubOp, MulOp, DivOp, PowOp, MaxOp, WhereOp, SqrtOp, ErfOp, TanhOp, ReluOp,
            ExpOp, NegOp, LogOp, GeluOp, CastOp>([&](Operation *) { return elementwise(op); })
      .Case<SoftmaxOp>([&](SoftmaxOp s) {
        Info in = get(s.getInput());
        int64_t axis = s.getAxis() < 0 ? s.getAxis() + rankOf(s.getInput()) : s.getAxis();
        if (!in.hasAxis() || axis == in.axis)
          return unsupported("normalizes over the sequence axis");
        return preserve(s.getInput(), s.getResult(), in.axis);
      })
      .Case<LayerNormalizationOp>([&](LayerNormalizationOp l) {
        Info in = get(l.getInput());
        int64_t axis = l.getAxis() < 0 ? l.getAxis() + rankOf(l.getInput()) : l.getAxis();
        if (!in.hasAxis() || axis <= in.axis || get(l.getScale()).role != Role::Fixed ||
            (l.getBias() && get(l.getBias()).role != Role::Fixed))
          return unsupported("normalizes over the sequence axis");
        return preserve(l.getInput(), l.getResult(), in.axis);
      })
      .Case<LayerNormOp>([&](LayerNormOp l) {
        Info in = get(l.getInput());
        if (!in.hasAxis() || in.axis == rankOf(l.getInput()) - 1 ||
            (l.getResidual() && !sameAxisOrFixed(l.getResidual(), in)))
          return unsupported("normalizes over the sequence axis");
        return preserve(l.getInput(), l.getResult(), in.axis);
      })
      .Case<ReduceMeanOp, ReduceSumOp>([&](Operation *) {
        Value x = op->getOperand(0);
        Info in = get(x);
        bool mean = isa<ReduceMeanOp>(op);
        ArrayRef<int64_t> axes =
            mean ? cast<ReduceMeanOp>(op).getAxes() : cast<ReduceSumOp>(op).getAxes();
        bool keep = mean ? cast<ReduceMeanOp>(op).getKeepdims() : cast<ReduceSumOp>(op).getKeepdims();
        if (!in.hasAxis())
          return unsupported("reduces sequence-length data");
        int64_t shift = 0;
        for (int64_t a : axes) {
          int64_t na = a < 0 ? a + rankOf(x) : a;
          if (na == in.axis)
            return unsupported("reduces over the sequence axis (pooling)");
          shift += na < in.axis;
        }
        return preserve(x, op->getResult(0), keep ? in.axis : in.axis - shift);
      })
      .Case<LinearOp>([&](LinearOp l) {
        Info in = get(l.getInput());
        if (!in.hasAxis() || in.axis == rankOf(l.getInput()) - 1)
          return unsupported("contracts the sequence axis");
        if (get(l.getWeight()).role != Role::Fixed || (l.getBias() && get(l.getBias()).role != Role::Fixed))
          return unsupported("has a weight that depends on the sequence");
        int64_t axis = rankOf(l.getResult()) - rankOf(l.getInput()) + in.axis;
        if (l.getResidual()) {
          Info r = get(l.getResidual());
          if (r.role != Role::Fixed &&
              (!r.hasAxis() || rankOf(l.getResult()) - rankOf(l.getResidual()) + r.axis != axis ||
               r.role == Role::Key || in.role == Role::Key))
            return unsupported("adds a residual whose sequence axis does not line up");
        }
        bool tokenResidual = l.getResidual() && get(l.getResidual()).role == Role::Token;
        info[l.getResult()] = {tokenResidual ? Role::Token : in.role, axis};
        return true;
      })
      .Case<MatMulOp>([&](MatMulOp m) {
        Info a = get(m.getLhs()), b = get(m.getRhs());
        if (!a.hasAxis() || b.role != Role::Fixed || a.axis == rankOf(m.getLhs()) - 1)
          return unsupported("multiplies over the sequence axis (an unfused attention?)");
        return preserve(m.getLhs(), m.getResult(), rankOf(m.getResult()) - rankOf(m.getLhs()) + a.axis);
      })
      .Case<GatherOp>([&](GatherOp g) {
        Info d = get(g.getData()), i = get(g.getIndices());
        int64_t ax = g.getAxis() < 0 ? g.getAxis() + rankOf(g.getData()) : g.getAxis();
        if (d.role == Role::Fixed && i.hasAxis()) {
          info[g.getResult()] = {i.role, ax + i.axis};
          return true;
        }
        if (d.hasAxis() && i.role == Role::Fixed && d.axis != ax) {
          int64_t axis = d.axis < ax ? d.axis : d.axis - 1 + rankOf(g.getIndices());
          return preserve(g.getData(), g.getResult(), axis);
        }
        return unsupported("gathers along the sequence axis");
      })
      .Case<TransposeOp>([&](TransposeOp t) {
        Info in = get(t.getInput());
        ArrayRef<int64_t> perm = t.getPerm();
        for (size_t j = 0; j < perm.size(); ++j)
          if (perm[j] == in.axis)
            return preserve(t.getInput(), t.getResult(), (int64_t)j);
        return unsupported("has an invalid permutation");
      })
      .Case<ReshapeOp>([&](ReshapeOp r) {
        Info in = get(r.getInput());
        const SymShape *is = shapes.shape(r.getInput()), *os = shapes.shape(r.getResult());
        if (!in.hasAxis() || !is || !os)
          return unsupported("reshapes sequence-length data");
        SymExpr before = SymExpr::constant(1);
        for (int64_t a = 0; a < in.axis; ++a)
          before = before * (*is)[a];
        SymExpr prefix = SymExpr::constant(1);
        for (size_t b = 0; b < os->size(); ++b) {
          if (isSeq((*os)[b]) && prefix == before)
            return preserve(r.getInput(), r.getResult(), (int64_t)b);
          prefix = prefix * (*os)[b];
        }
        return unsupported("merges or splits the sequence axis");
      })
      .Case<ConcatOp>([&](ConcatOp c) {
        int64_t ax = c.getAxis() < 0 ? c.getAxis() + rankOf(c.getResult()) : c.getAxis();
        Info first = get(c->getOperand(0));
        for (Value v : c->getOperands()) {
          Info i = get(v);
          if (!i.hasAxis() || i.axis != first.axis || i.role == Role::Key != (first.role == Role::Key))
            return unsupported("concatenates values whose sequence axes do not line up");
        }
        if (ax == first.axis)
          return unsupported("concatenates along the sequence axis");
        return elementwise(op);
      })
      .Case<SliceOp>([&](SliceOp s) {
        Info in = get(s.getInput());
        if (!in.hasAxis() || get(s.getStarts()).role != Role::Fixed || get(s.getEnds()).role != Role::Fixed)
          return unsupported("slices by sequence-length data");
        for (int64_t a : s.getAxes())
          if ((a < 0 ? a + rankOf(s.getInput()) : a) == in.axis)
            return unsupported("slices along the sequence axis");
        return preserve(s.getInput(), s.getResult(), in.axis);
      })
      .Case<ExpandOp>([&](ExpandOp e) {
        Info in = get(e.getInput());
        if (!in.hasAxis())
          return unsupported("expands sequence-length data");
        return preserve(e.getInput(), e.getResult(), rankOf(e.getResult()) - rankOf(e.getInput()) + in.axis);
      })
      .Case<EmbeddingOp>([&](EmbeddingOp e) {
        Info ids = get(e.getIds());
        if (ids.role != Role::Token || ids.axis != 1 || get(e.getTokens()).role != Role::Fixed ||
            get(e.getPositions()).role != Role::Fixed ||
            (e.getTypeIds() && !sameAxisOrFixed(e.getTypeIds(), ids)))
          return unsupported("embeds ids that are not the token sequence");
        info[e.getResult()] = {Role::Token, 1};
        embeddings.push_back(e);
        return true;
      })
      .Case<AttentionOp>([&](AttentionOp a) {
        Info q = get(a.getQuery()), k = get(a.getKey()), v = get(a.getValue());
        if (!(q.role == Role::Token || q.role == Role::Position) || q.axis != 1)
          return unsupported("has a query that is not per position [batch, seq, d]");
        bool causal = a.getMaskKind() == MaskKind::causal || a.getMaskKind() == MaskKind::causal_padding;
        if (k.role == Role::Fixed && v.role == Role::Fixed) {
          if (causal)
            return unsupported("is causal over keys that do not come from the sequence");
          if (a.getMask() && get(a.getMask()).role != Role::Fixed)
            return unsupported("masks encoder keys with sequence data");
          crossAttention.push_back(a);
        } else {
          if (k.role == Role::Key || v.role == Role::Key || !k.hasAxis() || !v.hasAxis() ||
              k.axis != 1 || v.axis != 1)
            return unsupported("has keys/values that are not per position [batch, seq, d]");
          if (!causal)
            return unsupported("attends in both directions over the generated sequence "
                               "(later tokens would change earlier positions)");
          if (a.getMask()) {
            Info m = get(a.getMask());
            if (m.role != Role::Fixed && !(m.role == Role::Key && m.axis == rankOf(a.getMask()) - 1))
              return unsupported("has a mask that is not per key");
          }
          selfAttention.push_back(a);
        }
        info[a.getResult()] = {Role::Token, 1};
        return true;
      })
      .Default([&](Operation *) { return unsupported("is not known to be position-wise"); });
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
  std::vector<planner::Symbol> symbols;
  for (unsigned i = 0; i < forward.getNumArguments(); ++i)
    if (auto names = forward.getArgAttrOfType<ArrayAttr>(i, "tfc.dims"))
      for (Attribute a : names)
        if (auto n = dyn_cast<StringAttr>(a); n && !n.getValue().empty() &&
                                              llvm::none_of(symbols, [&](auto &s) { return s.name == n.getValue(); }))
          symbols.push_back({n.str(), 1, 1}); // bounds do not matter here
  lower::ShapeAnalysis shapes(symbols);
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
  for (AttentionOp a : llvm::concat<AttentionOp>(analysis.selfAttention, analysis.crossAttention)) {
    auto q = cast<RankedTensorType>(a.getQuery().getType());
    if (q.isDynamicDim(2))
      return recompute("attention at '" + lower::describeLocation(a.getLoc()) +
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
                                           cross ? b.getUnitAttr() : UnitAttr());
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
