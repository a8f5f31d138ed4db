//===- CpuKernels.cpp - each tfc op's CPU plan kernel: kind and typed options ------------===//
//
// One function per op (`lowerKernel(XOp, ...)`) says which plan kernel the op becomes and with
// which options (plan.fbs, KernelOptions); registerCpuLowering() attaches them to the ops as
// CpuKernelLoweringOpInterface external models. Adding an op's CPU kernel is one overload here
// plus its name in the attach list below. Axes are written non-negative.
//
//===----------------------------------------------------------------------===//
#include "tfc/lower/cpu/CpuKernelLowering.h"

#include "tfc/IR/TfcDialect.h"

#include "mlir/IR/BuiltinTypes.h"

#include <limits>

#include "tfc/lower/cpu/CpuKernelLowering.cpp.inc"

namespace tfc::lower {

using namespace mlir;
using namespace mlir::tfc;
namespace fb = ::tfc::plan;
using planner::Kernel;
using planner::Status;

namespace {

int64_t rankOf(Value v) { return cast<RankedTensorType>(v.getType()).getRank(); }
int32_t normalize(int64_t axis, int64_t rank) { return int32_t(axis < 0 ? axis + rank : axis); }

/// Sets the kernel's kind and its options table.
template <typename OptionsT> Status set(Kernel &k, fb::KernelKind kind, OptionsT options) {
  k.kind = kind;
  k.options.Set(std::move(options));
  return {};
}
/// A kind without attributes.
Status set(Kernel &k, fb::KernelKind kind) {
  k.kind = kind;
  k.options.Reset();
  return {};
}

Status binary(Kernel &k, fb::BinaryOp op) {
  fb::BinaryOptionsT o;
  o.op = op;
  return set(k, fb::KernelKind::Binary, std::move(o));
}
Status unary(Kernel &k, fb::UnaryOp op) {
  fb::UnaryOptionsT o;
  o.op = op;
  return set(k, fb::KernelKind::Unary, std::move(o));
}

fb::MaskKind maskKind(MaskKind kind) {
  switch (kind) {
  case MaskKind::none: return fb::MaskKind::None;
  case MaskKind::causal: return fb::MaskKind::Causal;
  case MaskKind::padding: return fb::MaskKind::Padding;
  case MaskKind::causal_padding: return fb::MaskKind::CausalPadding;
  }
  return fb::MaskKind::None;
}

fb::Activation activation(Activation act) {
  switch (act) {
  case Activation::none: return fb::Activation::None;
  case Activation::relu: return fb::Activation::Relu;
  case Activation::gelu_erf: return fb::Activation::GeluErf;
  case Activation::gelu_tanh: return fb::Activation::GeluTanh;
  }
  return fb::Activation::None;
}

template <typename ReduceOpT> Status reduce(ReduceOpT op, Kernel &k, fb::ReduceOp kind) {
  fb::ReduceOptionsT o;
  o.op = kind;
  o.keepdims = op.getKeepdims();
  for (int64_t a : op.getAxes())
    o.axes.push_back(normalize(a, rankOf(op->getOperand(0))));
  return set(k, fb::KernelKind::Reduce, std::move(o));
}

// ---- one function per op ------------------------------------------------------------------
using L = KernelLowering;

Status lowerKernel(AddOp, L &, Kernel &k) { return binary(k, fb::BinaryOp::Add); }
Status lowerKernel(SubOp, L &, Kernel &k) { return binary(k, fb::BinaryOp::Sub); }
Status lowerKernel(MulOp, L &, Kernel &k) { return binary(k, fb::BinaryOp::Mul); }
Status lowerKernel(DivOp, L &, Kernel &k) { return binary(k, fb::BinaryOp::Div); }
Status lowerKernel(PowOp, L &, Kernel &k) { return binary(k, fb::BinaryOp::Pow); }
Status lowerKernel(MaxOp, L &, Kernel &k) { return binary(k, fb::BinaryOp::Max); }

Status lowerKernel(SqrtOp, L &, Kernel &k) { return unary(k, fb::UnaryOp::Sqrt); }
Status lowerKernel(ErfOp, L &, Kernel &k) { return unary(k, fb::UnaryOp::Erf); }
Status lowerKernel(TanhOp, L &, Kernel &k) { return unary(k, fb::UnaryOp::Tanh); }
Status lowerKernel(ReluOp, L &, Kernel &k) { return unary(k, fb::UnaryOp::Relu); }
Status lowerKernel(ExpOp, L &, Kernel &k) { return unary(k, fb::UnaryOp::Exp); }
Status lowerKernel(NegOp, L &, Kernel &k) { return unary(k, fb::UnaryOp::Neg); }
Status lowerKernel(LogOp, L &, Kernel &k) { return unary(k, fb::UnaryOp::Log); }
Status lowerKernel(SigmoidOp, L &, Kernel &k) { return unary(k, fb::UnaryOp::Sigmoid); }
Status lowerKernel(GeluOp op, L &, Kernel &k) {
  return unary(k, op.getApproximate() == GeluApprox::tanh ? fb::UnaryOp::GeluTanh
                                                           : fb::UnaryOp::GeluErf);
}

Status lowerKernel(MatMulOp, L &, Kernel &k) { return set(k, fb::KernelKind::MatMul); }
Status lowerKernel(ReshapeOp, L &, Kernel &k) { return set(k, fb::KernelKind::Reshape); }
Status lowerKernel(ShapeOp, L &, Kernel &k) { return set(k, fb::KernelKind::Shape); }
Status lowerKernel(ExpandOp, L &, Kernel &k) { return set(k, fb::KernelKind::Expand); }
Status lowerKernel(WhereOp, L &, Kernel &k) { return set(k, fb::KernelKind::Where); }
Status lowerKernel(CastOp, L &, Kernel &k) { return set(k, fb::KernelKind::Cast); }

Status lowerKernel(ReduceMeanOp op, L &, Kernel &k) { return reduce(op, k, fb::ReduceOp::Mean); }
Status lowerKernel(ReduceSumOp op, L &, Kernel &k) { return reduce(op, k, fb::ReduceOp::Sum); }

Status lowerKernel(SoftmaxOp op, L &, Kernel &k) {
  fb::SoftmaxOptionsT o;
  o.axis = normalize(op.getAxis(), rankOf(op.getInput()));
  return set(k, fb::KernelKind::Softmax, std::move(o));
}

Status lowerKernel(LayerNormalizationOp op, L &l, Kernel &k) {
  k.inputs = {l.valueId(op.getInput()), l.valueId(op.getScale()), l.valueId(op.getBias())};
  fb::LayerNormalizationOptionsT o;
  o.axis = normalize(op.getAxis(), rankOf(op.getInput()));
  o.epsilon = op.getEpsilon().convertToFloat();
  return set(k, fb::KernelKind::LayerNormalization, std::move(o));
}

Status lowerKernel(GatherOp op, L &, Kernel &k) {
  fb::GatherOptionsT o;
  o.axis = normalize(op.getAxis(), rankOf(op.getData()));
  return set(k, fb::KernelKind::Gather, std::move(o));
}

Status lowerKernel(TransposeOp op, L &, Kernel &k) {
  fb::TransposeOptionsT o;
  o.perm.assign(op.getPerm().begin(), op.getPerm().end());
  return set(k, fb::KernelKind::Transpose, std::move(o));
}

Status lowerKernel(ConcatOp op, L &, Kernel &k) {
  fb::ConcatOptionsT o;
  o.axis = normalize(op.getAxis(), rankOf(op.getResult()));
  return set(k, fb::KernelKind::Concat, std::move(o));
}

Status lowerKernel(SliceOp op, L &, Kernel &k) {
  fb::SliceOptionsT o;
  ArrayRef<int64_t> axes = op.getAxes();
  std::optional<ArrayRef<int64_t>> steps = op.getSteps();
  for (size_t i = 0; i < axes.size(); ++i) {
    o.axes.push_back(normalize(axes[i], rankOf(op.getInput())));
    o.steps.push_back(steps && i < steps->size() ? (*steps)[i] : 1);
  }
  if (std::optional<ArrayRef<int64_t>> offsets = op.getCacheOffset())
    for (int64_t v : *offsets)
      o.cache_offset.push_back(v != 0);
  return set(k, fb::KernelKind::Slice, std::move(o));
}

Status lowerKernel(LayerNormOp op, L &l, Kernel &k) {
  k.inputs = {l.valueId(op.getInput()), l.valueId(op.getGamma()), l.valueId(op.getBeta()),
              l.valueId(op.getResidual())};
  fb::LayerNormOptionsT o;
  o.epsilon = op.getEpsilon().convertToFloat();
  return set(k, fb::KernelKind::LayerNorm, std::move(o));
}

Status lowerKernel(RmsNormOp op, L &l, Kernel &k) {
  k.inputs = {l.valueId(op.getInput()), l.valueId(op.getWeight()), l.valueId(op.getResidual())};
  fb::RmsNormOptionsT o;
  o.epsilon = op.getEpsilon().convertToFloat();
  o.unit_offset = op.getUnitOffset();
  return set(k, fb::KernelKind::RmsNorm, std::move(o));
}

Status lowerKernel(GatedLinearOp op, L &, Kernel &k) {
  fb::GatedLinearOptionsT o;
  switch (op.getActivation()) {
  case GateActivation::silu: o.activation = fb::GateActivation::Silu; break;
  case GateActivation::gelu_erf: o.activation = fb::GateActivation::GeluErf; break;
  case GateActivation::gelu_tanh: o.activation = fb::GateActivation::GeluTanh; break;
  }
  return set(k, fb::KernelKind::GatedLinear, std::move(o));
}

/// num_kv_heads, window and hidden_score of an attention (absent: 0, 0, NaN), checked.
template <typename OpT, typename OptionsT> Status attentionRule(OpT op, OptionsT &o) {
  int64_t heads = op.getNumHeads(), kv = op.getKvHeads();
  if (kv < 1 || heads % kv)
    return {describeOp(op) + ": num_kv_heads " + std::to_string(kv) +
            " does not divide num_heads " + std::to_string(heads)};
  o.num_kv_heads = kv == heads ? 0 : int32_t(kv);
  int64_t window = op.getWindow() ? int64_t(*op.getWindow()) : 0;
  bool causal = op.getMaskKind() == MaskKind::causal || op.getMaskKind() == MaskKind::causal_padding;
  if (window < 0 || window > INT32_MAX || (window && !causal))
    return {describeOp(op) + ": window " + std::to_string(window) +
            " needs a causal mask kind and a non-negative 32-bit value"};
  o.window = int32_t(window);
  o.hidden_score = op.getHiddenScore() ? op.getHiddenScore()->convertToFloat()
                                       : std::numeric_limits<float>::quiet_NaN();
  return {};
}

Status lowerKernel(AttentionOp op, L &l, Kernel &k) {
  k.inputs = {l.valueId(op.getQuery()), l.valueId(op.getKey()), l.valueId(op.getValue()),
              l.valueId(op.getMask())};
  fb::AttentionOptionsT o;
  o.num_heads = int32_t(op.getNumHeads());
  o.mask = maskKind(op.getMaskKind());
  o.scale = op.getScale().convertToFloat();
  if (Status s = attentionRule(op, o); !s.ok())
    return s;
  if (auto columns = op.getColumns()) {
    // Packed projections (tfc-pack-attention-inputs); the op's verifier bounded the values.
    ArrayRef<int64_t> c = *columns;
    if (c.size() != 4 || c[3] <= 0 || c[3] > INT32_MAX || c[0] < 0 || c[0] > INT32_MAX ||
        c[1] < 0 || c[1] > INT32_MAX || c[2] < 0 || c[2] > INT32_MAX)
      return {describeOp(op) + ": columns do not fit the plan's 32-bit fields"};
    o.head_dim = int32_t(c[3]);
    o.q_column = int32_t(c[0]);
    o.k_column = int32_t(c[1]);
    o.v_column = int32_t(c[2]);
  }
  return set(k, fb::KernelKind::Attention, std::move(o));
}

Status lowerKernel(LinearOp op, L &l, Kernel &k) {
  k.inputs = {l.valueId(op.getInput()), l.valueId(op.getWeight()), l.valueId(op.getBias()),
              l.valueId(op.getResidual())};
  fb::LinearOptionsT o;
  o.activation = activation(op.getActivation());
  return set(k, fb::KernelKind::Linear, std::move(o));
}

Status lowerKernel(EmbeddingOp op, L &l, Kernel &k) {
  k.inputs = {l.valueId(op.getIds()), l.valueId(op.getTokens()), l.valueId(op.getPositions()),
              l.valueId(op.getTypeIds()), l.valueId(op.getTypes())};
  fb::EmbeddingOptionsT o;
  o.scale = op.getScale().convertToFloat();
  o.offset_positions = op.getCacheOffset();
  return set(k, fb::KernelKind::Embedding, std::move(o));
}

Status lowerKernel(CachedAttentionOp op, L &l, Kernel &k) {
  k.inputs = {l.valueId(op.getQuery()), l.valueId(op.getKey()), l.valueId(op.getValue()),
              l.valueId(op.getMask())};
  fb::CachedAttentionOptionsT o;
  o.num_heads = int32_t(op.getNumHeads());
  o.mask = maskKind(op.getMaskKind());
  o.scale = op.getScale().convertToFloat();
  o.slot = int32_t(op.getSlot());
  o.cache_kind = op.getCross() ? fb::CacheKind::Cross : fb::CacheKind::Self;
  if (Status s = attentionRule(op, o); !s.ok())
    return s;
  // A self slot holds the heads of this run's keys (num_kv_heads of them with grouped-query
  // attention); a cross slot is described by the query's heads (CacheStore checks its keys).
  Status s = op.getCross()
                 ? (op.getKvHeads() != op.getNumHeads()
                        ? Status{describeOp(op) + ": grouped-query cross-attention over the "
                                                  "KV cache is not supported"}
                        : l.useCacheSlot(op, op.getSlot(), o.cache_kind, op.getNumHeads(),
                                         op.getQuery()))
                 : l.useCacheSlot(op, op.getSlot(), o.cache_kind, op.getKvHeads(), op.getKey());
  if (!s.ok())
    return s;
  return set(k, fb::KernelKind::CachedAttention, std::move(o));
}

Status lowerKernel(CacheStoreOp op, L &l, Kernel &k) {
  const planner::CacheSlot *slot = l.findCacheSlot(op.getSlot());
  if (!slot || slot->numHeads == 0)
    return {describeOp(op) + ": cache slot " + std::to_string(op.getSlot()) +
            " is not read by any cached attention"};
  if (Status s = l.useCacheSlot(op, op.getSlot(), fb::CacheKind::Cross, slot->numHeads,
                                op.getKey());
      !s.ok())
    return s;
  fb::CacheStoreOptionsT o;
  o.slot = int32_t(op.getSlot());
  return set(k, fb::KernelKind::CacheStore, std::move(o));
}

Status lowerKernel(RotaryOp op, L &l, Kernel &k) {
  k.inputs = {l.valueId(op.getInput()), l.valueId(op.getCos()), l.valueId(op.getSin())};
  fb::RotaryOptionsT o;
  o.num_heads = int32_t(op.getNumHeads());
  o.rotary_dim = int32_t(op.getRotaryDim());
  o.interleaved = op.getInterleaved();
  return set(k, fb::KernelKind::Rotary, std::move(o));
}

// ---- breadth ops (issue 11) ----------------------------------------------------------------
Status compare(Kernel &k, fb::CompareOp op) {
  fb::CompareOptionsT o;
  o.op = op;
  return set(k, fb::KernelKind::Compare, std::move(o));
}

Status lowerKernel(MinOp, L &, Kernel &k) { return binary(k, fb::BinaryOp::Min); }
Status lowerKernel(AbsOp, L &, Kernel &k) { return unary(k, fb::UnaryOp::Abs); }
Status lowerKernel(SignOp, L &, Kernel &k) { return unary(k, fb::UnaryOp::Sign); }
Status lowerKernel(CeilOp, L &, Kernel &k) { return unary(k, fb::UnaryOp::Ceil); }
Status lowerKernel(FloorOp, L &, Kernel &k) { return unary(k, fb::UnaryOp::Floor); }
Status lowerKernel(SinOp, L &, Kernel &k) { return unary(k, fb::UnaryOp::Sin); }
Status lowerKernel(CosOp, L &, Kernel &k) { return unary(k, fb::UnaryOp::Cos); }
Status lowerKernel(EqualOp, L &, Kernel &k) { return compare(k, fb::CompareOp::Equal); }
Status lowerKernel(LessOp, L &, Kernel &k) { return compare(k, fb::CompareOp::Less); }
Status lowerKernel(LessEqualOp, L &, Kernel &k) { return compare(k, fb::CompareOp::LessOrEqual); }
Status lowerKernel(GreaterOp, L &, Kernel &k) { return compare(k, fb::CompareOp::Greater); }
Status lowerKernel(GreaterEqualOp, L &, Kernel &k) {
  return compare(k, fb::CompareOp::GreaterOrEqual);
}

Status lowerKernel(CumSumOp op, L &, Kernel &k) {
  fb::CumSumOptionsT o;
  o.axis = normalize(op.getAxis(), rankOf(op.getInput()));
  o.exclusive = op.getExclusive();
  o.reverse = op.getReverse();
  return set(k, fb::KernelKind::CumSum, std::move(o));
}

Status lowerKernel(TileOp op, L &, Kernel &k) {
  fb::TileOptionsT o;
  o.repeats.assign(op.getRepeats().begin(), op.getRepeats().end());
  return set(k, fb::KernelKind::Tile, std::move(o));
}

Status lowerKernel(GatherElementsOp op, L &, Kernel &k) {
  fb::GatherElementsOptionsT o;
  o.axis = normalize(op.getAxis(), rankOf(op.getData()));
  return set(k, fb::KernelKind::GatherElements, std::move(o));
}

Status lowerKernel(ArgMaxOp op, L &, Kernel &k) {
  fb::ArgMaxOptionsT o;
  o.axis = normalize(op.getAxis(), rankOf(op.getInput()));
  o.keepdims = op.getKeepdims();
  o.select_last_index = op.getSelectLastIndex();
  return set(k, fb::KernelKind::ArgMax, std::move(o));
}

Status lowerKernel(TriluOp op, L &, Kernel &k) {
  fb::TriluOptionsT o;
  o.upper = op.getUpper();
  o.k = op.getK();
  return set(k, fb::KernelKind::Trilu, std::move(o));
}

Status lowerKernel(ConvOp op, L &l, Kernel &k) {
  k.inputs = {l.valueId(op.getInput()), l.valueId(op.getWeight()), l.valueId(op.getBias())};
  fb::ConvOptionsT o;
  o.strides.assign(op.getStrides().begin(), op.getStrides().end());
  o.pads.assign(op.getPads().begin(), op.getPads().end());
  o.dilations.assign(op.getDilations().begin(), op.getDilations().end());
  o.group = op.getGroup();
  return set(k, fb::KernelKind::Conv, std::move(o));
}

/// The interface's model for `OpT`: its lowerKernel() overload above.
template <typename OpT>
struct CpuKernelModel
    : public CpuKernelLoweringOpInterface::ExternalModel<CpuKernelModel<OpT>, OpT> {
  Status lowerToCpuKernel(Operation *op, KernelLowering &lowering, Kernel &kernel) const {
    return lowerKernel(cast<OpT>(op), lowering, kernel);
  }
};

template <typename... OpTs> void attach(MLIRContext *ctx) {
  (OpTs::template attachInterface<CpuKernelModel<OpTs>>(*ctx), ...);
}

} // namespace

void registerCpuLowering(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, TfcDialect *) {
    attach<AddOp, SubOp, MulOp, DivOp, PowOp, MaxOp,                      // Binary
           SqrtOp, ErfOp, TanhOp, ReluOp, ExpOp, NegOp, LogOp, SigmoidOp, GeluOp, // Unary
           MatMulOp, ReduceMeanOp, ReduceSumOp, SoftmaxOp, LayerNormalizationOp, GatherOp,
           TransposeOp, ReshapeOp, ConcatOp, SliceOp, ShapeOp, ExpandOp, WhereOp, CastOp,
           LayerNormOp, RmsNormOp, GatedLinearOp, AttentionOp, LinearOp, EmbeddingOp, RotaryOp, // fused
           CachedAttentionOp, CacheStoreOp,                              // generation
           MinOp, AbsOp, SignOp, CeilOp, FloorOp, SinOp, CosOp, EqualOp, LessOp,  // issue 11
           LessEqualOp, GreaterOp, GreaterEqualOp, CumSumOp, TileOp, GatherElementsOp, ArgMaxOp,
           TriluOp, ConvOp>(ctx);
  });
}

} // namespace tfc::lower
