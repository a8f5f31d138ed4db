//===- Kernel.h - what a CPU kernel sees: tensors, context, the kernel table -----------------===//
//
// A kernel is a pair of functions in the kernel table (KernelTable.cpp): `check`, run once by the
// loader on the decoded plan (operand counts, options, dtypes, static ranks), and `run`,
// called by the session for every execution with the tensors of the current run (shapes already
// bound). A kernel throws tfc::rt::Error (through ctx.fail) on a bad run-time value; it never
// aborts. Kernels may keep state across runs (cached oneDNN primitives, scratch) in ctx.state;
// that state belongs to one session and is used by one thread at a time.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_RUNTIME_CPU_KERNEL_H
#define TFC_RUNTIME_CPU_KERNEL_H

#include "Error.h"
#include "Plan.h"
#include "tfc/schema/PlanKernels.h"

#include <memory>
#include <string>

namespace tfc::rt {

size_t dtypeSize(tfc_dtype dtype);
const char *dtypeName(tfc_dtype dtype);

struct Shape {
  int32_t rank = 0;
  int64_t d[kMaxRank] = {};
  int64_t numel() const {
    int64_t n = 1;
    for (int i = 0; i < rank; ++i)
      n *= d[i];
    return n;
  }
  int64_t operator[](int i) const { return d[i]; }
  bool operator==(const Shape &o) const {
    if (rank != o.rank)
      return false;
    for (int i = 0; i < rank; ++i)
      if (d[i] != o.d[i])
        return false;
    return true;
  }
  bool operator!=(const Shape &o) const { return !(*this == o); }
  std::string str() const; // "[1, 128, 384]"
};

/// A tensor of the current run: dense, row-major.
struct Tensor {
  void *data = nullptr;
  tfc_dtype dtype = TFC_F32;
  Shape shape;
  template <typename T> T *as() const { return static_cast<T *>(data); }
  size_t bytes() const { return size_t(shape.numel()) * dtypeSize(dtype); }
};

/// Per-session, per-kernel state kept between runs.
struct KernelState {
  virtual ~KernelState() = default;
};

class Device; // Backend.h: the session's device (memory, stream, constants)
class AttentionCapture; // AttentionCapture.h: attention weights kept on request

/// The session's KV cache as the kernels see it during one run of a function whose cache_op is
/// not None. Slot s holds K and V as [maxRows, numHeads, maxLength, headDim] of `dtype`
/// (row-major, in the device's memory), of which rows [0, rows) are in use. The CPU kernels take
/// f32 slots only (CpuBackend refuses others at load); the CUDA backend also keeps f16/bf16.
struct KvCache {
  struct Slot {
    void *k = nullptr, *v = nullptr;
    tfc_dtype dtype = TFC_F32;
    int64_t length = 0; // Cross: positions written by CacheStore; Self: the session's L
    const CacheSlotDesc *desc = nullptr; // the plan's slot (kind, heads, head_dim, max_length)
  };
  std::vector<Slot> slots;     // indexed like Plan::caches
  int64_t maxRows = 0;         // rows allocated (the plan's batch bound)
  int64_t rows = 0;            // rows in use (this run's batch)
  int64_t past = 0;            // L before this run: Self slots hold positions [0, past)
};

struct KernelContext {
  const Plan *plan = nullptr;
  const FunctionDesc *fn = nullptr;
  const KernelDesc *k = nullptr;
  Tensor *tensors = nullptr; // one per value of the function
  Device *device = nullptr; // the session's device (Backend.h); a backend's kernels downcast it
                            // (CPU: cpuDevice(ctx) for the oneDNN engine and the thread count)
  std::unique_ptr<KernelState> *state = nullptr;
  KvCache *cache = nullptr; // non-null while running a function that uses the cache
  /// Non-null while the session captures attention weights (tfc_session_set_attention_capture):
  /// the attention kernels add their softmax probabilities to it (AttentionCapture.h).
  AttentionCapture *attention = nullptr;
  /// True when the caller reads only the last position (axis 1) of the function's first output
  /// (a generation loop reading the prompt's next-token logits, Session::RunOptions): a kernel
  /// that writes that output may compute only those rows and leave the others zero.
  bool lastPositionOnly = false;

  /// Input `i`, or nullptr when absent (-1) or beyond the kernel's inputs.
  const Tensor *in(size_t i) const {
    if (i >= k->inputs.size() || k->inputs[i] < 0)
      return nullptr;
    return &tensors[k->inputs[i]];
  }
  size_t numInputs() const { return k->inputs.size(); }
  Tensor &out(size_t i) const { return tensors[k->outputs[i]]; }
  /// The name of input `i`'s value (for messages).
  const std::string &inName(size_t i) const { return fn->values[k->inputs[i]].name; }

  /// Throws Error(code, "function 'f': kernel 'name' (Kind): <message>").
  [[noreturn]] void fail(tfc_code code, const char *fmt, ...) const
      __attribute__((format(printf, 3, 4)));
  /// Fails unless the output's bound shape is `expected`.
  void expectOutputShape(size_t i, const Shape &expected) const;

  template <typename S> S &stateAs() const {
    if (!*state)
      state->reset(new S());
    return static_cast<S &>(**state);
  }
};

/// Whether the plan was compiled with --precision bf16 or int8 (Plan::weightPrecision): its
/// attention then multiplies in bf16 where the CPU has bf16 dot products
/// (FusedAttentionProblem::bf16), as its linears do; the compiler's accuracy check ran it so.
inline bool lowPrecisionPlan(const KernelContext &ctx) {
  return ctx.plan && ctx.plan->weightPrecision != "fp32";
}

/// Load-time check of one kernel: returns "" when fine, else the problem (without the prefix).
using KernelCheckFn = std::string (*)(const FunctionDesc &fn, const KernelDesc &k);
using KernelRunFn = void (*)(const KernelContext &ctx);

struct KernelSpec {
  KernelKind kind;
  int minInputs, maxInputs; // maxInputs -1: any number
  int numOutputs;
  KernelCheckFn check;      // may be null
  /// Refuses option values and inputs the schema declares but this runtime does not implement
  /// yet (TFC_UNSUPPORTED; e.g. grouped-query attention); may be null.
  KernelCheckFn unsupported;
  KernelRunFn run;
};

/// The spec of `kind`, or nullptr for an unknown kind.
const KernelSpec *kernelSpec(int32_t kind);

/// The kernel's options table, of type T (tfc::plan::AttentionOptionsT, ...). The loader has
/// checked the type against the kind, so a kernel's check and run functions read their own
/// kind's options without testing for null.
template <typename T> const T &options(const KernelDesc &k) {
  static_assert(tfc::plan::KernelOptionsUnionTraits<T>::enum_value !=
                    tfc::plan::KernelOptions::NONE,
                "T is one of the plan's kernel options tables");
  if (k.options.type != tfc::plan::KernelOptionsUnionTraits<T>::enum_value || !k.options.value)
    throw Error(TFC_INTERNAL, format("kernel '%s' carries %s options, not %s", k.name.c_str(),
                                     tfc::plan::kernelOptionsName(k.options.type),
                                     tfc::plan::EnumNameKernelOptions(
                                         tfc::plan::KernelOptionsUnionTraits<T>::enum_value)));
  return *static_cast<const T *>(k.options.value);
}

/// Whether an enum field holds one of the schema's values (the FlatBuffers verifier does not
/// check enums: a plan may hold any number there).
using tfc::plan::isKnownEnumValue;

// Kernel entry points (one family per file under cpu/).
#define TFC_KERNEL(K)                                                                              \
  std::string check##K(const FunctionDesc &fn, const KernelDesc &k);                              \
  void run##K(const KernelContext &ctx);
TFC_KERNEL(Binary)
TFC_KERNEL(Unary)
TFC_KERNEL(MatMul)
TFC_KERNEL(Reduce)
TFC_KERNEL(Softmax)
TFC_KERNEL(LayerNormalization)
TFC_KERNEL(Gather)
TFC_KERNEL(Transpose)
TFC_KERNEL(Reshape)
TFC_KERNEL(Concat)
TFC_KERNEL(Slice)
TFC_KERNEL(Shape)
TFC_KERNEL(Expand)
TFC_KERNEL(Where)
TFC_KERNEL(Cast)
TFC_KERNEL(LayerNorm)
TFC_KERNEL(Attention)
TFC_KERNEL(Linear)
TFC_KERNEL(Embedding)
TFC_KERNEL(CachedAttention)
TFC_KERNEL(CacheStore)
TFC_KERNEL(Rotary)
TFC_KERNEL(RmsNorm)
TFC_KERNEL(GatedLinear)
TFC_KERNEL(Compare)
TFC_KERNEL(CumSum)
TFC_KERNEL(Tile)
TFC_KERNEL(GatherElements)
TFC_KERNEL(ArgMax)
TFC_KERNEL(Trilu)
TFC_KERNEL(Conv)
#undef TFC_KERNEL
std::string unsupportedAttention(const FunctionDesc &fn, const KernelDesc &k);
std::string unsupportedCachedAttention(const FunctionDesc &fn, const KernelDesc &k);

// ---- helpers shared by the check functions ------------------------------------------------
/// dtype of input i's value (input must be present).
inline tfc_dtype inDtype(const FunctionDesc &fn, const KernelDesc &k, size_t i) {
  return fn.values[k.inputs[i]].dtype;
}
inline tfc_dtype outDtype(const FunctionDesc &fn, const KernelDesc &k, size_t i) {
  return fn.values[k.outputs[i]].dtype;
}
inline bool hasInput(const KernelDesc &k, size_t i) { return i < k.inputs.size() && k.inputs[i] >= 0; }
/// "" if input i (when present) has one of the dtypes, else a message naming it.
std::string expectDtype(const FunctionDesc &fn, const KernelDesc &k, size_t i, const char *what,
                        std::initializer_list<tfc_dtype> allowed);
std::string expectOutDtype(const FunctionDesc &fn, const KernelDesc &k, size_t i,
                           std::initializer_list<tfc_dtype> allowed);
/// "" if input i and output 0 have the same dtype.
std::string expectSameDtype(const FunctionDesc &fn, const KernelDesc &k, size_t i);

/// What plan.fbs declares for attention ahead of this runtime (the bias input 4; num_kv_heads,
/// window and hidden_score are implemented): "" when `k` uses none of it, else the
/// refusal.
template <typename Options>
std::string unsupportedAttentionFeatures(const KernelDesc &k, const Options &) {
  if (hasInput(k, 4))
    return "an additive attention bias (input 4) is not supported by this runtime";
  return "";
}

} // namespace tfc::rt

#endif // TFC_RUNTIME_CPU_KERNEL_H
