//===- TfcBreadthOps.cpp - type inference of the breadth ops (issue 11) ---===//
//
// The ops of the "Breadth ops" section of TfcOps.td: numeric unary ops, min,
// comparisons, cumsum, tile, gather_elements, argmax, trilu, conv. As in
// TfcOps.cpp, inference is the verifier: every rule a frontend could break is
// checked here, with a lowercase message naming the operand or attribute.
//
//===----------------------------------------------------------------------===//
#include "tfc/IR/ShapeUtils.h"
#include "tfc/IR/TfcDialect.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/ScopedPrinter.h"

using namespace mlir;
using namespace mlir::tfc;

namespace {

using Shape = SmallVector<int64_t, 6>;

RankedTensorType tensorType(Value v) { return cast<RankedTensorType>(v.getType()); }

LogicalResult fail(std::optional<Location> loc, StringRef name, const Twine &msg) {
  return emitOptionalError(loc, "'tfc.", name, "' op ", msg);
}

/// NumPy broadcast of two operands of one element type; the result has element type
/// `resultElem` (the operands' own when null).
LogicalResult inferBroadcast(std::optional<Location> loc, StringRef name, Value lhs, Value rhs,
                             Type resultElem, SmallVectorImpl<Type> &out) {
  auto lt = tensorType(lhs), rt = tensorType(rhs);
  if (lt.getElementType() != rt.getElementType())
    return fail(loc, name, "operands have different element types (" +
                               Twine(llvm::to_string(lt.getElementType())) + " vs " +
                               llvm::to_string(rt.getElementType()) + ")");
  Shape shape;
  std::string why;
  if (failed(broadcastShapes(lt.getShape(), rt.getShape(), shape, why)))
    return fail(loc, name, why);
  out.push_back(RankedTensorType::get(shape, resultElem ? resultElem : lt.getElementType()));
  return success();
}

/// Checks that `axis` lies in [-rank, rank) and returns it in [0, rank).
FailureOr<int64_t> checkAxis(std::optional<Location> loc, StringRef name, int64_t axis,
                             int64_t rank) {
  int64_t n;
  std::string why;
  if (failed(normalizeAxis(axis, rank, n, why)))
    return fail(loc, name, why);
  return n;
}

} // namespace

#define TFC_COMPATIBLE_RETURN_TYPES(OP)                                                  \
  bool OP::isCompatibleReturnTypes(TypeRange l, TypeRange r) {                            \
    return compatibleTypeLists(l, r);                                                    \
  }
TFC_COMPATIBLE_RETURN_TYPES(AbsOp)
TFC_COMPATIBLE_RETURN_TYPES(SignOp)
TFC_COMPATIBLE_RETURN_TYPES(CeilOp)
TFC_COMPATIBLE_RETURN_TYPES(FloorOp)
TFC_COMPATIBLE_RETURN_TYPES(SinOp)
TFC_COMPATIBLE_RETURN_TYPES(CosOp)
TFC_COMPATIBLE_RETURN_TYPES(MinOp)
TFC_COMPATIBLE_RETURN_TYPES(EqualOp)
TFC_COMPATIBLE_RETURN_TYPES(LessOp)
TFC_COMPATIBLE_RETURN_TYPES(LessEqualOp)
TFC_COMPATIBLE_RETURN_TYPES(GreaterOp)
TFC_COMPATIBLE_RETURN_TYPES(GreaterEqualOp)
TFC_COMPATIBLE_RETURN_TYPES(CumSumOp)
TFC_COMPATIBLE_RETURN_TYPES(TileOp)
TFC_COMPATIBLE_RETURN_TYPES(GatherElementsOp)
TFC_COMPATIBLE_RETURN_TYPES(ArgMaxOp)
TFC_COMPATIBLE_RETURN_TYPES(TriluOp)
TFC_COMPATIBLE_RETURN_TYPES(ConvOp)
#undef TFC_COMPATIBLE_RETURN_TYPES

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

// The unary ops (abs sign ceil floor sin cos) keep their input type: TfcOps.cpp's
// TFC_INFER_UNARY list.

LogicalResult MinOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                      Adaptor adaptor, SmallVectorImpl<Type> &out) {
  return inferBroadcast(loc, "min", adaptor.getLhs(), adaptor.getRhs(), Type(), out);
}

// Equality is defined on every element type; an order only on numbers.
#define TFC_INFER_COMPARE(OP, NAME, ORDERED)                                              \
  LogicalResult OP::inferReturnTypes(MLIRContext *ctx, std::optional<Location> loc,       \
                                     Adaptor adaptor, SmallVectorImpl<Type> &out) {       \
    if (ORDERED && tensorType(adaptor.getLhs()).getElementType().isInteger(1))            \
      return fail(loc, NAME, "operands are i1, which have no order (only tfc.equal "      \
                             "compares them)");                                           \
    return inferBroadcast(loc, NAME, adaptor.getLhs(), adaptor.getRhs(),                  \
                          IntegerType::get(ctx, 1), out);                                 \
  }
TFC_INFER_COMPARE(EqualOp, "equal", false)
TFC_INFER_COMPARE(LessOp, "less", true)
TFC_INFER_COMPARE(LessEqualOp, "less_equal", true)
TFC_INFER_COMPARE(GreaterOp, "greater", true)
TFC_INFER_COMPARE(GreaterEqualOp, "greater_equal", true)
#undef TFC_INFER_COMPARE

//===----------------------------------------------------------------------===//
// Scans, repetition, indexing
//===----------------------------------------------------------------------===//

LogicalResult CumSumOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &out) {
  auto t = tensorType(adaptor.getInput());
  if (t.getRank() < 1)
    return fail(loc, "cumsum", "input must have rank >= 1");
  if (failed(checkAxis(loc, "cumsum", adaptor.getAxis(), t.getRank())))
    return failure();
  out.push_back(t);
  return success();
}

LogicalResult TileOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                       Adaptor adaptor, SmallVectorImpl<Type> &out) {
  auto t = tensorType(adaptor.getInput());
  ArrayRef<int64_t> reps = adaptor.getRepeats();
  if ((int64_t)reps.size() != t.getRank())
    return fail(loc, "tile", "repeats has " + Twine(reps.size()) +
                                 " entries but the input has rank " + Twine(t.getRank()));
  Shape shape;
  for (auto [d, r] : llvm::zip(t.getShape(), reps)) {
    if (r < 1)
      return fail(loc, "tile", "repeats must be >= 1, got " + Twine(r));
    shape.push_back(ShapedType::isDynamic(d) ? (r == 1 ? d : ShapedType::kDynamic) : d * r);
  }
  out.push_back(RankedTensorType::get(shape, t.getElementType()));
  return success();
}

LogicalResult GatherElementsOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                                 Adaptor adaptor, SmallVectorImpl<Type> &out) {
  auto dt = tensorType(adaptor.getData()), it = tensorType(adaptor.getIndices());
  if (dt.getRank() < 1)
    return fail(loc, "gather_elements", "data must have rank >= 1");
  if (it.getRank() != dt.getRank())
    return fail(loc, "gather_elements", "indices have rank " + Twine(it.getRank()) +
                                            " but data has rank " + Twine(dt.getRank()));
  auto axis = checkAxis(loc, "gather_elements", adaptor.getAxis(), dt.getRank());
  if (failed(axis))
    return failure();
  for (int64_t i = 0; i < dt.getRank(); ++i) {
    int64_t d = dt.getDimSize(i), n = it.getDimSize(i);
    if (i != *axis && !ShapedType::isDynamic(d) && !ShapedType::isDynamic(n) && n > d)
      return fail(loc, "gather_elements",
                  "indices dim " + Twine(i) + " (" + Twine(n) + ") exceeds the data's (" +
                      Twine(d) + ")");
  }
  out.push_back(RankedTensorType::get(it.getShape(), dt.getElementType()));
  return success();
}

LogicalResult ArgMaxOp::inferReturnTypes(MLIRContext *ctx, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &out) {
  auto t = tensorType(adaptor.getInput());
  if (t.getRank() < 1)
    return fail(loc, "argmax", "input must have rank >= 1");
  auto axis = checkAxis(loc, "argmax", adaptor.getAxis(), t.getRank());
  if (failed(axis))
    return failure();
  if (t.getDimSize(*axis) == 0)
    return fail(loc, "argmax", "the reduced axis is empty");
  Shape shape;
  for (int64_t i = 0; i < t.getRank(); ++i) {
    if (i != *axis)
      shape.push_back(t.getDimSize(i));
    else if (adaptor.getKeepdims())
      shape.push_back(1);
  }
  out.push_back(RankedTensorType::get(shape, IntegerType::get(ctx, 64)));
  return success();
}

LogicalResult TriluOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                        Adaptor adaptor, SmallVectorImpl<Type> &out) {
  auto t = tensorType(adaptor.getInput());
  if (t.getRank() < 2)
    return fail(loc, "trilu", "input must have rank >= 2, got " + Twine(t.getRank()));
  out.push_back(t);
  return success();
}

//===----------------------------------------------------------------------===//
// Convolution
//===----------------------------------------------------------------------===//

LogicalResult ConvOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                       Adaptor adaptor, SmallVectorImpl<Type> &out) {
  auto x = tensorType(adaptor.getInput()), w = tensorType(adaptor.getWeight());
  int64_t rank = x.getRank();
  if (rank != 3 && rank != 4)
    return fail(loc, "conv", "input must be [N, C, W] or [N, C, H, W], got rank " + Twine(rank));
  if (w.getRank() != rank)
    return fail(loc, "conv", "weight must have the input's rank " + Twine(rank) + ", got " +
                                 Twine(w.getRank()));
  if (!w.hasStaticShape())
    return fail(loc, "conv", "weight must have a static shape, got " +
                                 shapeToString(w.getShape()));
  if (x.getElementType() != w.getElementType())
    return fail(loc, "conv", "input and weight element types differ");
  int64_t spatial = rank - 2;
  ArrayRef<int64_t> strides = adaptor.getStrides(), pads = adaptor.getPads(),
                    dilations = adaptor.getDilations();
  if ((int64_t)strides.size() != spatial || (int64_t)dilations.size() != spatial ||
      (int64_t)pads.size() != 2 * spatial)
    return fail(loc, "conv", "strides and dilations need " + Twine(spatial) +
                                 " entries and pads " + Twine(2 * spatial) + ", got " +
                                 Twine(strides.size()) + ", " + Twine(dilations.size()) +
                                 " and " + Twine(pads.size()));
  if (llvm::any_of(strides, [](int64_t s) { return s < 1; }) ||
      llvm::any_of(dilations, [](int64_t d) { return d < 1; }) ||
      llvm::any_of(pads, [](int64_t p) { return p < 0; }))
    return fail(loc, "conv", "strides and dilations must be >= 1 and pads >= 0");
  int64_t group = adaptor.getGroup(), m = w.getDimSize(0), c = x.getDimSize(1);
  if (group < 1 || m % group != 0)
    return fail(loc, "conv", "group " + Twine(group) + " must be >= 1 and divide the " +
                                 Twine(m) + " output channels");
  if (!ShapedType::isDynamic(c) && c != w.getDimSize(1) * group)
    return fail(loc, "conv", "input channels " + Twine(c) + " differ from the weight's " +
                                 Twine(w.getDimSize(1)) + " x group " + Twine(group));
  if (Value b = adaptor.getBias()) {
    auto bt = tensorType(b);
    if (bt.getRank() != 1 || !dimsCompatible(bt.getDimSize(0), m) ||
        bt.getElementType() != x.getElementType())
      return fail(loc, "conv", "bias must be 1-D of size " + Twine(m) + ", got " +
                                   llvm::to_string(bt));
  }
  Shape shape = {x.getDimSize(0), m};
  for (int64_t i = 0; i < spatial; ++i) {
    int64_t in = x.getDimSize(2 + i);
    int64_t span = dilations[i] * (w.getDimSize(2 + i) - 1) + 1;
    if (ShapedType::isDynamic(in)) {
      shape.push_back(ShapedType::kDynamic);
      continue;
    }
    int64_t padded = in + pads[i] + pads[spatial + i];
    if (padded < span)
      return fail(loc, "conv", "spatial dim " + Twine(i) + " (" + Twine(in) +
                                   " padded to " + Twine(padded) +
                                   ") is smaller than the dilated kernel (" + Twine(span) + ")");
    shape.push_back((padded - span) / strides[i] + 1);
  }
  out.push_back(RankedTensorType::get(shape, x.getElementType()));
  return success();
}
