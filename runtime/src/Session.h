//===- Session.h - a session: device, arena, symbol binding, kernel state, profiles ------------===//
//
// A session runs the functions of one plan on one Device (Backend.h), opened from the backend
// of the plan's target (or the device the caller names). It owns, in the device's memory, one
// arena (the largest arena_size of the plan's functions; functions of one session never run at
// the same time) and the KV cache; the kernels' cached state and the profiles. It is used by one
// thread at a time; several sessions on one plan may run concurrently on different threads (the
// Plan is immutable). Outputs are allocated per run in host memory and handed to the caller in
// an Outputs object. On a device the host can address (the CPU) caller inputs are used in place
// and outputs written straight into those buffers; otherwise inputs are copied in and outputs
// out through per-session staging buffers on the device.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_RUNTIME_SESSION_H
#define TFC_RUNTIME_SESSION_H

#include "AttentionCapture.h"
#include "Backend.h"
#include "Plan.h"
#include "cpu/Kernel.h"

#include <memory>
#include <string>
#include <vector>

namespace tfc::rt {

/// 64-byte-aligned heap bytes.
struct AlignedBuffer {
  void *data = nullptr;
  size_t size = 0;
  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t bytes);
  ~AlignedBuffer();
  AlignedBuffer(AlignedBuffer &&o) noexcept : data(o.data), size(o.size) { o.data = nullptr; }
  AlignedBuffer &operator=(AlignedBuffer &&o) noexcept;
};

/// The outputs of one run, in signature order.
struct Outputs {
  struct Output {
    std::string name;
    tfc_dtype dtype;
    std::vector<int64_t> dims;
    AlignedBuffer buffer;
  };
  std::vector<Output> outputs;
};

struct KernelProfile {
  uint64_t calls = 0;
  double totalMs = 0;
};

/// Parses `text` ("cpu", "cuda:1") and checks that this build has its backend and that the backend
/// runs `plan`'s target (not that the device can be opened); throws Error naming the problem.
const Backend &checkDeviceRunsPlan(const Plan &plan, const char *text, DeviceSpec *spec = nullptr);

class Session {
public:
  /// A session on `device` ("cpu", "cuda", "cuda:N"; null or "": device 0 of the backend that
  /// runs the plan's target). Throws Error: TFC_INVALID_ARGUMENT for a bad thread count or device
  /// text, TFC_UNAVAILABLE when the device cannot be opened here or does not run the plan's
  /// target (the message says why).
  Session(std::shared_ptr<const Plan> plan, int numThreads, const char *device = nullptr);
  /// A session on a device the caller opened (tests: a device that stages like a GPU's).
  Session(std::shared_ptr<const Plan> plan, std::unique_ptr<Device> device);
  ~Session();

  Device &device() const { return *device_; }

  /// What a caller asks of one run beyond its inputs.
  struct RunOptions {
    /// Only the last position (axis 1) of the first output [batch, seq, ...] is read: the
    /// kernel writing it may compute just those rows (the CPU Linear does: a prompt's LM head
    /// on batch rows instead of batch x seq) and the other positions are zeros.
    bool lastPositionOnly = false;
  };
  std::unique_ptr<Outputs> run(const char *function, const tfc_tensor *inputs, size_t numInputs,
                               const RunOptions &options);
  std::unique_ptr<Outputs> run(const char *function, const tfc_tensor *inputs, size_t numInputs) {
    return run(function, inputs, numInputs, RunOptions());
  }

  const Plan &plan() const { return *plan_; }
  void setProfiling(bool on) { profiling_ = on; }
  /// Profiles of `function`'s kernels (in kernel order); empty before its first profiled run.
  const std::vector<KernelProfile> *profile(const char *function) const;
  void resetProfile();

  /// Attention weights (AttentionCapture.h): on, every later run keeps each attention kernel's
  /// softmax probabilities until cleared (turning it off clears them). Throws Error
  /// (TFC_UNSUPPORTED) on a device whose backend does not record them (only the CPU does).
  void setAttentionCapture(bool on);
  /// The captured weights; null while capture is off.
  const AttentionCapture *attentionCapture() const { return capture_.get(); }
  void clearAttentionCapture() {
    if (capture_)
      capture_->clear();
  }

  /// The KV cache (plans with Plan::caches): the positions every Self slot holds (L) and the
  /// rows in use; both 0 before the first prefill/encode and after a failed cache run.
  int64_t cacheLength() const;
  int64_t cacheRows() const;
  /// Beam search: new row i becomes old row src[i] (i < newRows, src[i] < cacheRows()) in every
  /// slot; newRows may differ from cacheRows() up to the batch bound.
  void reorderCache(const int32_t *src, int64_t newRows);

private:
  struct FunctionState {
    std::vector<Tensor> tensors; // constants' data set once, at construction
    std::vector<DeviceBuffer> inputStage, outputStage; // per port; devices the host cannot address
    std::vector<std::unique_ptr<KernelState>> kernelStates;
    std::vector<KernelProfile> profile;
    std::vector<int64_t> symbols;
    std::vector<int32_t> symbolSource; // input port that bound each symbol, -1 if unbound
  };
  void bindInputs(const FunctionDesc &fn, FunctionState &st, const tfc_tensor *inputs,
                  size_t numInputs, std::vector<const tfc_tensor *> &byPort);

  /// The KV cache: per slot K and V buffers, allocated at the first run of a function whose
  /// cache_op is not None; `view` is what the kernels see (KernelContext::cache).
  struct CacheData {
    std::vector<DeviceBuffer> k, v;
    KvCache view;
    bool allocated = false;
    bool valid = false;  // a prefill/encode succeeded and no cache run failed since
    int64_t length = 0;  // L
  };
  void allocateCache();
  void invalidateCache();

  void init();

  std::shared_ptr<const Plan> plan_;
  std::unique_ptr<Device> device_; // before every DeviceBuffer: released after them
  bool hostAccessible_ = true;
  int32_t batchSymbol_ = -1; // the batch symbol (the cache's rows; support/SymbolNames.h), -1 if none
  CacheData cache_;
  DeviceBuffer reorderScratch_; // reorderCache's copy of the rows it reads
  bool profiling_ = false;
  std::unique_ptr<AttentionCapture> capture_; // null: attention weights not captured
  DeviceBuffer arena_;
  std::vector<FunctionState> states_; // one per plan function
};

} // namespace tfc::rt

#endif // TFC_RUNTIME_SESSION_H
