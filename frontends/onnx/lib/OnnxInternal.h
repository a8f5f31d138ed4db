//===- OnnxInternal.h - the importer's state and helpers --------*- C++ -*-===//
//
// SymDim: a dim or small integer known at import time as `c * s1^e1 * ...`
// over the symbolic dims (ONNX dim params), or unknown.
// ConstData: a constant evaluated at import time (any element type, values
// held as doubles). A "table" is ConstData sized at the bounds of which only
// the prefix `dims` is the value (symbolic sizes: a slice is emitted).
// TensorInfo: what the importer knows of one ONNX value: its logical shape,
// optionally its constant data or its symbolic element values, and the MLIR
// value (created lazily for constants and shape values).
//
//===----------------------------------------------------------------------===//
#ifndef TFC_FRONTENDS_ONNX_ONNXINTERNAL_H
#define TFC_FRONTENDS_ONNX_ONNXINTERNAL_H

#include "tfc/frontends/OnnxFrontend.h"
#include "tfc/IR/TfcDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

#include <onnx/onnx_pb.h>

#include <functional>
#include <memory>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace tfc::onnxfe {

struct SymDim {
  int64_t coeff = 1;
  std::map<std::string, int> powers;  // symbol -> exponent (> 0)
  bool unknown = false;

  static SymDim constant(int64_t c) { SymDim d; d.coeff = c; return d; }
  static SymDim symbol(const std::string &s) { SymDim d; d.powers[s] = 1; return d; }
  static SymDim unknownDim() { SymDim d; d.unknown = true; return d; }
  bool isConstant() const { return !unknown && powers.empty(); }
  bool operator==(const SymDim &o) const {
    return unknown == o.unknown && !unknown && coeff == o.coeff && powers == o.powers;
  }
  bool operator!=(const SymDim &o) const { return !(*this == o); }
  std::string str() const;
};
SymDim operator*(const SymDim &a, const SymDim &b);
/// a / b when it divides exactly, else unknown.
SymDim divide(const SymDim &a, const SymDim &b);

/// The tfc.reshape attribute for `in` -> `out`: 0 for a symbolic dim kept in place, the size
/// for static dims, -1 for (at most) one other; nullopt when tfc.reshape cannot express it.
std::optional<std::vector<int64_t>> reshapeAttr(const std::vector<SymDim> &in,
                                                const std::vector<SymDim> &out);

/// An i64 as a ConstData value (clamped to +-2^62 so sentinels such as INT64_MAX survive).
double i64ToDouble(int64_t v);

struct ConstData {
  std::vector<int64_t> shape;
  std::vector<double> values;  // row-major
  mlir::Type elem;             // f32, i64, i32 or i1; i8/ui8 for quantized initializers
                               // (folded at import time, never materialized)
  int64_t numElements() const;
};

struct TensorInfo {
  mlir::Type elem;
  std::vector<SymDim> dims;             // the logical (ONNX) shape
  std::optional<ConstData> data;        // a constant, or a table (see `table`)
  bool table = false;                   // `data` is sized at the bounds; the value is its
                                        // prefix `dims`
  std::optional<std::vector<SymDim>> known;  // element values of a small integer tensor
  mlir::Value value;                    // null until needed (constants, shape values)
  // Deferred flatten: the ONNX value is `[prod(dims of value)[:-1], K]` but the MLIR
  // value keeps its rank (GPT-2's Conv1D `view(-1, K)`); row-wise ops keep it so.
  bool flat = false;
  std::vector<SymDim> realDims;         // the MLIR value's dims when `flat` or `folded`
  // Heads folded into the batch dim: the ONNX value is `[B*H, d2, ...]` but the MLIR value
  // keeps `realDims` = [B, H, d2, ...] (BART's `view(bsz * heads, -1, dh)` before bmm), so the
  // attention stays 4-D; transposes, matmuls, softmax and elementwise ops keep it so, and a
  // reshape back to [B, H, ...] undoes it.
  bool folded = false;
  // A folded value whose plain [B*H, ...] form is one reshape of this source (used when a
  // consumer needs the ONNX-shaped value).
  std::shared_ptr<TensorInfo> foldSource;
  // A run-time Not: its input (Where(Not(c), a, b) is imported as Where(c, b, a), the
  // masked_fill form the attention matcher reads).
  std::shared_ptr<TensorInfo> negationOf;
  // An index grid: element (i0, ..., ir-1) is i_iotaAxis (Range(0, n) reshaped, unsqueezed,
  // sliced from 0 or expanded); `gridRank` > 0: the last axis (of size gridRank) holds the full
  // index (i0, ..., i_gridRank-1) instead: the indices of a ScatterND that writes every
  // element (torch's slice assignment `x[..., :n] = y` over all of x).
  std::optional<int64_t> iotaAxis;
  int64_t gridRank = 0;
};

class Importer;

/// torch's export of repeat_interleave (SplitToSequence -> Loop -> ConcatFromSequence) as
/// planSequences found it in the graph (SequenceLoops.cpp); the values are checked at import.
struct RepeatInterleaveLoop {
  const onnx::NodeProto *splitX = nullptr;  // SplitToSequence of the input into slices
  const onnx::NodeProto *splitR = nullptr;  // SplitToSequence of the repeats
  const onnx::NodeProto *empty = nullptr;   // SequenceEmpty, the loop's initial sequence
  const onnx::NodeProto *loop = nullptr;
  const onnx::NodeProto *concat = nullptr;  // ConcatFromSequence, the result
  int64_t concatAxis = 0;
  std::string tripCount, cond;              // the Loop's inputs (cond may be "")
  std::string condOut;                      // a constant the body's condition is cast from
                                            // ("": the body passes its condition on)
  // Names of constants (of the body, else of the graph) the body reads.
  std::string unsqueezeAxes, reshapeShape, minusOne;
  std::vector<std::string> targetHead, targetTail;  // the expand target around the repeat
  bool guarded = false;                     // torch's -1 -> 1 Where guard on the target
  std::map<std::string, ConstData> bodyConstants;
};

/// The sequence and Loop nodes of a graph: the repeat_interleave groups (keyed by their
/// ConcatFromSequence, the other nodes absorbed), and why each other one is not imported.
struct SequencePlan {
  std::map<const onnx::NodeProto *, RepeatInterleaveLoop> loops;
  std::set<const onnx::NodeProto *> absorbed;
  std::map<const onnx::NodeProto *, std::string> rejected;
  /// " (why ...)" for a rejected node, else "".
  std::string reason(const onnx::NodeProto *node) const;
};
SequencePlan planSequences(const onnx::GraphProto &graph, Importer &im);

/// The importer of one op (family).
using OpImportFn = std::function<Status(Importer &, const onnx::NodeProto &)>;

struct OpEntry {
  const char *op;
  int minOpset, maxOpset;
  std::vector<const char *> attributes;  // accepted attribute names
  OpImportFn fn;
};

/// The op table (OpTable.cpp).
const std::vector<OpEntry> &opTable();

/// Gather node `n` on `axis` as a per-row gather when it is torch's `x[arange(B), j]` of a
/// flattened [B*S, D] value (RowGather.cpp); nullopt when it is not (the caller goes on).
std::optional<Status> importRowGather(Importer &im, const onnx::NodeProto &n, int64_t axis);

class Importer {
public:
  /// `limits`: the bounds constant tables set on earlier attempts (see ImportResult).
  Importer(mlir::MLIRContext &ctx, std::string file, int64_t opset, const ImportOptions &options,
           std::map<std::string, SymbolLimit> limits, WeightStore &weights);

  Status importGraph(const onnx::GraphProto &graph, mlir::ModuleOp module);

  // --- used by the op importers ---------------------------------------------
  mlir::OpBuilder &b() { return builder; }
  const ImportOptions &options() const { return opts; }
  /// The bound of `symbol`: its entry in options().bounds, else maxBatch (batch symbols) or
  /// maxSeq, lowered to a table's limit found on an earlier attempt unless the user fixed it.
  int64_t symbolBound(const std::string &symbol) const;
  /// Whether the bound of `symbol` was given (and may not be lowered by a table).
  bool boundFixed(const std::string &symbol) const;
  /// The value with every symbol at its bound (saturated at INT64_MAX).
  int64_t boundOf(const SymDim &d) const;
  int64_t opset() const { return opsetVersion; }
  mlir::Location loc() const { return currentLoc; }
  /// "node 'X' (op 'Y', opset N)" for messages.
  std::string where(const onnx::NodeProto &node) const;
  Status fail(const onnx::NodeProto &node, const std::string &what) const;
  /// Why the folded-heads value `name` (see TensorInfo::folded) cannot be taken here.
  std::string foldedInput(const std::string &name, const TensorInfo &t) const;

  bool hasInput(const onnx::NodeProto &node, int i) const {
    return i < node.input_size() && !node.input(i).empty();
  }
  TensorInfo &input(const onnx::NodeProto &node, int i);
  void setOutput(const onnx::NodeProto &node, int i, TensorInfo info);
  /// Output `i` of `node` once set.
  TensorInfo &output(const onnx::NodeProto &node, int i) { return values.at(node.output(i)); }
  /// What the importer knows of the value `name`, or null when it is not defined (yet).
  TensorInfo *find(const std::string &name) {
    auto it = values.find(name);
    return it == values.end() ? nullptr : &it->second;
  }
  /// The node imported so far that produces `name`; null for graph inputs, initializers and
  /// names not produced yet (pattern matches over the ONNX graph: see importGather).
  const onnx::NodeProto *producer(const std::string &name) const {
    auto it = producers.find(name);
    return it == producers.end() ? nullptr : it->second;
  }
  /// The MLIR value (materialized on demand; a deferred flatten is applied, folded heads are
  /// reshaped to the ONNX shape when tfc.reshape can express it, else null).
  mlir::Value value(TensorInfo &t);
  /// The MLIR value keeping a deferred flatten or folded heads (their consumers).
  mlir::Value rowValue(TensorInfo &t);
  /// A tensor for an MLIR value whose logical shape is `dims`.
  TensorInfo fromValue(mlir::Value v, std::vector<SymDim> dims);
  TensorInfo fromConst(ConstData data);
  /// An f32 constant computed at import time (a dequantized weight): a weight of the store
  /// named `name` when it has more than 16 elements, else a constant.
  TensorInfo fromWeight(const std::string &name, ConstData data);
  mlir::Value constant(const ConstData &data);
  mlir::Value scalarF32(double v);
  mlir::RankedTensorType typeOf(const std::vector<SymDim> &dims, mlir::Type elem) const;
  /// Static view of symbolic dims (`?` for symbolic).
  std::vector<int64_t> staticShape(const std::vector<SymDim> &dims) const;
  /// Materializes symbolic i64 values as a 1-D tensor (constants + shape of the arguments).
  mlir::FailureOr<mlir::Value> materializeKnown(const std::vector<SymDim> &values);
  /// Emits the slice of `t`'s table to its logical dims (static slice folds).
  mlir::FailureOr<mlir::Value> materializeTable(TensorInfo &t);

  // Attributes.
  const onnx::AttributeProto *attr(const onnx::NodeProto &node, const char *name) const;
  int64_t attrInt(const onnx::NodeProto &node, const char *name, int64_t dflt) const;
  float attrFloat(const onnx::NodeProto &node, const char *name, float dflt) const;
  std::optional<std::vector<int64_t>> attrInts(const onnx::NodeProto &node,
                                               const char *name) const;
  std::string attrString(const onnx::NodeProto &node, const char *name,
                         const std::string &dflt) const;

  mlir::Type elemFromOnnx(int32_t dtype) const;  // null when unsupported
  /// Converts a TensorProto (embedded data only) to ConstData.
  Status tensorData(const onnx::TensorProto &t, ConstData &out, const std::string &what) const;

  std::string errorPrefix() const { return file + ": "; }
  /// A table too small for a symbol's bound that may be lowered: the importer retries with
  /// this limit (symbol name, limit).
  std::optional<std::pair<std::string, SymbolLimit>> newLimit;

private:
  Status importNode(const onnx::NodeProto &node, int index);
  /// A group of planSequences: checked and imported as Unsqueeze + Expand + Reshape.
  Status importRepeatInterleave(const RepeatInterleaveLoop &loop, int index);
  std::optional<std::vector<int64_t>> loopInts(const RepeatInterleaveLoop &loop,
                                               const std::string &name);
  Status addInitializer(const onnx::TensorProto &t);
  /// Stores `size` bytes of f32 data as the weight `name`.
  TensorInfo storeWeight(const std::string &name, const std::vector<int64_t> &shape,
                         const void *data, uint64_t size);

  mlir::MLIRContext &ctx;
  mlir::OpBuilder builder;
  std::string file;
  int64_t opsetVersion;
  ImportOptions opts;
  std::map<std::string, SymbolLimit> limits;
  WeightStore &weights;
  mlir::Location currentLoc;
  const onnx::NodeProto *currentNode = nullptr;
  std::map<std::string, TensorInfo> values;
  std::map<std::string, const onnx::NodeProto *> producers;  // output name -> its node
  std::map<std::string, std::pair<mlir::Value, int64_t>> symbolSources;  // symbol -> (arg, axis)
  mlir::Block *entry = nullptr;
  SequencePlan sequences;
};

} // namespace tfc::onnxfe

#endif // TFC_FRONTENDS_ONNX_ONNXINTERNAL_H
