//===- PrimitiveBuilder.h - emit the primitive patterns of the contract -*- C++ -*-===//
//
// A thin layer over mlir::OpBuilder that emits, op for op, the primitive
// shapes of docs/PRIMITIVE_PATTERNS.md (linear, decomposed layer norm, the
// decomposed activations, multi-head attention with its score modifiers, the
// padding bias and the causal mask). The fusion passes match exactly these
// shapes: change one here only together with that document.
//
// Every op gets the Location passed in (IRBuilder.cpp gives NameLocs such as
// "encoder.layers.0.self_attn"). Weights become `tfc.weight` ops created once
// each, at the top of the entry block, in first-use order.
//
//===----------------------------------------------------------------------===//
#ifndef TFC_FRONTENDS_FBS_PRIMITIVEBUILDER_H
#define TFC_FRONTENDS_FBS_PRIMITIVEBUILDER_H

#include "tfc/IR/TfcDialect.h"
#include "tfc/frontends/FbsFrontend.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringMap.h"

#include <functional>

namespace tfc::fbs {

/// How attention scores are scaled: `tfc.mul %s, c(1/sqrt(dh))` or
/// `tfc.div %s, c(sqrt(dh))` (both are in the contract; the frontend uses
/// the first for encoder and cross-attention, the second for decoder
/// self-attention).
enum class ScoreScale { MultiplyByInverseSqrt, DivideBySqrt };

/// What an attention core hides: `paddingBias` [B,1,1,T] f32 is added to the
/// scores, `causalKeep` [T,T] i1 selects them (`tfc.where`, else -1e9).
struct AttentionMasks {
  mlir::Value paddingBias;
  mlir::Value causalKeep;
};

/// (2.0) Rotary position tables for the positions [0, seq): cos and sin [S, rotary_dim]
/// (null: no rotary embedding).
struct RotaryTables {
  mlir::Value cos, sin;
};

class PrimitiveBuilder {
public:
  PrimitiveBuilder(mlir::OpBuilder &builder, mlir::Block &entry, const Model &model);

  mlir::MLIRContext *context() const { return builder.getContext(); }
  mlir::Location named(llvm::StringRef name) const;

  // --- Sources -------------------------------------------------------------
  /// `tfc.constant` of `value` (tables: sinusoidal positions, the causal mask).
  mlir::Value constant(mlir::Location loc, mlir::DenseElementsAttr value);
  /// A rank-0 f32 constant.
  mlir::Value scalar(mlir::Location loc, double value);
  /// A 1-D i64 constant.
  mlir::Value indexVector(mlir::Location loc, llvm::ArrayRef<int64_t> values);
  /// `tfc.weight "<name>"` with the model's shape (created once).
  mlir::Value weight(llvm::StringRef name);
  bool hasWeight(llvm::StringRef name) const;

  // --- Single ops ------------------------------------------------------------
  mlir::Value add(mlir::Location loc, mlir::Value a, mlir::Value b);
  mlir::Value sub(mlir::Location loc, mlir::Value a, mlir::Value b);
  mlir::Value mul(mlir::Location loc, mlir::Value a, mlir::Value b);
  mlir::Value div(mlir::Location loc, mlir::Value a, mlir::Value b);
  mlir::Value max(mlir::Location loc, mlir::Value a, mlir::Value b);
  mlir::Value neg(mlir::Location loc, mlir::Value x);
  mlir::Value exp(mlir::Location loc, mlir::Value x);
  mlir::Value concat(mlir::Location loc, mlir::ValueRange parts, int64_t axis);
  /// `tfc.expand %x, c(shape)` with the static result shape `resultShape`.
  mlir::Value expand(mlir::Location loc, mlir::Value x, llvm::ArrayRef<int64_t> shape,
                     llvm::ArrayRef<int64_t> resultShape);
  /// `x[..., begin:end]` along `axis` with constant bounds; the result's `axis` dim is
  /// end - begin, the others those of `x`.
  mlir::Value sliceConst(mlir::Location loc, mlir::Value x, int64_t axis, int64_t begin,
                         int64_t end);
  mlir::Value matmul(mlir::Location loc, mlir::Value a, mlir::Value b);
  mlir::Value reshape(mlir::Location loc, mlir::Value x, llvm::ArrayRef<int64_t> shape);
  mlir::Value transpose(mlir::Location loc, mlir::Value x, llvm::ArrayRef<int64_t> perm);
  mlir::Value reduceSum(mlir::Location loc, mlir::Value x, int64_t axis, bool keepdims);
  mlir::Value softmax(mlir::Location loc, mlir::Value x);
  mlir::Value gather(mlir::Location loc, mlir::Value table, mlir::Value ids);
  mlir::Value castTo(mlir::Location loc, mlir::Value x, mlir::Type elementType);
  /// `input[starts:ends]` along `axes` with `resultType` (run-time bounds).
  mlir::Value slice(mlir::Location loc, mlir::Value input, mlir::Value starts, mlir::Value ends,
                    llvm::ArrayRef<int64_t> axes, mlir::Type resultType);
  /// Dim `axis` of `x` at run time as tensor<1xi64>: tfc.shape + tfc.gather.
  mlir::Value dimOf(mlir::Location loc, mlir::Value x, int64_t axis);

  // --- Patterns --------------------------------------------------------------
  /// `tfc.matmul %x, %W` (+ `tfc.add %y, %b` when `<prefix>.bias` exists).
  mlir::Value linear(mlir::Location loc, mlir::Value x, llvm::StringRef prefix);
  /// The nine-op decomposed layer norm with `<prefix>.weight` / `.bias`.
  mlir::Value layerNorm(mlir::Location loc, mlir::Value x, llvm::StringRef prefix);
  /// (2.0) The decomposed RMS norm with `<prefix>.weight` (+ norm_weight_offset).
  mlir::Value rmsNorm(mlir::Location loc, mlir::Value x, llvm::StringRef prefix);
  /// The model's norm kind: layerNorm or rmsNorm.
  mlir::Value norm(mlir::Location loc, mlir::Value x, llvm::StringRef prefix);
  /// relu, the erf / tanh GELU formula, or SiLU x / (1 + exp(-x)).
  mlir::Value activation(mlir::Location loc, mlir::Value x, Activation act);
  /// Heads split, scores, modifiers, softmax, weighted sum, heads merged.
  mlir::Value attentionCore(mlir::Location loc, mlir::Value q, mlir::Value k, mlir::Value v,
                            ScoreScale scale, const AttentionMasks &masks);
  /// (2.0) The same with rotary embeddings and/or fewer key/value heads, in the shapes of
  /// transformers' exports: heads split to [B,h,S,dh] for q, k and v, rotary on q and k,
  /// k and v repeated to num_heads (reshape + expand + reshape), K transposed {0,1,3,2}.
  mlir::Value describedAttentionCore(mlir::Location loc, mlir::Value q, mlir::Value k,
                                     mlir::Value v, ScoreScale scale, const AttentionMasks &masks,
                                     const RotaryTables &rotary);
  /// (2.0) cos and sin [M, rotary_dim] (float32 as transformers computes them) sliced to
  /// [0, seq of `ids`).
  RotaryTables rotaryTables(mlir::Location loc, mlir::Value ids);
  /// (2.0) RoBERTa's position ids [B,S] i64 from the token ids (position_pad_id).
  mlir::Value paddingAwarePositions(mlir::Location loc, mlir::Value ids);
  /// cast -> 1 - m -> * -1e9 -> reshape [B,1,1,T]: 0 for kept keys, -1e9 else.
  mlir::Value paddingBias(mlir::Location loc, mlir::Value mask);
  /// Slice [0:T, 0:T] of a constant lower-triangular i1 table, T = dim 1 of `ids`.
  mlir::Value causalKeep(mlir::Location loc, mlir::Value ids);

private:
  mlir::RankedTensorType f32Tensor(llvm::ArrayRef<int64_t> shape) const;
  mlir::Value splitHeads(mlir::Location loc, mlir::Value x, llvm::ArrayRef<int64_t> perm,
                         int64_t heads = 0);
  mlir::Value rotate(mlir::Location loc, mlir::Value x, const RotaryTables &rotary);
  mlir::Value repeatKv(mlir::Location loc, mlir::Value x);
  /// A [M,M] i1 constant: keep(i, j) for i, j < max_positions.
  mlir::Value boolTable(mlir::Location loc, const std::function<bool(int64_t, int64_t)> &keep);
  /// Slice [0:T, 0:T] of a [M,M] table, T = dim 1 of `ids`.
  mlir::Value squareSlice(mlir::Location loc, mlir::Value table, mlir::Value ids);

  mlir::OpBuilder &builder;
  mlir::Block &entry;
  mlir::Operation *lastWeight = nullptr;  // weights are inserted after it
  const Model &model;
  llvm::StringMap<mlir::Value> weights;
};

} // namespace tfc::fbs

#endif // TFC_FRONTENDS_FBS_PRIMITIVEBUILDER_H
