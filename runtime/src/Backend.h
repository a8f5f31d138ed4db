//===- Backend.h - the runtime's backend seam: devices, memory, kernel tables, streams ---------===//
//
// Modelled on IREE's HAL and ggml's backend interface, cut down to what a static plan needs:
//
//  * A Backend is one kind of device ("cpu", "cuda"). It is stateless and known at build time
//    (backendNameList(); the CPU backend is built in, the CUDA one is a module loaded on first
//    need, BackendModule.h): it says which plan target it runs, whether device N is usable here, its
//    kernel table (one KernelSpec row per plan.fbs KernelKind: the load-time check, the run
//    function) and it opens Devices.
//  * A Device is what one session owns on one device: allocation of device memory (the arena,
//    outputs staged on the device, the KV cache), host<->device copies, an in-order stream with
//    synchronize(), and the plan's constants as the device sees them (the CPU: the mapping
//    itself; CUDA: one upload per plan and device, shared by the sessions on it).
//  * Kernels get the Device through KernelContext::device; a backend's kernels downcast it to
//    their own type (CpuDevice: oneDNN engine/stream and the thread count; CudaDevice: stream,
//    cuBLASLt handle, workspace).
//  * Device::execute runs one function's kernels in order; the default is the plain loop with
//    profiling. A backend may override it (CUDA: capture decode_step once in a CUDA graph and
//    replay it per token).
//
// The session is backend-neutral: it binds symbols and shapes on the host, points values at
// device memory (Device::hostAccessible() says whether caller memory can be used in place),
// copies inputs in and outputs out when the device is not the host, and keeps the KV cache in
// device memory.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_RUNTIME_BACKEND_H
#define TFC_RUNTIME_BACKEND_H

#include "Plan.h"

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace tfc::rt {

struct KernelSpec;
struct KernelContext;
struct KernelProfile;
struct KernelState;
struct Tensor;

/// "cpu", "cuda", "cuda:1": a backend name and an ordinal (0 when absent).
struct DeviceSpec {
  std::string backend = "cpu";
  int ordinal = 0;
  std::string str() const; // "cpu", "cuda:1"
};
/// Parses "cpu", "cuda", "cuda:N"; throws Error(TFC_INVALID_ARGUMENT) naming the text otherwise.
DeviceSpec parseDeviceSpec(const char *text);

/// Options a session passes to its device.
struct DeviceOptions {
  int threads = 1; // host threads (the CPU backend's OpenMP team); the session has checked it
};

class Device {
public:
  virtual ~Device() = default;
  virtual const class Backend &backend() const = 0;
  virtual DeviceSpec spec() const = 0;
  /// Whether the host can read and write this device's memory directly (the CPU: inputs are
  /// used in place and outputs written straight into the caller's buffers).
  virtual bool hostAccessible() const = 0;

  /// `bytes` of device memory, at least 256-byte aligned; throws Error(TFC_INTERNAL, "out of
  /// device memory ...") on failure. Never returns null (0 bytes gives a valid pointer).
  virtual void *allocate(size_t bytes) = 0;
  virtual void release(void *p) = 0;
  /// Copies, ordered on the device's stream (copyToHost returns once the bytes are on the host).
  virtual void copyToDevice(void *dst, const void *src, size_t bytes) = 0;
  virtual void copyToHost(void *dst, const void *src, size_t bytes) = 0;
  virtual void copyOnDevice(void *dst, const void *src, size_t bytes) = 0;
  virtual void fill(void *dst, int byte, size_t bytes) = 0;
  /// `height` rows of `width` bytes from `src` (rows `srcPitch` bytes apart) to `dst` (rows
  /// `dstPitch` apart), on the device. The default is a loop of copyOnDevice; a backend may do it
  /// in one call (cudaMemcpy2DAsync). Used to move KV-cache rows (beam reorder).
  virtual void copyOnDevice2D(void *dst, size_t dstPitch, const void *src, size_t srcPitch,
                              size_t width, size_t height);
  /// Waits until everything queued on the stream has finished; throws Error on a device fault.
  virtual void synchronize() = 0;

  /// Constant `index` of the plan as this device sees it (the CPU: the mapping's bytes).
  virtual const void *constant(int32_t index) = 0;

  /// Runs kernels [0, fn.kernels.size()) of `fn` with `ctx` prepared by the session (tensors,
  /// cache); `states` and `profile` have one entry per kernel, `profiling` says whether to time
  /// them. The default (runKernels) is the plain loop; errors are thrown as Error naming the
  /// function, kernel and kind.
  virtual void execute(const FunctionDesc &fn, KernelContext &ctx,
                       std::unique_ptr<KernelState> *states, KernelProfile *profile,
                       bool profiling);
};

/// The plain loop of Device::execute (a backend's override may call it, e.g. for prefill).
void runKernels(const Backend &backend, const FunctionDesc &fn, KernelContext &ctx,
                std::unique_ptr<KernelState> *states, KernelProfile *profile, bool profiling);

/// Device memory owned by a Device (RAII).
class DeviceBuffer {
public:
  DeviceBuffer() = default;
  DeviceBuffer(Device &d, size_t bytes) : device_(&d), data_(d.allocate(bytes)), size_(bytes) {}
  ~DeviceBuffer() { reset(); }
  DeviceBuffer(DeviceBuffer &&o) noexcept : device_(o.device_), data_(o.data_), size_(o.size_) {
    o.device_ = nullptr;
    o.data_ = nullptr;
    o.size_ = 0;
  }
  DeviceBuffer &operator=(DeviceBuffer &&o) noexcept {
    if (this != &o) {
      reset();
      device_ = o.device_;
      data_ = o.data_;
      size_ = o.size_;
      o.device_ = nullptr;
      o.data_ = nullptr;
      o.size_ = 0;
    }
    return *this;
  }
  void *data() const { return data_; }
  size_t size() const { return size_; }
  void reset() {
    if (device_ && data_)
      device_->release(data_);
    device_ = nullptr;
    data_ = nullptr;
    size_ = 0;
  }

private:
  Device *device_ = nullptr;
  void *data_ = nullptr;
  size_t size_ = 0;
};

class Backend {
public:
  virtual ~Backend() = default;
  /// "cpu", "cuda" (DeviceSpec::backend).
  virtual const char *name() const = 0;
  /// The plan target it runs (Plan::target: "cpu", "cuda").
  virtual const char *planTarget() const = 0;
  /// Whether device `ordinal` can be opened here; when not, `why` says why ("no CUDA device:
  /// cudaGetDeviceCount returned 0", "this runtime was built without CUDA", ...).
  virtual bool available(int ordinal, std::string *why) const = 0;
  /// The kernel table row of `kind`, or nullptr when this backend has no kernel for it (the
  /// loader then refuses the plan naming the kernel and kind).
  virtual const KernelSpec *kernel(KernelKind kind) const = 0;
  /// Whether this backend's KV cache holds keys/values of `dtype` (plan CacheSlot.dtype); the
  /// loader refuses a plan with a slot of another dtype. The default: f32 only.
  virtual bool supportsCacheDtype(tfc_dtype dtype) const { return dtype == TFC_F32; }
  /// A device for one session on `plan`. Throws Error (TFC_UNAVAILABLE when the device cannot
  /// be opened, with the reason).
  virtual std::unique_ptr<Device> open(const std::shared_ptr<const Plan> &plan, int ordinal,
                                       const DeviceOptions &options) const = 0;
};

/// The backends this runtime knows, by name, in order: "cpu" (built in), then "cuda" in a build
/// with the CUDA backend, which is a module loaded on first need (BackendModule.h): it is listed
/// whether or not its module loads on this machine. Loads nothing.
const std::vector<std::string> &backendNameList();
/// "cpu" or "cpu, cuda": backendNameList() joined, for messages.
std::string backendNames();
/// The backend named `name`, its module loaded on first need (once per process: the outcome, a
/// backend or the reason, is kept). nullptr when this runtime has no such backend or its module
/// cannot be loaded; `why` (may be null) then says which: "this runtime was built without the
/// tpu backend (its backends: cpu, cuda)" or "the cuda backend's module cannot be loaded: <the
/// dynamic loader's reason>".
const Backend *findBackend(const std::string &name, std::string *why = nullptr);
/// The backend that runs plans of `target`, loaded like findBackend. nullptr when none: `why`
/// (may be null) is then "" when this runtime has no backend for the target (e.g. a cuda plan on
/// a CPU-only build) and the reason when it has one whose module cannot be loaded.
const Backend *backendForTarget(const std::string &target, std::string *why = nullptr);

/// The CPU backend (cpu/CpuBackend.cpp); always built in.
const Backend *cpuBackend();

} // namespace tfc::rt

#endif // TFC_RUNTIME_BACKEND_H
