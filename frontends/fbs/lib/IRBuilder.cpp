//===- IRBuilder.cpp - a validated Model -> the primitive-IR module --------===//
//
// Builds `func.func @forward` for the four families of docs/MODEL_FORMAT.md
// ("The computation"): embeddings, the encoder / decoder stacks with post- or
// pre-LN blocks, cross-attention for an encoder-decoder, final norms and the
// heads. The ops themselves come from PrimitiveBuilder, in the shapes of
// docs/PRIMITIVE_PATTERNS.md.
//
// Assumes a Model that passed validateModel (checked again on entry). Ops
// carry NameLocs naming the layer ("encoder.layers.0.self_attn",
// "decoder.layers.1.ffn.up", "lm_head", ...), so diagnostics and reports can
// point at it. The module is verified before it is returned.
//
//===----------------------------------------------------------------------===//
#include "FrontendInternal.h"
#include "PrimitiveBuilder.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"

#include <cmath>
#include <filesystem>

using namespace mlir;

namespace tfc::fbs {
namespace {

// Limits on the constant tables embedded in the IR.
constexpr int64_t kMaxCausalPositions = 8192;                 // [M, M] i1 causal table
constexpr int64_t kMaxSinusoidalElements = int64_t(1) << 26;  // [M, D] f32 table

/// One argument or result of @forward.
struct Port {
  std::string name;
  RankedTensorType type;
  std::vector<std::string> dims;  // inputs only
};

/// A stack of blocks and what its attention sees.
struct StackSpec {
  StackSpec(std::string prefix, int64_t layers, ScoreScale selfScale)
      : prefix(std::move(prefix)), layers(layers), selfScale(selfScale) {}

  std::string prefix;  // "encoder" / "decoder"
  int64_t layers;
  ScoreScale selfScale;
  AttentionMasks selfMasks;
  Value memory;  // cross-attention keys/values (null: no cross-attention)
  AttentionMasks memoryMasks;
};

//===----------------------------------------------------------------------===//
// The signature of @forward
//===----------------------------------------------------------------------===//

std::vector<Port> inputPorts(MLIRContext *ctx, const Hyperparameters &hp) {
  constexpr int64_t kDyn = ShapedType::kDynamic;
  auto ids = RankedTensorType::get({kDyn, kDyn}, IntegerType::get(ctx, 64));
  switch (hp.family) {
  case Family::Encoder:
  case Family::Classifier: {
    std::vector<Port> ports = {{"input_ids", ids, {"batch", "seq"}},
                               {"attention_mask", ids, {"batch", "seq"}}};
    if (hp.typeVocabSize > 0)
      ports.push_back({"token_type_ids", ids, {"batch", "seq"}});
    return ports;
  }
  case Family::Decoder:
    return {{"input_ids", ids, {"batch", "seq"}}};
  case Family::EncoderDecoder:
    return {{"src_ids", ids, {"batch", "src_seq"}},
            {"src_mask", ids, {"batch", "src_seq"}},
            {"tgt_ids", ids, {"batch", "tgt_seq"}}};
  }
  return {};
}

Port outputPort(MLIRContext *ctx, const Hyperparameters &hp) {
  constexpr int64_t kDyn = ShapedType::kDynamic;
  auto f32 = Float32Type::get(ctx);
  switch (hp.family) {
  case Family::Encoder:
    return {"last_hidden_state", RankedTensorType::get({kDyn, kDyn, hp.dModel}, f32), {}};
  case Family::Classifier:
    return {"probs", RankedTensorType::get({kDyn, hp.numClasses}, f32), {}};
  case Family::Decoder:
  case Family::EncoderDecoder:
    break;
  }
  return {"logits", RankedTensorType::get({kDyn, kDyn, hp.vocabSize}, f32), {}};
}

//===----------------------------------------------------------------------===//
// The body of @forward
//===----------------------------------------------------------------------===//

class ModelGraph {
public:
  ModelGraph(OpBuilder &builder, Block &entry, const Model &model)
      : pb(builder, entry, model), hp(model.hparams) {}

  /// Emits the computation on the entry block's arguments; returns the output.
  Value build(ArrayRef<BlockArgument> args);

private:
  Value embed(const std::string &stack, Value ids, Value typeIds);
  Value positionTable(Location loc);
  Value runStack(const StackSpec &spec, Value x);
  Value block(const StackSpec &spec, const std::string &layer, const std::string &weights,
              Value x);
  Value attention(const std::string &name, const std::string &weights, Value xq, Value xkv,
                  ScoreScale scale, const AttentionMasks &masks);
  Value ffn(const std::string &name, const std::string &weights, Value x);
  Value lmHead(Value x);
  Value classifierHead(Value x, Value mask);

  PrimitiveBuilder pb;
  const Hyperparameters &hp;
  Value sinusoidal;      // built once, shared by an encoder-decoder's two stacks
  RotaryTables rotary;   // (2.0) built once per model (Rotary positions only)
};

Value ModelGraph::build(ArrayRef<BlockArgument> args) {
  switch (hp.family) {
  case Family::Encoder:
  case Family::Classifier: {
    Value ids = args[0], mask = args[1];
    Value types = hp.typeVocabSize > 0 ? Value(args[2]) : Value();
    StackSpec encoder("encoder", hp.numLayers, ScoreScale::MultiplyByInverseSqrt);
    encoder.selfMasks.paddingBias = pb.paddingBias(pb.named("encoder.padding_mask"), mask);
    if (hp.positionEncoding == PositionEncoding::Rotary)
      rotary = pb.rotaryTables(pb.named("encoder.rotary"), ids);
    Value x = runStack(encoder, embed("encoder", ids, types));
    return hp.family == Family::Encoder ? x : classifierHead(x, mask);
  }
  case Family::Decoder: {
    Value ids = args[0];
    StackSpec decoder("decoder", hp.numLayers, ScoreScale::DivideBySqrt);
    decoder.selfMasks.causalKeep = pb.causalKeep(pb.named("decoder.causal_mask"), ids);
    if (hp.positionEncoding == PositionEncoding::Rotary)
      rotary = pb.rotaryTables(pb.named("decoder.rotary"), ids);
    return lmHead(runStack(decoder, embed("decoder", ids, Value())));
  }
  case Family::EncoderDecoder: {
    Value src = args[0], srcMask = args[1], tgt = args[2];
    StackSpec encoder("encoder", hp.numLayers, ScoreScale::MultiplyByInverseSqrt);
    encoder.selfMasks.paddingBias = pb.paddingBias(pb.named("encoder.padding_mask"), srcMask);
    Value memory = runStack(encoder, embed("encoder", src, Value()));

    StackSpec decoder("decoder", hp.numDecoderLayers, ScoreScale::DivideBySqrt);
    decoder.selfMasks.causalKeep = pb.causalKeep(pb.named("decoder.causal_mask"), tgt);
    decoder.memory = memory;
    decoder.memoryMasks.paddingBias = encoder.selfMasks.paddingBias;  // [B,1,1,Ts]
    return lmHead(runStack(decoder, embed("decoder", tgt, Value())));
  }
  }
  return Value();
}

/// token[ids] (* scale) + P[0:S] (+ token_type[type_ids]) (then LN) (then the projection
/// to d_model). Rotary positions add nothing here; RoBERTa's positions gather P by the
/// positions computed from the ids.
Value ModelGraph::embed(const std::string &stack, Value ids, Value typeIds) {
  Location loc = pb.named(stack + ".embeddings");
  Value e = pb.gather(loc, pb.weight("embeddings.token"), ids);
  if (hp.embeddingScale != 1.0f)
    e = pb.mul(loc, e, pb.scalar(loc, hp.embeddingScale));
  if (hp.positionPadId >= 0) {
    Value positions = pb.paddingAwarePositions(pb.named(stack + ".positions"), ids);
    e = pb.add(loc, e, pb.gather(loc, positionTable(loc), positions));
  } else if (hp.positionEncoding != PositionEncoding::Rotary) {
    auto rows = RankedTensorType::get({ShapedType::kDynamic, hp.embeddingWidth()},
                                      Float32Type::get(pb.context()));
    Value table = positionTable(loc);
    Value starts = pb.indexVector(loc, {0});
    Value ends = pb.dimOf(loc, ids, 1);
    e = pb.add(loc, e, pb.slice(loc, table, starts, ends, {0}, rows));
  }
  if (typeIds)
    e = pb.add(loc, e, pb.gather(loc, pb.weight("embeddings.token_type"), typeIds));
  if (hp.embeddingNorm)
    e = pb.norm(pb.named(stack + ".embeddings.norm"), e, "embeddings.norm");
  if (hp.embeddingSize > 0)
    e = pb.linear(pb.named(stack + ".embeddings.project"), e, "embeddings.project");
  return e;
}

/// The learned table, or P[p, 2i] = sin(p / 10000^(2i/D)), P[p, 2i+1] = cos(...).
Value ModelGraph::positionTable(Location loc) {
  if (hp.positionEncoding == PositionEncoding::Learned)
    return pb.weight("embeddings.position");
  if (sinusoidal)
    return sinusoidal;
  int64_t m = hp.maxPositions, d = hp.embeddingWidth();
  std::vector<float> table(static_cast<size_t>(m * d));
  for (int64_t p = 0; p < m; ++p) {
    for (int64_t i = 0; i < d; i += 2) {
      double angle = static_cast<double>(p) / std::pow(10000.0, static_cast<double>(i) / d);
      table[p * d + i] = static_cast<float>(std::sin(angle));
      table[p * d + i + 1] = static_cast<float>(std::cos(angle));
    }
  }
  auto type = RankedTensorType::get({m, d}, Float32Type::get(pb.context()));
  sinusoidal = pb.constant(loc, DenseElementsAttr::get(type, llvm::ArrayRef<float>(table)));
  return sinusoidal;
}

Value ModelGraph::runStack(const StackSpec &spec, Value x) {
  for (int64_t i = 0; i < spec.layers; ++i)
    x = block(spec, spec.prefix + ".layers." + std::to_string(i),
              spec.prefix + ".layers." + std::to_string(hp.weightLayer(i, spec.layers)), x);
  if (hp.finalNorm)
    x = pb.norm(pb.named(spec.prefix + ".final_norm"), x, spec.prefix + ".final_norm");
  return x;
}

/// Post: h = LN_a(x + MHA(x, x)); h = LN_c(h + MHA(h, mem)); x = LN_f(h + FFN(h)).
/// Pre:  h = x + MHA(LN_a(x), LN_a(x)); h = h + MHA(LN_c(h), mem); x = h + FFN(LN_f(h)).
/// Parallel (2.0): n = LN_a(x); x = (MHA(n, n) + FFN(n)) + x.
/// Residual adds are `tfc.add %sublayer, %residual`. Ops are named after `layer`, weights
/// come from `weights` (another layer's when layers share them).
Value ModelGraph::block(const StackSpec &spec, const std::string &layer,
                        const std::string &weights, Value x) {
  if (hp.normPlacement == NormPlacement::Parallel) {
    Value n = pb.norm(pb.named(layer + ".self_attn_norm"), x, weights + ".self_attn_norm");
    Value a = attention(layer + ".self_attn", weights + ".self_attn", n, n, spec.selfScale,
                        spec.selfMasks);
    Value f = ffn(layer + ".ffn", weights + ".ffn", n);
    Location loc = pb.named(layer + ".residual");
    return pb.add(loc, pb.add(loc, a, f), x);
  }
  bool pre = hp.normPlacement == NormPlacement::Pre;
  auto sublayer = [&](const std::string &name, const std::string &norm, Value in,
                      auto &&compute) {
    Location loc = pb.named(layer + "." + name);
    Location normLoc = pb.named(layer + "." + norm);
    if (pre)
      return pb.add(loc, compute(pb.norm(normLoc, in, weights + "." + norm)), in);
    return pb.norm(normLoc, pb.add(loc, compute(in), in), weights + "." + norm);
  };
  Value h = sublayer("self_attn", "self_attn_norm", x, [&](Value in) {
    return attention(layer + ".self_attn", weights + ".self_attn", in, in, spec.selfScale,
                     spec.selfMasks);
  });
  if (spec.memory)
    h = sublayer("cross_attn", "cross_attn_norm", h, [&](Value in) {
      return attention(layer + ".cross_attn", weights + ".cross_attn", in, spec.memory,
                       ScoreScale::MultiplyByInverseSqrt, spec.memoryMasks);
    });
  return sublayer("ffn", "ffn_norm", h,
                  [&](Value in) { return ffn(layer + ".ffn", weights + ".ffn", in); });
}

/// Q/K/V projections, the attention core, the output projection. Rotary positions or fewer
/// key/value heads take the described core (2.0); the 1.x shapes are unchanged.
Value ModelGraph::attention(const std::string &name, const std::string &weights, Value xq,
                            Value xkv, ScoreScale scale, const AttentionMasks &masks) {
  Value q = pb.linear(pb.named(name + ".q"), xq, weights + ".q");
  Value k = pb.linear(pb.named(name + ".k"), xkv, weights + ".k");
  Value v = pb.linear(pb.named(name + ".v"), xkv, weights + ".v");
  Value o = rotary.cos || hp.kvHeads() != hp.numHeads
                ? pb.describedAttentionCore(pb.named(name), q, k, v, scale, masks, rotary)
                : pb.attentionCore(pb.named(name), q, k, v, scale, masks);
  return pb.linear(pb.named(name + ".o"), o, weights + ".o");
}

/// act(x W_up + b_up) W_down + b_down; gated (2.0): (act(x W_gate) * (x W_up)) W_down.
Value ModelGraph::ffn(const std::string &name, const std::string &weights, Value x) {
  if (hp.ffnGated) {
    Value gate = pb.linear(pb.named(name + ".gate"), x, weights + ".gate");
    Value act = pb.activation(pb.named(name + ".act"), gate, hp.activation);
    Value up = pb.linear(pb.named(name + ".up"), x, weights + ".up");
    Value h = pb.mul(pb.named(name + ".act"), act, up);
    return pb.linear(pb.named(name + ".down"), h, weights + ".down");
  }
  Value up = pb.linear(pb.named(name + ".up"), x, weights + ".up");
  Value act = pb.activation(pb.named(name + ".act"), up, hp.activation);
  return pb.linear(pb.named(name + ".down"), act, weights + ".down");
}

/// x @ lm_head.weight (or transpose(embeddings.token)) (+ lm_head.bias).
Value ModelGraph::lmHead(Value x) {
  Location loc = pb.named("lm_head");
  if (!hp.tiedEmbeddings)
    return pb.linear(loc, x, "lm_head");
  Value w = pb.transpose(loc, pb.weight("embeddings.token"), {1, 0});
  Value logits = pb.matmul(loc, x, w);
  return pb.hasWeight("lm_head.bias") ? pb.add(loc, logits, pb.weight("lm_head.bias")) : logits;
}

/// Mean over kept tokens or the first token, then softmax(pooled W + b).
Value ModelGraph::classifierHead(Value x, Value mask) {
  Location loc = pb.named("classifier.pooling");
  Value pooled;
  if (hp.pooling == Pooling::Mean) {
    Value m = pb.reshape(loc, pb.castTo(loc, mask, Float32Type::get(pb.context())), {0, 0, 1});
    Value sum = pb.reduceSum(loc, pb.mul(loc, x, m), 1, /*keepdims=*/false);
    Value count = pb.reduceSum(loc, m, 1, /*keepdims=*/false);
    pooled = pb.div(loc, sum, pb.max(loc, count, pb.scalar(loc, 1e-9)));
  } else {
    auto firstType = RankedTensorType::get({ShapedType::kDynamic, 1, hp.dModel},
                                           Float32Type::get(pb.context()));
    Value starts = pb.indexVector(loc, {0});
    Value ends = pb.indexVector(loc, {1});
    Value first = pb.slice(loc, x, starts, ends, {1}, firstType);
    pooled = pb.reshape(loc, first, {0, hp.dModel});
  }
  Location head = pb.named("classifier");
  return pb.softmax(head, pb.linear(head, pooled, "classifier"));
}

//===----------------------------------------------------------------------===//
// Module
//===----------------------------------------------------------------------===//

/// Refuses models whose constant tables would not fit in the IR.
Status checkTableSizes(const Model &model) {
  const Hyperparameters &hp = model.hparams;
  bool causal = hp.family == Family::Decoder || hp.family == Family::EncoderDecoder;
  if (causal && hp.maxPositions > kMaxCausalPositions)
    return fail(model.path, "hparams.max_positions " + llvm::Twine(hp.maxPositions) +
                                " is too large for the causal mask table (at most " +
                                llvm::Twine(kMaxCausalPositions) + ")");
  if (hp.positionPadId >= 0 && hp.maxPositions > kMaxCausalPositions)
    return fail(model.path, "hparams.max_positions " + llvm::Twine(hp.maxPositions) +
                                " is too large for the position-counting table of "
                                "position_pad_id (at most " +
                                llvm::Twine(kMaxCausalPositions) + ")");
  if (hp.positionEncoding == PositionEncoding::Sinusoidal &&
      hp.maxPositions * hp.embeddingWidth() > kMaxSinusoidalElements)
    return fail(model.path, "the sinusoidal position table [" + llvm::Twine(hp.maxPositions) +
                                "x" + llvm::Twine(hp.embeddingWidth()) +
                                "] is too large to embed (at most " +
                                llvm::Twine(kMaxSinusoidalElements) + " elements)");
  if (hp.positionEncoding == PositionEncoding::Rotary &&
      hp.maxPositions * hp.rotaryWidth() > kMaxSinusoidalElements)
    return fail(model.path, "the rotary tables [" + llvm::Twine(hp.maxPositions) + "x" +
                                llvm::Twine(hp.rotaryWidth()) +
                                "] are too large to embed (at most " +
                                llvm::Twine(kMaxSinusoidalElements) + " elements)");
  return {};
}

void setModuleAttributes(ModuleOp module, const Model &model) {
  Builder b(module.getContext());
  std::string name = model.name;
  if (name.empty())
    name = std::filesystem::path(model.path).stem().string();
  const SpecialTokens &t = model.specialTokens;
  module->setAttr("tfc.family", b.getStringAttr(familyAttrName(model.hparams.family)));
  module->setAttr("tfc.model_name", b.getStringAttr(name));
  module->setAttr("tfc.special_tokens",
                  b.getDenseI32ArrayAttr({t.startId, t.endId, t.unkId, t.padId}));
}

func::FuncOp createForward(OpBuilder &builder, const std::vector<Port> &inputs,
                           const Port &output) {
  SmallVector<Type> argTypes;
  for (const Port &p : inputs)
    argTypes.push_back(p.type);
  auto type = builder.getFunctionType(argTypes, {output.type});
  auto func = builder.create<func::FuncOp>(builder.getUnknownLoc(), "forward", type);
  for (auto [i, p] : llvm::enumerate(inputs)) {
    func.setArgAttr(i, "tfc.name", builder.getStringAttr(p.name));
    SmallVector<Attribute> dims;
    for (const std::string &d : p.dims)
      dims.push_back(builder.getStringAttr(d));
    func.setArgAttr(i, "tfc.dims", builder.getArrayAttr(dims));
  }
  func.setResultAttr(0, "tfc.name", builder.getStringAttr(output.name));
  return func;
}

/// mlir::verify with the diagnostics collected into `error`.
Status verifyModule(ModuleOp module, const std::string &file) {
  std::string diagnostics;
  ScopedDiagnosticHandler handler(module.getContext(), [&](Diagnostic &diag) {
    if (!diagnostics.empty())
      diagnostics += "; ";
    diagnostics += diag.str();
    return success();
  });
  if (succeeded(verify(module)))
    return {};
  return fail(file, "internal error: the primitive IR does not verify: " + diagnostics);
}

} // namespace

void loadFrontendDialects(MLIRContext &context) {
  context.loadDialect<mlir::tfc::TfcDialect, func::FuncDialect>();
}

OwningOpRef<ModuleOp> buildModule(MLIRContext &context, const Model &model, std::string &error) {
  error.clear();
  Status status = validateModel(model);
  if (status.ok())
    status = checkTableSizes(model);
  if (!status.ok()) {
    error = status.error;
    return nullptr;
  }
  loadFrontendDialects(context);

  OpBuilder builder(&context);
  OwningOpRef<ModuleOp> module = ModuleOp::create(NameLoc::get(builder.getStringAttr(model.path)));
  setModuleAttributes(*module, model);
  builder.setInsertionPointToEnd(module->getBody());
  std::vector<Port> inputs = inputPorts(&context, model.hparams);
  Port output = outputPort(&context, model.hparams);
  func::FuncOp forward = createForward(builder, inputs, output);

  Block *entry = forward.addEntryBlock();
  builder.setInsertionPointToEnd(entry);
  Value result = ModelGraph(builder, *entry, model).build(entry->getArguments());
  builder.create<func::ReturnOp>(NameLoc::get(builder.getStringAttr("output")), result);

  if (Status s = verifyModule(*module, model.path); !s.ok()) {
    error = s.error;
    return nullptr;
  }
  return module;
}

} // namespace tfc::fbs
