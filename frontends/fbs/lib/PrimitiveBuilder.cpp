//===- PrimitiveBuilder.cpp - the primitive patterns, op for op ------------===//
//
// Each pattern function below quotes the shape it emits from
// docs/PRIMITIVE_PATTERNS.md. Shapes are validated before any op is built
// (ModelReader + WeightConvention), so type inference cannot fail here.
//
//===----------------------------------------------------------------------===//
#include "PrimitiveBuilder.h"

#include "mlir/IR/BuiltinAttributes.h"

#include <cmath>
#include <memory>

using namespace mlir;

namespace tfc::fbs {
namespace {

// Each op-creating call below is its own statement (never two as arguments of
// one call), so the printed IR has the same order with every compiler.

// Constants of the contract.
constexpr double kHidden = -1e9;          // score of a hidden key
constexpr double kSqrt2 = 1.4142135623730951;
constexpr double kSqrt2OverPi = 0.7978845608028654;
constexpr double kGeluCubic = 0.044715;

} // namespace

PrimitiveBuilder::PrimitiveBuilder(OpBuilder &builder, Block &entry, const Model &model)
    : builder(builder), entry(entry), model(model) {}

Location PrimitiveBuilder::named(StringRef name) const {
  return NameLoc::get(builder.getStringAttr(name));
}

RankedTensorType PrimitiveBuilder::f32Tensor(ArrayRef<int64_t> shape) const {
  return RankedTensorType::get(shape, builder.getF32Type());
}

//===----------------------------------------------------------------------===//
// Sources
//===----------------------------------------------------------------------===//

Value PrimitiveBuilder::constant(Location loc, DenseElementsAttr value) {
  return builder.create<mlir::tfc::ConstantOp>(loc, value.getType(), value);
}

Value PrimitiveBuilder::scalar(Location loc, double value) {
  auto type = f32Tensor({});
  float f = static_cast<float>(value);
  return constant(loc, DenseElementsAttr::get(type, llvm::ArrayRef<float>(f)));
}

Value PrimitiveBuilder::indexVector(Location loc, ArrayRef<int64_t> values) {
  auto type = RankedTensorType::get({static_cast<int64_t>(values.size())}, builder.getI64Type());
  return constant(loc, DenseElementsAttr::get(type, values));
}

bool PrimitiveBuilder::hasWeight(StringRef name) const {
  return model.weights.count(name.str()) != 0;
}

Value PrimitiveBuilder::weight(StringRef name) {
  auto it = weights.find(name);
  if (it != weights.end())
    return it->second;
  const Weight &w = model.weights.at(name.str());
  OpBuilder top(builder.getContext());
  if (lastWeight)
    top.setInsertionPointAfter(lastWeight);
  else
    top.setInsertionPointToStart(&entry);
  auto op = top.create<mlir::tfc::WeightOp>(named(name), f32Tensor(w.shape), name);
  lastWeight = op;
  weights[name] = op.getResult();
  return op.getResult();
}

//===----------------------------------------------------------------------===//
// Single ops
//===----------------------------------------------------------------------===//

Value PrimitiveBuilder::add(Location loc, Value a, Value b) {
  return builder.create<mlir::tfc::AddOp>(loc, a, b);
}
Value PrimitiveBuilder::sub(Location loc, Value a, Value b) {
  return builder.create<mlir::tfc::SubOp>(loc, a, b);
}
Value PrimitiveBuilder::mul(Location loc, Value a, Value b) {
  return builder.create<mlir::tfc::MulOp>(loc, a, b);
}
Value PrimitiveBuilder::div(Location loc, Value a, Value b) {
  return builder.create<mlir::tfc::DivOp>(loc, a, b);
}
Value PrimitiveBuilder::max(Location loc, Value a, Value b) {
  return builder.create<mlir::tfc::MaxOp>(loc, a, b);
}
Value PrimitiveBuilder::neg(Location loc, Value x) {
  return builder.create<mlir::tfc::NegOp>(loc, x);
}
Value PrimitiveBuilder::exp(Location loc, Value x) {
  return builder.create<mlir::tfc::ExpOp>(loc, x);
}
Value PrimitiveBuilder::concat(Location loc, ValueRange parts, int64_t axis) {
  return builder.create<mlir::tfc::ConcatOp>(loc, parts, builder.getI64IntegerAttr(axis));
}

Value PrimitiveBuilder::expand(Location loc, Value x, ArrayRef<int64_t> shape,
                               ArrayRef<int64_t> resultShape) {
  Value s = indexVector(loc, shape);
  auto type = cast<RankedTensorType>(x.getType()).clone(resultShape);
  return builder.create<mlir::tfc::ExpandOp>(loc, type, x, s);
}

Value PrimitiveBuilder::sliceConst(Location loc, Value x, int64_t axis, int64_t begin,
                                   int64_t end) {
  auto type = cast<RankedTensorType>(x.getType());
  SmallVector<int64_t> shape(type.getShape());
  shape[axis] = end - begin;
  Value starts = indexVector(loc, {begin});
  Value ends = indexVector(loc, {end});
  return slice(loc, x, starts, ends, {axis}, type.clone(shape));
}

Value PrimitiveBuilder::matmul(Location loc, Value a, Value b) {
  return builder.create<mlir::tfc::MatMulOp>(loc, a, b);
}

Value PrimitiveBuilder::reshape(Location loc, Value x, ArrayRef<int64_t> shape) {
  return builder.create<mlir::tfc::ReshapeOp>(loc, x, builder.getDenseI64ArrayAttr(shape));
}

Value PrimitiveBuilder::transpose(Location loc, Value x, ArrayRef<int64_t> perm) {
  return builder.create<mlir::tfc::TransposeOp>(loc, x, builder.getDenseI64ArrayAttr(perm));
}

Value PrimitiveBuilder::reduceSum(Location loc, Value x, int64_t axis, bool keepdims) {
  return builder.create<mlir::tfc::ReduceSumOp>(loc, x, builder.getDenseI64ArrayAttr({axis}),
                                          builder.getBoolAttr(keepdims));
}

Value PrimitiveBuilder::softmax(Location loc, Value x) {
  return builder.create<mlir::tfc::SoftmaxOp>(loc, x, builder.getI64IntegerAttr(-1));
}

Value PrimitiveBuilder::gather(Location loc, Value table, Value ids) {
  return builder.create<mlir::tfc::GatherOp>(loc, table, ids, builder.getI64IntegerAttr(0));
}

Value PrimitiveBuilder::castTo(Location loc, Value x, Type elementType) {
  auto type = cast<RankedTensorType>(x.getType()).clone(elementType);
  return builder.create<mlir::tfc::CastOp>(loc, type, x);
}

Value PrimitiveBuilder::slice(Location loc, Value input, Value starts, Value ends,
                              ArrayRef<int64_t> axes, Type resultType) {
  return builder.create<mlir::tfc::SliceOp>(loc, resultType, input, starts, ends,
                                      builder.getDenseI64ArrayAttr(axes),
                                      /*steps=*/DenseI64ArrayAttr(),
                                      /*cache_offset=*/DenseI64ArrayAttr());
}

Value PrimitiveBuilder::dimOf(Location loc, Value x, int64_t axis) {
  Value shape = builder.create<mlir::tfc::ShapeOp>(loc, x);
  return gather(loc, shape, indexVector(loc, {axis}));
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

// %y = tfc.matmul %x, %W ; %z = tfc.add %y, %b
Value PrimitiveBuilder::linear(Location loc, Value x, StringRef prefix) {
  Value y = matmul(loc, x, weight((prefix + ".weight").str()));
  std::string bias = (prefix + ".bias").str();
  return hasWeight(bias) ? add(loc, y, weight(bias)) : y;
}

// %mean = reduce_mean %x {axes=[-1], keepdims} ; %d = sub %x, %mean ;
// %sq = pow %d, c(2.0) ; %var = reduce_mean %sq ; %ve = add %var, c(eps) ;
// %std = sqrt %ve ; %n = div %d, %std ; %g = mul %n, %gamma ; %y = add %g, %beta
Value PrimitiveBuilder::layerNorm(Location loc, Value x, StringRef prefix) {
  auto lastAxis = builder.getDenseI64ArrayAttr({-1});
  auto keep = builder.getBoolAttr(true);
  Value mean = builder.create<mlir::tfc::ReduceMeanOp>(loc, x, lastAxis, keep);
  Value d = sub(loc, x, mean);
  Value sq = builder.create<mlir::tfc::PowOp>(loc, d, scalar(loc, 2.0));
  Value var = builder.create<mlir::tfc::ReduceMeanOp>(loc, sq, lastAxis, keep);
  Value ve = add(loc, var, scalar(loc, model.hparams.layerNormEpsilon));
  Value stddev = builder.create<mlir::tfc::SqrtOp>(loc, ve);
  Value n = div(loc, d, stddev);
  Value gamma = weight((prefix + ".weight").str());
  if (float offset = model.hparams.normWeightOffset; offset != 0.0f)
    gamma = add(loc, gamma, scalar(loc, offset));
  Value g = mul(loc, n, gamma);
  return add(loc, g, weight((prefix + ".bias").str()));
}

// (2.0) %sq = pow %x, c(2.0) ; %ms = reduce_mean %sq {axes=[-1], keepdims} ;
// %e = add %ms, c(eps) ; %r = sqrt %e ; %n = div %x, %r ;
// [%w1 = add %w, c(offset)] ; %y = mul %n, %w
// (transformers' RMSNorm: x * rsqrt(mean(x^2) + eps) * weight; Gemma's scale is 1 + weight.)
Value PrimitiveBuilder::rmsNorm(Location loc, Value x, StringRef prefix) {
  auto lastAxis = builder.getDenseI64ArrayAttr({-1});
  auto keep = builder.getBoolAttr(true);
  Value sq = builder.create<mlir::tfc::PowOp>(loc, x, scalar(loc, 2.0));
  Value ms = builder.create<mlir::tfc::ReduceMeanOp>(loc, sq, lastAxis, keep);
  Value e = add(loc, ms, scalar(loc, model.hparams.layerNormEpsilon));
  Value r = builder.create<mlir::tfc::SqrtOp>(loc, e);
  Value n = div(loc, x, r);
  Value gamma = weight((prefix + ".weight").str());
  if (float offset = model.hparams.normWeightOffset; offset != 0.0f)
    gamma = add(loc, gamma, scalar(loc, offset));
  return mul(loc, n, gamma);
}

Value PrimitiveBuilder::norm(Location loc, Value x, StringRef prefix) {
  return model.hparams.normKind == NormKind::RmsNorm ? rmsNorm(loc, x, prefix)
                                                     : layerNorm(loc, x, prefix);
}

// relu: tfc.relu %x
// erf:  %d = div %x, c(sqrt 2) ; %e = erf %d ; %p = add %e, c(1) ; %m = mul %x, %p ;
//       %h = mul %m, c(0.5)
// tanh: %c = pow %x, c(3) ; %a = mul %c, c(0.044715) ; %s = add %x, %a ;
//       %i = mul %s, c(sqrt(2/pi)) ; %t = tanh %i ; %p = add %t, c(1) ; %m = mul %x, %p ;
//       %h = mul %m, c(0.5)
// silu: %n = neg %x ; %e = exp %n ; %d = add %e, c(1) ; %h = div %x, %d
Value PrimitiveBuilder::activation(Location loc, Value x, Activation act) {
  Value inner;
  switch (act) {
  case Activation::Relu:
    return builder.create<mlir::tfc::ReluOp>(loc, x);
  case Activation::Silu: {
    Value e = exp(loc, neg(loc, x));
    return div(loc, x, add(loc, e, scalar(loc, 1.0)));
  }
  case Activation::GeluErf:
    inner = builder.create<mlir::tfc::ErfOp>(loc, div(loc, x, scalar(loc, kSqrt2)));
    break;
  case Activation::GeluTanh: {
    Value cube = builder.create<mlir::tfc::PowOp>(loc, x, scalar(loc, 3.0));
    Value s = add(loc, x, mul(loc, cube, scalar(loc, kGeluCubic)));
    inner = builder.create<mlir::tfc::TanhOp>(loc, mul(loc, s, scalar(loc, kSqrt2OverPi)));
    break;
  }
  }
  Value p = add(loc, inner, scalar(loc, 1.0));
  Value m = mul(loc, x, p);
  return mul(loc, m, scalar(loc, 0.5));
}

// %h = reshape %x {shape = [0, 0, H, dh]} ; %t = transpose %h {perm}
Value PrimitiveBuilder::splitHeads(Location loc, Value x, ArrayRef<int64_t> perm,
                                   int64_t heads) {
  if (heads == 0)
    heads = model.hparams.numHeads;
  Value h = reshape(loc, x, {0, 0, heads, model.hparams.headWidth()});
  return transpose(loc, h, perm);
}

// %s = matmul %qt, %kt ; scale ; padding add ; causal where ; %p = softmax %s' ;
// %o = matmul %p, %vt ; %ot = transpose %o {0,2,1,3} ; %om = reshape %ot {0,0,D}
Value PrimitiveBuilder::attentionCore(Location loc, Value q, Value k, Value v, ScoreScale scale,
                                      const AttentionMasks &masks) {
  const Hyperparameters &hp = model.hparams;
  double sqrtDh = std::sqrt(static_cast<double>(hp.headWidth()));
  Value qt = splitHeads(loc, q, {0, 2, 1, 3});
  Value kt = splitHeads(loc, k, {0, 2, 3, 1});
  Value vt = splitHeads(loc, v, {0, 2, 1, 3});
  Value s = matmul(loc, qt, kt);
  s = scale == ScoreScale::MultiplyByInverseSqrt ? mul(loc, s, scalar(loc, 1.0 / sqrtDh))
                                                 : div(loc, s, scalar(loc, sqrtDh));
  if (masks.paddingBias)
    s = add(loc, s, masks.paddingBias);
  if (masks.causalKeep)
    s = builder.create<mlir::tfc::WhereOp>(loc, masks.causalKeep, s, scalar(loc, kHidden));
  Value o = matmul(loc, softmax(loc, s), vt);
  return reshape(loc, transpose(loc, o, {0, 2, 1, 3}), {0, 0, hp.attentionWidth()});
}

// (2.0) rotate-half on [B,h,S,dh] with r = rotary_dim:
// [%xr = slice %x [0:r], %xp = slice %x [r:dh]] ; %x1 = slice %xr [0:r/2] ;
// %x2 = slice %xr [r/2:r] ; %n = neg %x2 ; %rh = concat %n, %x1 {axis 3} ;
// %a = mul %xr, %cos ; %b = mul %rh, %sin ; %e = add %a, %b [; concat %e, %xp {axis 3}]
Value PrimitiveBuilder::rotate(Location loc, Value x, const RotaryTables &rotary) {
  int64_t dh = model.hparams.headWidth(), r = model.hparams.rotaryWidth();
  Value xr = x, xp;
  if (r != dh) {
    xr = sliceConst(loc, x, 3, 0, r);
    xp = sliceConst(loc, x, 3, r, dh);
  }
  Value x1 = sliceConst(loc, xr, 3, 0, r / 2);
  Value x2 = sliceConst(loc, xr, 3, r / 2, r);
  Value n = neg(loc, x2);
  Value rh = concat(loc, ValueRange{n, x1}, 3);
  Value a = mul(loc, xr, rotary.cos);
  Value b = mul(loc, rh, rotary.sin);
  Value e = add(loc, a, b);
  return xp ? concat(loc, ValueRange{e, xp}, 3) : e;
}

// (2.0) [B,Hkv,S,dh] -> [B,H,S,dh] as transformers' repeat_kv:
// %u = reshape %x {shape = [0, 0, 1, -1, dh]} ; %e = expand %u, c([1, 1, H/Hkv, 1, 1]) ;
// %r = reshape %e {shape = [0, H, -1, dh]}
Value PrimitiveBuilder::repeatKv(Location loc, Value x) {
  const Hyperparameters &hp = model.hparams;
  int64_t kv = hp.kvHeads(), rep = hp.numHeads / kv, dh = hp.headWidth();
  constexpr int64_t kDyn = ShapedType::kDynamic;
  Value u = reshape(loc, x, {0, 0, 1, -1, dh});
  Value e = expand(loc, u, {1, 1, rep, 1, 1}, {kDyn, kv, rep, kDyn, dh});
  return reshape(loc, e, {0, hp.numHeads, -1, dh});
}

Value PrimitiveBuilder::describedAttentionCore(Location loc, Value q, Value k, Value v,
                                               ScoreScale scale, const AttentionMasks &masks,
                                               const RotaryTables &rotary) {
  const Hyperparameters &hp = model.hparams;
  double sqrtDh = std::sqrt(static_cast<double>(hp.headWidth()));
  Value qt = splitHeads(loc, q, {0, 2, 1, 3});
  Value kt = splitHeads(loc, k, {0, 2, 1, 3}, hp.kvHeads());
  Value vt = splitHeads(loc, v, {0, 2, 1, 3}, hp.kvHeads());
  if (rotary.cos) {
    qt = rotate(loc, qt, rotary);
    kt = rotate(loc, kt, rotary);
  }
  if (hp.kvHeads() != hp.numHeads) {
    kt = repeatKv(loc, kt);
    vt = repeatKv(loc, vt);
  }
  Value ktt = transpose(loc, kt, {0, 1, 3, 2});
  Value s = matmul(loc, qt, ktt);
  s = scale == ScoreScale::MultiplyByInverseSqrt ? mul(loc, s, scalar(loc, 1.0 / sqrtDh))
                                                 : div(loc, s, scalar(loc, sqrtDh));
  if (masks.paddingBias)
    s = add(loc, s, masks.paddingBias);
  if (masks.causalKeep)
    s = builder.create<mlir::tfc::WhereOp>(loc, masks.causalKeep, s, scalar(loc, kHidden));
  Value o = matmul(loc, softmax(loc, s), vt);
  return reshape(loc, transpose(loc, o, {0, 2, 1, 3}), {0, 0, hp.attentionWidth()});
}

// (2.0) inv[i] = 1 / base^(2i / r) and angle = p * inv[i], both in float32 as transformers
// computes them (its tables are float32 products of float32 factors); cos and sin of the
// rounded angle, emb = [angles, angles]. %c = slice c(cos) [0:S] ; %s = slice c(sin) [0:S].
RotaryTables PrimitiveBuilder::rotaryTables(Location loc, Value ids) {
  const Hyperparameters &hp = model.hparams;
  int64_t m = hp.maxPositions, r = hp.rotaryWidth(), half = r / 2;
  std::vector<float> inv(static_cast<size_t>(half));
  for (int64_t i = 0; i < half; ++i) {
    float exponent = static_cast<float>(2 * i) / static_cast<float>(r);
    inv[i] = 1.0f / std::pow(hp.rotaryBase, exponent);
  }
  std::vector<float> cosT(static_cast<size_t>(m * r)), sinT(static_cast<size_t>(m * r));
  for (int64_t p = 0; p < m; ++p)
    for (int64_t i = 0; i < half; ++i) {
      float angle = static_cast<float>(p) * inv[i];
      float c = static_cast<float>(std::cos(static_cast<double>(angle)));
      float sn = static_cast<float>(std::sin(static_cast<double>(angle)));
      cosT[p * r + i] = cosT[p * r + i + half] = c;
      sinT[p * r + i] = sinT[p * r + i + half] = sn;
    }
  auto type = f32Tensor({m, r});
  Value cosTable = constant(loc, DenseElementsAttr::get(type, llvm::ArrayRef<float>(cosT)));
  Value sinTable = constant(loc, DenseElementsAttr::get(type, llvm::ArrayRef<float>(sinT)));
  auto rows = f32Tensor({ShapedType::kDynamic, r});
  Value starts = indexVector(loc, {0});
  Value ends = dimOf(loc, ids, 1);
  RotaryTables t;
  t.cos = slice(loc, cosTable, starts, ends, {0}, rows);
  t.sin = slice(loc, sinTable, starts, ends, {0}, rows);
  return t;
}

// (2.0) RoBERTa: m = (ids != pad) as f32 (a gather from a constant [V] table) ;
// c = m @ U[0:S, 0:S] (U[j][i] = j <= i: the running count of real tokens) ;
// positions = cast(c * m + pad) to i64.
Value PrimitiveBuilder::paddingAwarePositions(Location loc, Value ids) {
  const Hyperparameters &hp = model.hparams;
  int64_t pad = hp.positionPadId;
  std::vector<float> notPad(static_cast<size_t>(hp.vocabSize), 1.0f);
  notPad[static_cast<size_t>(pad)] = 0.0f;
  Value table = constant(loc, DenseElementsAttr::get(f32Tensor({hp.vocabSize}),
                                                     llvm::ArrayRef<float>(notPad)));
  Value m = gather(loc, table, ids);
  Value upper = boolTable(loc, [](int64_t j, int64_t i) { return j <= i; });
  Value u = castTo(loc, squareSlice(loc, upper, ids), builder.getF32Type());
  Value counts = matmul(loc, m, u);
  Value p = add(loc, mul(loc, counts, m), scalar(loc, static_cast<double>(pad)));
  return castTo(loc, p, builder.getI64Type());
}

// %mf = cast %mask : i64 -> f32 ; %inv = sub c(1.0), %mf ; %nb = mul %inv, c(-1e9) ;
// %bias = reshape %nb {shape = [0, 1, 1, -1]}
Value PrimitiveBuilder::paddingBias(Location loc, Value mask) {
  Value mf = castTo(loc, mask, builder.getF32Type());
  Value inv = sub(loc, scalar(loc, 1.0), mf);
  Value nb = mul(loc, inv, scalar(loc, kHidden));
  return reshape(loc, nb, {0, 1, 1, -1});
}

// %t = gather (shape %ids), [1] ; %ends = concat %t, %t ;
// %keep = slice %table, c([0, 0]), %ends {axes = [0, 1]} : [M,M] -> [?,?]
// (2.0) With sliding_window W, query i also hides keys j < i - W (transformers 4.40's
// Mistral: a query sees itself and the W keys before it).
Value PrimitiveBuilder::causalKeep(Location loc, Value ids) {
  int64_t w = model.hparams.slidingWindow;
  Value table = boolTable(loc, [w](int64_t i, int64_t j) { return j <= i && (w == 0 || i - j <= w); });
  return squareSlice(loc, table, ids);
}

Value PrimitiveBuilder::boolTable(Location loc, const std::function<bool(int64_t, int64_t)> &keep) {
  int64_t m = model.hparams.maxPositions;
  auto tableType = RankedTensorType::get({m, m}, builder.getI1Type());
  size_t count = static_cast<size_t>(m * m);
  std::unique_ptr<bool[]> values(new bool[count]());  // all false
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < m; ++j)
      values[i * m + j] = keep(i, j);
  return constant(loc,
                  DenseElementsAttr::get(tableType, llvm::ArrayRef<bool>(values.get(), count)));
}

Value PrimitiveBuilder::squareSlice(Location loc, Value table, Value ids) {
  Value t = dimOf(loc, ids, 1);
  Value ends = builder.create<mlir::tfc::ConcatOp>(loc, ValueRange{t, t}, builder.getI64IntegerAttr(0));
  auto keepType = RankedTensorType::get({ShapedType::kDynamic, ShapedType::kDynamic},
                                        cast<RankedTensorType>(table.getType()).getElementType());
  return slice(loc, table, indexVector(loc, {0, 0}), ends, {0, 1}, keepType);
}

} // namespace tfc::fbs
