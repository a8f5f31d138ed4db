//===- PlanDesc.h - the in-memory plan: what lowering builds and the writer writes -*- C++ -*-===//
//
// Plain C++ structs mirroring ir/schema/plan.fbs (docs/PLAN_FORMAT.md), with no MLIR in them:
// compiler/lower/ fills them from tfc IR, MemoryPlanner assigns arena offsets, PlanWriter
// serializes them. The enums and the kernel options are the schema's own types
// (tfc::plan::DType, KernelKind, the object API's KernelOptionsUnion), so what is written is
// what the runtime reads.
//
//===----------------------------------------------------------------------===//
#ifndef TFC_PLAN_PLANDESC_H
#define TFC_PLAN_PLANDESC_H

#include "tfc/schema/plan_generated.h"
#include "tfc/support/Status.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tfc::planner {

namespace fb = tfc::plan;

/// The highest rank the runtime accepts (TFC_MAX_RANK of runtime/include/tfc/tfc_runtime.h).
inline constexpr int kMaxRank = 8;

/// Result of a fallible call: `ok()` or an error message.
using Status = ::tfc::support::Status; // empty `error`: success (tfc/support/Status.h)

/// One dim of a value: static (`symbol` == -1, `size` >= 0) or `Plan::symbols[symbol]`.
struct Dim {
  int32_t symbol = -1;
  int64_t size = 0;
  static Dim ofSize(int64_t n) { return {-1, n}; }
  static Dim ofSymbol(int32_t s) { return {s, 0}; }
  bool isSymbolic() const { return symbol >= 0; }
  bool operator==(const Dim &o) const { return symbol == o.symbol && (symbol >= 0 || size == o.size); }
};

/// A symbolic dim with the bounds the plan is compiled for.
struct Symbol {
  std::string name;
  int64_t min = 1;
  int64_t max = 0;
  std::string source;  // where `max` comes from (for reports; not written to the plan)
};

/// Bytes owned elsewhere (the model file's buffer) or by this plan: [offset, offset + size) of
/// `storage`. Copies share the storage.
struct ByteRef {
  std::shared_ptr<const std::vector<uint8_t>> storage;
  uint64_t offset = 0;
  uint64_t size = 0;
  const uint8_t *data() const { return storage ? storage->data() + offset : nullptr; }
};

struct Value {
  fb::ValueKind kind = fb::ValueKind::Intermediate;
  fb::DType dtype = fb::DType::F32;
  std::vector<Dim> dims;
  uint64_t arenaOffset = 0;  // Intermediate: set by the MemoryPlanner
  int32_t constant = -1;     // Constant: index into Plan::constants
  int32_t port = -1;         // Input/Output: index into Function::inputs / outputs
  std::string name;          // for messages and profiles
};

struct Kernel {
  fb::KernelKind kind = fb::KernelKind::Binary;
  std::vector<int32_t> inputs;   // value indices; -1: an absent optional input
  std::vector<int32_t> outputs;
  fb::KernelOptionsUnion options; // the kind's options table (tfc::plan::kernelOptionsOf)
  std::string name;              // the op location ("encoder.layers.0.self_attn")
  /// The primitive ops a fusion folded into it ("matmul x4, reshape x4, ..."; "" when it is
  /// the op itself), for `tfc compile --graph`; not written to the plan file.
  std::string origin;
};

struct Port {
  std::string name;
  int32_t value = -1;
};

struct Function {
  std::string name;
  std::vector<Port> inputs, outputs;
  std::vector<Value> values;
  std::vector<Kernel> kernels;   // in execution order
  uint64_t arenaSize = 0;        // set by the MemoryPlanner
  uint64_t naiveBytes = 0;       // sum of every intermediate's 64-aligned max size (no reuse)
  fb::CacheOp cacheOp = fb::CacheOp::None;
};

struct Constant {
  std::string name;
  fb::DType dtype = fb::DType::F32;
  std::vector<int64_t> shape;
  ByteRef bytes;                 // row-major; bytes.size == product(shape) * dtypeSize(dtype)
};

/// A token matched in the text before the model's tokenizer (plan.fbs AddedToken, 1.2).
struct AddedTokenDesc {
  std::string content;
  bool special = true, singleWord = false, lstrip = false, rstrip = false, normalized = false;
};

/// The model's tokenizer (plan.fbs Tokenizer); `kind` None: absent.
struct TokenizerDesc {
  fb::TokenizerKind kind = fb::TokenizerKind::None;
  bool lowercase = false, stripAccents = false, handleChineseChars = true, cleanText = true;
  std::string continuingSubwordPrefix;
  int32_t maxInputCharsPerWord = 100;
  std::string unkToken, clsToken, sepToken, padToken;
  std::vector<std::string> merges;
  bool addPrefixSpace = false;
  int32_t maxLength = 0;
  std::vector<AddedTokenDesc> addedTokens;
};

struct ModelInfo {
  std::string family, name;
  int32_t startId = -1, endId = -1, unkId = -1, padId = -1;
  std::vector<std::string> vocabulary; // token strings by id (may be empty)
  TokenizerDesc tokenizer;
};

/// A KV-cache slot (plan.fbs CacheSlot).
struct CacheSlot {
  std::string name;
  fb::CacheKind kind = fb::CacheKind::Self;
  int32_t numHeads = 0, headDim = 0;
  int64_t maxLength = 0;
  fb::DType dtype = fb::DType::F32;  // of K and V (2.1)
};

/// How the plan generates (plan.fbs Generation); absent when `mode` is empty.
struct Generation {
  std::string mode, reason, tokenInput;
  std::vector<std::string> keyMaskInputs;
};

struct Plan {
  fb::Target target = fb::Target::Cpu;  // the device it is compiled for
  fb::DType precision = fb::DType::F32; // the float activations' dtype (2.1): F32, F16, BF16
  /// (2.2) cpu plans: the dtype of the Linear/GatedLinear constant weights (F32, BF16, I8;
  /// compiler/lower/cpu/WeightPrecision.h converts them); F32 for cuda plans.
  fb::DType weightPrecision = fb::DType::F32;
  ModelInfo model;
  std::vector<Symbol> symbols;
  std::vector<Function> functions;
  std::vector<Constant> constants;
  std::vector<CacheSlot> caches;
  Generation generation;
};

/// Bytes per element (Bool is one byte).
uint64_t dtypeSize(fb::DType dtype);

/// "f32", "i64", "bool", ...
const char *dtypeName(fb::DType dtype);

/// Elements of `value` with every symbol at its max bound.
uint64_t maxElements(const Plan &plan, const Value &value);

/// Bytes of `value` with every symbol at its max bound.
uint64_t maxBytes(const Plan &plan, const Value &value);

/// The same, checked: false when the product is above 2^63 (the bounds are too large for any
/// arena; maxBytes() would wrap).
bool maxBytesChecked(const Plan &plan, const Value &value, uint64_t &bytes);

/// "batch = 16, seq = 128": the symbols of `dims` at their bounds, for messages.
std::string boundsOf(const Plan &plan, const std::vector<Dim> &dims);

/// "[batch, seq, 64]" for messages and tests.
std::string dimsToString(const Plan &plan, const std::vector<Dim> &dims);

} // namespace tfc::planner

#endif // TFC_PLAN_PLANDESC_H
