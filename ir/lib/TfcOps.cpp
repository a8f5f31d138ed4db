//===- TfcOps.cpp - type inference, verifiers and folders of tfc ops ------===//
//
// Every rule a user (or a frontend) could break is checked here: ranks,
// element types, broadcastability, axes, permutations, head counts, masks.
// Result types are inferred; a declared type must be compatible (`?` matches
// any size). Messages are lowercase and name the offending operand.
//
//===----------------------------------------------------------------------===//
#include "tfc/IR/TfcDialect.h"
#include "tfc/IR/ShapeUtils.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallSet.h"
#include "llvm/Support/ScopedPrinter.h"
#include "mlir/IR/TypeUtilities.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tfc;

namespace {

using Shape = SmallVector<int64_t, 6>;

RankedTensorType tensorType(Value v) { return cast<RankedTensorType>(v.getType()); }

/// Reports `msg` for op `name` at `loc` (when verifying) and returns failure.
LogicalResult fail(std::optional<Location> loc, StringRef name, const Twine &msg) {
  return emitOptionalError(loc, "'tfc.", name, "' op ", msg);
}

bool isFloatLike(Type t) { return isa<FloatType>(t); }

LogicalResult inferBinary(std::optional<Location> loc, StringRef name, Value lhs, Value rhs,
                          SmallVectorImpl<Type> &out) {
  auto lt = tensorType(lhs), rt = tensorType(rhs);
  if (lt.getElementType() != rt.getElementType())
    return fail(loc, name, "operands have different element types (" +
                               Twine(llvm::to_string(lt.getElementType())) + " vs " +
                               llvm::to_string(rt.getElementType()) + ")");
  Shape shape;
  std::string why;
  if (failed(broadcastShapes(lt.getShape(), rt.getShape(), shape, why)))
    return fail(loc, name, why);
  out.push_back(RankedTensorType::get(shape, lt.getElementType()));
  return success();
}

} // namespace

// All inferring ops accept a declared type that is compatible with the inferred one.
#define TFC_COMPATIBLE_RETURN_TYPES(OP)                                                  \
  bool OP::isCompatibleReturnTypes(TypeRange l, TypeRange r) {                            \
    return compatibleTypeLists(l, r);                                                    \
  }
TFC_COMPATIBLE_RETURN_TYPES(AddOp)
TFC_COMPATIBLE_RETURN_TYPES(SubOp)
TFC_COMPATIBLE_RETURN_TYPES(MulOp)
TFC_COMPATIBLE_RETURN_TYPES(DivOp)
TFC_COMPATIBLE_RETURN_TYPES(PowOp)
TFC_COMPATIBLE_RETURN_TYPES(MaxOp)
TFC_COMPATIBLE_RETURN_TYPES(SqrtOp)
TFC_COMPATIBLE_RETURN_TYPES(ErfOp)
TFC_COMPATIBLE_RETURN_TYPES(TanhOp)
TFC_COMPATIBLE_RETURN_TYPES(ReluOp)
TFC_COMPATIBLE_RETURN_TYPES(ExpOp)
TFC_COMPATIBLE_RETURN_TYPES(NegOp)
TFC_COMPATIBLE_RETURN_TYPES(LogOp)
TFC_COMPATIBLE_RETURN_TYPES(SigmoidOp)
TFC_COMPATIBLE_RETURN_TYPES(GeluOp)
TFC_COMPATIBLE_RETURN_TYPES(MatMulOp)
TFC_COMPATIBLE_RETURN_TYPES(ReduceMeanOp)
TFC_COMPATIBLE_RETURN_TYPES(ReduceSumOp)
TFC_COMPATIBLE_RETURN_TYPES(SoftmaxOp)
TFC_COMPATIBLE_RETURN_TYPES(LayerNormalizationOp)
TFC_COMPATIBLE_RETURN_TYPES(GatherOp)
TFC_COMPATIBLE_RETURN_TYPES(TransposeOp)
TFC_COMPATIBLE_RETURN_TYPES(ReshapeOp)
TFC_COMPATIBLE_RETURN_TYPES(ConcatOp)
TFC_COMPATIBLE_RETURN_TYPES(ShapeOp)
TFC_COMPATIBLE_RETURN_TYPES(WhereOp)
TFC_COMPATIBLE_RETURN_TYPES(LayerNormOp)
TFC_COMPATIBLE_RETURN_TYPES(RmsNormOp)
TFC_COMPATIBLE_RETURN_TYPES(GatedLinearOp)
TFC_COMPATIBLE_RETURN_TYPES(AttentionOp)
TFC_COMPATIBLE_RETURN_TYPES(RotaryOp)
TFC_COMPATIBLE_RETURN_TYPES(LinearOp)
TFC_COMPATIBLE_RETURN_TYPES(EmbeddingOp)
#undef TFC_COMPATIBLE_RETURN_TYPES

//===----------------------------------------------------------------------===//
// Sources
//===----------------------------------------------------------------------===//

LogicalResult ConstantOp::verify() {
  if (getValue().getType() != getType())
    return emitOpError() << "value type " << getValue().getType()
                         << " differs from result type " << getType();
  return success();
}

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

LogicalResult WeightOp::verify() {
  if (getName().empty())
    return emitOpError() << "needs a non-empty weight name";
  if (!getType().hasStaticShape())
    return emitOpError() << "weight '" << getName() << "' must have a static shape, got "
                         << getType();
  return success();
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

#define TFC_INFER_BINARY(OP, NAME)                                                        \
  LogicalResult OP::inferReturnTypes(MLIRContext *, std::optional<Location> loc,          \
                                     Adaptor adaptor, SmallVectorImpl<Type> &out) {       \
    return inferBinary(loc, NAME, adaptor.getLhs(), adaptor.getRhs(), out);               \
  }
TFC_INFER_BINARY(AddOp, "add")
TFC_INFER_BINARY(SubOp, "sub")
TFC_INFER_BINARY(MulOp, "mul")
TFC_INFER_BINARY(DivOp, "div")
TFC_INFER_BINARY(PowOp, "pow")
TFC_INFER_BINARY(MaxOp, "max")
#undef TFC_INFER_BINARY

#define TFC_INFER_UNARY(OP)                                                               \
  LogicalResult OP::inferReturnTypes(MLIRContext *, std::optional<Location>,              \
                                     Adaptor adaptor, SmallVectorImpl<Type> &out) {       \
    out.push_back(adaptor.getInput().getType());                                          \
    return success();                                                                     \
  }
TFC_INFER_UNARY(SqrtOp)
TFC_INFER_UNARY(ErfOp)
TFC_INFER_UNARY(TanhOp)
TFC_INFER_UNARY(ReluOp)
TFC_INFER_UNARY(ExpOp)
TFC_INFER_UNARY(NegOp)
TFC_INFER_UNARY(AbsOp)
TFC_INFER_UNARY(SignOp)
TFC_INFER_UNARY(CeilOp)
TFC_INFER_UNARY(FloorOp)
TFC_INFER_UNARY(SinOp)
TFC_INFER_UNARY(CosOp)
TFC_INFER_UNARY(LogOp)
TFC_INFER_UNARY(SigmoidOp)
TFC_INFER_UNARY(GeluOp)
#undef TFC_INFER_UNARY

//===----------------------------------------------------------------------===//
// Linear algebra, reductions, normalization
//===----------------------------------------------------------------------===//

LogicalResult MatMulOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &out) {
  auto lt = tensorType(adaptor.getLhs()), rt = tensorType(adaptor.getRhs());
  if (lt.getRank() < 2 || rt.getRank() < 2)
    return fail(loc, "matmul", "operands need rank >= 2, got " + Twine(lt.getRank()) +
                                   " and " + Twine(rt.getRank()));
  if (lt.getElementType() != rt.getElementType())
    return fail(loc, "matmul", "operands have different element types");
  auto ls = lt.getShape(), rs = rt.getShape();
  int64_t k1 = ls.back(), k2 = rs[rs.size() - 2];
  if (!dimsCompatible(k1, k2))
    return fail(loc, "matmul", "contraction dims differ: lhs " + shapeToString(ls) + " rhs " +
                                   shapeToString(rs));
  Shape batch;
  std::string why;
  if (failed(broadcastShapes(ls.drop_back(2), rs.drop_back(2), batch, why)))
    return fail(loc, "matmul", "batch dims: " + why);
  batch.push_back(ls[ls.size() - 2]);
  batch.push_back(rs.back());
  out.push_back(RankedTensorType::get(batch, lt.getElementType()));
  return success();
}

static LogicalResult inferReduce(std::optional<Location> loc, StringRef name, Value input,
                                 ArrayRef<int64_t> axes, bool keepdims,
                                 SmallVectorImpl<Type> &out) {
  auto t = tensorType(input);
  if (axes.empty())
    return fail(loc, name, "needs at least one axis");
  llvm::SmallSet<int64_t, 4> seen;
  for (int64_t a : axes) {
    int64_t n;
    std::string why;
    if (failed(normalizeAxis(a, t.getRank(), n, why)))
      return fail(loc, name, why);
    if (!seen.insert(n).second)
      return fail(loc, name, "axis " + Twine(a) + " is listed twice");
  }
  Shape shape;
  for (int64_t i = 0; i < t.getRank(); ++i) {
    if (!seen.count(i))
      shape.push_back(t.getDimSize(i));
    else if (keepdims)
      shape.push_back(1);
  }
  out.push_back(RankedTensorType::get(shape, t.getElementType()));
  return success();
}

LogicalResult ReduceMeanOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                             Adaptor adaptor, SmallVectorImpl<Type> &out) {
  return inferReduce(loc, "reduce_mean", adaptor.getInput(), adaptor.getAxes(),
                     adaptor.getKeepdims(), out);
}

LogicalResult ReduceSumOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                            Adaptor adaptor, SmallVectorImpl<Type> &out) {
  return inferReduce(loc, "reduce_sum", adaptor.getInput(), adaptor.getAxes(),
                     adaptor.getKeepdims(), out);
}

LogicalResult SoftmaxOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                          Adaptor adaptor, SmallVectorImpl<Type> &out) {
  auto t = tensorType(adaptor.getInput());
  int64_t axis;
  std::string why;
  if (failed(normalizeAxis(adaptor.getAxis(), t.getRank(), axis, why)))
    return fail(loc, "softmax", why);
  out.push_back(t);
  return success();
}

LogicalResult LayerNormalizationOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                                     Adaptor adaptor,
                                                     SmallVectorImpl<Type> &out) {
  auto t = tensorType(adaptor.getInput());
  int64_t axis;
  std::string why;
  if (failed(normalizeAxis(adaptor.getAxis(), t.getRank(), axis, why)))
    return fail(loc, "layer_normalization", why);
  auto normShape = t.getShape().drop_front(axis);
  auto check = [&](Value v, StringRef what) -> LogicalResult {
    auto vt = tensorType(v);
    if (vt.getElementType() != t.getElementType())
      return fail(loc, "layer_normalization", what + " element type differs from input");
    if (!broadcastsTo(vt.getShape(), normShape))
      return fail(loc, "layer_normalization",
                  what + " shape " + shapeToString(vt.getShape()) +
                      " does not broadcast to the normalized shape " + shapeToString(normShape));
    return success();
  };
  if (failed(check(adaptor.getScale(), "scale")))
    return failure();
  if (adaptor.getBias() && failed(check(adaptor.getBias(), "bias")))
    return failure();
  if (!(adaptor.getEpsilon().convertToFloat() > 0.0f))
    return fail(loc, "layer_normalization", "epsilon must be > 0");
  out.push_back(t);
  return success();
}

//===----------------------------------------------------------------------===//
// Data movement and shapes
//===----------------------------------------------------------------------===//

LogicalResult GatherOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &out) {
  auto dt = tensorType(adaptor.getData()), it = tensorType(adaptor.getIndices());
  if (dt.getRank() < 1)
    return fail(loc, "gather", "data must have rank >= 1");
  int64_t axis;
  std::string why;
  if (failed(normalizeAxis(adaptor.getAxis(), dt.getRank(), axis, why)))
    return fail(loc, "gather", why);
  Shape shape(dt.getShape().take_front(axis));
  llvm::append_range(shape, it.getShape());
  llvm::append_range(shape, dt.getShape().drop_front(axis + 1));
  out.push_back(RankedTensorType::get(shape, dt.getElementType()));
  return success();
}

static LogicalResult checkPermutation(std::optional<Location> loc, ArrayRef<int64_t> perm,
                                      int64_t rank) {
  if ((int64_t)perm.size() != rank)
    return fail(loc, "transpose", "perm has " + Twine(perm.size()) +
                                      " entries but the input has rank " + Twine(rank));
  SmallVector<bool> seen(rank, false);
  for (int64_t p : perm) {
    if (p < 0 || p >= rank || seen[p])
      return fail(loc, "transpose", "perm is not a permutation of 0.." + Twine(rank - 1));
    seen[p] = true;
  }
  return success();
}

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                            Adaptor adaptor, SmallVectorImpl<Type> &out) {
  auto t = tensorType(adaptor.getInput());
  auto perm = adaptor.getPerm();
  if (failed(checkPermutation(loc, perm, t.getRank())))
    return failure();
  Shape shape;
  for (int64_t p : perm)
    shape.push_back(t.getDimSize(p));
  out.push_back(RankedTensorType::get(shape, t.getElementType()));
  return success();
}

OpFoldResult TransposeOp::fold(FoldAdaptor) {
  for (auto [i, p] : llvm::enumerate(getPerm()))
    if ((int64_t)i != p)
      return {};
  return getInput();
}

LogicalResult ReshapeOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                          Adaptor adaptor, SmallVectorImpl<Type> &out) {
  auto t = tensorType(adaptor.getInput());
  auto target = adaptor.getShape();
  Shape shape;
  int64_t inferIdx = -1, knownProduct = 1;
  for (auto [i, requested] : llvm::enumerate(target)) {
    int64_t d = requested;
    if (d == 0) {
      if ((int64_t)i >= t.getRank())
        return fail(loc, "reshape", "shape[" + Twine(i) + "] = 0 copies a dim the input (rank " +
                                        Twine(t.getRank()) + ") does not have");
      d = t.getDimSize(i);
    } else if (d == -1) {
      if (inferIdx >= 0)
        return fail(loc, "reshape", "shape has more than one -1");
      inferIdx = i;
    } else if (d < 0) {
      return fail(loc, "reshape", "shape[" + Twine(i) + "] = " + Twine(d) + " is invalid");
    }
    shape.push_back(d);
    if (d != -1)
      knownProduct = ShapedType::isDynamic(d) || ShapedType::isDynamic(knownProduct)
                         ? ShapedType::kDynamic
                         : knownProduct * d;
  }
  bool inputStatic = t.hasStaticShape();
  if (inferIdx >= 0) {
    if (inputStatic && !ShapedType::isDynamic(knownProduct)) {
      if (knownProduct == 0 || t.getNumElements() % knownProduct != 0)
        return fail(loc, "reshape", "cannot reshape " + shapeToString(t.getShape()) + " to " +
                                        shapeToString(shape));
      shape[inferIdx] = t.getNumElements() / knownProduct;
    } else {
      shape[inferIdx] = ShapedType::kDynamic;
    }
  } else if (inputStatic && !ShapedType::isDynamic(knownProduct) &&
             knownProduct != t.getNumElements()) {
    return fail(loc, "reshape", "element count changes: " + shapeToString(t.getShape()) +
                                    " has " + Twine(t.getNumElements()) + " elements, target " +
                                    shapeToString(shape) + " has " + Twine(knownProduct));
  }
  out.push_back(RankedTensorType::get(shape, t.getElementType()));
  return success();
}

OpFoldResult ReshapeOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType() && getType().hasStaticShape())
    return getInput();
  return {};
}

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &out) {
  auto inputs = adaptor.getInputs();
  if (inputs.empty())
    return fail(loc, "concat", "needs at least one input");
  auto first = tensorType(inputs.front());
  int64_t axis;
  std::string why;
  if (failed(normalizeAxis(adaptor.getAxis(), first.getRank(), axis, why)))
    return fail(loc, "concat", why);
  Shape shape(first.getShape());
  for (auto [i, v] : llvm::enumerate(inputs.drop_front())) {
    auto t = tensorType(v);
    if (t.getRank() != first.getRank() || t.getElementType() != first.getElementType())
      return fail(loc, "concat", "input " + Twine(i + 1) + " differs in rank or element type");
    for (int64_t d = 0; d < t.getRank(); ++d) {
      if (d == axis) {
        shape[d] = ShapedType::isDynamic(shape[d]) || t.isDynamicDim(d)
                       ? ShapedType::kDynamic
                       : shape[d] + t.getDimSize(d);
      } else if (!dimsCompatible(shape[d], t.getDimSize(d))) {
        return fail(loc, "concat", "input " + Twine(i + 1) + " has dim " + Twine(d) + " = " +
                                       Twine(t.getDimSize(d)) + ", expected " + Twine(shape[d]));
      } else if (ShapedType::isDynamic(shape[d])) {
        shape[d] = t.getDimSize(d);
      }
    }
  }
  out.push_back(RankedTensorType::get(shape, first.getElementType()));
  return success();
}

LogicalResult CachedAttentionOp::verify() {
  auto q = getQuery().getType();
  if (q.getRank() != 3)
    return emitOpError() << "query must be [B, S, D]";
  if (q != getType())
    return emitOpError() << "result must have the query's type";
  if (getNumHeads() < 1 || (!ShapedType::isDynamic(q.getDimSize(2)) && q.getDimSize(2) % getNumHeads()))
    return emitOpError() << "num_heads " << getNumHeads() << " does not divide " << q.getDimSize(2);
  if (getSlot() < 0)
    return emitOpError() << "slot must be non-negative";
  if (getKvHeads() < 1 || getNumHeads() % getKvHeads())
    return emitOpError() << "num_kv_heads " << getKvHeads() << " does not divide num_heads "
                         << getNumHeads();
  if (getCross() && (getKvHeads() != getNumHeads() || getWindow()))
    return emitOpError() << "a cross slot takes no num_kv_heads or window";
  if (getWindow() && *getWindow() < 1)
    return emitOpError() << "window must be positive";
  bool causal = getMaskKind() == MaskKind::causal || getMaskKind() == MaskKind::causal_padding;
  bool padding = getMaskKind() == MaskKind::padding || getMaskKind() == MaskKind::causal_padding;
  if (getCross()) {
    if (getKey() || getValue())
      return emitOpError() << "a cross slot takes no key/value (tfc.cache_store wrote them)";
    if (causal)
      return emitOpError() << "a cross slot cannot be causal";
  } else {
    if (!getKey() || !getValue())
      return emitOpError() << "a self slot needs key and value";
    if (!causal)
      return emitOpError() << "a self slot must be causal (later positions cannot change earlier ones)";
    for (Value kv : {getKey(), getValue()})
      if (cast<RankedTensorType>(kv.getType()).getRank() != 3)
        return emitOpError() << "key and value must be [B, S, D]";
  }
  if (padding != (bool)getMask())
    return emitOpError() << (padding ? "mask_kind needs a mask" : "a mask needs mask_kind padding");
  return success();
}

LogicalResult SliceOp::verify() {
  auto t = getInput().getType(), rt = getType();
  auto axes = getAxes();
  auto st = getStarts().getType(), et = getEnds().getType();
  int64_t n = axes.size();
  if (n == 0)
    return emitOpError() << "needs at least one axis";
  if (st.getRank() != 1 || et.getRank() != 1 || !dimsCompatible(st.getDimSize(0), n) ||
      !dimsCompatible(et.getDimSize(0), n))
    return emitOpError() << "starts and ends must be 1-D with " << n << " entries";
  if (getSteps() && (int64_t)getSteps()->size() != n)
    return emitOpError() << "steps must have " << n << " entries";
  if (getSteps() && llvm::is_contained(*getSteps(), 0))
    return emitOpError() << "steps must be nonzero";
  if (getCacheOffset() && ((int64_t)getCacheOffset()->size() != n ||
                           llvm::any_of(*getCacheOffset(), [](int64_t f) { return f != 0 && f != 1; })))
    return emitOpError() << "cache_offset must have " << n << " entries, each 0 or 1";
  if (rt.getRank() != t.getRank() || rt.getElementType() != t.getElementType())
    return emitOpError() << "result must have the input's rank and element type";
  llvm::SmallSet<int64_t, 4> seen;
  for (int64_t a : axes) {
    int64_t na;
    std::string why;
    if (failed(normalizeAxis(a, t.getRank(), na, why)))
      return emitOpError() << why;
    if (!seen.insert(na).second)
      return emitOpError() << "axis " << a << " is listed twice";
  }
  for (int64_t d = 0; d < t.getRank(); ++d)
    if (!seen.count(d) && !dimsCompatible(t.getDimSize(d), rt.getDimSize(d)))
      return emitOpError() << "dim " << d << " is not sliced but changes size";
  return success();
}

LogicalResult ShapeOp::inferReturnTypes(MLIRContext *ctx, std::optional<Location>,
                                        Adaptor adaptor, SmallVectorImpl<Type> &out) {
  auto t = tensorType(adaptor.getInput());
  out.push_back(RankedTensorType::get({t.getRank()}, IntegerType::get(ctx, 64)));
  return success();
}

LogicalResult ExpandOp::verify() {
  auto t = getInput().getType(), st = getShape().getType(), rt = getType();
  if (st.getRank() != 1 || st.isDynamicDim(0))
    return emitOpError() << "shape must be a 1-D tensor of static length";
  int64_t rank = std::max<int64_t>(t.getRank(), st.getDimSize(0));
  if (rt.getRank() != rank)
    return emitOpError() << "result rank must be " << rank;
  if (rt.getElementType() != t.getElementType())
    return emitOpError() << "result element type differs from input";
  if (!broadcastsTo(t.getShape(), rt.getShape()))
    return emitOpError() << "input " << shapeToString(t.getShape())
                         << " does not broadcast to " << shapeToString(rt.getShape());
  return success();
}

LogicalResult WhereOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                        Adaptor adaptor, SmallVectorImpl<Type> &out) {
  auto ct = tensorType(adaptor.getCondition());
  auto lt = tensorType(adaptor.getLhs()), rt = tensorType(adaptor.getRhs());
  if (lt.getElementType() != rt.getElementType())
    return fail(loc, "where", "lhs and rhs have different element types");
  Shape s1, s2;
  std::string why;
  if (failed(broadcastShapes(lt.getShape(), rt.getShape(), s1, why)) ||
      failed(broadcastShapes(ct.getShape(), s1, s2, why)))
    return fail(loc, "where", why);
  out.push_back(RankedTensorType::get(s2, lt.getElementType()));
  return success();
}

LogicalResult CastOp::verify() {
  if (failed(verifyCompatibleShape(getInput().getType().getShape(), getType().getShape())))
    return emitOpError() << "cannot change the shape: " << getInput().getType() << " to "
                         << getType();
  return success();
}

OpFoldResult CastOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  return {};
}

//===----------------------------------------------------------------------===//
// Fused ops
//===----------------------------------------------------------------------===//

LogicalResult LayerNormOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                            Adaptor adaptor, SmallVectorImpl<Type> &out) {
  auto t = tensorType(adaptor.getInput());
  if (t.getRank() < 1)
    return fail(loc, "layer_norm", "input must have rank >= 1");
  int64_t c = t.getShape().back();
  for (auto [v, what] : {std::pair(adaptor.getGamma(), "gamma"), {adaptor.getBeta(), "beta"}}) {
    auto vt = tensorType(v);
    if (vt.getRank() != 1 || !dimsCompatible(vt.getDimSize(0), c) ||
        vt.getElementType() != t.getElementType())
      return fail(loc, "layer_norm", Twine(what) + " must be 1-D of size " + Twine(c) +
                                         " with the input's element type, got " +
                                         llvm::to_string(vt));
  }
  if (Value r = adaptor.getResidual())
    if (!compatibleTensorTypes(r.getType(), t))
      return fail(loc, "layer_norm", "residual type " + llvm::to_string(r.getType()) +
                                         " differs from input type " + llvm::to_string(t));
  float eps = adaptor.getEpsilon().convertToFloat();
  if (!(eps > 0.0f) || !std::isfinite(eps))
    return fail(loc, "layer_norm", "epsilon must be finite and > 0");
  out.push_back(t);
  return success();
}

LogicalResult RmsNormOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                          Adaptor adaptor, SmallVectorImpl<Type> &out) {
  auto t = tensorType(adaptor.getInput());
  if (t.getRank() < 1)
    return fail(loc, "rms_norm", "input must have rank >= 1");
  int64_t c = t.getShape().back();
  auto wt = tensorType(adaptor.getWeight());
  if (wt.getRank() != 1 || !dimsCompatible(wt.getDimSize(0), c) ||
      wt.getElementType() != t.getElementType())
    return fail(loc, "rms_norm", "weight must be 1-D of size " + Twine(c) +
                                     " with the input's element type, got " +
                                     llvm::to_string(wt));
  if (Value r = adaptor.getResidual())
    if (!compatibleTensorTypes(r.getType(), t))
      return fail(loc, "rms_norm", "residual type " + llvm::to_string(r.getType()) +
                                       " differs from input type " + llvm::to_string(t));
  float eps = adaptor.getEpsilon().convertToFloat();
  if (!(eps > 0.0f) || !std::isfinite(eps))
    return fail(loc, "rms_norm", "epsilon must be finite and > 0");
  out.push_back(t);
  return success();
}

LogicalResult RotaryOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &out) {
  auto x = tensorType(adaptor.getInput());
  if (x.getRank() != 3)
    return fail(loc, "rotary", "input must be [batch, seq, heads * head_dim], got rank " +
                                   Twine(x.getRank()));
  int64_t heads = adaptor.getNumHeads(), rot = adaptor.getRotaryDim(), w = x.getDimSize(2);
  if (heads <= 0)
    return fail(loc, "rotary", "num_heads must be > 0, got " + Twine(heads));
  if (!ShapedType::isDynamic(w) && w % heads != 0)
    return fail(loc, "rotary",
                "num_heads " + Twine(heads) + " does not divide the width " + Twine(w));
  if (rot <= 0 || rot % 2 != 0 || (!ShapedType::isDynamic(w) && rot > w / heads))
    return fail(loc, "rotary", "rotary_dim " + Twine(rot) +
                                   " must be even, > 0 and at most the head size");
  Shape full = {x.getDimSize(0), x.getDimSize(1), rot};
  for (auto [v, what] : {std::pair(adaptor.getCos(), "cos"), {adaptor.getSin(), "sin"}}) {
    auto t = tensorType(v);
    if (t.getElementType() != x.getElementType())
      return fail(loc, "rotary", Twine(what) + " element type differs from the input's");
    if (t.getRank() < 2 || t.getRank() > 3 || !broadcastsTo(t.getShape(), full))
      return fail(loc, "rotary", Twine(what) + " shape " + shapeToString(t.getShape()) +
                                     " does not broadcast to [batch, seq, rotary_dim] = " +
                                     shapeToString(full));
  }
  out.push_back(x);
  return success();
}

LogicalResult AttentionOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                            Adaptor adaptor, SmallVectorImpl<Type> &out) {
  auto q = tensorType(adaptor.getQuery()), k = tensorType(adaptor.getKey()),
       v = tensorType(adaptor.getValue());
  for (auto [t, what] : {std::pair(q, "query"), {k, "key"}, {v, "value"}}) {
    if (t.getRank() != 3)
      return fail(loc, "attention", Twine(what) + " must be [batch, seq, width], got rank " +
                                        Twine(t.getRank()));
    if (t.getElementType() != q.getElementType())
      return fail(loc, "attention", Twine(what) + " element type differs from query");
  }
  if (!dimsCompatible(q.getDimSize(0), k.getDimSize(0)) ||
      !dimsCompatible(q.getDimSize(0), v.getDimSize(0)))
    return fail(loc, "attention", "query, key and value batch sizes differ");
  if (!dimsCompatible(k.getDimSize(1), v.getDimSize(1)))
    return fail(loc, "attention", "key and value sequence lengths differ");
  int64_t d = q.getDimSize(2);
  int64_t heads = adaptor.getNumHeads();
  if (heads <= 0)
    return fail(loc, "attention", "num_heads must be > 0, got " + Twine(heads));
  // Grouped-query attention: K and V hold num_kv_heads heads of the query's head size.
  int64_t kvHeads = adaptor.getNumKvHeads() ? int64_t(*adaptor.getNumKvHeads()) : heads;
  if (kvHeads <= 0 || heads % kvHeads != 0)
    return fail(loc, "attention", "num_kv_heads " + Twine(kvHeads) +
                                      " does not divide num_heads " + Twine(heads));
  Type result = q;
  if (auto columns = adaptor.getColumns()) {
    // Packed projections: the heads are column ranges of wider operands.
    ArrayRef<int64_t> c = *columns;
    if (c.size() != 4 || c[3] <= 0 || c[0] < 0 || c[1] < 0 || c[2] < 0 ||
        c[3] > (int64_t(1) << 24) || heads > (int64_t(1) << 24) / c[3])
      return fail(loc, "attention", "columns must be [query, key, value, head_dim] with "
                                    "non-negative offsets and 0 < num_heads * head_dim <= 2^24");
    int64_t width[3] = {heads * c[3], kvHeads * c[3], kvHeads * c[3]};
    for (auto [i, t, what] : {std::tuple(0, q, "query"), {1, k, "key"}, {2, v, "value"}}) {
      int64_t have = t.getDimSize(2);
      if (c[i] > (int64_t(1) << 40) || (!ShapedType::isDynamic(have) && c[i] + width[i] > have))
        return fail(loc, "attention", Twine(what) + " columns [" + Twine(c[i]) + ", " +
                                          Twine(c[i] + width[i]) + ") exceed its width " +
                                          Twine(have));
    }
    SmallVector<int64_t> shape(q.getShape());
    shape[2] = width[0];
    result = RankedTensorType::get(shape, q.getElementType());
  } else {
    if (!ShapedType::isDynamic(d) && d % heads != 0)
      return fail(loc, "attention",
                  "num_heads " + Twine(heads) + " does not divide the model width " + Twine(d));
    int64_t kvWidth = ShapedType::isDynamic(d) ? d : d / heads * kvHeads;
    if (!dimsCompatible(kvWidth, k.getDimSize(2)) || !dimsCompatible(kvWidth, v.getDimSize(2)))
      return fail(loc, "attention",
                  kvHeads == heads
                      ? Twine("query, key and value widths differ")
                      : "key and value widths must be num_kv_heads * head_dim = " + Twine(kvWidth));
  }
  if (auto w = adaptor.getWindow()) {
    if (int64_t(*w) <= 0)
      return fail(loc, "attention", "window must be > 0, got " + Twine(int64_t(*w)));
    if (adaptor.getMaskKind() != MaskKind::causal &&
        adaptor.getMaskKind() != MaskKind::causal_padding)
      return fail(loc, "attention", "a window needs mask_kind causal or causal_padding");
  }
  if (auto h = adaptor.getHiddenScore(); h && std::isnan(h->convertToFloat()))
    return fail(loc, "attention", "hidden_score must not be NaN");
  float scale = adaptor.getScale().convertToFloat();
  if (!std::isfinite(scale) || scale == 0.0f)
    return fail(loc, "attention", "scale must be finite and nonzero");
  MaskKind kind = adaptor.getMaskKind();
  Value mask = adaptor.getMask();
  bool needsMask = kind == MaskKind::padding || kind == MaskKind::causal_padding;
  if (needsMask && !mask)
    return fail(loc, "attention", "mask_kind " + stringifyMaskKind(kind) + " needs a mask operand");
  if (!needsMask && mask)
    return fail(loc, "attention", "mask_kind " + stringifyMaskKind(kind) +
                                      " takes no mask operand (use padding or causal_padding)");
  if (mask) {
    auto mt = tensorType(mask);
    // A float mask is an additive score term: the query's type, or f32 (what
    // tfc-convert-precision leaves for f16/bf16 queries; the kernels add it in f32).
    if (!mt.getElementType().isInteger(1) && mt.getElementType() != q.getElementType() &&
        !mt.getElementType().isF32())
      return fail(loc, "attention", "mask must be i1 (keep where true), f32 or the query's float type");
    int64_t b = q.getDimSize(0);
    Shape full = {b, heads, q.getDimSize(1), k.getDimSize(1)};
    if (mt.getRank() > 4 || !broadcastsTo(mt.getShape(), full))
      return fail(loc, "attention", "mask shape " + shapeToString(mt.getShape()) +
                                        " does not broadcast to [batch, heads, q_seq, k_seq] = " +
                                        shapeToString(full));
  }
  out.push_back(result);
  return success();
}

LogicalResult LinearOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &out) {
  auto x = tensorType(adaptor.getInput()), w = tensorType(adaptor.getWeight());
  if (x.getRank() < 1)
    return fail(loc, "linear", "input must have rank >= 1");
  if (w.getRank() != 2)
    return fail(loc, "linear", "weight must be [in, out], got rank " + Twine(w.getRank()));
  if (x.getElementType() != w.getElementType())
    return fail(loc, "linear", "input and weight element types differ");
  if (!dimsCompatible(x.getShape().back(), w.getDimSize(0)))
    return fail(loc, "linear", "input width " + Twine(x.getShape().back()) +
                                   " differs from weight rows " + Twine(w.getDimSize(0)));
  Shape shape(x.getShape().drop_back());
  shape.push_back(w.getDimSize(1));
  if (Value b = adaptor.getBias()) {
    auto bt = tensorType(b);
    if (bt.getRank() != 1 || !dimsCompatible(bt.getDimSize(0), w.getDimSize(1)) ||
        bt.getElementType() != x.getElementType())
      return fail(loc, "linear", "bias must be 1-D of size " + Twine(w.getDimSize(1)) +
                                     ", got " + llvm::to_string(bt));
  }
  if (Value r = adaptor.getResidual()) {
    auto rt = tensorType(r);
    if (rt.getElementType() != x.getElementType() || !broadcastsTo(rt.getShape(), shape))
      return fail(loc, "linear", "residual " + llvm::to_string(rt) + " does not broadcast to " +
                                     shapeToString(shape));
  }
  out.push_back(RankedTensorType::get(shape, x.getElementType()));
  return success();
}

LogicalResult GatedLinearOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                              Adaptor adaptor, SmallVectorImpl<Type> &out) {
  auto x = tensorType(adaptor.getInput()), g = tensorType(adaptor.getGateWeight()),
       u = tensorType(adaptor.getUpWeight());
  if (x.getRank() < 1)
    return fail(loc, "gated_linear", "input must have rank >= 1");
  for (auto [w, what] : {std::pair(g, "gate_weight"), {u, "up_weight"}}) {
    if (w.getRank() != 2)
      return fail(loc, "gated_linear",
                  Twine(what) + " must be [in, out], got rank " + Twine(w.getRank()));
    if (w.getElementType() != x.getElementType())
      return fail(loc, "gated_linear", Twine(what) + " element type differs from the input's");
    if (!dimsCompatible(x.getShape().back(), w.getDimSize(0)))
      return fail(loc, "gated_linear", "input width " + Twine(x.getShape().back()) +
                                           " differs from " + what + " rows " +
                                           Twine(w.getDimSize(0)));
  }
  if (!dimsCompatible(g.getDimSize(1), u.getDimSize(1)))
    return fail(loc, "gated_linear", "gate_weight and up_weight have different widths (" +
                                         Twine(g.getDimSize(1)) + " vs " +
                                         Twine(u.getDimSize(1)) + ")");
  Shape shape(x.getShape().drop_back());
  shape.push_back(ShapedType::isDynamic(g.getDimSize(1)) ? u.getDimSize(1) : g.getDimSize(1));
  out.push_back(RankedTensorType::get(shape, x.getElementType()));
  return success();
}

LogicalResult EmbeddingOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                            Adaptor adaptor, SmallVectorImpl<Type> &out) {
  auto ids = tensorType(adaptor.getIds()), tok = tensorType(adaptor.getTokens()),
       pos = tensorType(adaptor.getPositions());
  if (ids.getRank() != 2)
    return fail(loc, "embedding", "ids must be [batch, seq]");
  if (tok.getRank() != 2 || pos.getRank() != 2)
    return fail(loc, "embedding", "tables must be rank 2");
  int64_t d = tok.getDimSize(1);
  if (!dimsCompatible(d, pos.getDimSize(1)))
    return fail(loc, "embedding", "token and position tables have different widths");
  if (!ShapedType::isDynamic(ids.getDimSize(1)) && !ShapedType::isDynamic(pos.getDimSize(0)) &&
      ids.getDimSize(1) > pos.getDimSize(0))
    return fail(loc, "embedding", "sequence length " + Twine(ids.getDimSize(1)) +
                                      " exceeds the position table (" + Twine(pos.getDimSize(0)) +
                                      " rows)");
  if (Value t = adaptor.getTypeIds()) {
    auto tt = tensorType(t), types = tensorType(adaptor.getTypes());
    if (failed(verifyCompatibleShape(tt.getShape(), ids.getShape())))
      return fail(loc, "embedding", "type_ids shape differs from ids");
    if (types.getRank() != 2 || !dimsCompatible(types.getDimSize(1), d))
      return fail(loc, "embedding", "token-type table must be [types, width]");
  }
  out.push_back(RankedTensorType::get({ids.getDimSize(0), ids.getDimSize(1), d},
                                      tok.getElementType()));
  return success();
}

#define GET_OP_CLASSES
#include "tfc/IR/TfcOps.cpp.inc"
