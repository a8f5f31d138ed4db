//===- OnnxFrontend.h - ONNX model -> primitive tfc IR ----------*- C++ -*-===//
//
// Imports an ONNX model (opsets 13 to 21, default domain) into a module of
// PRIMITIVE tfc ops with NameLoc locations taken from the ONNX node names, in
// the shapes of docs/PRIMITIVE_PATTERNS.md so the fusion passes can match.
//
// * Graph inputs become the arguments of `func.func @forward` with `tfc.name`
//   and `tfc.dims` (ONNX dim params such as "batch" and "seq" become `?` dims
//   named there); graph outputs its results.
// * Float initializers become `tfc.weight` (their bytes are kept in the
//   ImportResult's WeightStore for the lowering); small and non-float ones
//   become `tfc.constant`. External data is rejected.
// * Shape subgraphs (Shape, Gather, Slice, Concat, Unsqueeze, Mul, ...) are
//   evaluated at import time on symbolic dims, so Reshape targets become
//   static attributes (`[0, 0, H, dh]`) and masks built with Range, Trilu,
//   ConstantOfShape, Equal, Less, Not fold to slices of constant tables sized
//   at the bounds.
//
// Errors never abort or throw; they name the file, the node, the op and the
// opset, e.g. "model.onnx: node 'Foo_3' (op 'Celu', opset 17) is not supported".
//
//===----------------------------------------------------------------------===//
#ifndef TFC_FRONTENDS_ONNXFRONTEND_H
#define TFC_FRONTENDS_ONNXFRONTEND_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "tfc/support/Status.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tfc::onnxfe {

/// Result of a fallible call: `ok()` or an error message.
using Status = ::tfc::support::Status; // empty `error`: success (tfc/support/Status.h)

/// A float initializer: f32 row-major bytes at `offset` in `WeightStore::bytes`.
struct Weight {
  std::vector<int64_t> shape;
  uint64_t offset = 0, size = 0;
};

/// The weights of an imported model (one shared buffer, 64-byte aligned offsets).
struct WeightStore {
  std::shared_ptr<std::vector<uint8_t>> bytes = std::make_shared<std::vector<uint8_t>>();
  std::map<std::string, Weight> weights;
};

struct ImportOptions {
  int64_t maxBatch = 16;  // bound of the batch symbols (mlir::tfc::symbolKind: "batch",
                          // "batch_size", "N", ...): constant tables are sized at the bounds
  int64_t maxSeq = 512;   // bound of every other symbolic dim
  /// Bounds of single symbols by name; they win over maxBatch/maxSeq and are never lowered
  /// (a constant table too small for one is an error).
  std::map<std::string, int64_t> bounds;
  /// true: `maxSeq` is only a default; a constant table of the model with fewer rows (the
  /// position ids or causal-mask buffer a sequence slices) lowers that symbol's bound
  /// ("unless the model says otherwise"). false: a table too small for `maxSeq` is an error.
  bool maxSeqFromModel = true;
  bool maxBatchFromModel = true;  // the same for `maxBatch`
};

/// The most a symbol may be, and what says so ("table 'position_ids' (96 on axis 1)").
struct SymbolLimit {
  int64_t max = 0;
  std::string source;
};

struct ImportResult {
  mlir::OwningOpRef<mlir::ModuleOp> module;
  std::shared_ptr<WeightStore> weights;
  int64_t opset = 0;  // of the default domain
  /// The symbols whose bound a constant table of the model lowered below the options' (the
  /// constant tables were sized at the lowered bound), with the table.
  std::map<std::string, SymbolLimit> limits;
};

/// Reads and imports `path`.
Status importOnnxFile(mlir::MLIRContext &context, const std::string &path,
                      const ImportOptions &options, ImportResult &result);

/// Same, from the bytes of a serialized ModelProto (`name` is used in messages).
Status importOnnxBuffer(mlir::MLIRContext &context, const std::string &bytes,
                        const std::string &name, const ImportOptions &options,
                        ImportResult &result);

/// One row of the op table: the op and the opsets it is supported at.
struct OpSupport {
  std::string op;
  int minOpset, maxOpset;
};
std::vector<OpSupport> supportedOps();

/// The opsets of the default domain this importer accepts.
constexpr int kMinOpset = 13;
constexpr int kMaxOpset = 21;

} // namespace tfc::onnxfe

#endif // TFC_FRONTENDS_ONNXFRONTEND_H
