//===- OpTable.cpp - the ONNX op table and one importer per op family ------===//
//
// Each row: op, the opsets it is supported at, the attributes it accepts and
// its importer. Families share one generic importer (elementwise binary,
// comparisons, unary, reductions, shape ops); the rest are the exceptions.
// Importers first try to evaluate at import time (constants, tables, symbolic
// shape values), then emit primitive tfc ops with result types computed here
// on symbolic dims (the module is verified afterwards).
//
//===----------------------------------------------------------------------===//
#include "ConstEval.h"
#include "OnnxInternal.h"

#include "mlir/IR/BuiltinAttributes.h"

#include <cmath>
#include <limits>

using namespace mlir;
namespace tfc_ir = mlir::tfc;

namespace tfc::onnxfe {
namespace {

constexpr int64_t kBig = std::numeric_limits<int64_t>::max() / 2;

bool allConstant(const std::vector<SymDim> &dims) {
  return llvm::all_of(dims, [](const SymDim &d) { return d.isConstant(); });
}

std::string dimsStr(const std::vector<SymDim> &dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i)
    s += (i ? ", " : "") + dims[i].str();
  return s + "]";
}

/// A constant tensor or a table for `data` with logical `dims`.
TensorInfo makeData(Importer &im, ConstData data, const std::vector<SymDim> &dims) {
  if (allConstant(dims))
    return im.fromConst(std::move(data));
  TensorInfo t;
  t.elem = data.elem;
  t.dims = dims;
  t.data = std::move(data);
  t.table = true;
  return t;
}

/// Axes on which a table holds one entry that its symbolic logical dim broadcasts (an
/// Expand to a symbolic shape keeps its constant input unexpanded there).
std::vector<bool> stretchedAxes(const TensorInfo &t) {
  std::vector<bool> s(t.dims.size(), false);
  if (t.data && t.table && t.data->shape.size() == t.dims.size())
    for (size_t i = 0; i < t.dims.size(); ++i)
      s[i] = t.data->shape[i] == 1 && !t.dims[i].isConstant();
  return s;
}

/// The value of an operand that broadcasts: a table with leading 1 dims is emitted without
/// them (the causal table GPT-2 keeps as [1, 1, M, M] becomes the [M, M] slice of the contract).
/// A table stretched over a symbolic dim (see stretchedAxes) is emitted unexpanded there when
/// one of `others` has that dim (the broadcast then gives the same result; the causal table
/// Llama expands to [batch, 1, T, T] stays a slice of the [M, M] table).
Value broadcastValue(Importer &im, TensorInfo &t, std::vector<const TensorInfo *> others = {}) {
  if (!t.table || t.value || t.dims.size() <= 2 || t.flat)
    return im.value(t);
  TensorInfo compact = t;
  std::vector<bool> stretched = stretchedAxes(t);
  size_t rank = t.dims.size();
  for (size_t i = 0; i < rank; ++i) {
    if (!stretched[i])
      continue;
    bool supplied = llvm::any_of(others, [&](const TensorInfo *o) {
      size_t orank = o->dims.size();
      if (orank + i < rank)
        return false;
      size_t j = i + orank - rank;
      return o->dims[j] == t.dims[i] && !stretchedAxes(*o)[j];
    });
    if (!supplied)
      return im.value(t);
    compact.dims[i] = SymDim::constant(1);
  }
  if (compact.dims != t.dims)
    return broadcastValue(im, compact);
  size_t lead = 0;
  while (lead + 2 < t.dims.size() && t.dims[lead] == SymDim::constant(1))
    ++lead;
  if (lead == 0)
    return im.value(t);
  TensorInfo inner = t;
  inner.dims.erase(inner.dims.begin(), inner.dims.begin() + lead);
  inner.data->shape.erase(inner.data->shape.begin(), inner.data->shape.begin() + lead);
  return im.value(inner);
}

Status needValue(Importer &im, const onnx::NodeProto &n, Value v, const char *what) {
  if (v)
    return {};
  return im.fail(n, std::string("cannot build ") + what +
                        " at run time (a symbolic value that is not a dim of an input)");
}

/// Integer normalization of an axis; false when out of range.
bool normAxis(int64_t &axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    return false;
  if (axis < 0)
    axis += rank;
  return true;
}

Status badAxis(Importer &im, const onnx::NodeProto &n, int64_t axis, int64_t rank) {
  return im.fail(n, "'axis' value is " + std::to_string(axis) + ", accepted range is [" +
                        std::to_string(-rank) + ", " + std::to_string(rank - 1) + "]");
}

/// Constant integer values of input `i` (all constant), or nullopt.
std::optional<std::vector<int64_t>> constInts(Importer &im, const onnx::NodeProto &n, int i) {
  if (!im.hasInput(n, i))
    return std::nullopt;
  TensorInfo &t = im.input(n, i);
  if (t.data && !t.table && !t.elem.isF32()) {
    std::vector<int64_t> v;
    for (double d : t.data->values)
      v.push_back(static_cast<int64_t>(d));
    return v;
  }
  if (t.known && llvm::all_of(*t.known, [](const SymDim &d) { return d.isConstant(); })) {
    std::vector<int64_t> v;
    for (const SymDim &d : *t.known)
      v.push_back(d.coeff);
    return v;
  }
  return std::nullopt;
}

SymDim product(const std::vector<SymDim> &dims, size_t from = 0, size_t to = SIZE_MAX) {
  SymDim p = SymDim::constant(1);
  for (size_t i = from; i < std::min(to, dims.size()); ++i)
    p = p * dims[i];
  return p;
}

/// Emits tfc.reshape of `t` to `out` (symbolic); handles a deferred flatten.
Status emitReshape(Importer &im, const onnx::NodeProto &n, TensorInfo &t,
                   const std::vector<SymDim> &out, TensorInfo &result) {
  if (t.data && allConstant(out)) {
    ConstData d = *t.data;
    if (!t.table) {
      d.shape.clear();
      for (const SymDim &s : out)
        d.shape.push_back(s.coeff);
      result = im.fromConst(std::move(d));
      if (t.known && result.known == std::nullopt && out.size() <= 1)
        result.known = t.known;
      return {};
    }
  }
  if (t.known && !t.data && out.size() <= 1) {
    result = t;
    result.dims = out;
    result.value = nullptr;
    return {};
  }
  Value v;
  const std::vector<SymDim> *inDims = &t.dims;
  if (t.folded && out == t.realDims) {  // the folded heads unfolded
    result = im.fromValue(im.rowValue(t), out);
    return {};
  }
  if (t.folded) {
    v = im.value(t);
    if (!v)
      return im.fail(n, im.foldedInput(n.input(0), t));
  } else if (t.flat) {
    if (out == t.realDims) {  // the deferred flatten undone
      result = im.fromValue(im.rowValue(t), out);
      return {};
    }
    v = im.rowValue(t);
    inDims = &t.realDims;
  } else {
    v = im.value(t);
  }
  if (Status s = needValue(im, n, v, "the reshape input"); !s.ok())
    return s;
  auto attr = reshapeAttr(*inDims, out);
  if (!attr)
    return im.fail(n, "the target shape " + dimsStr(out) + " of input shape " + dimsStr(*inDims) +
                          " has more than one dim that is neither static nor kept in place");
  Value r = im.b().create<tfc_ir::ReshapeOp>(im.loc(), im.typeOf(out, t.elem), v,
                                             im.b().getDenseI64ArrayAttr(*attr));
  result = im.fromValue(r, out);
  return {};
}

//===----------------------------------------------------------------------===//
// Elementwise binary and comparisons
//===----------------------------------------------------------------------===//

enum class Bin { Add, Sub, Mul, Div, Pow, Max, Min, Equal, Less, Greater, LessOrEqual, GreaterOrEqual };

double applyBin(Bin k, double a, double b, bool integer) {
  switch (k) {
  case Bin::Add: return a + b;
  case Bin::Sub: return a - b;
  case Bin::Mul: return a * b;
  case Bin::Div: return integer ? (b == 0 ? 0 : std::trunc(a / b)) : a / b;
  case Bin::Pow: return std::pow(a, b);
  case Bin::Max: return std::max(a, b);
  case Bin::Min: return std::min(a, b);
  case Bin::Equal: return a == b;
  case Bin::Less: return a < b;
  case Bin::Greater: return a > b;
  case Bin::LessOrEqual: return a <= b;
  case Bin::GreaterOrEqual: return a >= b;
  }
  return 0;
}

SymDim symBin(Bin k, const SymDim &a, const SymDim &b) {
  if (a.isConstant() && b.isConstant())
    return SymDim::constant(static_cast<int64_t>(applyBin(k, a.coeff, b.coeff, true)));
  if (a.unknown || b.unknown)
    return SymDim::unknownDim();
  switch (k) {
  case Bin::Mul: return a * b;
  case Bin::Div: return divide(a, b);
  case Bin::Add:
  case Bin::Sub: {
    if (b == SymDim::constant(0))  // seq + 0 (past length 0 without a cache)
      return a;
    if (k == Bin::Add && a == SymDim::constant(0))
      return b;
    if (a.powers != b.powers)
      return SymDim::unknownDim();
    SymDim r = a;
    r.coeff = k == Bin::Add ? a.coeff + b.coeff : a.coeff - b.coeff;
    if (r.coeff == 0)
      return SymDim::constant(0);
    return r;
  }
  default:
    break;
  }
  // A dim is >= 0, so `c * symbols` is >= 0 when c > 0 and <= 0 when c < 0: compared with a
  // constant of the other sign the order is known. This folds the guards exporters put around
  // expand sizes (`Where(Equal(dim, -1), 1, dim)`) and clamps such as `Max(dim, 0)`.
  auto sign = [](const SymDim &d) { return d.coeff > 0 ? 1 : d.coeff < 0 ? -1 : 0; };
  bool ge = a == b, gt = false, le = a == b, lt = false;  // known relations of a to b
  if (b.isConstant() && !a.isConstant()) {
    ge = ge || (sign(a) > 0 && b.coeff <= 0);
    gt = sign(a) > 0 && b.coeff < 0;
    le = le || (sign(a) < 0 && b.coeff >= 0);
    lt = sign(a) < 0 && b.coeff > 0;
  } else if (a.isConstant() && !b.isConstant()) {
    le = le || (sign(b) > 0 && a.coeff <= 0);
    lt = sign(b) > 0 && a.coeff < 0;
    ge = ge || (sign(b) < 0 && a.coeff >= 0);
    gt = sign(b) < 0 && a.coeff > 0;
  }
  bool ne = gt || lt;
  switch (k) {
  case Bin::Max: return ge ? a : le ? b : SymDim::unknownDim();
  case Bin::Min: return le ? a : ge ? b : SymDim::unknownDim();
  case Bin::Equal: return a == b ? SymDim::constant(1) : ne ? SymDim::constant(0) : SymDim::unknownDim();
  case Bin::Less: return lt ? SymDim::constant(1) : ge ? SymDim::constant(0) : SymDim::unknownDim();
  case Bin::Greater: return gt ? SymDim::constant(1) : le ? SymDim::constant(0) : SymDim::unknownDim();
  case Bin::LessOrEqual: return le ? SymDim::constant(1) : gt ? SymDim::constant(0) : SymDim::unknownDim();
  case Bin::GreaterOrEqual: return ge ? SymDim::constant(1) : lt ? SymDim::constant(0) : SymDim::unknownDim();
  default: return SymDim::unknownDim();
  }
}

bool isComparison(Bin k) {
  return k == Bin::Equal || k == Bin::Less || k == Bin::Greater || k == Bin::LessOrEqual ||
         k == Bin::GreaterOrEqual;
}

Status importBinary(Importer &im, const onnx::NodeProto &n, Bin k) {
  TensorInfo &a = im.input(n, 0);
  TensorInfo &b = im.input(n, 1);
  Type elem = isComparison(k) ? Type(im.b().getI1Type()) : a.elem;
  std::vector<SymDim> dims;
  if (!broadcastDims(a.dims, b.dims, dims))
    return im.fail(n, "shapes " + dimsStr(a.dims) + " and " + dimsStr(b.dims) +
                          " do not broadcast");
  // Symbolic integer values (shape arithmetic).
  if (a.known && b.known && (!a.data || !b.data) && dims.size() <= 1) {
    size_t len = dims.empty() ? 1 : static_cast<size_t>(dims[0].isConstant() ? dims[0].coeff : 0);
    if (len > 0 && (a.known->size() == len || a.known->size() == 1) &&
        (b.known->size() == len || b.known->size() == 1)) {
      std::vector<SymDim> vals;
      for (size_t i = 0; i < len; ++i)
        vals.push_back(symBin(k, (*a.known)[a.known->size() == 1 ? 0 : i],
                              (*b.known)[b.known->size() == 1 ? 0 : i]));
      if (llvm::none_of(vals, [](const SymDim &d) { return d.unknown; })) {
        TensorInfo r;
        r.elem = elem;
        r.dims = dims;
        if (llvm::all_of(vals, [](const SymDim &d) { return d.isConstant(); })) {
          ConstData d{im.staticShape(dims), {}, elem};
          for (const SymDim &v : vals)
            d.values.push_back(static_cast<double>(v.coeff));
          r = im.fromConst(std::move(d));
        } else {
          r.known = vals;
        }
        im.setOutput(n, 0, std::move(r));
        return {};
      }
    }
  }
  // Constants and tables.
  if (a.data && b.data) {
    bool integer = !a.elem.isF32();
    ConstData bd = *b.data;
    if (bd.elem != a.elem)  // Pow's exponent
      bd.elem = a.elem;
    auto r = evalBinary(*a.data, bd, elem,
                        [&](double x, double y) { return applyBin(k, x, y, integer); });
    if (r) {
      im.setOutput(n, 0, makeData(im, std::move(*r), dims));
      return {};
    }
  }
  // Run time. A deferred flatten survives an operand that broadcasts over rows; folded heads
  // survive folded heads of the same rank and an operand that does not span B*H (of lower
  // rank or 1 there: it then broadcasts over both B and H of the value).
  bool keepFlat = false, keepFolded = false;
  std::vector<SymDim> realDims;
  Value va, vb;
  if (a.folded || b.folded) {
    TensorInfo &f = a.folded ? a : b, &o = a.folded ? b : a;
    keepFolded = (o.folded && o.realDims.size() == f.realDims.size()) ||
                 (!o.folded && !o.flat &&
                  (o.dims.size() < f.dims.size() ||
                   (o.dims.size() == f.dims.size() && o.dims[0] == SymDim::constant(1))));
    if (keepFolded) {
      if (!broadcastDims(a.folded ? a.realDims : a.dims, b.folded ? b.realDims : b.dims, realDims))
        return im.fail(n, "shapes do not broadcast");
      va = a.folded ? im.rowValue(a) : im.value(a);
      vb = b.folded ? im.rowValue(b) : im.value(b);
    } else {
      for (auto [t, i] : {std::pair<TensorInfo *, int>{&a, 0}, {&b, 1}})
        if (t->folded && !im.value(*t))
          return im.fail(n, im.foldedInput(n.input(i), *t));
    }
  }
  if (keepFolded) {
  } else if (a.flat && b.flat && a.realDims == b.realDims) {  // OPT's residual on [-1, D] rows
    keepFlat = true;
    realDims = a.realDims;
    va = im.rowValue(a);
    vb = im.rowValue(b);
  } else if ((a.flat && !b.flat && b.dims.size() <= 1) || (b.flat && !a.flat && a.dims.size() <= 1)) {
    keepFlat = true;
    TensorInfo &f = a.flat ? a : b;
    TensorInfo &o = a.flat ? b : a;
    if (!broadcastDims(f.realDims, o.dims, realDims))
      return im.fail(n, "shapes do not broadcast");
    va = a.flat ? im.rowValue(a) : im.value(a);
    vb = b.flat ? im.rowValue(b) : im.value(b);
  } else {
    va = broadcastValue(im, a, {&b});
    vb = broadcastValue(im, b, {&a});
  }
  if (Status s = needValue(im, n, va && vb ? va : Value(), "an operand"); !s.ok())
    return s;
  // Pow with an integer exponent: convert a constant exponent.
  if (k == Bin::Pow && b.elem != a.elem) {
    if (!b.data || b.table)
      return im.fail(n, "a run-time exponent of another element type is not supported");
    ConstData e = *b.data;
    e.elem = a.elem;
    vb = im.constant(e);
  }
  const std::vector<SymDim> &outDims = keepFlat || keepFolded ? realDims : dims;
  auto type = im.typeOf(outDims, isComparison(k) ? a.elem : elem);
  OpBuilder &bb = im.b();
  Location loc = im.loc();
  Value r;
  auto i1Type = im.typeOf(outDims, bb.getI1Type());
  switch (k) {
  case Bin::Add: r = bb.create<tfc_ir::AddOp>(loc, type, va, vb); break;
  case Bin::Sub: r = bb.create<tfc_ir::SubOp>(loc, type, va, vb); break;
  case Bin::Mul: r = bb.create<tfc_ir::MulOp>(loc, type, va, vb); break;
  case Bin::Div: r = bb.create<tfc_ir::DivOp>(loc, type, va, vb); break;
  case Bin::Pow: r = bb.create<tfc_ir::PowOp>(loc, type, va, vb); break;
  case Bin::Max: r = bb.create<tfc_ir::MaxOp>(loc, type, va, vb); break;
  case Bin::Min: r = bb.create<tfc_ir::MinOp>(loc, type, va, vb); break;
  // Comparisons at run time: i1 results, false for any NaN (ONNX).
  case Bin::Equal: r = bb.create<tfc_ir::EqualOp>(loc, i1Type, va, vb); break;
  case Bin::Less: r = bb.create<tfc_ir::LessOp>(loc, i1Type, va, vb); break;
  case Bin::Greater: r = bb.create<tfc_ir::GreaterOp>(loc, i1Type, va, vb); break;
  case Bin::LessOrEqual: r = bb.create<tfc_ir::LessEqualOp>(loc, i1Type, va, vb); break;
  case Bin::GreaterOrEqual: r = bb.create<tfc_ir::GreaterEqualOp>(loc, i1Type, va, vb); break;
  }
  TensorInfo out = im.fromValue(r, outDims);
  if (keepFlat || keepFolded) {
    out.flat = keepFlat;
    out.folded = keepFolded;
    out.realDims = outDims;
    out.dims = dims;
  }
  im.setOutput(n, 0, std::move(out));
  return {};
}

//===----------------------------------------------------------------------===//
// Elementwise unary (and Cast, Not, Identity)
//===----------------------------------------------------------------------===//

enum class Un {
  Sqrt, Erf, Tanh, Relu, Neg, Exp, Gelu, Not, Identity, Cast,
  Abs, Sign, Ceil, Floor, Log, Sin, Cos, Sigmoid, Reciprocal
};

Status importUnary(Importer &im, const onnx::NodeProto &n, Un k) {
  TensorInfo &x = im.input(n, 0);
  OpBuilder &bb = im.b();
  if (k == Un::Identity) {
    im.setOutput(n, 0, x);
    return {};
  }
  Type elem = x.elem;
  if (k == Un::Cast) {
    elem = im.elemFromOnnx(static_cast<int32_t>(im.attrInt(n, "to", 0)));
    if (!elem)
      return im.fail(n, "cast to element type " + std::to_string(im.attrInt(n, "to", 0)) +
                            " is not supported (FLOAT, INT64, INT32, BOOL)");
    if (elem == x.elem) {
      im.setOutput(n, 0, x);
      return {};
    }
  }
  if (k == Un::Not)
    elem = bb.getI1Type();
  // Symbolic integers through an integer cast.
  if (k == Un::Cast && x.known && !x.data && !elem.isF32() && !elem.isInteger(1)) {
    TensorInfo r = x;
    r.elem = elem;
    r.value = nullptr;
    im.setOutput(n, 0, std::move(r));
    return {};
  }
  if (x.data) {
    std::function<double(double)> fn;
    switch (k) {
    case Un::Sqrt: fn = [](double v) { return std::sqrt(v); }; break;
    case Un::Erf: fn = [](double v) { return std::erf(v); }; break;
    case Un::Tanh: fn = [](double v) { return std::tanh(v); }; break;
    case Un::Relu: fn = [](double v) { return v > 0 ? v : 0; }; break;
    case Un::Neg: fn = [](double v) { return -v; }; break;
    case Un::Exp: fn = [](double v) { return std::exp(v); }; break;
    case Un::Not: fn = [](double v) { return v == 0 ? 1.0 : 0.0; }; break;
    case Un::Cast: fn = [](double v) { return v; }; break;
    case Un::Abs: fn = [](double v) { return std::fabs(v); }; break;
    case Un::Sign: fn = [](double v) { return double((v > 0) - (v < 0)); }; break;
    case Un::Ceil: fn = [](double v) { return std::ceil(v); }; break;
    case Un::Floor: fn = [](double v) { return std::floor(v); }; break;
    case Un::Log: fn = [](double v) { return std::log(v); }; break;
    case Un::Sin: fn = [](double v) { return std::sin(v); }; break;
    case Un::Cos: fn = [](double v) { return std::cos(v); }; break;
    case Un::Sigmoid: fn = [](double v) { return 1.0 / (1.0 + std::exp(-v)); }; break;
    case Un::Reciprocal: fn = [](double v) { return 1.0 / v; }; break;
    default: break;
    }
    if (fn) {
      im.setOutput(n, 0, makeData(im, evalUnary(*x.data, elem, fn), x.dims));
      return {};
    }
  }
  bool flat = x.flat && k != Un::Not && k != Un::Cast;
  bool folded = x.folded;  // Not never sees one (not in kTakesFolded)
  Value v = flat || folded ? im.rowValue(x) : im.value(x);
  if (Status s = needValue(im, n, v, "the input"); !s.ok())
    return s;
  const std::vector<SymDim> &dims = flat || folded ? x.realDims : x.dims;
  auto type = im.typeOf(dims, elem);
  Location loc = im.loc();
  Value r;
  switch (k) {
  case Un::Sqrt: r = bb.create<tfc_ir::SqrtOp>(loc, type, v); break;
  case Un::Erf: r = bb.create<tfc_ir::ErfOp>(loc, type, v); break;
  case Un::Tanh: r = bb.create<tfc_ir::TanhOp>(loc, type, v); break;
  case Un::Relu: r = bb.create<tfc_ir::ReluOp>(loc, type, v); break;
  case Un::Neg:  // integers (relative positions): 0 - x
    if (elem.isInteger(1))
      return im.fail(n, "Neg of a bool tensor is not defined");
    r = elem.isF32() ? bb.create<tfc_ir::NegOp>(loc, type, v).getResult()
                     : bb.create<tfc_ir::SubOp>(loc, type, im.constant(ConstData{{}, {0}, elem}), v)
                           .getResult();
    break;
  case Un::Exp: r = bb.create<tfc_ir::ExpOp>(loc, type, v); break;
  case Un::Gelu: {
    std::string approx = im.attrString(n, "approximate", "none");
    if (approx != "none" && approx != "tanh")
      return im.fail(n, "'approximate' value is '" + approx + "', accepted: 'none', 'tanh'");
    r = bb.create<tfc_ir::GeluOp>(loc, type, v,
                                  approx == "tanh" ? tfc_ir::GeluApprox::tanh
                                                   : tfc_ir::GeluApprox::erf);
    break;
  }
  case Un::Not: {
    Value f = im.constant(ConstData{{}, {0}, bb.getI1Type()});
    Value t = im.constant(ConstData{{}, {1}, bb.getI1Type()});
    r = bb.create<tfc_ir::WhereOp>(loc, type, v, f, t);
    break;
  }
  case Un::Cast: r = bb.create<tfc_ir::CastOp>(loc, type, v); break;
  case Un::Identity: break;
  case Un::Log: r = bb.create<tfc_ir::LogOp>(loc, type, v); break;
  case Un::Abs:
  case Un::Sign:  // f32, i32, i64 (relative positions)
    if (elem.isInteger(1))
      return im.fail(n, "a run-time " + n.op_type() + " of a bool tensor is not supported");
    if (k == Un::Abs)
      r = bb.create<tfc_ir::AbsOp>(loc, type, v);
    else
      r = bb.create<tfc_ir::SignOp>(loc, type, v);
    break;
  case Un::Sigmoid:
  case Un::Reciprocal:
    if (!elem.isF32())
      return im.fail(n, n.op_type() + " of a non-float tensor is not supported");
    if (k == Un::Sigmoid) {
      r = bb.create<tfc_ir::SigmoidOp>(loc, type, v);
    } else {
      // 1 / x: the form torch's rsqrt takes, so the RMS-norm matcher sees one shape.
      Value one = im.scalarF32(1.0);
      r = bb.create<tfc_ir::DivOp>(loc, type, one, v);
    }
    break;
  case Un::Ceil:
  case Un::Floor:
  case Un::Sin:
  case Un::Cos:
    if (!elem.isF32())
      return im.fail(n, "a run-time " + n.op_type() + " is supported on float tensors only");
    if (k == Un::Ceil)
      r = bb.create<tfc_ir::CeilOp>(loc, type, v);
    else if (k == Un::Floor)
      r = bb.create<tfc_ir::FloorOp>(loc, type, v);
    else if (k == Un::Sin)
      r = bb.create<tfc_ir::SinOp>(loc, type, v);
    else
      r = bb.create<tfc_ir::CosOp>(loc, type, v);
    break;
  }
  TensorInfo out = im.fromValue(r, dims);
  if (flat || folded) {
    out.flat = flat;
    out.folded = folded;
    out.realDims = dims;
    out.dims = x.dims;
  }
  if (k == Un::Not)
    out.negationOf = std::make_shared<TensorInfo>(x);
  im.setOutput(n, 0, std::move(out));
  return {};
}

//===----------------------------------------------------------------------===//
// MatMul, Gemm
//===----------------------------------------------------------------------===//

Status matmulDims(Importer &im, const onnx::NodeProto &n, const std::vector<SymDim> &a,
                  const std::vector<SymDim> &b, std::vector<SymDim> &out) {
  if (a.size() < 2 || b.size() < 2)
    return im.fail(n, "operands of rank < 2 are not supported");
  if (a.back() != b[b.size() - 2] && a.back().isConstant() && b[b.size() - 2].isConstant())
    return im.fail(n, "contracting dims differ: " + dimsStr(a) + " x " + dimsStr(b));
  std::vector<SymDim> ba(a.begin(), a.end() - 2), bb(b.begin(), b.end() - 2);
  if (!broadcastDims(ba, bb, out))
    return im.fail(n, "batch dims do not broadcast");
  out.push_back(a[a.size() - 2]);
  out.push_back(b.back());
  return {};
}

/// x @ w where `x` may be a deferred flatten and `w` is 2-D.
Status emitMatMul(Importer &im, const onnx::NodeProto &n, TensorInfo &x, TensorInfo &w,
                  TensorInfo &out) {
  // Folded heads: bmm of two folded values or of a folded value and a matrix stays 4-D.
  if (x.folded && ((w.folded && w.realDims.size() == x.realDims.size()) ||
                   (!w.folded && !w.flat && w.dims.size() == 2))) {
    Value vx = im.rowValue(x), vw = w.folded ? im.rowValue(w) : im.value(w);
    if (Status s = needValue(im, n, vw, "an operand"); !s.ok())
      return s;
    std::vector<SymDim> real;
    if (Status s = matmulDims(im, n, x.realDims, w.folded ? w.realDims : w.dims, real); !s.ok())
      return s;
    Value r = im.b().create<tfc_ir::MatMulOp>(im.loc(), im.typeOf(real, x.elem), vx, vw);
    std::vector<SymDim> dims = {real[0] * real[1]};
    dims.insert(dims.end(), real.begin() + 2, real.end());
    out = im.fromValue(r, dims);
    out.folded = true;
    out.realDims = real;
    return {};
  }
  for (auto [t, i] : {std::pair<TensorInfo *, int>{&x, 0}, {&w, 1}})
    if (t->folded && !im.value(*t))
      return im.fail(n, im.foldedInput(n.input(i), *t));
  bool flat = x.flat && w.dims.size() == 2;
  Value vx = flat ? im.rowValue(x) : im.value(x);
  Value vw = im.value(w);
  if (Status s = needValue(im, n, vx && vw ? vx : Value(), "an operand"); !s.ok())
    return s;
  std::vector<SymDim> dims;
  if (Status s = matmulDims(im, n, flat ? x.realDims : x.dims, w.dims, dims); !s.ok())
    return s;
  Value r = im.b().create<tfc_ir::MatMulOp>(im.loc(), im.typeOf(dims, x.elem), vx, vw);
  out = im.fromValue(r, dims);
  if (flat) {
    out.flat = true;
    out.realDims = dims;
    out.dims = {x.dims[0], w.dims.back()};
  }
  return {};
}

/// a @ b of constants or tables at import time (a table's rows and columns stay prefixes:
/// entry (i, j) reads row i of a and column j of b); nullopt when the contraction is not
/// static or the result is too large.
std::optional<ConstData> evalMatMul(const TensorInfo &a, const TensorInfo &b) {
  const ConstData &x = *a.data, &y = *b.data;
  size_t ra = x.shape.size(), rb = y.shape.size();
  if (ra < 2 || rb < 2 || !a.dims.back().isConstant() || x.shape.back() != y.shape[rb - 2] ||
      x.shape.back() != a.dims.back().coeff)
    return std::nullopt;
  std::vector<int64_t> ba(x.shape.begin(), x.shape.end() - 2), bb(y.shape.begin(), y.shape.end() - 2),
      batch;
  if (!broadcastShapes(ba, bb, batch))
    return std::nullopt;
  int64_t m = x.shape[ra - 2], k = x.shape.back(), nn = y.shape.back();
  ConstData r;
  r.elem = x.elem;
  r.shape = batch;
  r.shape.push_back(m);
  r.shape.push_back(nn);
  if (r.numElements() > kMaxFoldElements / std::max<int64_t>(k, 1))
    return std::nullopt;
  // Batch offsets by broadcasting an index tensor of each side's matrices.
  ConstData ia{ba, {}, x.elem}, ib{bb, {}, y.elem};
  for (int64_t i = 0; i < ia.numElements(); ++i)
    ia.values.push_back((double)i);
  for (int64_t i = 0; i < ib.numElements(); ++i)
    ib.values.push_back((double)i);
  auto pa = evalExpand(ia, batch), pb = evalExpand(ib, batch);
  if (!pa || !pb)
    return std::nullopt;
  r.values.assign(r.numElements(), 0.0);
  for (size_t bi = 0; bi < pa->values.size(); ++bi) {
    const double *ma = x.values.data() + (int64_t)pa->values[bi] * m * k;
    const double *mb = y.values.data() + (int64_t)pb->values[bi] * k * nn;
    double *mr = r.values.data() + bi * m * nn;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < nn; ++j) {
        float acc = 0;  // f32 accumulation, as a run-time matmul
        for (int64_t c = 0; c < k; ++c)
          acc += static_cast<float>(ma[i * k + c]) * static_cast<float>(mb[c * nn + j]);
        mr[i * nn + j] = convertTo(acc, r.elem);
      }
  }
  return r;
}

Status importMatMul(Importer &im, const onnx::NodeProto &n) {
  TensorInfo &a = im.input(n, 0), &b = im.input(n, 1);
  if (a.data && b.data && a.elem.isF32() && b.elem.isF32()) {
    // Rotary tables: inv_freq @ positions (both known at import time).
    std::vector<SymDim> dims;
    if (Status s = matmulDims(im, n, a.dims, b.dims, dims); !s.ok())
      return s;
    if (auto r = evalMatMul(a, b)) {
      im.setOutput(n, 0, makeData(im, std::move(*r), dims));
      return {};
    }
  }
  TensorInfo out;
  if (Status s = emitMatMul(im, n, im.input(n, 0), im.input(n, 1), out); !s.ok())
    return s;
  im.setOutput(n, 0, std::move(out));
  return {};
}

Status importGemm(Importer &im, const onnx::NodeProto &n) {
  if (im.attrInt(n, "transA", 0) != 0)
    return im.fail(n, "transA = 1 is not supported");
  TensorInfo &a = im.input(n, 0);
  TensorInfo w = im.input(n, 1);
  if (a.dims.size() != 2 || w.dims.size() != 2)
    return im.fail(n, "A and B must be 2-D");
  if (im.attrInt(n, "transB", 0) != 0) {
    Value vw = im.value(w);
    std::vector<SymDim> td = {w.dims[1], w.dims[0]};
    Value t = im.b().create<tfc_ir::TransposeOp>(im.loc(), im.typeOf(td, w.elem), vw,
                                                 im.b().getDenseI64ArrayAttr({1, 0}));
    w = im.fromValue(t, td);
  }
  TensorInfo y;
  if (Status s = emitMatMul(im, n, a, w, y); !s.ok())
    return s;
  float alpha = im.attrFloat(n, "alpha", 1.0f), beta = im.attrFloat(n, "beta", 1.0f);
  auto rowDims = [](TensorInfo &t) { return t.flat ? t.realDims : t.dims; };
  Value vy = im.rowValue(y);
  if (alpha != 1.0f)
    vy = im.b().create<tfc_ir::MulOp>(im.loc(), vy.getType(), vy, im.scalarF32(alpha));
  if (im.hasInput(n, 2)) {
    TensorInfo &c = im.input(n, 2);
    if (c.dims.size() > 1 && y.flat)
      return im.fail(n, "a 2-D C on a flattened input is not supported");
    Value vc = im.value(c);
    if (beta != 1.0f)
      vc = im.b().create<tfc_ir::MulOp>(im.loc(), vc.getType(), vc, im.scalarF32(beta));
    std::vector<SymDim> dims;
    if (!broadcastDims(rowDims(y), c.dims, dims))
      return im.fail(n, "C does not broadcast to the product");
    vy = im.b().create<tfc_ir::AddOp>(im.loc(), im.typeOf(dims, y.elem), vy, vc);
  }
  TensorInfo out = im.fromValue(vy, rowDims(y));
  out.flat = y.flat;
  out.realDims = y.realDims;
  if (y.flat)
    out.dims = y.dims;
  im.setOutput(n, 0, std::move(out));
  return {};
}

//===----------------------------------------------------------------------===//
// Reductions, Softmax, LayerNormalization
//===----------------------------------------------------------------------===//

Status importReduce(Importer &im, const onnx::NodeProto &n, bool mean) {
  TensorInfo &x = im.input(n, 0);
  int64_t rank = x.dims.size();
  std::optional<std::vector<int64_t>> axes;
  bool axesAsInput = mean ? im.opset() >= 18 : true;
  if (axesAsInput) {
    if (im.hasInput(n, 1)) {
      axes = constInts(im, n, 1);
      if (!axes)
        return im.fail(n, "the axes input must be a constant");
    }
  } else {
    axes = im.attrInts(n, "axes");
  }
  if (!axes || axes->empty()) {
    if (im.attrInt(n, "noop_with_empty_axes", 0) != 0)
      return im.fail(n, "noop_with_empty_axes = 1 is not supported");
    axes = std::vector<int64_t>();
    for (int64_t i = 0; i < rank; ++i)
      axes->push_back(i);
  }
  bool keep = im.attrInt(n, "keepdims", 1) != 0;
  std::vector<SymDim> dims;
  std::vector<int64_t> norm;
  for (int64_t a : *axes) {
    if (!normAxis(a, rank))
      return badAxis(im, n, a, rank);
    norm.push_back(a);
  }
  for (int64_t i = 0; i < rank; ++i) {
    bool reduced = llvm::is_contained(norm, i);
    if (!reduced)
      dims.push_back(x.dims[i]);
    else if (keep)
      dims.push_back(SymDim::constant(1));
  }
  // Keep ONNX's axes as written (the layer-norm matcher accepts -1 and rank-1).
  std::vector<int64_t> written = *axes;
  Value v = im.value(x);
  if (Status s = needValue(im, n, v, "the input"); !s.ok())
    return s;
  auto type = im.typeOf(dims, x.elem);
  auto ax = im.b().getDenseI64ArrayAttr(written);
  Value r = mean ? im.b().create<tfc_ir::ReduceMeanOp>(im.loc(), type, v, ax, im.b().getBoolAttr(keep)).getResult()
                 : im.b().create<tfc_ir::ReduceSumOp>(im.loc(), type, v, ax, im.b().getBoolAttr(keep)).getResult();
  im.setOutput(n, 0, im.fromValue(r, dims));
  return {};
}

Status importSoftmax(Importer &im, const onnx::NodeProto &n) {
  TensorInfo &x = im.input(n, 0);
  int64_t axis = im.attrInt(n, "axis", -1), rank = x.dims.size();
  int64_t checked = axis;
  if (!normAxis(checked, rank))
    return badAxis(im, n, axis, rank);
  if (x.folded && checked > 0) {  // rows of folded heads: the value's axis is one further
    Value r = im.b().create<tfc_ir::SoftmaxOp>(
        im.loc(), im.rowValue(x).getType(), im.rowValue(x),
        im.b().getI64IntegerAttr(checked == rank - 1 ? -1 : checked + 1));
    TensorInfo out = im.fromValue(r, x.dims);
    out.folded = true;
    out.realDims = x.realDims;
    im.setOutput(n, 0, std::move(out));
    return {};
  }
  if (x.folded && !im.value(x))
    return im.fail(n, im.foldedInput(n.input(0), x));
  Value v = im.value(x);
  if (Status s = needValue(im, n, v, "the input"); !s.ok())
    return s;
  // Keep -1 as -1 (the contract's form); other axes as written.
  Value r = im.b().create<tfc_ir::SoftmaxOp>(im.loc(), v.getType(), v,
                                             im.b().getI64IntegerAttr(checked == rank - 1 ? -1 : checked));
  im.setOutput(n, 0, im.fromValue(r, x.dims));
  return {};
}

/// LogSoftmax = log(softmax(x)) (tfc has no reduce-max; exact while the row's range stays
/// within f32's exp range, about 87: a score further below its row's max reads as -inf).
Status importLogSoftmax(Importer &im, const onnx::NodeProto &n) {
  if (Status s = importSoftmax(im, n); !s.ok())
    return s;
  TensorInfo sm = im.output(n, 0);  // same shape as the input, folded heads kept
  Value v = im.rowValue(sm);
  TensorInfo out = im.fromValue(im.b().create<tfc_ir::LogOp>(im.loc(), v.getType(), v), sm.dims);
  out.folded = sm.folded;
  out.realDims = sm.realDims;
  im.setOutput(n, 0, std::move(out));
  return {};
}

Status importLayerNorm(Importer &im, const onnx::NodeProto &n) {
  for (int i = 1; i < n.output_size(); ++i)
    if (!n.output(i).empty())
      return im.fail(n, "the Mean and InvStdDev outputs are not supported");
  TensorInfo &x = im.input(n, 0);
  int64_t axis = im.attrInt(n, "axis", -1), rank = x.dims.size();
  int64_t checked = axis;
  if (!normAxis(checked, rank))
    return badAxis(im, n, axis, rank);
  bool flat = x.flat && checked == rank - 1;  // rows of a deferred flatten (OPT) stay so
  Value v = flat ? im.rowValue(x) : im.value(x), scale = im.value(im.input(n, 1));
  Value bias = im.hasInput(n, 2) ? im.value(im.input(n, 2)) : Value();
  if (Status s = needValue(im, n, v && scale ? v : Value(), "an operand"); !s.ok())
    return s;
  Value r = im.b().create<tfc_ir::LayerNormalizationOp>(
      im.loc(), v.getType(), v, scale, bias, im.b().getI64IntegerAttr(checked == rank - 1 ? -1 : checked),
      im.b().getF32FloatAttr(im.attrFloat(n, "epsilon", 1e-5f)));
  TensorInfo out = im.fromValue(r, flat ? x.realDims : x.dims);
  if (flat) {
    out.flat = true;
    out.realDims = x.realDims;
    out.dims = x.dims;
  }
  im.setOutput(n, 0, std::move(out));
  return {};
}

//===----------------------------------------------------------------------===//
// Shape ops
//===----------------------------------------------------------------------===//

Status importShape(Importer &im, const onnx::NodeProto &n) {
  TensorInfo &x = im.input(n, 0);
  const std::vector<SymDim> &dims = x.dims;
  int64_t rank = dims.size();
  int64_t start = im.attrInt(n, "start", 0), end = im.attrInt(n, "end", rank);
  if (start < 0)
    start += rank;
  if (end < 0)
    end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, start, rank);
  std::vector<SymDim> vals(dims.begin() + start, dims.begin() + end);
  if (llvm::any_of(vals, [](const SymDim &d) { return d.unknown; }))
    return im.fail(n, "the shape " + dimsStr(dims) + " has a dim that is not known symbolically");
  TensorInfo r;
  r.elem = im.b().getI64Type();
  r.dims = {SymDim::constant(static_cast<int64_t>(vals.size()))};
  if (allConstant(vals)) {
    ConstData d{{(int64_t)vals.size()}, {}, r.elem};
    for (const SymDim &v : vals)
      d.values.push_back(static_cast<double>(v.coeff));
    r = im.fromConst(std::move(d));
  } else {
    r.known = vals;
  }
  im.setOutput(n, 0, std::move(r));
  return {};
}

Status importConstant(Importer &im, const onnx::NodeProto &n) {
  if (n.attribute_size() != 1)
    return im.fail(n, "expected exactly one value attribute");
  const onnx::AttributeProto &a = n.attribute(0);
  ConstData d;
  OpBuilder &bb = im.b();
  if (a.name() == "value") {
    if (Status s = im.tensorData(a.t(), d, im.where(n) + " value"); !s.ok())
      return s;
  } else if (a.name() == "value_float") {
    d = {{}, {a.f()}, bb.getF32Type()};
  } else if (a.name() == "value_floats") {
    d = {{(int64_t)a.floats_size()}, {a.floats().begin(), a.floats().end()}, bb.getF32Type()};
  } else if (a.name() == "value_int") {
    d = {{}, {i64ToDouble(a.i())}, bb.getI64Type()};
  } else {
    d = {{(int64_t)a.ints_size()}, {}, bb.getI64Type()};
    for (int64_t v : a.ints())
      d.values.push_back(i64ToDouble(v));
  }
  im.setOutput(n, 0, im.fromConst(std::move(d)));
  return {};
}

Status importTranspose(Importer &im, const onnx::NodeProto &n) {
  TensorInfo &x = im.input(n, 0);
  int64_t rank = x.dims.size();
  std::vector<int64_t> perm;
  if (auto p = im.attrInts(n, "perm"))
    perm = *p;
  else
    for (int64_t i = rank - 1; i >= 0; --i)
      perm.push_back(i);
  if ((int64_t)perm.size() != rank)
    return im.fail(n, "'perm' has " + std::to_string(perm.size()) + " entries, the input rank is " +
                          std::to_string(rank));
  std::vector<SymDim> dims;
  for (int64_t p : perm) {
    if (p < 0 || p >= rank)
      return im.fail(n, "'perm' is not a permutation");
    dims.push_back(x.dims[p]);
  }
  if (x.data) {
    im.setOutput(n, 0, makeData(im, evalTranspose(*x.data, perm), dims));
    return {};
  }
  if (x.folded && perm[0] == 0) {  // the folded [B, H] stay in front
    std::vector<int64_t> real = {0, 1};
    std::vector<SymDim> realDims = {x.realDims[0], x.realDims[1]};
    for (size_t i = 1; i < perm.size(); ++i) {
      real.push_back(perm[i] + 1);
      realDims.push_back(x.realDims[perm[i] + 1]);
    }
    Value r = im.b().create<tfc_ir::TransposeOp>(im.loc(), im.typeOf(realDims, x.elem),
                                                 im.rowValue(x), im.b().getDenseI64ArrayAttr(real));
    TensorInfo out = im.fromValue(r, dims);
    out.folded = true;
    out.realDims = realDims;
    im.setOutput(n, 0, std::move(out));
    return {};
  }
  if (x.folded && !im.value(x))
    return im.fail(n, im.foldedInput(n.input(0), x));
  Value v = im.value(x);
  if (Status s = needValue(im, n, v, "the input"); !s.ok())
    return s;
  Value r = im.b().create<tfc_ir::TransposeOp>(im.loc(), im.typeOf(dims, x.elem), v,
                                               im.b().getDenseI64ArrayAttr(perm));
  im.setOutput(n, 0, im.fromValue(r, dims));
  return {};
}

Status reshapeTo(Importer &im, const onnx::NodeProto &n, TensorInfo &x,
                 const std::vector<SymDim> &out);

Status importReshape(Importer &im, const onnx::NodeProto &n) {
  if (im.attrInt(n, "allowzero", 0) != 0)
    return im.fail(n, "allowzero = 1 is not supported");
  TensorInfo &x = im.input(n, 0);
  TensorInfo &s = im.input(n, 1);
  if (!s.known)
    return im.fail(n, "the target shape is not known at import time");
  std::vector<SymDim> out = *s.known;
  int minus = -1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == SymDim::constant(0)) {
      if (i >= x.dims.size())
        return im.fail(n, "target dim " + std::to_string(i) + " is 0 beyond the input rank");
      out[i] = x.dims[i];
    } else if (out[i] == SymDim::constant(-1)) {
      if (minus >= 0)
        return im.fail(n, "the target shape has more than one -1");
      minus = static_cast<int>(i);
    } else if (out[i].unknown) {
      return im.fail(n, "target dim " + std::to_string(i) + " is not known at import time");
    }
  }
  if (minus >= 0) {
    SymDim rest = SymDim::constant(1);
    for (size_t i = 0; i < out.size(); ++i)
      if ((int)i != minus)
        rest = rest * out[i];
    out[minus] = divide(product(x.dims), rest);
  }
  return reshapeTo(im, n, x, out);
}

/// An index grid (iota) reshaped: it stays one when the reshape only adds or drops 1s.
std::optional<int64_t> reshapedIota(const TensorInfo &x, const std::vector<SymDim> &out) {
  if (!x.iotaAxis || x.gridRank)
    return std::nullopt;
  const SymDim &len = x.dims[*x.iotaAxis];
  std::optional<int64_t> axis;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == SymDim::constant(1))
      continue;
    if (axis || out[i] != len)
      return std::nullopt;
    axis = i;
  }
  for (size_t i = 0; i < x.dims.size(); ++i)
    if ((int64_t)i != *x.iotaAxis && x.dims[i] != SymDim::constant(1))
      return std::nullopt;
  return axis;
}

/// Reshape of `x` to the resolved dims `out` (no 0 or -1 left).
Status reshapeTo(Importer &im, const onnx::NodeProto &n, TensorInfo &x,
                 const std::vector<SymDim> &out) {
  // A reshape to its own shape (the exporters' `view(*shape)` of a computed shape) is none.
  if (out == x.dims && !x.flat) {
    im.setOutput(n, 0, x);
    return {};
  }
  if (auto axis = reshapedIota(x, out)) {
    TensorInfo r;
    if (Status st = emitReshape(im, n, x, out, r); !st.ok())
      return st;
    r.iotaAxis = *axis;
    im.setOutput(n, 0, std::move(r));
    return {};
  }
  // GPT-2's Conv1D: x.view(-1, K) -> a deferred flatten, kept at rank.
  if (out.size() == 2 && x.dims.size() >= 3 && !x.data && !x.flat && out[1] == x.dims.back() &&
      (out[0] == product(x.dims, 0, x.dims.size() - 1) || out[0].unknown)) {
    TensorInfo r = x;
    r.flat = true;
    r.realDims = x.dims;
    r.dims = {product(x.dims, 0, x.dims.size() - 1), x.dims.back()};
    im.setOutput(n, 0, std::move(r));
    return {};
  }
  // nn.MultiheadAttention's out-projection input: [.., S, B*H, dh].view(-1, D) -> a reshape
  // to [.., S, B, D] kept at rank as a deferred flatten.
  if (out.size() == 2 && x.dims.size() >= 3 && !x.data && !x.flat && out[1].isConstant() &&
      out[1].coeff > 0) {
    size_t rank = x.dims.size();
    std::vector<SymDim> real(x.dims.begin(), x.dims.end() - 1);
    real.back() = divide(x.dims[rank - 2] * x.dims[rank - 1], out[1]);
    real.push_back(out[1]);
    if (!real[rank - 2].unknown && (out[0] == product(real, 0, rank - 1) || out[0].unknown) &&
        reshapeAttr(x.dims, real)) {
      TensorInfo mid;
      if (Status st = emitReshape(im, n, x, real, mid); !st.ok())
        return st;
      mid.flat = true;
      mid.realDims = real;
      mid.dims = {product(real, 0, rank - 1), out[1]};
      im.setOutput(n, 0, std::move(mid));
      return {};
    }
  }
  // Heads folded into the batch dim: [B, H, ...] -> [B*H, ...] (BART's bmm attention). The
  // value keeps [B, H] in front (reshaped behind them when needed: BLOOM's ALiBi [B, H, T] ->
  // [B*H, 1, T]) so that the attention stays 4-D; tfc.reshape cannot merge B and H when B is
  // symbolic. Consumers that need [B*H, ...] get it (Importer::value) when it can be built.
  // H = 1 folds nothing: [B, 1, n, ...] -> [B, n, ...] (repeat_kv of a single KV head) is a
  // plain reshape that keeps B.
  if (!x.data && !x.flat && !x.folded && x.dims.size() >= 3 && out.size() >= 3 &&
      x.dims[1].isConstant() && x.dims[1] != SymDim::constant(1) &&
      out[0] == x.dims[0] * x.dims[1]) {
    std::vector<SymDim> mid = {x.dims[0], x.dims[1]};
    mid.insert(mid.end(), out.begin() + 1, out.end());
    if (product(mid) == product(x.dims) && reshapeAttr(x.dims, mid)) {
      TensorInfo r = x;
      if (mid != x.dims)
        if (Status st = emitReshape(im, n, x, mid, r); !st.ok())
          return st;
      if (reshapeAttr(x.dims, out))
        r.foldSource = std::make_shared<TensorInfo>(x);
      r.negationOf = nullptr;
      r.iotaAxis.reset();
      r.folded = true;
      r.realDims = mid;
      r.dims = out;
      im.setOutput(n, 0, std::move(r));
      return {};
    }
  }
  // torch's key padding mask: [B, H, 1, T] -> [B*H, 1, T] moves T; drop the 1 first.
  if (!x.data && !x.flat && !reshapeAttr(x.dims, out) && x.dims.size() == out.size() + 1 &&
      out.size() >= 2 && x.dims.back() == out.back() && x.dims[x.dims.size() - 2] == SymDim::constant(1)) {
    std::vector<SymDim> mid(x.dims.begin(), x.dims.end() - 2);
    mid.push_back(x.dims.back());
    TensorInfo m, r;
    if (reshapeAttr(x.dims, mid) && reshapeAttr(mid, out)) {
      if (Status st = emitReshape(im, n, x, mid, m); !st.ok())
        return st;
      if (Status st = emitReshape(im, n, m, out, r); !st.ok())
        return st;
      im.setOutput(n, 0, std::move(r));
      return {};
    }
  }
  // Folded heads reshaped behind [B*H]: the value's [B, H] stay in front.
  if (x.folded && out != x.realDims && out.size() >= 2 && out[0] == x.dims[0]) {
    std::vector<SymDim> mid = {x.realDims[0], x.realDims[1]};
    mid.insert(mid.end(), out.begin() + 1, out.end());
    if (auto attr = reshapeAttr(x.realDims, mid)) {
      Value r = im.b().create<tfc_ir::ReshapeOp>(im.loc(), im.typeOf(mid, x.elem), im.rowValue(x),
                                                 im.b().getDenseI64ArrayAttr(*attr));
      TensorInfo f = im.fromValue(r, out);
      f.folded = true;
      f.realDims = mid;
      im.setOutput(n, 0, std::move(f));
      return {};
    }
  }
  TensorInfo r;
  if (Status st = emitReshape(im, n, x, out, r); !st.ok())
    return st;
  im.setOutput(n, 0, std::move(r));
  return {};
}

Status importUnsqueezeSqueeze(Importer &im, const onnx::NodeProto &n, bool unsqueeze) {
  TensorInfo &x = im.input(n, 0);
  std::optional<std::vector<int64_t>> axes = constInts(im, n, 1);
  if (im.hasInput(n, 1) && !axes)
    return im.fail(n, "the axes input must be a constant");
  int64_t rank = x.dims.size();
  std::vector<SymDim> out;
  std::vector<int64_t> dataShape;  // a table's extents
  if (unsqueeze) {
    if (!axes)
      return im.fail(n, "the axes input is required");
    int64_t outRank = rank + axes->size();
    std::vector<bool> inserted(outRank, false);
    for (int64_t a : *axes) {
      int64_t c = a;
      if (!normAxis(c, outRank))
        return badAxis(im, n, a, outRank);
      inserted[c] = true;
    }
    size_t j = 0;
    for (int64_t i = 0; i < outRank; ++i) {
      if (!inserted[i] && x.data)
        dataShape.push_back(x.data->shape[j]);
      else
        dataShape.push_back(1);
      out.push_back(inserted[i] ? SymDim::constant(1) : x.dims[j++]);
    }
  } else {
    std::vector<bool> removed(rank, false);
    if (axes) {
      for (int64_t a : *axes) {
        int64_t c = a;
        if (!normAxis(c, rank))
          return badAxis(im, n, a, rank);
        removed[c] = true;
      }
    } else {
      for (int64_t i = 0; i < rank; ++i)
        removed[i] = x.dims[i] == SymDim::constant(1);
    }
    for (int64_t i = 0; i < rank; ++i)
      if (!removed[i]) {
        out.push_back(x.dims[i]);
        if (x.data)
          dataShape.push_back(x.data->shape[i]);
      }
  }
  if (x.data && x.table) {  // a table keeps its data (and extents), only the shape changes
    ConstData d = *x.data;
    d.shape = dataShape;
    im.setOutput(n, 0, makeData(im, std::move(d), out));
    return {};
  }
  TensorInfo r;
  if (Status s = emitReshape(im, n, x, out, r); !s.ok())
    return s;
  im.setOutput(n, 0, std::move(r));
  return {};
}

Status importConcat(Importer &im, const onnx::NodeProto &n) {
  int64_t axis = im.attrInt(n, "axis", 0);
  std::vector<TensorInfo *> in;
  for (int i = 0; i < n.input_size(); ++i)
    if (im.hasInput(n, i))
      in.push_back(&im.input(n, i));
  if (in.empty())
    return im.fail(n, "no inputs");
  int64_t rank = in[0]->dims.size();
  if (!normAxis(axis, rank))
    return badAxis(im, n, im.attrInt(n, "axis", 0), rank);
  std::vector<SymDim> dims = in[0]->dims;
  for (size_t i = 1; i < in.size(); ++i) {
    if ((int64_t)in[i]->dims.size() != rank)
      return im.fail(n, "inputs have different ranks");
    dims[axis] = dims[axis].isConstant() && in[i]->dims[axis].isConstant()
                     ? SymDim::constant(dims[axis].coeff + in[i]->dims[axis].coeff)
                     : SymDim::unknownDim();
  }
  if (rank == 1 && llvm::all_of(in, [](TensorInfo *t) { return t->known.has_value(); })) {
    std::vector<SymDim> vals;
    for (TensorInfo *t : in)
      vals.insert(vals.end(), t->known->begin(), t->known->end());
    TensorInfo r;
    r.elem = in[0]->elem;
    r.dims = {SymDim::constant((int64_t)vals.size())};
    if (allConstant(vals)) {
      ConstData d{{(int64_t)vals.size()}, {}, r.elem};
      for (const SymDim &v : vals)
        d.values.push_back((double)v.coeff);
      r = im.fromConst(std::move(d));
    } else {
      r.known = vals;
    }
    im.setOutput(n, 0, std::move(r));
    return {};
  }
  if (llvm::all_of(in, [](TensorInfo *t) { return t->data && !t->table; })) {
    std::vector<const ConstData *> parts;
    for (TensorInfo *t : in)
      parts.push_back(&*t->data);
    im.setOutput(n, 0, im.fromConst(evalConcat(parts, axis)));
    return {};
  }
  // Tables along a static axis with the same extents elsewhere (rotary cos/sin tables).
  if (dims[axis].isConstant() &&
      llvm::all_of(in, [&](TensorInfo *t) {
        return t->data && t->dims[axis].isConstant() &&
               t->data->shape.size() == in[0]->data->shape.size() &&
               llvm::all_of(llvm::seq<int64_t>(0, rank), [&](int64_t a) {
                 return a == axis || (t->data->shape[a] == in[0]->data->shape[a] &&
                                      t->dims[a] == in[0]->dims[a]);
               });
      })) {
    std::vector<const ConstData *> parts;
    for (TensorInfo *t : in)
      parts.push_back(&*t->data);
    im.setOutput(n, 0, makeData(im, evalConcat(parts, axis), dims));
    return {};
  }
  SmallVector<Value> vals;
  for (TensorInfo *t : in) {
    vals.push_back(im.value(*t));
    if (Status s = needValue(im, n, vals.back(), "an input"); !s.ok())
      return s;
  }
  Value r = im.b().create<tfc_ir::ConcatOp>(im.loc(), im.typeOf(dims, in[0]->elem), vals,
                                            im.b().getI64IntegerAttr(axis));
  im.setOutput(n, 0, im.fromValue(r, dims));
  return {};
}

Status importGather(Importer &im, const onnx::NodeProto &n) {
  TensorInfo &x = im.input(n, 0);
  TensorInfo &idx = im.input(n, 1);
  int64_t rank = x.dims.size();
  int64_t axis = im.attrInt(n, "axis", 0);
  if (!normAxis(axis, rank))
    return badAxis(im, n, im.attrInt(n, "axis", 0), rank);
  std::vector<SymDim> dims(x.dims.begin(), x.dims.begin() + axis);
  dims.insert(dims.end(), idx.dims.begin(), idx.dims.end());
  dims.insert(dims.end(), x.dims.begin() + axis + 1, x.dims.end());
  auto ci = constInts(im, n, 1);
  // Symbolic values (a dim out of a shape).
  if (x.known && !x.data && ci && rank == 1) {
    std::vector<SymDim> vals;
    for (int64_t i : *ci) {
      int64_t len = x.known->size();
      if (i < 0)
        i += len;
      if (i < 0 || i >= len)
        return im.fail(n, "index " + std::to_string(i) + " is out of range");
      vals.push_back((*x.known)[i]);
    }
    TensorInfo r;
    r.elem = x.elem;
    r.dims = dims;
    if (allConstant(vals)) {
      ConstData d{im.staticShape(dims), {}, x.elem};
      for (const SymDim &v : vals)
        d.values.push_back((double)v.coeff);
      r = im.fromConst(std::move(d));
    } else {
      r.known = vals;
    }
    im.setOutput(n, 0, std::move(r));
    return {};
  }
  if (std::optional<Status> s = importRowGather(im, n, axis))  // x[arange(B), j] of a flatten
    return *s;
  if (x.data && !x.table && idx.data && !idx.table) {
    if (auto r = evalGather(*x.data, *idx.data, axis)) {
      im.setOutput(n, 0, im.fromConst(std::move(*r)));
      return {};
    }
  }
  Value vx = im.value(x), vi = im.value(idx);
  if (Status s = needValue(im, n, vx && vi ? vx : Value(), "an operand"); !s.ok())
    return s;
  Value r = im.b().create<tfc_ir::GatherOp>(im.loc(), im.typeOf(dims, x.elem), vx, vi,
                                            im.b().getI64IntegerAttr(axis));
  im.setOutput(n, 0, im.fromValue(r, dims));
  return {};
}

Status importSlice(Importer &im, const onnx::NodeProto &n) {
  TensorInfo &x = im.input(n, 0);
  int64_t rank = x.dims.size();
  TensorInfo &st = im.input(n, 1);
  TensorInfo &en = im.input(n, 2);
  if (!st.known || !en.known)
    return im.fail(n, "starts and ends must be known at import time");
  std::vector<SymDim> starts = *st.known, ends = *en.known;
  std::vector<int64_t> axes, steps;
  if (im.hasInput(n, 3)) {
    auto a = constInts(im, n, 3);
    if (!a)
      return im.fail(n, "the axes input must be a constant");
    axes = *a;
  } else {
    for (size_t i = 0; i < starts.size(); ++i)
      axes.push_back(i);
  }
  if (im.hasInput(n, 4)) {
    auto s = constInts(im, n, 4);
    if (!s)
      return im.fail(n, "the steps input must be a constant");
    steps = *s;
  } else {
    steps.assign(axes.size(), 1);
  }
  if (starts.size() != axes.size() || ends.size() != axes.size() || steps.size() != axes.size())
    return im.fail(n, "starts, ends, axes and steps have different lengths");
  // Per axis: the result size; static start/step when constant.
  std::vector<SymDim> dims = x.dims;
  for (size_t i = 0; i < axes.size(); ++i) {
    int64_t a = axes[i];
    if (!normAxis(a, rank))
      return badAxis(im, n, axes[i], rank);
    axes[i] = a;
    const SymDim &d = x.dims[a];
    const SymDim &s = starts[i], &e = ends[i];
    int64_t step = steps[i];
    if (step == 0)
      return im.fail(n, "a step is 0");
    if (d.isConstant() && s.isConstant() && e.isConstant()) {
      int64_t len = d.coeff;
      auto clampIdx = [&](int64_t v, bool isEnd) {
        if (v < 0)
          v += len;
        return step > 0 ? std::clamp<int64_t>(v, 0, len) : std::clamp<int64_t>(v, -1, len - 1);
        (void)isEnd;
      };
      int64_t cs = clampIdx(s.coeff, false), ce = clampIdx(e.coeff, true);
      int64_t size = step > 0 ? std::max<int64_t>(0, (ce - cs + step - 1) / step)
                              : std::max<int64_t>(0, (cs - ce + (-step) - 1) / (-step));
      dims[a] = SymDim::constant(size);
    } else if (step != 1) {
      return im.fail(n, "a step other than 1 on a symbolic dim is not supported");
    } else if (s.isConstant() && s.coeff >= 0 && e.isConstant() && e.coeff >= kBig / 2) {
      dims[a] = s.coeff == 0 ? d : SymDim::unknownDim();
    } else if (s.isConstant() && s.coeff < 0 && e.isConstant() && e.coeff >= kBig / 2) {
      dims[a] = SymDim::constant(-s.coeff);
    } else if (s == SymDim::constant(0) && !e.unknown && !e.isConstant()) {
      dims[a] = e;
    } else if (s == SymDim::constant(0) && e == d) {
      dims[a] = d;
    } else {
      SymDim diff = e;  // e - s when both share a monomial
      if (!s.unknown && !e.unknown && s.powers == e.powers && !s.isConstant())
        diff = SymDim::constant(e.coeff - s.coeff);
      else
        diff = SymDim::unknownDim();
      dims[a] = diff;
    }
  }
  // Constants (and tables) sliced as prefixes stay at import time.
  if (x.data) {
    std::vector<int64_t> dStarts(rank, 0), dSteps(rank, 1), dSizes = x.data->shape;
    std::vector<bool> stretched = stretchedAxes(x);
    bool ok = true;
    for (size_t i = 0; i < axes.size() && ok; ++i) {
      int64_t a = axes[i];
      const SymDim &s = starts[i];
      if (stretched[a]) {
        // Any part of a broadcast axis is the same one entry, stretched or of size 1.
        ok = !dims[a].unknown && (!dims[a].isConstant() || dims[a].coeff == 1);
      } else if (dims[a].isConstant() && s.isConstant() && (!x.table || x.dims[a].isConstant())) {
        int64_t len = x.data->shape[a];
        int64_t cs = s.coeff < 0 ? s.coeff + len : s.coeff;
        cs = steps[i] > 0 ? std::clamp<int64_t>(cs, 0, len) : std::clamp<int64_t>(cs, -1, len - 1);
        dStarts[a] = cs;
        dSteps[a] = steps[i];
        dSizes[a] = dims[a].coeff;
      } else if (s == SymDim::constant(0) && steps[i] == 1 && !dims[a].unknown) {
        int64_t bound = im.boundOf(dims[a]);
        const SymDim &end = dims[a];
        int64_t rows = x.data->shape[a];
        if (bound > rows) {
          std::string table = "table '" + n.input(0) + "' (" + std::to_string(rows) +
                              (a == 0 ? " rows)" : " on axis " + std::to_string(a) + ")");
          bool single = end.coeff == 1 && end.powers.size() == 1 && end.powers.begin()->second == 1;
          if (single && !im.boundFixed(end.powers.begin()->first)) {
            // The model says otherwise: the importer retries with this bound.
            im.newLimit = {end.powers.begin()->first, {rows, table}};
            return im.fail(n, "the model's " + table + " limits '" +
                                  end.powers.begin()->first + "' to " + std::to_string(rows));
          }
          return im.fail(n, "the slice end " + end.str() + " may reach " + std::to_string(bound) +
                                " at the bounds, beyond the constant's " + std::to_string(rows) +
                                " (" + table + "): ask for a smaller bound" +
                                (single ? " (at most " + std::to_string(rows) + " for '" +
                                              end.powers.begin()->first + "')"
                                        : std::string()));
        }
        dSizes[a] = bound;
      } else {
        ok = false;
      }
    }
    if (ok) {
      im.setOutput(n, 0, makeData(im, evalSlice(*x.data, dStarts, dSteps, dSizes), dims));
      return {};
    }
  }
  if (x.known && !x.data && rank == 1 && axes.size() == 1 && starts[0].isConstant() &&
      ends[0].isConstant() && steps[0] == 1) {
    int64_t len = x.known->size();
    int64_t s = starts[0].coeff < 0 ? starts[0].coeff + len : starts[0].coeff;
    int64_t e = ends[0].coeff < 0 ? ends[0].coeff + len : std::min(ends[0].coeff, len);
    s = std::clamp<int64_t>(s, 0, len);
    e = std::clamp<int64_t>(e, s, len);
    TensorInfo r;
    r.elem = x.elem;
    r.known = std::vector<SymDim>(x.known->begin() + s, x.known->begin() + e);
    r.dims = {SymDim::constant(e - s)};
    im.setOutput(n, 0, std::move(r));
    return {};
  }
  Value v = im.value(x);
  if (Status s = needValue(im, n, v, "the input"); !s.ok())
    return s;
  auto vs = im.materializeKnown(starts), ve = im.materializeKnown(ends);
  if (failed(vs) || failed(ve))
    return im.fail(n, "starts/ends cannot be built at run time");
  bool unit = llvm::all_of(steps, [](int64_t s) { return s == 1; });
  Value r = im.b().create<tfc_ir::SliceOp>(
      im.loc(), im.typeOf(dims, x.elem), v, *vs, *ve, im.b().getDenseI64ArrayAttr(axes),
      unit ? DenseI64ArrayAttr() : im.b().getDenseI64ArrayAttr(steps),
      DenseI64ArrayAttr());
  im.setOutput(n, 0, im.fromValue(r, dims));
  return {};
}

Status importSplit(Importer &im, const onnx::NodeProto &n) {
  TensorInfo &x = im.input(n, 0);
  int64_t rank = x.dims.size();
  int64_t axis = im.attrInt(n, "axis", 0);
  if (!normAxis(axis, rank))
    return badAxis(im, n, im.attrInt(n, "axis", 0), rank);
  if (!x.dims[axis].isConstant())
    return im.fail(n, "splitting a symbolic dim is not supported");
  int64_t len = x.dims[axis].coeff;
  std::vector<int64_t> sizes;
  if (im.hasInput(n, 1)) {
    auto s = constInts(im, n, 1);
    if (!s)
      return im.fail(n, "the split input must be a constant");
    sizes = *s;
  } else {
    int64_t parts = im.attrInt(n, "num_outputs", n.output_size());
    int64_t chunk = (len + parts - 1) / parts;
    for (int64_t i = 0; i < parts; ++i)
      sizes.push_back(std::min(chunk, len - i * chunk));
  }
  if ((int)sizes.size() != n.output_size())
    return im.fail(n, "the split has " + std::to_string(sizes.size()) + " parts for " +
                          std::to_string(n.output_size()) + " outputs");
  Value v = im.value(x);
  if (Status s = needValue(im, n, v, "the input"); !s.ok())
    return s;
  int64_t offset = 0;
  for (int i = 0; i < n.output_size(); ++i) {
    std::vector<SymDim> dims = x.dims;
    dims[axis] = SymDim::constant(sizes[i]);
    Value st = im.constant(ConstData{{1}, {(double)offset}, im.b().getI64Type()});
    Value en = im.constant(ConstData{{1}, {(double)(offset + sizes[i])}, im.b().getI64Type()});
    Value r = im.b().create<tfc_ir::SliceOp>(im.loc(), im.typeOf(dims, x.elem), v, st, en,
                                             im.b().getDenseI64ArrayAttr({axis}),
                                             DenseI64ArrayAttr(), DenseI64ArrayAttr());
    im.setOutput(n, i, im.fromValue(r, dims));
    offset += sizes[i];
  }
  return {};
}

//===----------------------------------------------------------------------===//
// Where, Expand, ConstantOfShape, Range, Trilu
//===----------------------------------------------------------------------===//

Status importWhere(Importer &im, const onnx::NodeProto &n) {
  TensorInfo *cp = &im.input(n, 0), *ap = &im.input(n, 1), *bp = &im.input(n, 2);
  if (cp->negationOf && !(cp->data || ap->data && bp->data)) {  // Where(Not(c), a, b)
    cp = cp->negationOf.get();
    std::swap(ap, bp);
  }
  TensorInfo &c = *cp, &a = *ap, &b = *bp;
  std::vector<SymDim> ab, dims;
  if (!broadcastDims(a.dims, b.dims, ab) || !broadcastDims(c.dims, ab, dims))
    return im.fail(n, "shapes do not broadcast");
  if (c.data && a.data && b.data) {
    if (auto r = evalWhere(*c.data, *a.data, *b.data)) {
      im.setOutput(n, 0, makeData(im, std::move(*r), dims));
      return {};
    }
  }
  // A constant condition over symbolic values (shape arithmetic: the expand guard
  // `Where(Equal(shape, -1), ones, shape)`), or one that selects a whole operand.
  if (c.data && !c.table && a.known && b.known && dims.size() <= 1 && allConstant(dims)) {
    size_t len = dims.empty() ? 1 : static_cast<size_t>(dims[0].coeff);
    auto at = [&](const std::vector<SymDim> &v, size_t i) { return v[v.size() == 1 ? 0 : i]; };
    auto ci = [&](size_t i) { return c.data->values[c.data->values.size() == 1 ? 0 : i] != 0; };
    if ((a.known->size() == len || a.known->size() == 1) &&
        (b.known->size() == len || b.known->size() == 1) &&
        (c.data->values.size() == len || c.data->values.size() == 1)) {
      std::vector<SymDim> vals;
      for (size_t i = 0; i < len; ++i)
        vals.push_back(ci(i) ? at(*a.known, i) : at(*b.known, i));
      TensorInfo r;
      r.elem = a.elem;
      r.dims = dims;
      r.known = std::move(vals);
      im.setOutput(n, 0, std::move(r));
      return {};
    }
  }
  if (c.data && !c.table && !c.data->values.empty()) {
    bool all = llvm::all_of(c.data->values, [](double v) { return v != 0; });
    bool none = llvm::none_of(c.data->values, [](double v) { return v != 0; });
    TensorInfo &pick = all ? a : b;
    if ((all || none) && pick.dims == dims) {
      im.setOutput(n, 0, pick);
      return {};
    }
  }
  Value vc = broadcastValue(im, c, {&a, &b}), va = broadcastValue(im, a, {&c, &b}),
        vb = broadcastValue(im, b, {&c, &a});
  if (Status s = needValue(im, n, vc && va && vb ? vc : Value(), "an operand"); !s.ok())
    return s;
  Value r = im.b().create<tfc_ir::WhereOp>(im.loc(), im.typeOf(dims, a.elem), vc, va, vb);
  im.setOutput(n, 0, im.fromValue(r, dims));
  return {};
}

/// Clip(x, lo, hi) = -max(-max(x, lo), -hi) (absent bounds skipped).
Status importClip(Importer &im, const onnx::NodeProto &n) {
  TensorInfo &x = im.input(n, 0);
  // A constant or table with constant bounds folds (DeBERTa clamps its relative positions,
  // a table of index differences, to the attention span).
  auto bound = [&](int i, double dflt) -> std::optional<double> {
    if (!im.hasInput(n, i))
      return dflt;
    TensorInfo &b = im.input(n, i);
    if (!b.data || b.table || b.data->values.size() != 1)
      return std::nullopt;
    return b.data->values[0];
  };
  auto lo = bound(1, -std::numeric_limits<double>::infinity());
  auto hi = bound(2, std::numeric_limits<double>::infinity());
  if (x.data && lo && hi) {
    double l = *lo, h = *hi;
    im.setOutput(n, 0, makeData(im, evalUnary(*x.data, x.elem, [&](double v) {
                                  return std::min(std::max(v, l), h);
                                }), x.dims));
    return {};
  }
  Value v = im.value(x);
  if (Status s = needValue(im, n, v, "the input"); !s.ok())
    return s;
  if (!x.elem.isF32())
    return im.fail(n, "Clip of a non-float tensor is not supported");
  OpBuilder &bb = im.b();
  Location loc = im.loc();
  if (im.hasInput(n, 1))
    v = bb.create<tfc_ir::MaxOp>(loc, v.getType(), v, im.value(im.input(n, 1)));
  if (im.hasInput(n, 2)) {
    Value negHi = bb.create<tfc_ir::NegOp>(loc, im.value(im.input(n, 2)));
    Value negV = bb.create<tfc_ir::NegOp>(loc, v);
    Value m = bb.create<tfc_ir::MaxOp>(loc, v.getType(), negV, negHi);
    v = bb.create<tfc_ir::NegOp>(loc, m);
  }
  im.setOutput(n, 0, im.fromValue(v, x.dims));
  return {};
}

/// IsNaN(x) = cast<i1>(x - x): NaN - NaN is NaN (nonzero); note inf - inf is NaN too, so an
/// infinity also reads as NaN here (exports apply it to softmax outputs, never infinite).
Status importIsNaN(Importer &im, const onnx::NodeProto &n) {
  TensorInfo &x = im.input(n, 0);
  Value v = im.value(x);
  if (Status s = needValue(im, n, v, "the input"); !s.ok())
    return s;
  Value d = im.b().create<tfc_ir::SubOp>(im.loc(), v.getType(), v, v);
  Value r = im.b().create<tfc_ir::CastOp>(im.loc(), im.typeOf(x.dims, im.b().getI1Type()), d);
  im.setOutput(n, 0, im.fromValue(r, x.dims));
  return {};
}

/// And(a, b) = where(a, b, false); Or(a, b) = where(a, true, b).
Status importLogic(Importer &im, const onnx::NodeProto &n, bool isAnd) {
  TensorInfo &a = im.input(n, 0), &b = im.input(n, 1);
  std::vector<SymDim> dims;
  if (!broadcastDims(a.dims, b.dims, dims))
    return im.fail(n, "shapes do not broadcast");
  if (a.data && b.data) {
    auto r = evalBinary(*a.data, *b.data, a.elem, [isAnd](double x, double y) {
      return isAnd ? (x != 0 && y != 0) : (x != 0 || y != 0);
    });
    if (r) {
      im.setOutput(n, 0, makeData(im, std::move(*r), dims));
      return {};
    }
  }
  Value va = im.value(a), vb = im.value(b);
  if (Status s = needValue(im, n, va && vb ? va : Value(), "an operand"); !s.ok())
    return s;
  Value c = im.constant(ConstData{{}, {isAnd ? 0.0 : 1.0}, a.elem});
  Value r = isAnd ? im.b().create<tfc_ir::WhereOp>(im.loc(), im.typeOf(dims, a.elem), va, vb, c)
                  : im.b().create<tfc_ir::WhereOp>(im.loc(), im.typeOf(dims, a.elem), va, c, vb);
  im.setOutput(n, 0, im.fromValue(r, dims));
  return {};
}

/// Expand of `x` to the symbolic shape `target` (Expand, and Tile over axes of size 1).
Status expandTo(Importer &im, const onnx::NodeProto &n, TensorInfo &x,
                const std::vector<SymDim> &target) {
  std::vector<SymDim> dims;
  if (!broadcastDims(x.dims, target, dims))
    return im.fail(n, "the input " + dimsStr(x.dims) + " does not broadcast to " + dimsStr(target));
  // Broadcasting to its own shape (`expand(b, 1, -1, -1)` after the -1 guard) is a no-op.
  if (dims == x.dims) {
    im.setOutput(n, 0, x);
    return {};
  }
  if (x.data) {
    // Static dims are expanded at import time; a symbolic dim the input broadcasts (a 1 or a
    // new leading axis) keeps one entry, a stretched axis (see stretchedAxes): a [1, 1, M, M]
    // causal table expanded to [batch, 1, T, T] is not copied batch-bound times.
    std::vector<int64_t> shape;
    size_t rank = dims.size(), xrank = x.dims.size();
    for (size_t i = 0; i < rank; ++i) {
      const SymDim &d = dims[i];
      bool fromX = i + xrank >= rank && x.dims[i + xrank - rank] == d;
      shape.push_back(d.isConstant() ? d.coeff : fromX ? x.data->shape[i + xrank - rank] : 1);
    }
    if (auto r = evalExpand(*x.data, shape)) {
      im.setOutput(n, 0, makeData(im, std::move(*r), dims));
      return {};
    }
  }
  Value v = im.value(x);
  auto shape = im.materializeKnown(target);
  if (!v || failed(shape))
    return im.fail(n, "cannot build the expand at run time");
  Value r = im.b().create<tfc_ir::ExpandOp>(im.loc(), im.typeOf(dims, x.elem), v, *shape);
  im.setOutput(n, 0, im.fromValue(r, dims));
  return {};
}

Status importExpand(Importer &im, const onnx::NodeProto &n) {
  TensorInfo &s = im.input(n, 1);
  if (!s.known)
    return im.fail(n, "the target shape is not known at import time");
  return expandTo(im, n, im.input(n, 0), *s.known);
}

Status importConstantOfShape(Importer &im, const onnx::NodeProto &n) {
  TensorInfo &s = im.input(n, 0);
  if (!s.known)
    return im.fail(n, "the shape is not known at import time");
  ConstData fill{{}, {0.0}, im.b().getF32Type()};
  if (const auto *a = im.attr(n, "value")) {
    if (Status st = im.tensorData(a->t(), fill, im.where(n) + " value"); !st.ok())
      return st;
    if (fill.values.size() != 1)
      return im.fail(n, "'value' must hold one element");
  }
  ConstData d;
  d.elem = fill.elem;
  for (const SymDim &dim : *s.known) {
    if (dim.unknown)
      return im.fail(n, "the shape has a dim that is not known at import time");
    d.shape.push_back(dim.isConstant() ? dim.coeff : im.boundOf(dim));
    if (d.shape.back() < 0 || d.shape.back() > kMaxFoldElements)
      return im.fail(n, "the shape has a dim of " + std::to_string(d.shape.back()));
  }
  if (d.numElements() > kMaxFoldElements)
    return im.fail(n, "the constant would have " + std::to_string(d.numElements()) +
                          " elements at the bounds (at most " + std::to_string(kMaxFoldElements) + ")");
  d.values.assign(d.numElements(), fill.values[0]);
  im.setOutput(n, 0, makeData(im, std::move(d), *s.known));
  return {};
}

Status importRange(Importer &im, const onnx::NodeProto &n) {
  TensorInfo &s = im.input(n, 0), &l = im.input(n, 1), &d = im.input(n, 2);
  auto scalarOf = [](TensorInfo &t) -> std::optional<SymDim> {
    if (t.known && t.known->size() == 1)
      return (*t.known)[0];
    if (t.data && !t.table && t.data->values.size() == 1)
      return SymDim::constant(static_cast<int64_t>(t.data->values[0]));
    return std::nullopt;
  };
  auto start = scalarOf(s), limit = scalarOf(l), delta = scalarOf(d);
  if (!start || !limit || !delta || !start->isConstant() || !delta->isConstant() || limit->unknown)
    return im.fail(n, "start, limit and delta must be known at import time (start and delta "
                      "constants)");
  if (s.elem.isF32())
    return im.fail(n, "a float Range is not supported");
  int64_t st = start->coeff, dl = delta->coeff;
  if (dl == 0)
    return im.fail(n, "delta is 0");
  ConstData r{{0}, {}, s.elem};
  std::vector<SymDim> dims;
  if (limit->isConstant()) {
    if (std::abs((double)limit->coeff - (double)st) / std::abs((double)dl) > kMaxFoldElements)
      return im.fail(n, "the range has too many elements");
    for (int64_t v = st; dl > 0 ? v < limit->coeff : v > limit->coeff; v += dl)
      r.values.push_back((double)v);
    r.shape = {(int64_t)r.values.size()};
    dims = {SymDim::constant(r.shape[0])};
  } else {
    if (st != 0 || dl != 1)
      return im.fail(n, "a symbolic limit needs start 0 and delta 1");
    int64_t bound = im.boundOf(*limit);
    if (bound > kMaxFoldElements)
      return im.fail(n, "the range would have " + std::to_string(bound) +
                            " elements at the bounds (at most " +
                            std::to_string(kMaxFoldElements) + ")");
    for (int64_t v = 0; v < bound; ++v)
      r.values.push_back((double)v);
    r.shape = {bound};
    dims = {*limit};
  }
  TensorInfo out = makeData(im, std::move(r), dims);
  if (!limit->isConstant() && !out.known) {
    // Not a small shape value; keep it as a table only.
  }
  im.setOutput(n, 0, std::move(out));
  return {};
}

Status importTrilu(Importer &im, const onnx::NodeProto &n) {
  TensorInfo &x = im.input(n, 0);
  int64_t k = 0;
  if (im.hasInput(n, 1)) {
    auto kv = constInts(im, n, 1);
    if (!kv || kv->size() != 1)
      return im.fail(n, "k must be a constant");
    k = (*kv)[0];
  }
  bool upper = im.attrInt(n, "upper", 1) != 0;
  if (x.dims.size() < 2)
    return im.fail(n, "the input has rank < 2");
  if (!x.data) {
    Value v = im.value(x);
    if (Status s = needValue(im, n, v, "the input"); !s.ok())
      return s;
    OpBuilder &bb = im.b();
    Value r = bb.create<tfc_ir::TriluOp>(im.loc(), im.typeOf(x.dims, x.elem), v,
                                         bb.getBoolAttr(upper), bb.getI64IntegerAttr(k));
    im.setOutput(n, 0, im.fromValue(r, x.dims));
    return {};
  }
  ConstData d = *x.data;
  int64_t rows = d.shape[d.shape.size() - 2], cols = d.shape.back();
  for (int64_t i = 0; i < d.numElements(); ++i) {
    int64_t c = i % cols, r = (i / cols) % rows;
    bool keep = upper ? c - r >= k : c - r <= k;
    if (!keep)
      d.values[i] = 0;
  }
  im.setOutput(n, 0, makeData(im, std::move(d), x.dims));
  return {};
}

//===----------------------------------------------------------------------===//
// CumSum, Tile, ArgMax, Flatten, DequantizeLinear
//===----------------------------------------------------------------------===//

/// CumSum at import time (constants; tables along a static axis or, not reversed, along their
/// prefix); at run time tfc.cumsum (any axis, exclusive, reverse; exact on integers: BLOOM's
/// position ids from the attention mask).
Status importCumSum(Importer &im, const onnx::NodeProto &n) {
  TensorInfo &x = im.input(n, 0);
  auto axisV = constInts(im, n, 1);
  if (!axisV || axisV->size() != 1)
    return im.fail(n, "the axis must be a constant");
  int64_t rank = x.dims.size(), axis = (*axisV)[0];
  if (!normAxis(axis, rank))
    return badAxis(im, n, (*axisV)[0], rank);
  bool exclusive = im.attrInt(n, "exclusive", 0) != 0, reverse = im.attrInt(n, "reverse", 0) != 0;
  if (x.data && (!x.table || x.dims[axis].isConstant() || !reverse)) {
    ConstData d = *x.data;
    int64_t len = d.shape[axis], inner = 1;
    for (int64_t a = axis + 1; a < rank; ++a)
      inner *= d.shape[a];
    int64_t outer = len == 0 ? 0 : d.numElements() / (len * inner);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t k = 0; k < inner; ++k) {
        double acc = 0;
        for (int64_t j = 0; j < len; ++j) {
          int64_t i = reverse ? len - 1 - j : j;
          double &v = d.values[(o * len + i) * inner + k];
          double here = v;
          v = convertTo(exclusive ? acc : acc + here, d.elem);
          acc += here;
        }
      }
    im.setOutput(n, 0, makeData(im, std::move(d), x.dims));
    return {};
  }
  if (x.elem.isInteger(1))
    return im.fail(n, "CumSum of a bool tensor is not defined");
  Value v = im.value(x);
  if (Status s = needValue(im, n, v, "the input"); !s.ok())
    return s;
  OpBuilder &bb = im.b();
  Value r = bb.create<tfc_ir::CumSumOp>(im.loc(), im.typeOf(x.dims, x.elem), v,
                                        bb.getI64IntegerAttr(axis), bb.getBoolAttr(exclusive),
                                        bb.getBoolAttr(reverse));
  im.setOutput(n, 0, im.fromValue(r, x.dims));
  return {};
}

/// Tile: of a constant at import time; over axes of size 1 an Expand (GPT-J's
/// `repeat_interleave` of positions, T5's mask `repeat(batch, seq, 1)`); of a run-time
/// [H, ...] over its leading axis folded heads (DeBERTa's `pos_key.repeat(batch, 1, 1)` is
/// [B*H, ...] with element b*H + h = x[h]: an Expand of x to [B, H, ...]); of a run-time value
/// by static repeats a tfc.tile.
Status importTile(Importer &im, const onnx::NodeProto &n) {
  TensorInfo &x = im.input(n, 0);
  TensorInfo &rt = im.input(n, 1);
  std::optional<std::vector<SymDim>> reps = rt.known;
  if (!reps)
    if (auto c = constInts(im, n, 1)) {
      reps.emplace();
      for (int64_t r : *c)
        reps->push_back(SymDim::constant(r));
    }
  int64_t rank = x.dims.size();
  if (!reps || (int64_t)reps->size() != rank)
    return im.fail(n, "the repeats must be known at import time, with one entry per input axis");
  for (const SymDim &r : *reps) {
    if (r.unknown)
      return im.fail(n, "a repeat is not known at import time");
    if (r.isConstant() && r.coeff < 0)
      return im.fail(n, "a repeat is negative");
    if (r.isConstant() && r.coeff == 0)
      return im.fail(n, "a repeat of 0 is not supported");
  }
  auto isOne = [](const SymDim &d) { return d == SymDim::constant(1); };
  if (llvm::all_of(*reps, isOne)) {
    im.setOutput(n, 0, x);
    return {};
  }
  bool constReps = allConstant(*reps);
  if (x.data && !x.table && constReps) {
    ConstData d = *x.data;
    for (size_t a = 0; a < reps->size(); ++a) {
      std::vector<const ConstData *> parts((*reps)[a].coeff, &d);
      d = evalConcat(parts, a);
      if (d.numElements() > kMaxFoldElements)
        return im.fail(n, "the tiled constant is too large to fold");
    }
    im.setOutput(n, 0, im.fromConst(std::move(d)));
    return {};
  }
  std::vector<SymDim> out;
  bool overOnes = true;
  for (int64_t a = 0; a < rank; ++a) {
    out.push_back(x.dims[a] * (*reps)[a]);
    overOnes = overOnes && (isOne((*reps)[a]) || isOne(x.dims[a]));
  }
  if (overOnes)
    return expandTo(im, n, x, out);
  bool leadingOnly = rank >= 2 && x.dims[0].isConstant() &&
                     std::all_of(reps->begin() + 1, reps->end(), isOne);
  if (leadingOnly && !x.flat && !x.folded) {
    std::vector<SymDim> one = {SymDim::constant(1)}, real = {(*reps)[0]};
    one.insert(one.end(), x.dims.begin(), x.dims.end());
    real.insert(real.end(), x.dims.begin(), x.dims.end());
    TensorInfo u;
    if (Status st = emitReshape(im, n, x, one, u); !st.ok())
      return st;
    auto shape = im.materializeKnown(real);
    if (failed(shape))
      return im.fail(n, "cannot build the repeats " + dimsStr(*reps) + " at run time");
    Value r = im.b().create<tfc_ir::ExpandOp>(im.loc(), im.typeOf(real, x.elem), im.value(u), *shape);
    TensorInfo f = im.fromValue(r, out);
    f.folded = true;
    f.realDims = real;
    im.setOutput(n, 0, std::move(f));
    return {};
  }
  // A run-time value by static repeats: tfc.tile, after an Expand for the symbolic repeats
  // of axes of size 1 (`x.repeat(batch, 1, 2)` of a [1, S, D]).
  std::vector<SymDim> target;
  std::vector<int64_t> staticReps;
  bool tileable = true;
  for (int64_t a = 0; a < rank; ++a) {
    const SymDim &r = (*reps)[a];
    tileable = tileable && (r.isConstant() || isOne(x.dims[a]));
    target.push_back(r.isConstant() ? SymDim::constant(1) : r);
    staticReps.push_back(r.isConstant() ? r.coeff : 1);
  }
  if (tileable) {
    TensorInfo cur = x;
    if (!constReps) {
      if (Status st = expandTo(im, n, x, target); !st.ok())
        return st;
      cur = im.output(n, 0);
    }
    Value v = im.value(cur);
    if (Status st = needValue(im, n, v, "the input"); !st.ok())
      return st;
    Value t = im.b().create<tfc_ir::TileOp>(im.loc(), im.typeOf(out, x.elem), v,
                                            im.b().getDenseI64ArrayAttr(staticReps));
    im.setOutput(n, 0, im.fromValue(t, out));
    return {};
  }
  return im.fail(n, "Tile of " + dimsStr(x.dims) + " by " + dimsStr(*reps) +
                        " is not supported (only constants, static repeats, repeats over axes "
                        "of size 1, and repeats of the leading axis of a run-time value)");
}

/// ArgMax/ArgMin of a constant at import time; of a run-time value tfc.argmax.
Status importArgMax(Importer &im, const onnx::NodeProto &n) {
  TensorInfo &x = im.input(n, 0);
  int64_t rank = x.dims.size(), axis = im.attrInt(n, "axis", 0);
  if (!normAxis(axis, rank))
    return badAxis(im, n, im.attrInt(n, "axis", 0), rank);
  bool keep = im.attrInt(n, "keepdims", 1) != 0, last = im.attrInt(n, "select_last_index", 0) != 0;
  bool isMin = n.op_type() == "ArgMin";
  if (!x.data || x.table) {  // tfc.argmax; ArgMin(x) = ArgMax(-x), ties and NaN alike
    if (x.elem.isInteger(1))
      return im.fail(n, n.op_type() + " of a bool tensor is not supported");
    Value v = im.value(x);
    if (Status s = needValue(im, n, v, "the input"); !s.ok())
      return s;
    OpBuilder &bb = im.b();
    if (isMin)
      v = x.elem.isF32() ? bb.create<tfc_ir::NegOp>(im.loc(), v).getResult()
                         : bb.create<tfc_ir::SubOp>(im.loc(), im.constant(ConstData{{}, {0}, x.elem}),
                                                    v).getResult();
    std::vector<SymDim> dims;
    for (int64_t a = 0; a < rank; ++a)
      if (a != axis || keep)
        dims.push_back(a == axis ? SymDim::constant(1) : x.dims[a]);
    Value r = bb.create<tfc_ir::ArgMaxOp>(im.loc(), im.typeOf(dims, bb.getI64Type()), v,
                                          bb.getI64IntegerAttr(axis), bb.getBoolAttr(keep),
                                          bb.getBoolAttr(last));
    im.setOutput(n, 0, im.fromValue(r, dims));
    return {};
  }
  const ConstData &d = *x.data;
  int64_t len = d.shape[axis], inner = 1;
  for (int64_t a = axis + 1; a < rank; ++a)
    inner *= d.shape[a];
  if (len == 0)
    return im.fail(n, "the reduced axis is empty");
  ConstData r{{}, {}, im.b().getI64Type()};
  for (int64_t a = 0; a < rank; ++a)
    if (a != axis || keep)
      r.shape.push_back(a == axis ? 1 : d.shape[a]);
  int64_t outer = d.numElements() / (len * inner);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0; k < inner; ++k) {
      int64_t best = 0;
      for (int64_t j = 1; j < len; ++j) {
        double v = d.values[(o * len + j) * inner + k], b = d.values[(o * len + best) * inner + k];
        if (isMin ? (v < b || (last && v == b)) : (v > b || (last && v == b)))
          best = j;
      }
      r.values.push_back((double)best);
    }
  im.setOutput(n, 0, im.fromConst(std::move(r)));
  return {};
}

/// Flatten(x, axis) = reshape to [prod(dims[:axis]), prod(dims[axis:])].
Status importFlatten(Importer &im, const onnx::NodeProto &n) {
  TensorInfo &x = im.input(n, 0);
  int64_t rank = x.dims.size(), axis = im.attrInt(n, "axis", 1);
  if (axis < -rank || axis > rank)
    return im.fail(n, "'axis' value is " + std::to_string(axis) + ", accepted range is [" +
                          std::to_string(-rank) + ", " + std::to_string(rank) + "]");
  if (axis < 0)
    axis += rank;
  return reshapeTo(im, n, x, {product(x.dims, 0, axis), product(x.dims, axis)});
}

/// DequantizeLinear of a constant (INT8/UINT8/INT32 weight-only exports): folded at import
/// time to f32, `(x - zero_point) * scale`, per tensor or per `axis`.
Status importDequantize(Importer &im, const onnx::NodeProto &n) {
  TensorInfo &x = im.input(n, 0), &sc = im.input(n, 1);
  if (!x.data || x.table || !sc.data || sc.table)
    return im.fail(n, "only a DequantizeLinear of constants (quantized initializers) is "
                      "supported; run-time quantized activations are not");
  ConstData zero{{}, {0.0}, im.b().getF32Type()};
  if (im.hasInput(n, 2)) {
    TensorInfo &zp = im.input(n, 2);
    if (!zp.data || zp.table)
      return im.fail(n, "the zero point must be a constant");
    zero = *zp.data;
  }
  const ConstData &d = *x.data;
  int64_t rank = d.shape.size();
  int64_t axis = im.attrInt(n, "axis", 1);
  bool perAxis = sc.data->values.size() > 1;
  if (perAxis && !normAxis(axis, rank))
    return badAxis(im, n, im.attrInt(n, "axis", 1), rank);
  int64_t len = perAxis ? d.shape[axis] : 1, inner = 1;
  if (perAxis)
    for (int64_t a = axis + 1; a < rank; ++a)
      inner *= d.shape[a];
  if ((int64_t)sc.data->values.size() != len ||
      (zero.values.size() != 1 && (int64_t)zero.values.size() != len))
    return im.fail(n, "the scale and zero point do not match the quantized axis (" +
                          std::to_string(len) + " entries expected)");
  ConstData r{d.shape, {}, im.b().getF32Type()};
  r.values.resize(d.values.size());
  for (size_t i = 0; i < d.values.size(); ++i) {
    int64_t c = perAxis ? (static_cast<int64_t>(i) / inner) % len : 0;
    double z = zero.values[zero.values.size() == 1 ? 0 : c];
    r.values[i] = static_cast<float>((d.values[i] - z) * static_cast<float>(sc.data->values[c]));
  }
  im.setOutput(n, 0, im.fromWeight(n.output(0), std::move(r)));
  return {};
}

//===----------------------------------------------------------------------===//
// GatherElements, Conv
//===----------------------------------------------------------------------===//

/// GatherElements of data whose heads are folded into its batch dim (see
/// TensorInfo::folded): DeBERTa's disentangled attention gathers its content->position and
/// position->content scores, `Q @ pos_key^T` and `K @ pos_query^T` ([B*H, S, 2k], folded), by
/// relative-position indices [B*H, S, S] that are one table expanded over B*H (the same for
/// every batch and head). The gather then stays 4-D on [B, H, ...] with the table broadcast
/// to [B, H, ...], and its result is folded too. Indices folded the same way are taken as
/// they are. Any other indices (varying over B*H in a way the importer does not know), or a
/// gather along the folded axis itself, are an error.
Status gatherElementsFolded(Importer &im, const onnx::NodeProto &n, TensorInfo &x,
                            TensorInfo &idx, int64_t axis) {
  if (axis == 0)
    return im.fail(n, "gathering along the folded batch*heads axis of input '" + n.input(0) +
                          "' " + dimsStr(x.dims) + " is not supported");
  std::vector<SymDim> real = {x.realDims[0], x.realDims[1]};
  real.insert(real.end(), idx.dims.begin() + 1, idx.dims.end());
  Value vi;
  if (idx.folded && idx.realDims == real) {
    vi = im.rowValue(idx);
  } else if (idx.data && !idx.folded && !idx.flat && idx.dims[0] == x.dims[0] &&
             idx.data->shape.size() == idx.dims.size()) {
    // A table (or constant) the same along its first axis: its first slice as [1, 1, ...],
    // expanded to [B, H, ...].
    const ConstData &d = *idx.data;
    int64_t slice = d.shape[0] > 0 ? d.numElements() / d.shape[0] : 0;
    for (int64_t e = slice; e < d.numElements(); ++e)
      if (d.values[e] != d.values[e % slice])
        return im.fail(n, "the indices '" + n.input(1) + "' of the folded-heads data '" +
                              n.input(0) + "' differ between batch*heads entries");
    ConstData first{{1, 1}, {d.values.begin(), d.values.begin() + slice}, d.elem};
    first.shape.insert(first.shape.end(), d.shape.begin() + 1, d.shape.end());
    std::vector<SymDim> ones = {SymDim::constant(1), SymDim::constant(1)};
    ones.insert(ones.end(), idx.dims.begin() + 1, idx.dims.end());
    TensorInfo t = makeData(im, std::move(first), ones);
    Value v = im.value(t);
    auto shape = im.materializeKnown(real);
    if (!v || failed(shape))
      return im.fail(n, "cannot build the indices '" + n.input(1) + "' as " + dimsStr(real) +
                            " at run time");
    vi = im.b().create<tfc_ir::ExpandOp>(im.loc(), im.typeOf(real, idx.elem), v, *shape);
  } else {
    return im.fail(n, "the data '" + n.input(0) + "' " + dimsStr(x.dims) +
                          " has its heads folded into the batch dim (" + dimsStr(x.realDims) +
                          "); its indices '" + n.input(1) + "' " + dimsStr(idx.dims) +
                          " must be a table the same for every batch*heads entry or be "
                          "folded the same way");
  }
  Value r = im.b().create<tfc_ir::GatherElementsOp>(im.loc(), im.typeOf(real, x.elem),
                                                    im.rowValue(x), vi,
                                                    im.b().getI64IntegerAttr(axis + 1));
  TensorInfo f = im.fromValue(r, idx.dims);
  f.folded = true;
  f.realDims = real;
  im.setOutput(n, 0, std::move(f));
  return {};
}

/// GatherElements: of constants at import time, else tfc.gather_elements (DeBERTa's
/// relative-position scores, GPT-J's rotary table); of folded heads see gatherElementsFolded.
Status importGatherElements(Importer &im, const onnx::NodeProto &n) {
  TensorInfo &x = im.input(n, 0), &idx = im.input(n, 1);
  int64_t rank = x.dims.size(), axis = im.attrInt(n, "axis", 0);
  if (rank < 1 || (int64_t)idx.dims.size() != rank)
    return im.fail(n, "the indices (rank " + std::to_string(idx.dims.size()) +
                          ") must have the data's rank (" + std::to_string(rank) + ", >= 1)");
  if (!normAxis(axis, rank))
    return badAxis(im, n, im.attrInt(n, "axis", 0), rank);
  if (!idx.elem.isInteger(64) && !idx.elem.isInteger(32))
    return im.fail(n, "the indices must be int64 or int32");
  if (x.folded && x.realDims.size() == x.dims.size() + 1)
    return gatherElementsFolded(im, n, x, idx, axis);
  for (int i = 0; i < 2; ++i)  // folded indices of plain data: only as the [B*H, ...] value
    if (TensorInfo &t = im.input(n, i); t.folded && !im.value(t))
      return im.fail(n, im.foldedInput(n.input(i), t));
  if (x.data && !x.table && idx.data && !idx.table) {
    const ConstData &d = *x.data, &i = *idx.data;
    ConstData r{i.shape, {}, d.elem};
    std::vector<int64_t> stride(rank, 1);
    for (int64_t a = rank - 2; a >= 0; --a)
      stride[a] = stride[a + 1] * d.shape[a + 1];
    for (int64_t e = 0; e < i.numElements(); ++e) {
      int64_t rem = e, off = 0;
      auto v = static_cast<int64_t>(i.values[e]);
      int64_t len = d.shape[axis];
      if (v < -len || v >= len)
        return im.fail(n, "index " + std::to_string(v) + " is out of range for axis " +
                              std::to_string(axis) + " of size " + std::to_string(len));
      for (int64_t a = rank - 1; a >= 0; --a) {
        int64_t at = rem % i.shape[a];
        rem /= i.shape[a];
        off += (a == axis ? (v < 0 ? v + len : v) : at) * stride[a];
      }
      r.values.push_back(d.values[off]);
    }
    im.setOutput(n, 0, im.fromConst(std::move(r)));
    return {};
  }
  Value vx = im.value(x), vi = im.value(idx);
  if (Status s = needValue(im, n, vx && vi ? vx : Value(), "an operand"); !s.ok())
    return s;
  Value r = im.b().create<tfc_ir::GatherElementsOp>(im.loc(), im.typeOf(idx.dims, x.elem), vx,
                                                    vi, im.b().getI64IntegerAttr(axis));
  im.setOutput(n, 0, im.fromValue(r, idx.dims));
  return {};
}

/// Conv with one or two spatial dims (ViT's patch embedding, Whisper's front end): tfc.conv
/// with a static weight, explicit pads (auto_pad NOTSET or VALID; SAME_* are resolved when the
/// spatial dims are static).
Status importConv(Importer &im, const onnx::NodeProto &n) {
  TensorInfo &x = im.input(n, 0), &w = im.input(n, 1);
  size_t rank = x.dims.size();
  if (rank != 3 && rank != 4)
    return im.fail(n, "only 1-D and 2-D convolutions are supported (input rank 3 or 4), got "
                      "rank " + std::to_string(rank));
  if (w.dims.size() != rank || !allConstant(w.dims))
    return im.fail(n, "the weight must have the input's rank and a static shape, got " +
                          dimsStr(w.dims));
  if (!x.elem.isF32() || !w.elem.isF32())
    return im.fail(n, "only float convolutions are supported");
  size_t sp = rank - 2;
  auto listAttr = [&](const char *name, int64_t dflt, size_t count,
                      std::vector<int64_t> &out) -> Status {
    auto v = im.attrInts(n, name);
    out = v ? *v : std::vector<int64_t>(count, dflt);
    if (out.size() != count)
      return im.fail(n, "'" + std::string(name) + "' has " + std::to_string(out.size()) +
                            " entries, expected " + std::to_string(count));
    return {};
  };
  std::vector<int64_t> strides, dilations, pads, kernel;
  for (Status st : {listAttr("strides", 1, sp, strides), listAttr("dilations", 1, sp, dilations),
                    listAttr("pads", 0, 2 * sp, pads)})
    if (!st.ok())
      return st;
  for (size_t i = 0; i < sp; ++i)
    kernel.push_back(w.dims[2 + i].coeff);
  if (auto ks = im.attrInts(n, "kernel_shape"); ks && *ks != kernel)
    return im.fail(n, "'kernel_shape' differs from the weight's spatial dims " +
                          dimsStr(w.dims));
  if (llvm::any_of(strides, [](int64_t v) { return v < 1; }) ||
      llvm::any_of(dilations, [](int64_t v) { return v < 1; }) ||
      llvm::any_of(pads, [](int64_t v) { return v < 0; }))
    return im.fail(n, "strides and dilations must be >= 1 and pads >= 0");
  std::string autoPad = im.attrString(n, "auto_pad", "NOTSET");
  if (autoPad == "VALID") {
    pads.assign(2 * sp, 0);
  } else if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    for (size_t i = 0; i < sp; ++i) {
      const SymDim &in = x.dims[2 + i];
      if (!in.isConstant())
        return im.fail(n, "auto_pad " + autoPad + " over a symbolic spatial dim is not supported");
      int64_t out = (in.coeff + strides[i] - 1) / strides[i];
      int64_t total = std::max<int64_t>(
          0, (out - 1) * strides[i] + dilations[i] * (kernel[i] - 1) + 1 - in.coeff);
      int64_t small = total / 2, big = total - small;
      pads[i] = autoPad == "SAME_UPPER" ? small : big;
      pads[sp + i] = autoPad == "SAME_UPPER" ? big : small;
    }
  } else if (autoPad != "NOTSET") {
    return im.fail(n, "'auto_pad' value is '" + autoPad +
                          "', accepted: 'NOTSET', 'VALID', 'SAME_UPPER', 'SAME_LOWER'");
  }
  int64_t group = im.attrInt(n, "group", 1), m = w.dims[0].coeff;
  if (group < 1 || m % group != 0 || x.dims[1] != SymDim::constant(w.dims[1].coeff * group))
    return im.fail(n, "the input " + dimsStr(x.dims) + " and the weight " + dimsStr(w.dims) +
                          " do not go together with group " + std::to_string(group));
  std::vector<SymDim> dims = {x.dims[0], w.dims[0]};
  for (size_t i = 0; i < sp; ++i) {
    const SymDim &in = x.dims[2 + i];
    int64_t span = dilations[i] * (kernel[i] - 1) + 1, padded = pads[i] + pads[sp + i];
    if (in.isConstant()) {
      if (in.coeff + padded < span)
        return im.fail(n, "spatial dim " + std::to_string(i) + " (" + std::to_string(in.coeff) +
                              ") is smaller than the dilated kernel (" + std::to_string(span) +
                              ") after padding");
      dims.push_back(SymDim::constant((in.coeff + padded - span) / strides[i] + 1));
    } else if (strides[i] == 1 && padded == span - 1) {
      dims.push_back(in);  // "same" size
    } else {
      return im.fail(n, "the output size of symbolic spatial dim " + in.str() +
                            " is not a symbolic dim (only stride 1 with 'same' padding keeps it)");
    }
  }
  Value vx = im.value(x), vw = im.value(w), vb;
  if (im.hasInput(n, 2)) {
    TensorInfo &b = im.input(n, 2);
    if (b.dims.size() != 1 || b.dims[0] != w.dims[0])
      return im.fail(n, "the bias must be 1-D with " + w.dims[0].str() + " entries, got " +
                            dimsStr(b.dims));
    vb = im.value(b);
    if (Status s = needValue(im, n, vb, "the bias"); !s.ok())
      return s;
  }
  if (Status s = needValue(im, n, vx && vw ? vx : Value(), "an operand"); !s.ok())
    return s;
  OpBuilder &bb = im.b();
  Value r = bb.create<tfc_ir::ConvOp>(im.loc(), im.typeOf(dims, x.elem), vx, vw, vb,
                                      bb.getDenseI64ArrayAttr(strides),
                                      bb.getDenseI64ArrayAttr(pads),  // begins, then ends
                                      bb.getDenseI64ArrayAttr(dilations),
                                      bb.getI64IntegerAttr(group));
  im.setOutput(n, 0, im.fromValue(r, dims));
  return {};
}

//===----------------------------------------------------------------------===//
// Index grids (iota): the indices torch's slice assignment builds for ScatterND
//===----------------------------------------------------------------------===//

/// After `n` is imported: whether its output is an index grid (see TensorInfo::iotaAxis),
/// from Range(0, n, 1), Cast, Slice from 0, Expand, Unsqueeze/Squeeze of one, and the
/// Concat of one grid per axis on a last axis of size 1. (Reshape: reshapeTo.)
void markIndexGrid(Importer &im, const onnx::NodeProto &n) {
  TensorInfo &out = im.output(n, 0);
  const std::string &op = n.op_type();
  if (op == "Range") {
    auto c = constInts(im, n, 0), d = constInts(im, n, 2);
    if (c && d && c->size() == 1 && d->size() == 1 && (*c)[0] == 0 && (*d)[0] == 1)
      out.iotaAxis = 0;
    return;
  }
  if (op == "Concat") {
    int64_t rank = out.dims.size();
    int64_t axis = im.attrInt(n, "axis", 0);
    if (axis < 0)
      axis += rank;
    if (axis != rank - 1 || n.input_size() != rank - 1)
      return;
    for (int i = 0; i < n.input_size(); ++i) {
      TensorInfo &in = im.input(n, i);
      // All zeros is the grid of an axis of size 1 (Range(0, 1) expanded).
      bool zeros = in.data && out.dims[i] == SymDim::constant(1) &&
                   llvm::all_of(in.data->values, [](double v) { return v == 0; });
      if (!(zeros || (in.iotaAxis && *in.iotaAxis == i)) || in.gridRank ||
          in.dims.size() != out.dims.size() ||
          in.dims.back() != SymDim::constant(1) ||
          !std::equal(in.dims.begin(), in.dims.end() - 1, out.dims.begin()))
        return;
    }
    out.iotaAxis = rank - 1;
    out.gridRank = rank - 1;
    return;
  }
  TensorInfo &x = im.input(n, 0);
  if (!x.iotaAxis || x.gridRank)
    return;
  int64_t axis = *x.iotaAxis;
  if (op == "Cast") {
    if (!out.elem.isF32() && !out.elem.isInteger(1))
      out.iotaAxis = axis;
  } else if (op == "Expand") {
    int64_t shift = out.dims.size() - x.dims.size();
    if (out.dims[axis + shift] == x.dims[axis])
      out.iotaAxis = axis + shift;
  } else if (op == "Slice") {
    auto starts = constInts(im, n, 1);
    auto axes = im.hasInput(n, 3) ? constInts(im, n, 3) : std::optional<std::vector<int64_t>>();
    auto steps = im.hasInput(n, 4) ? constInts(im, n, 4) : std::optional<std::vector<int64_t>>();
    if (!starts || (im.hasInput(n, 3) && !axes) || (im.hasInput(n, 4) && !steps))
      return;
    for (size_t i = 0; i < starts->size(); ++i) {
      int64_t a = axes ? (*axes)[i] : (int64_t)i;
      if (a < 0)
        a += x.dims.size();
      if (a == axis && ((*starts)[i] != 0 || (steps && (*steps)[i] != 1)))
        return;
    }
    out.iotaAxis = axis;
  } else if (op == "Unsqueeze" || op == "Squeeze") {
    // The grid's axis moves past the axes inserted (or removed) before it.
    auto axes = constInts(im, n, 1);
    if (!axes)
      return;
    int64_t outRank = out.dims.size(), inRank = x.dims.size();
    std::vector<bool> marked(op == "Unsqueeze" ? outRank : inRank, false);
    for (int64_t a : *axes) {
      if (a < 0)
        a += marked.size();
      if (a < 0 || a >= (int64_t)marked.size())
        return;
      marked[a] = true;
    }
    int64_t j = 0;  // input axis
    for (int64_t i = 0; i < outRank; ++i) {
      if (op == "Unsqueeze" && marked[i])
        continue;
      while (op == "Squeeze" && j < inRank && marked[j])
        ++j;
      if (j == axis) {
        out.iotaAxis = i;
        return;
      }
      ++j;
    }
  }
}

OpImportFn gridded(OpImportFn fn) {
  return [fn](Importer &im, const onnx::NodeProto &n) -> Status {
    Status s = fn(im, n);
    if (s.ok())
      markIndexGrid(im, n);
    return s;
  };
}

/// ScatterND writing every element of `data` (indices: a full index grid of data's shape,
/// updates of data's shape) is `updates`: torch's `mask[..., :n] = ...` when n covers the axis.
Status importScatterND(Importer &im, const onnx::NodeProto &n) {
  if (im.attrString(n, "reduction", "none") != "none")
    return im.fail(n, "a reduction other than 'none' is not supported");
  TensorInfo &data = im.input(n, 0), &idx = im.input(n, 1), &upd = im.input(n, 2);
  size_t rank = data.dims.size();
  bool full = idx.gridRank == (int64_t)rank && idx.dims.size() == rank + 1 &&
              std::equal(data.dims.begin(), data.dims.end(), idx.dims.begin()) &&
              upd.dims == data.dims && upd.elem == data.elem;
  if (!full)
    return im.fail(n, "only a ScatterND that writes every element of its input (a slice "
                      "assignment over whole axes) is supported; indices " +
                          dimsStr(idx.dims) + ", data " + dimsStr(data.dims));
  im.setOutput(n, 0, upd);
  return {};
}

//===----------------------------------------------------------------------===//
// The table
//===----------------------------------------------------------------------===//

OpImportFn bin(Bin k) {
  return [k](Importer &im, const onnx::NodeProto &n) { return importBinary(im, n, k); };
}
/// Max/Min take 1 or more inputs: one is the identity, two the binary op.
OpImportFn variadic(Bin k) {
  return [k](Importer &im, const onnx::NodeProto &n) -> Status {
    if (n.input_size() == 1) {
      im.setOutput(n, 0, im.input(n, 0));
      return {};
    }
    if (n.input_size() != 2)
      return im.fail(n, std::to_string(n.input_size()) +
                            " inputs are not supported (one or two)");
    return importBinary(im, n, k);
  };
}
OpImportFn un(Un k) {
  return [k](Importer &im, const onnx::NodeProto &n) { return importUnary(im, n, k); };
}

} // namespace

const std::vector<OpEntry> &opTable() {
  static const std::vector<OpEntry> table = {
      // Elementwise binary (one generic importer).
      {"Add", 13, 21, {}, bin(Bin::Add)},
      {"Sub", 13, 21, {}, bin(Bin::Sub)},
      {"Mul", 13, 21, {}, bin(Bin::Mul)},
      {"Div", 13, 21, {}, bin(Bin::Div)},
      {"Pow", 13, 21, {}, bin(Bin::Pow)},
      // Comparisons (folded at import time when possible).
      {"Equal", 13, 21, {}, bin(Bin::Equal)},
      {"Less", 13, 21, {}, bin(Bin::Less)},
      {"Greater", 13, 21, {}, bin(Bin::Greater)},
      {"LessOrEqual", 13, 21, {}, bin(Bin::LessOrEqual)},
      {"GreaterOrEqual", 13, 21, {}, bin(Bin::GreaterOrEqual)},
      // Max/Min of two operands (shape arithmetic folds; f32 at run time).
      {"Max", 13, 21, {}, variadic(Bin::Max)},
      {"Min", 13, 21, {}, variadic(Bin::Min)},
      // Elementwise unary.
      {"Sqrt", 13, 21, {}, un(Un::Sqrt)},
      {"Erf", 13, 21, {}, un(Un::Erf)},
      {"Tanh", 13, 21, {}, un(Un::Tanh)},
      {"Relu", 13, 21, {}, un(Un::Relu)},
      {"Neg", 13, 21, {}, un(Un::Neg)},
      {"Exp", 13, 21, {}, un(Un::Exp)},
      {"Gelu", 20, 21, {"approximate"}, un(Un::Gelu)},
      {"Not", 13, 21, {}, un(Un::Not)},
      {"Identity", 13, 21, {}, un(Un::Identity)},
      {"Abs", 13, 21, {}, un(Un::Abs)},
      {"Sign", 13, 21, {}, un(Un::Sign)},
      {"Ceil", 13, 21, {}, un(Un::Ceil)},
      {"Floor", 13, 21, {}, un(Un::Floor)},
      {"Log", 13, 21, {}, un(Un::Log)},
      {"Sin", 13, 21, {}, un(Un::Sin)},
      {"Cos", 13, 21, {}, un(Un::Cos)},
      // SiLU (x * Sigmoid(x)) and rsqrt (Reciprocal(Sqrt(.))): SwiGLU and RMS norm exports.
      {"Sigmoid", 13, 21, {}, un(Un::Sigmoid)},
      {"Reciprocal", 13, 21, {}, un(Un::Reciprocal)},
      {"Cast", 13, 21, {"to", "saturate"}, gridded(un(Un::Cast))},
      // Linear algebra, reductions, normalization.
      {"MatMul", 13, 21, {}, importMatMul},
      {"Gemm", 13, 21, {"alpha", "beta", "transA", "transB"}, importGemm},
      {"ReduceMean", 13, 21, {"axes", "keepdims", "noop_with_empty_axes"},
       [](Importer &im, const onnx::NodeProto &n) { return importReduce(im, n, true); }},
      {"ReduceSum", 13, 21, {"keepdims", "noop_with_empty_axes"},
       [](Importer &im, const onnx::NodeProto &n) { return importReduce(im, n, false); }},
      {"Softmax", 13, 21, {"axis"}, importSoftmax},
      {"LogSoftmax", 13, 21, {"axis"}, importLogSoftmax},
      {"LayerNormalization", 17, 21, {"axis", "epsilon", "stash_type"}, importLayerNorm},
      // Shapes and data movement.
      {"Constant", 13, 21, {"value", "value_float", "value_floats", "value_int", "value_ints"},
       importConstant},
      {"Shape", 13, 21, {"start", "end"}, importShape},
      {"Transpose", 13, 21, {"perm"}, importTranspose},
      {"Reshape", 13, 21, {"allowzero"}, importReshape},
      {"Unsqueeze", 13, 21, {},
       gridded([](Importer &im, const onnx::NodeProto &n) {
         return importUnsqueezeSqueeze(im, n, true);
       })},
      {"Squeeze", 13, 21, {},
       gridded([](Importer &im, const onnx::NodeProto &n) {
         return importUnsqueezeSqueeze(im, n, false);
       })},
      {"Concat", 13, 21, {"axis"}, gridded(importConcat)},
      {"Gather", 13, 21, {"axis"}, importGather},
      {"Slice", 13, 21, {}, gridded(importSlice)},
      {"Split", 13, 21, {"axis", "num_outputs"}, importSplit},
      {"Where", 13, 21, {}, importWhere},
      {"Clip", 13, 21, {}, importClip},
      {"IsNaN", 13, 21, {}, importIsNaN},
      {"And", 13, 21, {}, [](Importer &im, const onnx::NodeProto &n) { return importLogic(im, n, true); }},
      {"Or", 13, 21, {}, [](Importer &im, const onnx::NodeProto &n) { return importLogic(im, n, false); }},
      {"Expand", 13, 21, {}, gridded(importExpand)},
      {"ConstantOfShape", 13, 21, {"value"}, importConstantOfShape},
      {"Range", 13, 21, {}, gridded(importRange)},
      {"Trilu", 14, 21, {"upper"}, importTrilu},
      {"ScatterND", 13, 21, {"reduction"}, importScatterND},
      {"CumSum", 14, 21, {"exclusive", "reverse"}, importCumSum},
      {"Tile", 13, 21, {}, importTile},
      {"ArgMax", 13, 21, {"axis", "keepdims", "select_last_index"}, importArgMax},
      {"ArgMin", 13, 21, {"axis", "keepdims", "select_last_index"}, importArgMax},
      {"Flatten", 13, 21, {"axis"}, importFlatten},
      {"DequantizeLinear", 13, 21, {"axis"}, importDequantize},
      // Run-time only (issue 11): tfc.gather_elements, tfc.conv.
      {"GatherElements", 13, 21, {"axis"}, importGatherElements},
      {"Conv", 13, 21, {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"},
       importConv},
  };
  return table;
}

std::vector<OpSupport> supportedOps() {
  std::vector<OpSupport> out;
  for (const OpEntry &e : opTable())
    out.push_back({e.op, std::max(e.minOpset, kMinOpset), e.maxOpset});
  return out;
}

} // namespace tfc::onnxfe
