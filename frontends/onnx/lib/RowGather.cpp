//===- RowGather.cpp - x[arange(B), j] of a flattened [B*S, D] as a per-row gather ===//
//
// torch exports `x[torch.arange(B), j]` of a [B, S, D] value (CLIP's pooled
// output: the final hidden state at each row's EOS token) as
//
//   Gather(Flatten(x) : [B*S, D], Add(Mul(Range(0, B, 1), S), j), axis = 0)
//
// The importer keeps the Flatten deferred (TensorInfo::flat), but a plan dim
// cannot be B*S with both symbolic. When the indices provably are i*S + j[i]
// with j[i] in [0, S) (j an ArgMax/ArgMin over an axis of length S) that gather
// reads x[i, j[i], :], which is
//
//   gather_elements(x, broadcast(j : [B, 1, 1] -> [B, 1, D]), axis = 1) : [B, 1, D]
//
// reshaped to [B, D]. Anything else is left to the plain Gather (and its error).
// The match reads the ONNX graph through Importer::producer and what the
// importer knows of each value (an index grid for the Range, known scalars).
//
//===----------------------------------------------------------------------===//
#include "OnnxInternal.h"

#include "mlir/IR/BuiltinAttributes.h"

using namespace mlir;
namespace tfc_ir = mlir::tfc;

namespace tfc::onnxfe {
namespace {

bool isIndexType(Type t) { return t && (t.isInteger(64) || t.isInteger(32)); }

/// The node that produces `name`, looking through Casts of an integer to int64 (exact).
const onnx::NodeProto *producerPastCasts(Importer &im, std::string name) {
  for (;;) {
    const onnx::NodeProto *p = im.producer(name);
    if (!p || p->op_type() != "Cast" || p->input_size() != 1)
      return p;
    TensorInfo *in = im.find(p->input(0)), *out = im.find(p->output(0));
    if (!in || !out || !isIndexType(in->elem) || !out->elem.isInteger(64))
      return p;
    name = p->input(0);
  }
}

/// The one value of a scalar or one-element integer tensor known at import time.
std::optional<SymDim> knownScalar(const TensorInfo &t) {
  if (!isIndexType(t.elem) || t.dims.size() > 1)
    return std::nullopt;
  if (t.known && t.known->size() == 1)
    return (*t.known)[0];
  if (t.data && !t.table && t.data->values.size() == 1)
    return SymDim::constant(static_cast<int64_t>(t.data->values[0]));
  return std::nullopt;
}

/// Whether `name` is i*S (i in [0, B)): Mul of Range(0, B, 1) (an index grid of dims [B])
/// and the scalar S, in either order.
bool isRowStart(Importer &im, const std::string &name, const SymDim &B, const SymDim &S) {
  const onnx::NodeProto *mul = producerPastCasts(im, name);
  if (!mul || mul->op_type() != "Mul" || mul->input_size() != 2)
    return false;
  for (int k = 0; k < 2; ++k) {
    TensorInfo *r = im.find(mul->input(k)), *s = im.find(mul->input(1 - k));
    if (!r || !s || !isIndexType(r->elem) || r->iotaAxis != 0 || r->gridRank != 0 ||
        r->dims != std::vector<SymDim>{B})
      continue;
    if (std::optional<SymDim> v = knownScalar(*s); v && *v == S)
      return true;
  }
  return false;
}

/// Whether `name` holds values in [0, S) of dims [B]: ArgMax/ArgMin (keepdims 0) over an axis
/// of length S.
bool isColumn(Importer &im, const std::string &name, const SymDim &B, const SymDim &S) {
  TensorInfo *c = im.find(name);
  if (!c || !isIndexType(c->elem) || c->dims != std::vector<SymDim>{B})
    return false;
  const onnx::NodeProto *arg = producerPastCasts(im, name);
  if (!arg || (arg->op_type() != "ArgMax" && arg->op_type() != "ArgMin") ||
      im.attrInt(*arg, "keepdims", 1) != 0)
    return false;
  TensorInfo *in = im.find(arg->input(0));
  if (!in)
    return false;
  int64_t rank = in->dims.size(), axis = im.attrInt(*arg, "axis", 0);
  if (axis < 0)
    axis += rank;
  return axis >= 0 && axis < rank && in->dims[axis] == S;
}

/// The name of j when `name` is i*S + j[i] (Add of a row start and a column, either order).
std::optional<std::string> rowIndexColumn(Importer &im, const std::string &name, const SymDim &B,
                                          const SymDim &S) {
  const onnx::NodeProto *add = producerPastCasts(im, name);
  if (!add || add->op_type() != "Add" || add->input_size() != 2)
    return std::nullopt;
  for (int k = 0; k < 2; ++k)
    if (isRowStart(im, add->input(k), B, S) && isColumn(im, add->input(1 - k), B, S))
      return add->input(1 - k);
  return std::nullopt;
}

} // namespace

std::optional<Status> importRowGather(Importer &im, const onnx::NodeProto &n, int64_t axis) {
  TensorInfo &x = im.input(n, 0), &idx = im.input(n, 1);
  if (axis != 0 || !x.flat || x.realDims.size() != 3 || !isIndexType(idx.elem) ||
      idx.dims != std::vector<SymDim>{x.realDims[0]})
    return std::nullopt;
  const SymDim &B = x.realDims[0], &S = x.realDims[1], &D = x.realDims[2];
  std::optional<std::string> column = rowIndexColumn(im, n.input(1), B, S);
  if (!column)
    return std::nullopt;
  TensorInfo &j = *im.find(*column);
  Value vx = im.rowValue(x), vj = im.value(j);
  std::vector<SymDim> b11 = {B, SymDim::constant(1), SymDim::constant(1)};
  std::vector<SymDim> b1d = {B, SymDim::constant(1), D}, bd = {B, D};
  FailureOr<Value> shape = im.materializeKnown(b1d);
  if (!vx || !vj || failed(shape))
    return im.fail(n, "cannot build the per-row gather of [" + B.str() + ", " + S.str() + ", " +
                          D.str() + "] at run time (a symbolic value that is not a dim of "
                          "an input)");
  OpBuilder &b = im.b();
  Location loc = im.loc();
  Value col = b.create<tfc_ir::ReshapeOp>(loc, im.typeOf(b11, j.elem), vj,
                                          b.getDenseI64ArrayAttr(*reshapeAttr(j.dims, b11)));
  Value wide = b.create<tfc_ir::ExpandOp>(loc, im.typeOf(b1d, j.elem), col, *shape);
  Value rows = b.create<tfc_ir::GatherElementsOp>(loc, im.typeOf(b1d, x.elem), vx, wide,
                                                  b.getI64IntegerAttr(1));
  Value r = b.create<tfc_ir::ReshapeOp>(loc, im.typeOf(bd, x.elem), rows,
                                        b.getDenseI64ArrayAttr(*reshapeAttr(b1d, bd)));
  im.setOutput(n, 0, im.fromValue(r, bd));
  return Status{};
}

} // namespace tfc::onnxfe
