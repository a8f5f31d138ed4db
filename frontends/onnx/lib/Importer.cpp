//===- Importer.cpp - ONNX graph -> @forward, values, materialization -----===//
//
// Walks the graph in node order (ONNX requires a topological order), checks
// each node against the op table (op, opset, attributes) and calls its
// importer. Values known at import time (constants, tables, symbolic shape
// values) get an MLIR value only when a run-time op needs one.
//
//===----------------------------------------------------------------------===//
#include "OnnxInternal.h"

#include "tfc/IR/SymbolNames.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"

#include <google/protobuf/io/coded_stream.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>

using namespace mlir;

namespace tfc::onnxfe {

//===----------------------------------------------------------------------===//
// SymDim
//===----------------------------------------------------------------------===//

std::string SymDim::str() const {
  if (unknown)
    return "?";
  std::string s = powers.empty() || coeff != 1 ? std::to_string(coeff) : "";
  for (const auto &[name, p] : powers) {
    s += (s.empty() ? "" : "*") + name;
    if (p > 1)
      s += "^" + std::to_string(p);
  }
  return s;
}

SymDim operator*(const SymDim &a, const SymDim &b) {
  if (a.unknown || b.unknown)
    return SymDim::unknownDim();
  SymDim r = SymDim::constant(a.coeff * b.coeff);
  if (r.coeff == 0)
    return r;
  r.powers = a.powers;
  for (const auto &[n, p] : b.powers)
    r.powers[n] += p;
  return r;
}

SymDim divide(const SymDim &a, const SymDim &b) {
  if (a.unknown || b.unknown || b.coeff == 0 || a.coeff % b.coeff != 0)
    return SymDim::unknownDim();
  SymDim r = SymDim::constant(a.coeff / b.coeff);
  r.powers = a.powers;
  for (const auto &[n, p] : b.powers) {
    auto it = r.powers.find(n);
    if (it == r.powers.end() || it->second < p)
      return SymDim::unknownDim();
    if ((it->second -= p) == 0)
      r.powers.erase(it);
  }
  return r;
}

std::optional<std::vector<int64_t>> reshapeAttr(const std::vector<SymDim> &in,
                                                const std::vector<SymDim> &out) {
  std::vector<int64_t> shape;
  bool minusOne = false;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i].isConstant())
      shape.push_back(out[i].coeff);
    else if (i < in.size() && in[i] == out[i])
      shape.push_back(0);
    else if (!minusOne) {
      shape.push_back(-1);
      minusOne = true;
    } else
      return std::nullopt;
  }
  return shape;
}


int64_t Importer::symbolBound(const std::string &symbol) const {
  if (auto it = opts.bounds.find(symbol); it != opts.bounds.end())
    return it->second;
  bool batch = mlir::tfc::isBatchSymbol(symbol);
  int64_t bound = batch ? opts.maxBatch : opts.maxSeq;
  if (!boundFixed(symbol))
    if (auto it = limits.find(symbol); it != limits.end())
      bound = std::min(bound, it->second.max);
  return bound;
}

bool Importer::boundFixed(const std::string &symbol) const {
  if (opts.bounds.count(symbol))
    return true;
  return mlir::tfc::isBatchSymbol(symbol) ? !opts.maxBatchFromModel : !opts.maxSeqFromModel;
}

int64_t Importer::boundOf(const SymDim &d) const {
  int64_t v = d.coeff;
  for (const auto &[n, p] : d.powers)
    for (int i = 0; i < p; ++i)
      if (__builtin_mul_overflow(v, symbolBound(n), &v))
        return std::numeric_limits<int64_t>::max();
  return v;
}

double i64ToDouble(int64_t v) {
  constexpr int64_t kLimit = int64_t(1) << 62;  // "to the end" sentinels stay exact and in range
  return static_cast<double>(std::clamp(v, -kLimit, kLimit));
}

int64_t ConstData::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

//===----------------------------------------------------------------------===//
// Importer basics
//===----------------------------------------------------------------------===//

Importer::Importer(MLIRContext &ctx, std::string file, int64_t opset,
                   const ImportOptions &options, std::map<std::string, SymbolLimit> limits,
                   WeightStore &weights)
    : ctx(ctx), builder(&ctx), file(std::move(file)), opsetVersion(opset), opts(options),
      limits(std::move(limits)), weights(weights), currentLoc(UnknownLoc::get(&ctx)) {}

std::string Importer::where(const onnx::NodeProto &node) const {
  return "node '" + node.name() + "' (op '" + node.op_type() + "', opset " +
         std::to_string(opsetVersion) + ")";
}

Status Importer::fail(const onnx::NodeProto &node, const std::string &what) const {
  return {file + ": " + where(node) + ": " + what};
}

std::string Importer::foldedInput(const std::string &name, const TensorInfo &t) const {
  auto str = [](const std::vector<SymDim> &dims) {
    std::string s = "[";
    for (size_t i = 0; i < dims.size(); ++i)
      s += (i ? ", " : "") + dims[i].str();
    return s + "]";
  };
  return "input '" + name + "' is " + str(t.dims) + ", the heads of a " + str(t.realDims) +
         " value folded into its batch dim, which this op cannot take (only Reshape, "
         "Transpose, MatMul, Softmax, GatherElements and elementwise ops keep such a value; "
         "tfc.reshape cannot build it over a symbolic batch)";
}

Type Importer::elemFromOnnx(int32_t dtype) const {
  switch (dtype) {
  case onnx::TensorProto::FLOAT:
    return Float32Type::get(&ctx);
  case onnx::TensorProto::INT64:
    return IntegerType::get(&ctx, 64);
  case onnx::TensorProto::INT32:
    return IntegerType::get(&ctx, 32);
  case onnx::TensorProto::BOOL:
    return IntegerType::get(&ctx, 1);
  default:
    return {};
  }
}

static std::string dtypeName(int32_t dtype) {
  const std::string &n = onnx::TensorProto::DataType_Name(
      static_cast<onnx::TensorProto::DataType>(dtype));
  return n.empty() ? std::to_string(dtype) : n;
}

Status Importer::tensorData(const onnx::TensorProto &t, ConstData &out,
                            const std::string &what) const {
  if (t.data_location() == onnx::TensorProto::EXTERNAL || t.external_data_size() > 0)
    return {file + ": " + what + " uses external data, which is not supported (save the model "
            "with its data embedded: onnx.save(model, path, save_as_external_data=False))"};
  out.elem = elemFromOnnx(t.data_type());
  bool quantized = t.data_type() == onnx::TensorProto::INT8 || t.data_type() == onnx::TensorProto::UINT8;
  if (quantized)  // folded at import time only (DequantizeLinear)
    out.elem = IntegerType::get(&ctx, 8, t.data_type() == onnx::TensorProto::INT8
                                             ? IntegerType::Signless
                                             : IntegerType::Unsigned);
  if (!out.elem)
    return {file + ": " + what + " has element type " + dtypeName(t.data_type()) +
            ", which is not supported (FLOAT, INT64, INT32, BOOL; INT8/UINT8 constants)"};
  out.shape.assign(t.dims().begin(), t.dims().end());
  int64_t n = 1;
  for (int64_t d : out.shape) {
    if (d < 0 || (d > 0 && n > std::numeric_limits<int64_t>::max() / d))
      return {file + ": " + what + " has an invalid shape"};
    n *= d;
  }
  out.values.resize(static_cast<size_t>(n));
  const std::string &raw = t.raw_data();
  int32_t type = t.data_type();
  size_t width = type == onnx::TensorProto::FLOAT || type == onnx::TensorProto::INT32 ? 4
                 : type == onnx::TensorProto::INT64                                  ? 8
                                                                                     : 1;
  if (t.has_raw_data()) {
    if (raw.size() != static_cast<size_t>(n) * width)
      return {file + ": " + what + " has " + std::to_string(raw.size()) + " bytes of data, " +
              "expected " + std::to_string(n * width)};
    for (int64_t i = 0; i < n; ++i) {
      const char *p = raw.data() + i * width;
      if (type == onnx::TensorProto::FLOAT) {
        float f;
        std::memcpy(&f, p, 4);
        out.values[i] = f;
      } else if (type == onnx::TensorProto::INT32) {
        int32_t v;
        std::memcpy(&v, p, 4);
        out.values[i] = v;
      } else if (type == onnx::TensorProto::INT64) {
        int64_t v;
        std::memcpy(&v, p, 8);
        out.values[i] = i64ToDouble(v);
      } else if (type == onnx::TensorProto::INT8) {
        out.values[i] = static_cast<int8_t>(*p);
      } else if (type == onnx::TensorProto::UINT8) {
        out.values[i] = static_cast<uint8_t>(*p);
      } else {
        out.values[i] = *p ? 1 : 0;
      }
    }
    return {};
  }
  int64_t have = type == onnx::TensorProto::FLOAT   ? t.float_data_size()
                 : type == onnx::TensorProto::INT64 ? t.int64_data_size()
                                                    : t.int32_data_size();
  if (have != n)
    return {file + ": " + what + " has " + std::to_string(have) + " values, expected " +
            std::to_string(n)};
  for (int64_t i = 0; i < n; ++i)
    out.values[i] = type == onnx::TensorProto::FLOAT   ? t.float_data(i)
                    : type == onnx::TensorProto::INT64 ? i64ToDouble(t.int64_data(i))
                    : type == onnx::TensorProto::BOOL  ? (t.int32_data(i) ? 1 : 0)
                                                       : t.int32_data(i);
  return {};
}

const onnx::AttributeProto *Importer::attr(const onnx::NodeProto &node, const char *name) const {
  for (const auto &a : node.attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}
int64_t Importer::attrInt(const onnx::NodeProto &node, const char *name, int64_t dflt) const {
  const auto *a = attr(node, name);
  return a ? a->i() : dflt;
}
float Importer::attrFloat(const onnx::NodeProto &node, const char *name, float dflt) const {
  const auto *a = attr(node, name);
  return a ? a->f() : dflt;
}
std::optional<std::vector<int64_t>> Importer::attrInts(const onnx::NodeProto &node,
                                                       const char *name) const {
  const auto *a = attr(node, name);
  if (!a)
    return std::nullopt;
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}
std::string Importer::attrString(const onnx::NodeProto &node, const char *name,
                                 const std::string &dflt) const {
  const auto *a = attr(node, name);
  return a ? a->s() : dflt;
}

//===----------------------------------------------------------------------===//
// Values
//===----------------------------------------------------------------------===//

RankedTensorType Importer::typeOf(const std::vector<SymDim> &dims, Type elem) const {
  return RankedTensorType::get(staticShape(dims), elem);
}

std::vector<int64_t> Importer::staticShape(const std::vector<SymDim> &dims) const {
  std::vector<int64_t> s;
  for (const SymDim &d : dims)
    s.push_back(d.isConstant() ? d.coeff : ShapedType::kDynamic);
  return s;
}

Value Importer::constant(const ConstData &data) {
  auto type = RankedTensorType::get(data.shape, data.elem);
  DenseElementsAttr attr;
  if (data.elem.isF32()) {
    std::vector<float> v(data.values.begin(), data.values.end());
    attr = DenseElementsAttr::get(type, llvm::ArrayRef<float>(v));
  } else if (data.elem.isInteger(1)) {
    std::vector<bool> bits(data.values.size());
    for (size_t i = 0; i < bits.size(); ++i)
      bits[i] = data.values[i] != 0;
    SmallVector<bool> v(bits.begin(), bits.end());
    attr = DenseElementsAttr::get(type, llvm::ArrayRef<bool>(v));
  } else if (data.elem.isInteger(32)) {
    std::vector<int32_t> v(data.values.begin(), data.values.end());
    attr = DenseElementsAttr::get(type, llvm::ArrayRef<int32_t>(v));
  } else {
    std::vector<int64_t> v;
    for (double d : data.values)
      v.push_back(static_cast<int64_t>(d));
    attr = DenseElementsAttr::get(type, llvm::ArrayRef<int64_t>(v));
  }
  return builder.create<mlir::tfc::ConstantOp>(currentLoc, type, attr);
}

Value Importer::scalarF32(double v) {
  return constant(ConstData{{}, {v}, builder.getF32Type()});
}

TensorInfo Importer::fromValue(Value v, std::vector<SymDim> dims) {
  TensorInfo t;
  t.elem = cast<RankedTensorType>(v.getType()).getElementType();
  t.dims = std::move(dims);
  t.value = v;
  return t;
}

TensorInfo Importer::fromConst(ConstData data) {
  TensorInfo t;
  t.elem = data.elem;
  for (int64_t d : data.shape)
    t.dims.push_back(SymDim::constant(d));
  if (!data.elem.isF32() && data.shape.size() <= 1 && data.numElements() <= 64) {
    std::vector<SymDim> known;
    for (double v : data.values)
      known.push_back(SymDim::constant(static_cast<int64_t>(v)));
    t.known = std::move(known);
  }
  t.data = std::move(data);
  return t;
}

FailureOr<Value> Importer::materializeKnown(const std::vector<SymDim> &vals) {
  auto i64 = builder.getI64Type();
  SmallVector<Value> pieces;
  std::vector<double> run;
  auto flush = [&] {
    if (!run.empty())
      pieces.push_back(constant(ConstData{{(int64_t)run.size()}, run, i64}));
    run.clear();
  };
  for (const SymDim &d : vals) {
    if (d.unknown)
      return failure();
    if (d.isConstant()) {
      run.push_back(static_cast<double>(d.coeff));
      continue;
    }
    flush();
    Value piece;
    for (const auto &[name, p] : d.powers) {
      auto it = symbolSources.find(name);
      if (it == symbolSources.end())
        return failure();
      Value shape = builder.create<mlir::tfc::ShapeOp>(currentLoc, it->second.first);
      Value idx = constant(ConstData{{1}, {(double)it->second.second}, i64});
      Value dim = builder.create<mlir::tfc::GatherOp>(currentLoc, shape, idx,
                                                     builder.getI64IntegerAttr(0));
      for (int i = 0; i < p; ++i)
        piece = piece ? builder.create<mlir::tfc::MulOp>(currentLoc, piece, dim).getResult() : dim;
    }
    if (d.coeff != 1)
      piece = builder.create<mlir::tfc::MulOp>(
          currentLoc, piece, constant(ConstData{{1}, {(double)d.coeff}, i64}));
    pieces.push_back(piece);
  }
  flush();
  if (pieces.size() == 1)
    return pieces[0];
  return builder.create<mlir::tfc::ConcatOp>(currentLoc, pieces, builder.getI64IntegerAttr(0))
      .getResult();
}

FailureOr<Value> Importer::materializeTable(TensorInfo &t) {
  const ConstData &data = *t.data;
  bool isStatic = llvm::all_of(t.dims, [](const SymDim &d) { return d.isConstant(); });
  if (isStatic) {
    // Crop the prefix at import time.
    ConstData crop;
    crop.elem = data.elem;
    crop.shape = staticShape(t.dims);
    crop.values.resize(crop.numElements());
    std::vector<int64_t> idx(crop.shape.size(), 0);
    for (int64_t i = 0; i < crop.numElements(); ++i) {
      int64_t rem = i, off = 0, stride = 1;
      for (int64_t a = (int64_t)crop.shape.size() - 1; a >= 0; --a) {
        int64_t c = rem % crop.shape[a];
        rem /= crop.shape[a];
        off += c * stride;
        stride *= data.shape[a];
      }
      crop.values[i] = data.values[off];
    }
    return constant(crop);
  }
  Value table = constant(data);
  // A symbolic axis on which the table holds one entry is broadcast to the dim (an Expand
  // over a symbolic dim keeps its constant input unexpanded): slice it to 1, then expand.
  std::vector<SymDim> sliced = t.dims;
  bool stretched = false;
  for (size_t i = 0; i < sliced.size(); ++i)
    if (!sliced[i].isConstant() && data.shape[i] == 1) {
      sliced[i] = SymDim::constant(1);
      stretched = true;
    }
  std::vector<SymDim> zeros(t.dims.size(), SymDim::constant(0));
  FailureOr<Value> ends = materializeKnown(sliced);
  if (failed(ends))
    return failure();
  Value starts = *materializeKnown(zeros);
  SmallVector<int64_t> axes;
  for (size_t i = 0; i < t.dims.size(); ++i)
    axes.push_back(i);
  Value r = builder
                .create<mlir::tfc::SliceOp>(currentLoc, typeOf(sliced, data.elem), table, starts,
                                            *ends, builder.getDenseI64ArrayAttr(axes),
                                            DenseI64ArrayAttr(), DenseI64ArrayAttr())
                .getResult();
  if (!stretched)
    return r;
  FailureOr<Value> shape = materializeKnown(t.dims);
  if (failed(shape))
    return failure();
  return builder.create<mlir::tfc::ExpandOp>(currentLoc, typeOf(t.dims, data.elem), r, *shape)
      .getResult();
}

Value Importer::rowValue(TensorInfo &t) {
  if (t.value)
    return t.value;
  if (t.data && t.data->elem.isIntOrFloat() && t.data->elem.getIntOrFloatBitWidth() == 8)
    return {};  // quantized data has no run-time form (tfc has no 8-bit tensors)
  if (t.data) {
    if (!t.table) {
      t.value = constant(*t.data);
    } else if (auto v = materializeTable(t); succeeded(v)) {
      t.value = *v;
    }
  } else if (t.known) {
    if (auto v = materializeKnown(*t.known); succeeded(v)) {
      t.value = *v;
      if (t.dims.empty())  // a scalar
        t.value = builder.create<mlir::tfc::ReshapeOp>(currentLoc, t.value,
                                                      builder.getDenseI64ArrayAttr({}));
    }
  }
  return t.value;
}

Value Importer::value(TensorInfo &t) {
  Value v = rowValue(t);
  if (v && t.folded) {
    // [B, H, ...] -> [B*H, ...] when tfc.reshape can express it: from the source the fold
    // was made of, or directly (a static batch), or with the static 1s behind [B, H] dropped
    // first (torch's key padding mask [B, H, 1, T] -> [B, H, T] -> [B*H, 1, T]); otherwise
    // null and the caller reports the folded operand.
    auto reshape = [&](Value x, const std::vector<SymDim> &out,
                       const std::vector<int64_t> &attr) -> Value {
      return builder.create<mlir::tfc::ReshapeOp>(currentLoc, typeOf(out, t.elem), x,
                                                  builder.getDenseI64ArrayAttr(attr));
    };
    std::vector<SymDim> squeezed(t.realDims.begin(), t.realDims.begin() + 2);
    for (size_t i = 2; i < t.realDims.size(); ++i)
      if (t.realDims[i] != SymDim::constant(1))
        squeezed.push_back(t.realDims[i]);
    Value r;
    if (t.foldSource && reshapeAttr(t.foldSource->dims, t.dims)) {
      r = reshape(rowValue(*t.foldSource), t.dims, *reshapeAttr(t.foldSource->dims, t.dims));
    } else if (auto attr = reshapeAttr(t.realDims, t.dims)) {
      r = reshape(v, t.dims, *attr);
    } else if (reshapeAttr(t.realDims, squeezed) && reshapeAttr(squeezed, t.dims)) {
      r = reshape(reshape(v, squeezed, *reshapeAttr(t.realDims, squeezed)), t.dims,
                  *reshapeAttr(squeezed, t.dims));
    } else {
      return {};
    }
    t = fromValue(r, t.dims);
    return r;
  }
  if (!v || !t.flat)
    return v;
  // Apply the deferred flatten: [-1, K].
  Value flat = builder.create<mlir::tfc::ReshapeOp>(
      currentLoc, v, builder.getDenseI64ArrayAttr({-1, t.dims.back().isConstant() ? t.dims.back().coeff : 0}));
  TensorInfo r = fromValue(flat, t.dims);
  t = r;
  return flat;
}

TensorInfo &Importer::input(const onnx::NodeProto &node, int i) {
  return values.at(node.input(i));
}

void Importer::setOutput(const onnx::NodeProto &node, int i, TensorInfo info) {
  // Known values that are all constants are constants: keep both views.
  if (info.known && !info.data && !info.value &&
      llvm::all_of(*info.known, [](const SymDim &d) { return d.isConstant(); }) &&
      llvm::all_of(info.dims, [](const SymDim &d) { return d.isConstant(); })) {
    ConstData d{staticShape(info.dims), {}, info.elem};
    for (const SymDim &v : *info.known)
      d.values.push_back(static_cast<double>(v.coeff));
    if (static_cast<int64_t>(d.values.size()) == d.numElements())
      info.data = std::move(d);
  }
  if (i < node.output_size() && !node.output(i).empty())
    values[node.output(i)] = std::move(info);
}

//===----------------------------------------------------------------------===//
// The graph
//===----------------------------------------------------------------------===//

Status Importer::addInitializer(const onnx::TensorProto &t) {
  std::string what = "initializer '" + t.name() + "'";
  if (t.data_type() == onnx::TensorProto::FLOAT && t.data_location() != onnx::TensorProto::EXTERNAL &&
      t.external_data_size() == 0) {
    int64_t n = 1;
    for (int64_t d : t.dims()) {
      if (d < 0 || (d > 0 && n > (int64_t(1) << 40) / d))
        return {file + ": " + what + " has an invalid shape"};
      n *= d;
    }
    if (n > 16) {
      // A weight: its bytes go to the store, 64-byte aligned.
      std::vector<int64_t> shape(t.dims().begin(), t.dims().end());
      uint64_t size = static_cast<uint64_t>(n) * 4;
      if (t.has_raw_data()) {
        if (t.raw_data().size() != size)
          return {file + ": " + what + " has " + std::to_string(t.raw_data().size()) +
                  " bytes of data, expected " + std::to_string(size)};
        values[t.name()] = storeWeight(t.name(), shape, t.raw_data().data(), size);
      } else {
        if (t.float_data_size() != n)
          return {file + ": " + what + " has " + std::to_string(t.float_data_size()) +
                  " values, expected " + std::to_string(n)};
        values[t.name()] = storeWeight(t.name(), shape, t.float_data().data(), size);
      }
      return {};
    }
  }
  ConstData data;
  if (Status s = tensorData(t, data, what); !s.ok())
    return s;
  values[t.name()] = fromConst(std::move(data));
  return {};
}

TensorInfo Importer::storeWeight(const std::string &name, const std::vector<int64_t> &shape,
                                 const void *data, uint64_t size) {
  auto &bytes = *weights.bytes;
  uint64_t offset = (bytes.size() + 63) / 64 * 64;
  bytes.resize(offset + size);
  std::memcpy(bytes.data() + offset, data, size);
  weights.weights[name] = Weight{shape, offset, size};
  TensorInfo info;
  info.elem = builder.getF32Type();
  for (int64_t d : shape)
    info.dims.push_back(SymDim::constant(d));
  info.value = builder.create<mlir::tfc::WeightOp>(NameLoc::get(builder.getStringAttr(name)),
                                                  typeOf(info.dims, info.elem), name);
  return info;
}

TensorInfo Importer::fromWeight(const std::string &name, ConstData data) {
  if (data.numElements() <= 16 || weights.weights.count(name))
    return fromConst(std::move(data));
  std::vector<float> f(data.values.begin(), data.values.end());
  return storeWeight(name, data.shape, f.data(), f.size() * sizeof(float));
}

Status Importer::importNode(const onnx::NodeProto &node, int index) {
  onnx::NodeProto named;
  const onnx::NodeProto *n = &node;
  if (node.name().empty()) {
    named = node;
    named.set_name(node.op_type() + "_" + std::to_string(index));
    n = &named;
  }
  const onnx::NodeProto &nd = *n;
  if (!nd.domain().empty() && nd.domain() != "ai.onnx")
    return {file + ": " + where(nd) + " is in domain '" + nd.domain() + "', which is not supported"};
  const OpEntry *entry = nullptr;
  for (const OpEntry &e : opTable())
    if (nd.op_type() == e.op)
      entry = &e;
  if (!entry || opsetVersion < entry->minOpset || opsetVersion > entry->maxOpset)
    return {file + ": " + where(nd) + " is not supported" + sequences.reason(&node)};
  static const std::map<std::string, int> kMinInputs = {
      {"Add", 2}, {"Sub", 2}, {"Mul", 2}, {"Div", 2}, {"Pow", 2}, {"Equal", 2}, {"Less", 2},
      {"Greater", 2}, {"LessOrEqual", 2}, {"GreaterOrEqual", 2}, {"And", 2}, {"Or", 2}, {"MatMul", 2}, {"Gemm", 2}, {"Reshape", 2},
      {"Gather", 2}, {"Slice", 3}, {"Where", 3}, {"ScatterND", 3}, {"CumSum", 2}, {"Tile", 2}, {"Expand", 2}, {"Range", 3},
      {"LayerNormalization", 2}, {"DequantizeLinear", 2}, {"Constant", 0}};
  auto minIt = kMinInputs.find(nd.op_type());
  int minInputs = minIt == kMinInputs.end() ? 1 : minIt->second;
  for (int i = 0; i < minInputs; ++i)
    if (i >= nd.input_size() || nd.input(i).empty())
      return fail(nd, "expects at least " + std::to_string(minInputs) + " input(s)");
  if (nd.output_size() < 1 || nd.output(0).empty())
    return fail(nd, "has no output");
  for (const auto &a : nd.attribute())
    if (llvm::none_of(entry->attributes, [&](const char *name) { return a.name() == name; }))
      return fail(nd, "attribute '" + a.name() + "' is not supported");
  for (int i = 0; i < nd.input_size(); ++i)
    if (!nd.input(i).empty() && !values.count(nd.input(i)))
      return fail(nd, "input '" + nd.input(i) + "' is not defined before the node");
  currentLoc = NameLoc::get(builder.getStringAttr(nd.name()));
  currentNode = &nd;
  // Folded heads (see TensorInfo::folded) reach only the ops that keep them; any other op
  // gets the ONNX-shaped value, which tfc.reshape cannot build for a symbolic batch.
  static const std::set<std::string> kTakesFolded = {
      "Reshape", "Transpose", "MatMul", "Softmax", "LogSoftmax", "Shape", "Add", "Sub", "Mul",
      "Div", "Pow", "Max", "Min", "Sqrt", "Erf", "Tanh", "Relu", "Neg", "Exp", "Gelu",
      "Identity", "Cast", "Abs", "Log", "Sigmoid", "GatherElements"};
  if (!kTakesFolded.count(nd.op_type()))
    for (int i = 0; i < nd.input_size(); ++i) {
      if (nd.input(i).empty())
        continue;
      TensorInfo &t = values.at(nd.input(i));
      if (t.folded && !value(t))
        return fail(nd, foldedInput(nd.input(i), t));
    }
  Status s = entry->fn(*this, nd);
  if (s.ok() && std::getenv("TFC_ONNX_TRACE")) {  // debugging aid: the importer's view
    for (const std::string &out : nd.output()) {
      auto it = values.find(out);
      if (it == values.end())
        continue;
      const TensorInfo &t = it->second;
      std::string line = nd.name() + " -> " + out + " [";
      for (const SymDim &d : t.dims)
        line += d.str() + ",";
      line += "]";
      if (t.known) {
        line += " known=(";
        for (const SymDim &d : *t.known)
          line += d.str() + ",";
        line += ")";
      }
      if (t.data)
        line += t.table ? " table" : " const";
      if (t.flat)
        line += " flat";
      if (t.folded)
        line += " folded";
      if (t.iotaAxis)
        line += " iota=" + std::to_string(*t.iotaAxis) +
                (t.gridRank ? " grid=" + std::to_string(t.gridRank) : "");
      llvm::errs() << line << "\n";
    }
  }
  return s;
}

Status Importer::importGraph(const onnx::GraphProto &graph, ModuleOp module) {
  builder.setInsertionPointToEnd(module.getBody());
  std::set<std::string> initNames;
  for (const auto &t : graph.initializer())
    initNames.insert(t.name());

  // Arguments.
  SmallVector<Type> argTypes;
  std::vector<std::vector<SymDim>> argDims;
  std::vector<std::vector<std::string>> argDimNames;
  std::vector<const onnx::ValueInfoProto *> inputs;
  for (const auto &in : graph.input()) {
    if (initNames.count(in.name()))
      continue;
    if (!in.type().has_tensor_type())
      return {file + ": graph input '" + in.name() + "' is not a tensor"};
    const auto &tt = in.type().tensor_type();
    Type elem = elemFromOnnx(tt.elem_type());
    if (!elem)
      return {file + ": graph input '" + in.name() + "' has element type " +
              dtypeName(tt.elem_type()) + ", which is not supported"};
    std::vector<SymDim> dims;
    std::vector<std::string> names;
    for (auto [axis, d] : llvm::enumerate(tt.shape().dim())) {
      if (d.has_dim_value()) {
        dims.push_back(SymDim::constant(d.dim_value()));
        names.emplace_back();
      } else {
        std::string name = d.has_dim_param() && !d.dim_param().empty()
                               ? d.dim_param()
                               : in.name() + "_dim" + std::to_string(axis);
        dims.push_back(SymDim::symbol(name));
        names.push_back(name);
      }
    }
    argTypes.push_back(typeOf(dims, elem));
    argDims.push_back(dims);
    argDimNames.push_back(names);
    inputs.push_back(&in);
  }
  auto func = builder.create<func::FuncOp>(NameLoc::get(builder.getStringAttr(graph.name())),
                                           "forward", builder.getFunctionType(argTypes, {}));
  entry = func.addEntryBlock();
  for (size_t i = 0; i < inputs.size(); ++i) {
    func.setArgAttr(i, "tfc.name", builder.getStringAttr(inputs[i]->name()));
    SmallVector<Attribute> names;
    for (auto [axis, n] : llvm::enumerate(argDimNames[i])) {
      names.push_back(builder.getStringAttr(n));
      if (!n.empty() && !symbolSources.count(n))
        symbolSources[n] = {entry->getArgument(i), (int64_t)axis};
    }
    func.setArgAttr(i, "tfc.dims", builder.getArrayAttr(names));
    values[inputs[i]->name()] = fromValue(entry->getArgument(i), argDims[i]);
  }
  builder.setInsertionPointToEnd(entry);

  for (const auto &t : graph.initializer())
    if (Status s = addInitializer(t); !s.ok())
      return s;
  // Sequences and loops: only torch's repeat_interleave (SequenceLoops.cpp), imported at its
  // ConcatFromSequence; its other nodes are skipped.
  sequences = planSequences(graph, *this);
  for (int i = 0; i < graph.node_size(); ++i) {
    const onnx::NodeProto &node = graph.node(i);
    if (sequences.absorbed.count(&node))
      continue;
    auto loop = sequences.loops.find(&node);
    Status s = loop != sequences.loops.end() ? importRepeatInterleave(loop->second, i)
                                             : importNode(node, i);
    if (!s.ok())
      return s;
    for (const std::string &out : node.output())
      if (!out.empty())
        producers[out] = &node;
  }

  // Results.
  currentLoc = NameLoc::get(builder.getStringAttr("output"));
  SmallVector<Value> results;
  for (const auto &out : graph.output()) {
    auto it = values.find(out.name());
    if (it == values.end())
      return {file + ": graph output '" + out.name() + "' is not produced by any node"};
    Value v = value(it->second);
    if (!v)
      return {file + ": graph output '" + out.name() + "' cannot be materialized"};
    results.push_back(v);
  }
  builder.create<func::ReturnOp>(currentLoc, results);
  func.setFunctionType(builder.getFunctionType(argTypes, ValueRange(results).getTypes()));
  for (auto [i, out] : llvm::enumerate(graph.output()))
    func.setResultAttr(i, "tfc.name", builder.getStringAttr(out.name()));
  return {};
}

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

Status importModel(MLIRContext &context, const onnx::ModelProto &model, const std::string &name,
                   Importer &importer, OwningOpRef<ModuleOp> &out);

Status importOnnxBuffer(MLIRContext &context, const std::string &bytes, const std::string &name,
                        const ImportOptions &options, ImportResult &result) {
  context.loadDialect<mlir::tfc::TfcDialect, func::FuncDialect>();
  onnx::ModelProto model;
  google::protobuf::io::CodedInputStream stream(reinterpret_cast<const uint8_t *>(bytes.data()),
                                                static_cast<int>(bytes.size()));
  stream.SetTotalBytesLimit(std::numeric_limits<int>::max());
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()))
    return {name + ": the file is larger than 2 GiB; models over 2 GiB need external data, "
            "which is not supported"};
  if (!model.ParseFromCodedStream(&stream) || !stream.ConsumedEntireMessage())
    return {name + ": not a valid ONNX model (the protobuf does not parse; truncated or not "
            "an .onnx file?)"};
  if (!model.has_graph() || model.graph().node_size() == 0)
    return {name + ": not a valid ONNX model (it has no graph or the graph has no nodes)"};
  int64_t opset = -1;
  for (const auto &o : model.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx")
      opset = o.version();
  if (opset < 0)
    return {name + ": the model imports no opset of the default ONNX domain"};
  if (opset < kMinOpset || opset > kMaxOpset)
    return {name + ": opset " + std::to_string(opset) + " is not supported (supported: " +
            std::to_string(kMinOpset) + " to " + std::to_string(kMaxOpset) + ")"};

  // A constant table too small for a symbol's bound lowers that bound ("the model says
  // otherwise"): import again with it. Each retry lowers one symbol's bound.
  std::map<std::string, SymbolLimit> limits;
  for (int attempt = 0;; ++attempt) {
    result.weights = std::make_shared<WeightStore>();
    result.opset = opset;
    Importer importer(context, name, opset, options, limits, *result.weights);
    OwningOpRef<ModuleOp> module;
    Status s = importModel(context, model, name, importer, module);
    if (!s.ok() && importer.newLimit && attempt < 16) {
      limits[importer.newLimit->first] = importer.newLimit->second;
      continue;
    }
    if (s.ok()) {
      result.module = std::move(module);
      result.limits = std::move(limits);
    }
    return s;
  }
}

Status importModel(MLIRContext &context, const onnx::ModelProto &model, const std::string &name,
                   Importer &importer, OwningOpRef<ModuleOp> &out) {
  OpBuilder b(&context);
  OwningOpRef<ModuleOp> module = ModuleOp::create(NameLoc::get(b.getStringAttr(name)));
  std::string modelName = model.graph().name();
  if (modelName.empty())
    modelName = std::filesystem::path(name).stem().string();
  (*module)->setAttr("tfc.family", b.getStringAttr("onnx"));
  (*module)->setAttr("tfc.model_name", b.getStringAttr(modelName));
  (*module)->setAttr("tfc.special_tokens", b.getDenseI32ArrayAttr({-1, -1, -1, -1}));

  std::string diagnostics;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
    if (!diagnostics.empty())
      diagnostics += "; ";
    llvm::raw_string_ostream os(diagnostics);
    os << diag.getLocation() << ": " << diag.str();
    return success();
  });
  if (Status s = importer.importGraph(model.graph(), *module); !s.ok())
    return s;
  if (failed(verify(*module)))
    return {name + ": internal error: the imported IR does not verify: " + diagnostics};
  out = std::move(module);
  return {};
}

Status importOnnxFile(MLIRContext &context, const std::string &path, const ImportOptions &options,
                      ImportResult &result) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return {path + ": cannot open the file"};
  std::stringstream ss;
  ss << in.rdbuf();
  return importOnnxBuffer(context, ss.str(), path, options, result);
}

} // namespace tfc::onnxfe
