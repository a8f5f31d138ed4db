//===- Plan.h - a loaded plan: the mapping plus flat, decoded tables -------------------------===//
//
// A Plan is immutable once PlanLoader has built it and is shared (std::shared_ptr) by the C
// handle and every session created on it; sessions on several threads read it concurrently,
// so nothing in it may change after loading. Everything the hot path needs is decoded here into
// plain structs (value shapes, kernel operands, constant pointers; kernel options as the
// schema's object-API tables), so running a function never touches the FlatBuffer again. The
// enums are the schema's own (tfc::plan::KernelKind, ...): nothing here can drift from plan.fbs.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_RUNTIME_PLAN_H
#define TFC_RUNTIME_PLAN_H

#include "tfc/schema/plan_generated.h"
#include "tfc/tfc_runtime.h"
#include "text/Tokenizer.h"

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace tfc::rt {

class Backend; // Backend.h

// The schema's enums (plan.fbs has the meaning of each value).
using KernelKind = tfc::plan::KernelKind;
using ValueKind = tfc::plan::ValueKind;
using CacheKind = tfc::plan::CacheKind;
using CacheOp = tfc::plan::CacheOp;

/// How many kernel kinds the schema has (the kernel table has one row per kind).
constexpr size_t kNumKernelKinds = size_t(KernelKind::MAX) + 1;

/// One KV-cache slot; the session holds K and V of [maxBatch, numHeads, maxLength, headDim].
struct CacheSlotDesc {
  std::string name;
  CacheKind kind = CacheKind::Self;
  int32_t numHeads = 0, headDim = 0;
  int64_t maxLength = 0;
  tfc_dtype dtype = TFC_F32; // of K and V (plan 2.1 CacheSlot.dtype)
};

/// How the plan generates (absent: `present` false).
struct GenerationDesc {
  bool present = false;
  std::string mode;   // "kv-cache" or "recompute"
  std::string reason; // why "recompute"
  std::string tokenInput;
  std::vector<std::string> keyMaskInputs;
};

/// The largest rank the runtime handles (ports, values, kernels).
constexpr int kMaxRank = TFC_MAX_RANK;

/// One dim: static (symbol < 0) or the run-time size of a symbol.
struct DimDesc {
  int32_t symbol = -1;
  int64_t size = 0;
};

struct SymbolDesc {
  std::string name;
  int64_t min = 1, max = 0;
};

struct ConstantDesc {
  std::string name;
  tfc_dtype dtype = TFC_F32;
  std::vector<int64_t> shape;
  const void *data = nullptr; // inside the mapping, 64-byte aligned
  uint64_t size = 0;
  uint64_t checksum = 0; // FNV-1a 64 of the bytes, as the plan states it (Plan::weightsProblem)
};

struct ValueDesc {
  ValueKind kind = ValueKind::Intermediate;
  tfc_dtype dtype = TFC_F32;
  int32_t rank = 0;
  DimDesc dims[kMaxRank];
  uint64_t arenaOffset = 0; // Intermediate
  int32_t constant = -1;    // Constant
  int32_t port = -1;        // Input / Output
  uint64_t maxBytes = 0;    // bytes at the symbols' max bounds
  std::string name;
};

struct KernelDesc {
  KernelKind kind = KernelKind::Binary;
  std::vector<int32_t> inputs, outputs; // value indices, -1 = absent
  /// The kind's options (plan.fbs KernelOptions, decoded); the loader has checked that the
  /// type is tfc::plan::kernelOptionsOf(kind). Kernels read them through options<T>(k).
  tfc::plan::KernelOptionsUnion options;
  std::string name;
};

struct PortDesc {
  std::string name;
  int32_t value = -1;
};

/// What a run requires of an input's values besides dtype and shape, found by the loader from
/// what the function does with the input (InputRules.h); tfc_plan_input_values reports it.
struct InputRule {
  tfc_input_kind kind = TFC_INPUT_DATA;
  int64_t bound = 0;    // Ids: every value in [0, bound)
  std::string what;     // Ids: "token ids", "token type ids" or "ids" (for messages)
  std::string table;    // Ids: the constant whose rows the ids select (the smallest, if several)
};

struct FunctionDesc {
  std::string name;
  std::vector<PortDesc> inputs, outputs;
  std::vector<ValueDesc> values;
  std::vector<KernelDesc> kernels;
  uint64_t arenaSize = 0;
  CacheOp cacheOp = CacheOp::None;
  std::vector<InputRule> inputRules; // one per input port
  /// The plan's float dtype (Plan.precision: F32, F16 or BF16). Kernel checks that accept F32
  /// accept this dtype too: the checks are target-neutral, and a backend only loads plans of a
  /// precision it runs (the CPU: fp32; so a CPU kernel never sees F16 values).
  tfc_dtype floatDtype = TFC_F32;
  /// The plan's weight dtype (Plan.weight_precision, 2.2: F32, or BF16 / I8 in a cpu plan of
  /// `--precision bf16|int8`): a Linear / GatedLinear constant weight is f32 or this dtype.
  tfc_dtype weightDtype = TFC_F32;
};

/// A read-only mapping of the plan file; unmapped when the last Plan reference goes. It keeps
/// the file open and its identity (device, inode, size, mtime) as mapped: a file truncated in
/// place while mapped turns reads of the lost pages into SIGBUS, so the runtime asks changed()
/// before every use of the mapping's pages outside the loader (docs/ROBUSTNESS.md).
class Mapping {
public:
  /// Takes `fd` (closed on destruction); `st` is its fstat at mapping time.
  Mapping(void *base, size_t size, int fd, const struct stat &st);
  ~Mapping();
  Mapping(const Mapping &) = delete;
  Mapping &operator=(const Mapping &) = delete;
  const uint8_t *data() const { return static_cast<const uint8_t *>(base_); }
  size_t size() const { return size_; }
  /// "" while the open file is as it was mapped, else what changed ("its size is now 1000
  /// bytes, was 4096"). One fstat: cheap enough for every run.
  std::string changed() const;
  /// Gives back this process's resident pages lying wholly inside [p, p + n) (MADV_DONTNEED):
  /// bytes the runtime has copied elsewhere (packed weights) and reads there. The file's pages
  /// stay in the page cache, and a later read maps them again: nothing is lost, only the
  /// process's RSS drops. Nothing happens outside the mapping.
  void dropPages(const void *p, size_t n) const;

private:
  void *base_;
  size_t size_;
  int fd_;
  uint64_t dev_, ino_;
  int64_t mtimeSec_, mtimeNsec_;
};

class Plan {
public:
  std::string path;
  std::unique_ptr<Mapping> mapping;
  uint32_t formatMajor = 0, formatMinor = 0;
  std::string producer, target, family, modelName;
  std::string precision = "fp32"; // plan 2.1 Plan.precision: "fp32", "fp16", "bf16"
  std::string weightPrecision = "fp32"; // plan 2.2 Plan.weight_precision: "fp32", "bf16", "int8"
  /// The backend that runs `target` in this runtime, whose kernel table the loader checked the
  /// plan against; null for a plan opened for inspection only (any_target: a target this build
  /// has no backend for), on which sessions fail with TFC_UNAVAILABLE.
  const Backend *backend = nullptr;
  int32_t startId = -1, endId = -1, unkId = -1, padId = -1;
  uint64_t weightsBytes = 0;
  std::vector<SymbolDesc> symbols;
  std::vector<ConstantDesc> constants;
  std::vector<FunctionDesc> functions;
  std::vector<CacheSlotDesc> caches;
  GenerationDesc generation;
  std::vector<std::string> vocabulary; // token strings by id (empty: none)
  std::unique_ptr<const text::Tokenizer> tokenizer; // the model's tokenizer (null: none)

  /// Data kernels derive from the plan's constants at run time and share between the sessions
  /// on this plan (e.g. Linear's prepacked weights for small batches). The plan stays logically
  /// immutable: an entry, once made, never changes; `derivedMutex` guards the map, each entry
  /// guards itself.
  mutable std::mutex derivedMutex;
  mutable std::map<std::string, std::shared_ptr<void>> derived;

  /// Whether sessions check the weights' checksums before they are created
  /// (tfc_plan_options.verify_checksums).
  bool verifyChecksums = true;

  /// The weights' checksums, checked once per plan on first need rather than at open, so that
  /// opening reads only the FlatBuffer and stays flat in the weights' size (every structural
  /// check of the constants still runs at open). "" when every constant's bytes match its
  /// checksum, else the problem naming the first constant that does not. Thread-safe: the first
  /// caller reads the weights, concurrent callers wait for it, later ones get the cached answer.
  /// The pages of constants of kDropPagesMinBytes or more are given back as it goes
  /// (Mapping::dropPages), so the pass leaves the process's RSS as it found it.
  const std::string &weightsProblem() const;
  static constexpr int64_t kDropPagesMinBytes = int64_t(1) << 20;
  /// Throws Error(TFC_INVALID_PLAN) with weightsProblem() when it is not "" (and verifyChecksums).
  void checkWeightsForSession() const;

  /// Throws Error(TFC_IO_ERROR) naming the file when it was truncated or rewritten in place
  /// since it was opened (Mapping::changed): reading its pages could kill the process with
  /// SIGBUS, or see other weights. Sessions call it before every run, the weights' checksum
  /// before it reads them.
  void checkFileUnchanged() const;

  /// The function named `name`, or nullptr.
  const FunctionDesc *findFunction(const char *name) const;
  /// Largest arena_size over all functions (one allocation per session serves them all).
  uint64_t maxArenaSize() const;

  /// How many times the weights were read for their checksums: 0 or 1 (the tests check it).
  int weightsReads() const { return weightsReads_.load(); }

private:
  mutable std::once_flag weightsOnce_;
  mutable std::string weightsProblem_;
  mutable std::atomic<int> weightsReads_{0};
};

/// Opens, maps and checks the plan at `path` (PlanLoader.cpp). Throws Error. A plan whose target
/// no backend of this runtime runs is refused (TFC_UNAVAILABLE) unless `anyTarget`: then it is
/// opened for inspection, checked against the format and the schema's operand counts, not
/// against a backend's kernel rules.
std::shared_ptr<const Plan> loadPlan(const char *path, bool verifyChecksums,
                                     bool anyTarget = false);

const char *kernelKindName(KernelKind kind);

} // namespace tfc::rt

#endif // TFC_RUNTIME_PLAN_H
